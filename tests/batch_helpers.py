"""Stand-ins for grade-all's workers, for the batch tests that need no TensorFlow: an in-process executor and
outcomes in the worker's layout (autograder/batch/worker_task.py grade_submission)."""

from __future__ import annotations

import errno
import os
from concurrent.futures import Future
from pathlib import Path

import yaml

from repo_paths import ROOT



def outcome(checks: dict[str, bool]) -> dict:
    """What a worker returns for a grading whose checks (full name ``group: check[probe]`` → passed) are ``checks``,
    one point each: the grade's record (``GradeResult.to_dict``), as the worker stores it."""
    from autograder.engine.results import CheckResult, GradeResult, GroupResult, split_check_name

    groups: dict[str, GroupResult] = {}
    for name, ok in checks.items():
        group, _, full = name.partition(": ")
        check, probe = split_check_name(full)
        scored = groups.setdefault(group, GroupResult(group, 0.0, [], partial_credit=True))  # a point per check
        scored.checks.append(CheckResult(check=check, probe=probe, group=group, rule="the rule", hidden=False,
                                         passed=ok, message="" if ok else f"{name} failed"))
        scored.max_score += 1.0
    result = GradeResult("stand-in.ipynb", list(groups.values()), execution_time=0.1)
    return {"isolated": True, "score": result.score, "max_score": result.max_score,
            "groups": {g.name: {"score": g.score, "max_score": g.max_score} for g in result.groups}, "seconds": 0.1,
            "calibration": "sample-test", "worker": "here:1", "result": result.to_dict()}


class StandInExecutor:
    """grade-all's executor interface, in this process: ``checks(student)`` are the checks its grading gives.
    ``interrupt`` names a student whose submission interrupts the run, as Ctrl-C would."""

    capacity = 2

    def __init__(self, checks, interrupt: str | None = None):
        self.checks, self.interrupt = checks, interrupt
        self.graded: list[str] = []

    def submit(self, student: str, path: str) -> Future:
        if student == self.interrupt:
            raise KeyboardInterrupt
        self.graded.append(student)
        future: Future = Future()
        future.set_result(outcome(self.checks(student)))
        return future

    def finished(self, in_flight) -> set:
        return {f for f in in_flight if f.done()}

    def outcome(self, future: Future) -> dict:
        return future.result()

    def close(self, cancel: bool = False) -> None:
        pass


def make_course(root: Path, students) -> Path:
    """A course root on the sample data with one notebook per student in nbgrader's submitted/ layout (notebooks
    the stand-in never runs; each differs, so each has its own sha256)."""
    root.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["data"]["source"] = "sample"
    raw["calibration"]["directory"] = str(ROOT / "calibration")
    (root / "course.yml").write_text(yaml.safe_dump(raw))
    for student in students:
        notebook = root / "submitted" / student / "binary_mnist" / "binary_mnist.ipynb"
        notebook.parent.mkdir(parents=True, exist_ok=True)
        notebook.write_text(f'{{"cells": [], "student": "{student}"}}', encoding="utf-8")
    return root


def fill_the_disk(monkeypatch) -> list[str]:
    """From now on a write to a temporary output file writes 10 bytes, then fails as a full disk does; returns
    the temporary files it was asked to write, to show that the writer did go through the helper."""
    real_write, written_to = os.write, []

    def write(fd, data):
        name = os.readlink(f"/proc/self/fd/{fd}")
        if not name.endswith(".partial"):
            return real_write(fd, data)
        written_to.append(name)
        if len(data) > 10:
            return real_write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write)
    return written_to


def temporaries(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".partial")]
