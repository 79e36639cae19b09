"""Exports from the ledger: CSV, a Canvas gradebook filled in, a Moodle grade import; hand-made files in their
real formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from autograder.__main__ import main
from autograder.batch.grading_key import grading_key
from autograder.batch.ledger import LedgerWriter
from autograder.support.config import load_config
from repo_paths import ROOT


# Canvas' gradebook export: its header, the "Points Possible" row (first cell indented), the test student.
CANVAS = """Student,ID,SIS User ID,SIS Login ID,Section,binary_mnist (1234567),Quiz 1 (1234568),Current Score,Final Score
    Points Possible,,,,,13.00,10.00,(read only),(read only)
"Lovelace, Ada",101,S001,ada,Section A,,8.00,,
"Babbage, Ben",102,S002,ben,Section A,,7.00,,
"Hopper, Grace",103,S003,,Section B,,9.00,,
"Student, Test",999,,,Section A,,,,
"""

ROSTER = """student,email,idnumber
ada,ada@uni.example,2026001
ben,ben@uni.example,2026002
103,grace@uni.example,2026003
"""


def groups(relabel, accuracy):
    return {"relabel": {"score": relabel, "max_score": 1.0}, "accuracy": {"score": accuracy, "max_score": 3.0}}


@pytest.fixture
def course(tmp_path):
    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["data"]["source"] = "sample"
    raw["calibration"]["directory"] = str(ROOT / "calibration")
    (tmp_path / "course.yml").write_text(yaml.safe_dump(raw))
    key = grading_key(load_config(tmp_path / "course.yml"))
    base = {"assignment": "binary_mnist", "sha256": "a" * 64, "key": key, "reason": "", "attempts": 1}
    with LedgerWriter(tmp_path / "grades" / "binary_mnist.jsonl") as ledger:
        ledger.append({**base, "student": "ada", "status": "graded", "score": 2.0, "max_score": 4.0, "groups": groups(0.0, 2.0)})
        ledger.append({**base, "student": "ada", "status": "graded", "score": 4.0, "max_score": 4.0, "groups": groups(1.0, 3.0)})
        ledger.append({**base, "student": "103", "status": "graded", "score": 1.0, "max_score": 4.0, "groups": groups(1.0, 0.0)})
        ledger.append({**base, "student": "zed", "status": "graded", "score": 3.0, "max_score": 4.0, "groups": groups(0.0, 3.0)})
        ledger.append({**base, "student": "ben", "status": "not graded", "reason": "WorkerDied: died", "score": None,
                       "max_score": None, "groups": {}})
        ledger.append({**base, "student": "old", "key": "another-key", "status": "graded", "score": 4.0,
                       "max_score": 4.0, "groups": groups(1.0, 3.0)})
    return tmp_path


def export(course, *args):
    return main(["--config", str(course / "course.yml"), "export", *args])


def rows(path):
    return list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"))))


def test_csv_has_each_current_grade_with_one_column_per_group(course, capsys):
    assert export(course, "--format", "csv", "--allow-missing") == 0
    assert rows(course / "grades" / "binary_mnist-csv.csv") == [
        ["student", "total", "relabel", "accuracy"], ["103", "1", "1", "0"], ["ada", "4", "1", "3"], ["zed", "3", "0", "3"]]
    captured = capsys.readouterr()
    # Named, never exported as a silent 0.
    assert "not exported: ben: not graded: grading failed (WorkerDied: died)" in captured.err
    assert "not exported: old: graded only under another grading key (another-key, now " in captured.err
    assert "(3 graded student(s); 2 without a current grade, not exported (named above))" in captured.out


@pytest.mark.parametrize("fmt", [["--format", "csv"], ["--format", "canvas", "--canvas-gradebook", "canvas.csv"],
                                 ["--format", "moodle", "--roster", "roster.csv"]], ids=["csv", "canvas", "moodle"])
def test_a_partial_export_is_refused_naming_each_missing_student_and_why(course, fmt, monkeypatch):
    (course / "canvas.csv").write_text(CANVAS, encoding="utf-8")
    (course / "roster.csv").write_text(ROSTER, encoding="utf-8")
    monkeypatch.chdir(course)
    output = course / "out.csv"
    with pytest.raises(SystemExit, match=r"2 student\(s\) of the class have no current grade") as refused:
        export(course, *fmt, "--output", str(output))
    message = str(refused.value.code)
    assert "2 student(s) of the class have no current grade, so this export would be partial; nothing written" in message
    assert "  ben: not graded: grading failed (WorkerDied: died)" in message
    assert "  old: graded only under another grading key (another-key, now " in message
    assert "--allow-missing to export the 3 graded student(s) alone" in message
    assert not output.exists(), f"a refused export must write nothing, yet {output} exists"


def test_canvas_column_filled_by_sis_login_then_id_header_and_points_row_kept(course, tmp_path, capsys):
    gradebook = tmp_path / "canvas.csv"
    gradebook.write_text(CANVAS, encoding="utf-8")
    out = tmp_path / "canvas-filled.csv"
    assert export(course, "--format", "canvas", "--canvas-gradebook", str(gradebook), "--output", str(out),
                  "--allow-missing") == 0
    original, filled = rows(gradebook), rows(out)
    assert filled[0] == original[0] and filled[1] == original[1]  # header and Points Possible untouched
    by_name = {r[0]: r for r in filled}
    assert by_name["Lovelace, Ada"][5] == "4"   # SIS Login ID "ada"
    assert by_name["Hopper, Grace"][5] == "1"   # no SIS Login ID: Canvas ID 103
    assert by_name["Babbage, Ben"][5] == ""     # not graded: left as it was
    assert by_name["Lovelace, Ada"][6] == "8.00"  # other assignments untouched
    assert by_name["Student, Test"] == rows(gradebook)[5]
    printed = capsys.readouterr().out
    assert "graded but not in the file (not written): zed" in printed
    assert "in the file but not graded (left as they were): ben" in printed


def test_canvas_gradebook_without_the_assignment_column_names_its_columns(course, tmp_path):
    gradebook = tmp_path / "canvas.csv"
    gradebook.write_text(CANVAS.replace("binary_mnist (1234567)", "Homework 2 (1234567)"), encoding="utf-8")
    with pytest.raises(SystemExit, match="no column for 'binary_mnist'.*Homework 2 .*--canvas-column"):
        export(course, "--format", "canvas", "--canvas-gradebook", str(gradebook), "--allow-missing")
    assert export(course, "--format", "canvas", "--canvas-gradebook", str(gradebook), "--canvas-column", "Homework 2",
                  "--allow-missing") == 0


def test_moodle_import_file_with_email_or_idnumber_identity(course, tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    out = tmp_path / "moodle.csv"
    assert export(course, "--format", "moodle", "--roster", str(roster), "--output", str(out), "--allow-missing") == 0
    assert rows(out) == [["Email address", "binary_mnist"], ["grace@uni.example", "1"], ["ada@uni.example", "4"]]
    assert "graded but not in the file (not written): zed" in capsys.readouterr().out
    assert export(course, "--format", "moodle", "--roster", str(roster), "--identity", "idnumber", "--output", str(out),
                  "--allow-missing") == 0
    assert rows(out)[0] == ["ID number", "binary_mnist"] and rows(out)[2] == ["2026001", "4"]


def test_export_without_a_ledger_or_needed_file_says_what_to_do(tmp_path, course):
    with pytest.raises(SystemExit, match="--canvas-gradebook FILE"):
        export(course, "--format", "canvas")
    with pytest.raises(SystemExit, match="--roster FILE"):
        export(course, "--format", "moodle")
    (course / "grades" / "binary_mnist.jsonl").unlink()
    with pytest.raises(SystemExit, match="run `python -m autograder grade-all` first"):
        export(course, "--format", "csv")


def test_in_a_course_root_the_class_is_its_submissions_as_grade_all_finds_them(tmp_path, capsys):
    import hashlib

    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    (tmp_path / "course.yml").write_text(yaml.safe_dump(raw))
    key = grading_key(load_config(tmp_path / "course.yml"))
    sha = {}
    for student in ("ada", "ben", "fin"):  # fin submitted, never graded
        notebook = tmp_path / "submitted" / student / "binary_mnist" / "binary_mnist.ipynb"
        notebook.parent.mkdir(parents=True)
        notebook.write_text(f"{student}'s notebook", encoding="utf-8")
        sha[student] = hashlib.sha256(notebook.read_bytes()).hexdigest()
    base = {"assignment": "binary_mnist", "key": key, "reason": "", "attempts": 1, "status": "graded",
            "max_score": 4.0, "groups": groups(1.0, 3.0), "score": 4.0}
    with LedgerWriter(tmp_path / "grades" / "binary_mnist.jsonl") as ledger:
        ledger.append({**base, "student": "ada", "sha256": sha["ada"]},
                      {**base, "student": "ben", "sha256": "0" * 64},      # ben resubmitted since
                      {**base, "student": "gone", "sha256": "1" * 64})     # no submission in submitted/ now
    with pytest.raises(SystemExit, match="have no current grade, so this export would be partial") as refused:
        export(tmp_path, "--format", "csv")
    message = str(refused.value.code)
    assert "  ben: graded, but their notebook changed since; run grade-all" in message, message
    assert "  fin: not graded: no line in the ledger; run grade-all" in message, message
    assert "gone" not in message, "a student with no submission now is not the class's (as --write-gradebook does)"
    assert export(tmp_path, "--format", "csv", "--allow-missing") == 0
    assert rows(tmp_path / "grades" / "binary_mnist-csv.csv")[1:] == [["ada", "4", "1", "3"]]
    assert "note: gone: in the ledger, but no submission of theirs is in submitted/ now" in capsys.readouterr().err


def test_export_on_a_full_disk_exits_1_naming_the_file_and_keeps_the_last_export(course, monkeypatch):
    from tests.batch_helpers import fill_the_disk, temporaries

    output = course / "grades" / "binary_mnist-csv.csv"
    assert export(course, "--format", "csv", "--allow-missing") == 0
    before = output.read_bytes()
    with_ben = course / "grades" / "binary_mnist.jsonl"
    line = json.loads(with_ben.read_text().splitlines()[0])
    with_ben.write_text(with_ben.read_text() + json.dumps({**line, "student": "ben", "score": 1.0}) + "\n")
    fill_the_disk(monkeypatch)
    with pytest.raises(SystemExit) as failed:
        export(course, "--format", "csv", "--allow-missing")
    message = str(failed.value.code)
    assert message.startswith(f"error: could not write {output}: No space left on device (ENOSPC); the previous "
                              f"file is kept as it was"), message
    assert output.read_bytes() == before and temporaries(output.parent) == []


def test_a_student_whose_notebook_is_misplaced_or_too_large_is_named_by_the_export_not_left_out(tmp_path):
    import hashlib

    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["limits"]["notebook_size_limit_mb"] = 1
    (tmp_path / "course.yml").write_text(yaml.safe_dump(raw))
    ada = tmp_path / "submitted" / "ada" / "binary_mnist" / "binary_mnist.ipynb"
    ada.parent.mkdir(parents=True)
    ada.write_text("ada's notebook", encoding="utf-8")
    (tmp_path / "submitted" / "emma").mkdir()
    (tmp_path / "submitted" / "emma" / "binary_mnist.ipynb").write_text("emma's notebook", encoding="utf-8")
    big = tmp_path / "submitted" / "hal" / "binary_mnist" / "binary_mnist.ipynb"
    big.parent.mkdir(parents=True)
    big.write_bytes(b" " * (10**6 + 1))  # course.yml's cap, 1 MB, plus one byte
    base = {"assignment": "binary_mnist", "key": grading_key(load_config(tmp_path / "course.yml")), "reason": "",
            "attempts": 1, "status": "graded", "max_score": 4.0, "groups": groups(1.0, 3.0), "score": 4.0}
    with LedgerWriter(tmp_path / "grades" / "binary_mnist.jsonl") as ledger:
        ledger.append({**base, "student": "ada", "sha256": hashlib.sha256(ada.read_bytes()).hexdigest()})
    with pytest.raises(SystemExit, match="have no current grade, so this export would be partial") as refused:
        export(tmp_path, "--format", "csv")
    message = str(refused.value.code)
    assert (f"  emma: not graded: its submission cannot be graded ({tmp_path / 'submitted' / 'emma' / 'binary_mnist.ipynb'} "
            f"is not in nbgrader's layout") in message, message
    assert f"move it to {tmp_path / 'submitted' / 'emma' / 'binary_mnist' / 'binary_mnist.ipynb'}" in message, message
    assert f"  hal: not graded: its submission cannot be graded ({big} is 1,000,001 bytes, above " \
           f"limits.notebook_size_limit_mb (1 MB)" in message, message
