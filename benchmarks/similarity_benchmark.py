"""Time the similarity report on a synthetic class and measure precision and recall of its planted copies.

    .venv/bin/python benchmarks/similarity_benchmark.py --size 200 --seed 0

Flagged = every pair at or above course.yml's similarity.threshold, plus the exact duplicates.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from autograder.support.config import load_config
from autograder.dev.similarity_class import write_class
from autograder.integrity.similarity import release_notebook_path, similarity_report
from autograder.submissions import find_submissions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    config = load_config(Path(__file__).resolve().parent.parent / "course.yml")
    with tempfile.TemporaryDirectory() as folder:
        planted = write_class(Path(folder), args.size, args.seed)
        start = time.perf_counter()
        submissions, refused = find_submissions(Path(folder), config.assignment)
        report = similarity_report(submissions, refused, release_notebook_path(config.assignment), config.assignment,
                                   config.similarity.threshold, config.similarity.common_code_share)
        elapsed = time.perf_counter() - start
    truth = {frozenset((p.source, p.copy)): p.kind for p in planted}
    flagged = {frozenset(p.students) for p in report.flagged} | report.duplicated_pairs
    found = flagged & set(truth)
    print(f"{args.size} notebooks, {len(report.pairs)} pairs: {elapsed:.1f} s")
    print(f"threshold {config.similarity.threshold}, common code share {config.similarity.common_code_share}")
    print(f"precision {len(found) / max(len(flagged), 1):.2f} ({len(found)}/{len(flagged)} flagged pairs planted), "
          f"recall {len(found) / len(truth):.2f} ({len(found)}/{len(truth)} planted pairs flagged)")
    for kind in sorted(set(truth.values())):
        pairs = [k for k, v in truth.items() if v == kind]
        print(f"  {kind}: {sum(k in flagged for k in pairs)}/{len(pairs)} found")


if __name__ == "__main__":
    main()
