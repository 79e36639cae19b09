"""How many local workers fit this machine: cores ÷ limits.cpu_threads but at least two where there are two
cores, capped by memory ÷ one submission's peak."""

from __future__ import annotations

import os

from autograder.support.config import CourseConfig

# Measured peak of one submission being graded: about 1.3 GB for the grader (TensorFlow, data, training)
# plus 0.8 GB for the student's process (README, "Isolation and limits").
PEAK_BYTES_PER_SUBMISSION = int(2.1 * 1024**3)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def available_memory_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (None where there is no such file)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def default_workers(config: CourseConfig, cores: int | None = None, memory: int | None = None) -> int:
    cores = usable_cores() if cores is None else cores
    memory = available_memory_bytes() if memory is None else memory
    # A grading leaves the cores idle part of the time (process start-ups, TensorFlow's import, file reads), so a
    # second worker fills them even where cpu_threads alone would allow one: on this 2-core machine, 6 full-MNIST
    # submissions took 52 s with 2 workers against 71 s with 1 (README, "Grading a whole class").
    by_cores = max(min(2, cores), cores // config.limits.cpu_threads)
    by_memory = max(1, memory // PEAK_BYTES_PER_SUBMISSION) if memory else by_cores
    return min(by_cores, by_memory)
