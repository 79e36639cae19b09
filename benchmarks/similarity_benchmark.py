"""Time the similarity report on a synthetic class and measure precision and recall of its planted copies.

    .venv/bin/python benchmarks/similarity_benchmark.py --size 200 --seed 0
    .venv/bin/python benchmarks/similarity_benchmark.py --size 200 --seeds 0-9   # one line a seed, then the total

Flagged = every pair at or above course.yml's similarity.threshold, plus the exact duplicates. Each line also
counts the pairs of students who copy the lecture as it prints it (``lecture_text_student``) that are flagged:
none should be.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from autograder.support.config import load_config
from autograder.dev.similarity_class import build_class, write_class
from autograder.integrity.similarity import release_notebook_path, similarity_report
from autograder.submissions import find_submissions


def measure(config, size: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        planted = write_class(Path(folder), size, seed)
        start = time.perf_counter()
        submissions, refused = find_submissions(Path(folder), config.assignment)
        report = similarity_report(submissions, refused, release_notebook_path(config.assignment), config.assignment,
                                   config.similarity.threshold, config.similarity.common_code_share)
        elapsed = time.perf_counter() - start
    printers = {s.name for s in build_class(size, seed)[0] if s.prints_the_lecture}
    truth = {frozenset((p.source, p.copy)): p.kind for p in planted}
    flagged = {frozenset(p.students) for p in report.flagged} | report.duplicated_pairs
    return {"report": report, "elapsed": elapsed, "truth": truth, "flagged": flagged, "found": flagged & set(truth),
            "printers": len(printers), "printer_pairs": [p for p in flagged if p <= printers]}


def seeds_of(text: str) -> list[int]:
    if "-" in text:
        first, last = text.split("-")
        return list(range(int(first), int(last) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", help="several classes, e.g. 0-9 or 1,2,3: one line each, then the total")
    args = parser.parse_args()
    config = load_config(Path(__file__).resolve().parent.parent / "course.yml")
    print(f"threshold {config.similarity.threshold}, common code share {config.similarity.common_code_share}")
    if args.seeds:
        found = flagged = truth = printer_pairs = 0
        for seed in seeds_of(args.seeds):
            m = measure(config, args.size, seed)
            print(f"seed {seed}: precision {len(m['found'])}/{len(m['flagged'])}, recall {len(m['found'])}/"
                  f"{len(m['truth'])}; pairs of the {m['printers']} who print the lecture flagged: "
                  f"{len(m['printer_pairs'])}")
            found, flagged, truth = found + len(m["found"]), flagged + len(m["flagged"]), truth + len(m["truth"])
            printer_pairs += len(m["printer_pairs"])
        print(f"total: precision {found / max(flagged, 1):.3f} ({found}/{flagged}), recall {found / truth:.3f} "
              f"({found}/{truth}); pairs of students who print the lecture flagged: {printer_pairs}")
        return
    m = measure(config, args.size, args.seed)
    truth, flagged, found = m["truth"], m["flagged"], m["found"]
    print(f"{args.size} notebooks, {len(m['report'].pairs)} pairs: {m['elapsed']:.1f} s")
    print(f"precision {len(found) / max(len(flagged), 1):.2f} ({len(found)}/{len(flagged)} flagged pairs planted), "
          f"recall {len(found) / len(truth):.2f} ({len(found)}/{len(truth)} planted pairs flagged)")
    print(f"pairs of the {m['printers']} students who print the lecture flagged: {len(m['printer_pairs'])}")
    for kind in sorted(set(truth.values())):
        pairs = [k for k, v in truth.items() if v == kind]
        print(f"  {kind}: {sum(k in flagged for k in pairs)}/{len(pairs)} found")


if __name__ == "__main__":
    main()
