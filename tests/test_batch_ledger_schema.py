"""The ledger read through its schema: a line with wrong types is reported and skipped with its line number, a
byte-order mark keeps line 1, and the summary and the exports refuse scores that cannot be a grade, naming the line."""

from __future__ import annotations

import csv
import io
import json

import pytest

from autograder.batch.class_run import ClassRunReport
from autograder.batch.exports import current_grades, write_csv
from autograder.batch.ledger import read_ledger
from autograder.batch.summary import refuse_impossible, summary_text


def line(student, **changes):
    entry = {"student": student, "assignment": "binary_mnist", "sha256": "a" * 64, "key": "k1", "status": "graded",
             "score": 4.0, "max_score": 4.0, "reason": "", "seconds": 1.0, "attempts": 1, "calibration": "c",
             "groups": {"relabel": {"score": 1.0, "max_score": 1.0}, "accuracy": {"score": 3.0, "max_score": 3.0}}}
    return json.dumps({**entry, **changes})


def ledger_of(tmp_path, *lines, prefix=b""):
    path = tmp_path / "binary_mnist.jsonl"
    path.write_bytes(prefix + "".join(f"{text}\n" for text in lines).encode())
    return path


@pytest.mark.parametrize("bad, field", [
    (line("ben", score="13"), "score"),
    (line("ben", groups=None), "groups"),
    (line("ben").replace('"ben"', "12345"), "student"),
    (line("ben", score=float("nan")), "score"),   # json.dumps writes NaN, and json.loads reads it back
    (line("ben", groups={"relabel": {"score": "1", "max_score": 1.0}}), "groups.relabel.score"),
    (line("ben", status="done"), "status"),
    (line("ben", attempts=1.5), "attempts"),
], ids=["score-as-text", "groups-null", "numeric-student", "nan", "group-score-as-text", "unknown-status",
        "attempts-not-int"])
def test_a_line_with_wrong_types_is_skipped_with_its_number_and_field(tmp_path, bad, field):
    contents = read_ledger(ledger_of(tmp_path, line("ada"), bad, line("cleo")), "binary_mnist")
    assert [e["student"] for e in contents.entries] == ["ada", "cleo"]
    assert len(contents.warnings) == 1, contents.warnings
    assert "line 2: not a ledger entry: " + field + ":" in contents.warnings[0]
    assert "ignored (left in the file)" in contents.warnings[0]


def test_a_not_graded_line_needs_no_scores_but_a_graded_line_does(tmp_path):
    not_graded = line("ben", status="not graded", score=None, max_score=None, groups={}, reason="WorkerDied")
    graded_without_groups = line("cleo", groups={})
    contents = read_ledger(ledger_of(tmp_path, not_graded, graded_without_groups), "binary_mnist")
    assert [e["student"] for e in contents.entries] == ["ben"]
    assert "line 2" in contents.warnings[0] and "needs its score, max_score and groups" in contents.warnings[0]


def test_a_byte_order_mark_at_the_start_keeps_line_one(tmp_path):
    path = ledger_of(tmp_path, line("ada"), line("ben"), prefix=b"\xef\xbb\xbf")
    contents = read_ledger(path, "binary_mnist")
    assert [(e["student"], e["line"]) for e in contents.entries] == [("ada", 1), ("ben", 2)]
    assert contents.warnings == []


def test_a_byte_order_mark_inside_the_file_is_a_damaged_line(tmp_path):
    path = tmp_path / "binary_mnist.jsonl"
    path.write_bytes(f"{line('ada')}\n\ufeff{line('ben')}\n".encode())
    contents = read_ledger(path, "binary_mnist")
    assert [e["student"] for e in contents.entries] == ["ada"]
    assert "line 2: not a JSON line" in contents.warnings[0]


@pytest.mark.parametrize("changes, said", [
    ({"score": 20.0}, "its score 20 is above the maximum 4"),
    ({"score": -1.0}, "its score -1 (out of 4) is negative"),
    ({"groups": {"relabel": {"score": 5.0, "max_score": 1.0}}}, "its group relabel 5 is above the maximum 1"),
], ids=["above-max", "negative", "group-above-max"])
def test_exports_refuse_a_score_that_cannot_be_a_grade_and_name_the_line(tmp_path, changes, said):
    contents = read_ledger(ledger_of(tmp_path, line("ada"), line("ben", **changes)), "binary_mnist")
    grades = current_grades(contents.entries, "k1")
    assert list(grades.scores) == ["ada"]
    assert said in grades.missing["ben"] and "line 2 ('ben')" in grades.missing["ben"]
    output = tmp_path / "out.csv"
    write_csv(grades, output)  # what --allow-missing writes: the others, never the impossible score
    assert [row[0] for row in csv.reader(io.StringIO(output.read_text()))] == ["student", "ada"]


def test_the_export_command_refuses_an_impossible_score_naming_the_line(tmp_path):
    from autograder.__main__ import main

    (tmp_path / "course.yml").write_text("data:\n  source: sample\n")
    from autograder.batch.grading_key import grading_key
    from autograder.support.config import load_config

    key = grading_key(load_config(tmp_path / "course.yml"))
    grades = tmp_path / "grades"
    grades.mkdir()
    ledger_of(grades, line("ada", key=key), line("ben", key=key, score=20.0))
    output = tmp_path / "out.csv"
    with pytest.raises(SystemExit) as refused:
        main(["--config", str(tmp_path / "course.yml"), "export", "--format", "csv", "--output", str(output)])
    assert "ben: not exported: the ledger's line 2 ('ben') cannot be a grade: its score 20 is above the maximum 4" \
        in str(refused.value.code)
    assert not output.exists()


def test_nan_never_reaches_an_export(tmp_path):
    contents = read_ledger(ledger_of(tmp_path, line("ada"), line("ben", score=float("nan"))), "binary_mnist")
    output = tmp_path / "out.csv"
    write_csv(current_grades(contents.entries, "k1"), output)
    assert "nan" not in output.read_text().lower()
    assert "line 2" in contents.warnings[0]


def test_the_summary_counts_no_impossible_line_and_names_it(tmp_path):
    contents = read_ledger(ledger_of(tmp_path, line("ada"), line("ben", score=20.0)), "binary_mnist")
    report = ClassRunReport("binary_mnist", total=2)
    entries = refuse_impossible(contents.entries, report.warnings)
    assert [e["student"] for e in entries] == ["ada"]
    text = summary_text(report, entries)
    assert "over the 1 graded submission(s)" in text
    assert "warning: the ledger's line 2 ('ben') cannot be a grade: its score 20 is above the maximum 4" in text
