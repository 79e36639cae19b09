"""How long the sandbox adds to starting a jailed process: `python -I -S -c pass` started in the jail
(launcher, cgroups, bubblewrap, and as root the --become step) against the same command started plainly.

    .venv/bin/python benchmarks/sandbox_startup.py [--repeats 20]

Prints the median and the spread of each, and the difference: the sandbox's start-up.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.isolation import jail


def jailed_once(limits) -> float:
    with tempfile.TemporaryDirectory(prefix="autograder-bench-") as work:
        started = time.perf_counter()
        jailed = jail.start_jailed(jail.SUBMISSION, [sys.executable, "-I", "-S", "-c", "pass"], Path(work), limits,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        jailed.proc.wait()
        seconds = time.perf_counter() - started
        jailed.end()
    return seconds


def plain_once() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-S", "-c", "pass"], check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    problem = jail.sandbox_problem()
    if problem:
        print(f"no sandbox here: {problem}")
        return 1
    limits = jail.ProbeLimits()
    jailed_once(limits)  # warm the file cache
    jailed = [jailed_once(limits) for _ in range(args.repeats)]
    plain = [plain_once() for _ in range(args.repeats)]
    for name, times in (("in the sandbox", jailed), ("plain", plain)):
        print(f"{name:15} median {statistics.median(times) * 1000:6.1f} ms  (min {min(times) * 1000:.1f}, "
              f"max {max(times) * 1000:.1f}, n={len(times)})")
    print(f"{'sandbox adds':15} {(statistics.median(jailed) - statistics.median(plain)) * 1000:6.1f} ms per process "
          f"started ({'root: bwrap, then --become' if jail.grader_is_root() else 'a user namespace'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
