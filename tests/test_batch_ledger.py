"""The class ledger: append-only JSON lines, durable, read back tolerating damage; what a rerun skips."""

from __future__ import annotations

import json
import os

import pytest

from autograder.batch.class_run import already_graded
from autograder.batch.ledger import LedgerError, LedgerWriter, read_ledger
from autograder.submissions import Submission


def entry(student, sha="a" * 64, key="k1", status="graded", score=13.0, assignment="binary_mnist"):
    return {"student": student, "assignment": assignment, "sha256": sha, "key": key, "status": status,
            "score": score, "max_score": 13.0, "groups": {"relabel": {"score": 1.0, "max_score": 1.0}}, "reason": "",
            "seconds": 1.0, "attempts": 1, "calibration": "c", "result": {"tests": ["big"]}}


def test_appended_lines_read_back_in_order_without_the_full_result(tmp_path):
    path = tmp_path / "grades" / "binary_mnist.jsonl"
    with LedgerWriter(path) as writer:
        writer.append(entry("ada"))
        writer.append(entry("ben", score=2.0))
    contents = read_ledger(path, "binary_mnist")
    assert [e["student"] for e in contents.entries] == ["ada", "ben"]
    assert contents.entries[1]["score"] == 2.0
    assert "result" not in contents.entries[0]  # the coordinator keeps only what it needs
    assert read_ledger(path, "binary_mnist", keep_results=True).entries[0]["result"] == {"tests": ["big"]}
    assert contents.warnings == []


def test_a_torn_last_line_is_reported_kept_and_the_next_line_stays_whole(tmp_path):
    path = tmp_path / "binary_mnist.jsonl"
    with LedgerWriter(path) as writer:
        writer.append(entry("ada"))
    torn = json.dumps(entry("ben"))[:40].encode()
    with path.open("ab") as f:
        f.write(torn)  # what a run killed in mid-write leaves
    contents = read_ledger(path, "binary_mnist")
    assert [e["student"] for e in contents.entries] == ["ada"]
    assert len(contents.warnings) == 1 and "line 2" in contents.warnings[0] and "cut short" in contents.warnings[0]
    with LedgerWriter(path) as writer:
        writer.append(entry("cleo"))
    contents = read_ledger(path, "binary_mnist")
    assert [e["student"] for e in contents.entries] == ["ada", "cleo"]
    assert torn in path.read_bytes()  # never rewritten: the damaged bytes are still there
    assert len(contents.warnings) == 1


def test_lines_of_another_assignment_or_not_entries_are_warned_about_and_ignored(tmp_path):
    path = tmp_path / "binary_mnist.jsonl"
    with LedgerWriter(path) as writer:
        writer.append(entry("ada", assignment="other_hw"))
        writer.append({"hello": 1})
        writer.append(entry("ben"))
    contents = read_ledger(path, "binary_mnist")
    assert [e["student"] for e in contents.entries] == ["ben"]
    assert any("'other_hw'" in w for w in contents.warnings)
    assert any("not a ledger entry" in w for w in contents.warnings)


def test_a_ledger_folder_that_cannot_be_created_is_a_clear_error(tmp_path):
    (tmp_path / "grades").write_text("a file where the folder should be")
    with pytest.raises(LedgerError, match="cannot write the ledger"):
        LedgerWriter(tmp_path / "grades" / "binary_mnist.jsonl")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the folder-is-a-file case covers the error")
def test_a_read_only_ledger_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "grades"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(LedgerError, match="Permission denied"):
            LedgerWriter(folder / "binary_mnist.jsonl")
    finally:
        folder.chmod(0o755)


def test_a_full_disk_while_appending_is_a_clear_error_and_earlier_lines_survive(tmp_path, monkeypatch):
    path = tmp_path / "binary_mnist.jsonl"
    writer = LedgerWriter(path)
    writer.append(entry("ada"))

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(LedgerError, match="No space left"):
        writer.append(entry("ben"))
    monkeypatch.undo()
    writer.close()
    assert read_ledger(path, "binary_mnist").entries[0]["student"] == "ada"


def test_a_rerun_skips_only_the_same_notebook_graded_under_the_same_key():
    subs = [Submission("ada", None, "a" * 64), Submission("ben", None, "b" * 64), Submission("cleo", None, "c" * 64),
            Submission("dan", None, "d" * 64), Submission("eve", None, "e" * 64)]
    ledger = [entry("ada", sha="a" * 64),
              entry("ben", sha="0" * 64),                      # notebook changed since
              entry("cleo", sha="c" * 64, key="old"),          # config, calibration or kit changed
              entry("dan", sha="d" * 64, status="not graded"),  # failed last time: try again
              entry("eve", sha="e" * 64), entry("eve", sha="0" * 64)]  # the last line counts
    assert already_graded(subs, ledger, "k1") == {"ada"}


def test_the_ledger_folder_and_the_gradescope_zip_are_hidden_from_submissions_by_default(tmp_path):
    from autograder.batch.ledger import ledger_path
    from autograder.support.config import Limits

    hidden = Limits().hidden_paths
    # A submission that could read grades/ would see every classmate's grade and failure messages.
    assert ledger_path(tmp_path, "binary_mnist").relative_to(tmp_path).parts[0] in hidden
    assert "autograder.zip" in hidden  # `python -m autograder gradescope`'s default output: the reference solution
