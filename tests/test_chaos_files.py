"""A full disk while an output file is written: the previous file stays byte for byte, no temporary file is left,
and the error names the file, says the old one is kept, and gives the OS's reason (issue 31, item 3).

The disk is filled two ways: ``os.write`` made to write part of what it is given and then fail with ENOSPC, as
a nearly full disk does (every test), and a real 64 KiB tmpfs (when this runs as root and may mount one).
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from autograder.batch.class_report import write_class_report
from autograder.batch.exports import CurrentGrades, write_csv
from autograder.batch.regrade_diff import RegradeDiff, StudentChange, write_regrade_csv
from autograder.gradescope.results_json import write_results
from autograder.integrity.similarity import SimilarityReport
from autograder.integrity.similarity_page import write_similarity_csv
from autograder.messages.i18n import Translator
from autograder.support.atomic_files import OutputNotWritten, write_atomically
from repo_paths import ROOT
from tests.batch_helpers import fill_the_disk, temporaries

OLD = b"student,total\nada,13\nben,12\n"


def test_a_full_disk_keeps_the_previous_file_byte_for_byte_and_says_so(tmp_path, monkeypatch):
    output = tmp_path / "grades.csv"
    output.write_bytes(OLD)
    fill_the_disk(monkeypatch)
    with pytest.raises(OutputNotWritten) as failed:
        write_atomically(output, "student,total\n" + "".join(f"s{i},{i % 14}\n" for i in range(300)))
    assert output.read_bytes() == OLD
    assert temporaries(tmp_path) == []
    message = str(failed.value)
    assert f"could not write {output}: No space left on device (ENOSPC)" in message, message
    assert "the previous file is kept as it was" in message, message
    assert isinstance(failed.value, OSError) and failed.value.errno == errno.ENOSPC


def test_a_full_disk_with_no_previous_file_leaves_none_and_says_so(tmp_path, monkeypatch):
    fill_the_disk(monkeypatch)
    with pytest.raises(OutputNotWritten, match="no file was written \\(there was none before\\)"):
        write_atomically(tmp_path / "new.csv", "x" * 100)
    assert list(tmp_path.iterdir()) == []


def test_a_written_file_replaces_the_old_one_whole_with_the_old_ones_permissions(tmp_path):
    output = tmp_path / "grades.csv"
    output.write_bytes(OLD)
    output.chmod(0o640)
    write_atomically(output, "student,total\nada,1\n")
    assert output.read_text() == "student,total\nada,1\n"
    assert output.stat().st_mode & 0o777 == 0o640 and temporaries(tmp_path) == []


def _grades() -> CurrentGrades:
    return CurrentGrades(scores={f"s{i}": {"score": 13.0, "groups": {"relabel": {"score": 1.0}}} for i in range(50)},
                         groups=["relabel"])


def _similarity() -> SimilarityReport:
    return SimilarityReport("binary_mnist", 0.5, 0.5, [], [], [], [], 0)


WRITERS = {
    "export csv": lambda path: write_csv(_grades(), path),
    "regrade diff": lambda path: write_regrade_csv(RegradeDiff("k2", ["ada"], [StudentChange(
        "ada", "k1", "k2", 12.0, 13.0, 13.0, [])] * 20), path),
    "class report": lambda path: write_class_report(path, "binary_mnist", [], [{"student": "ben", "reason": "x"}],
                                                    Translator("en")),
    "similarity csv": lambda path: write_similarity_csv(path, _similarity()),
    "gradescope results.json": lambda path: write_results(path, {"score": 1.0, "tests": []}),
    "gradescope bundle": lambda path: _bundle(path),
}


def _bundle(path: Path) -> None:
    from autograder.gradescope.bundle import build_bundle
    from autograder.support.config import load_config

    build_bundle(load_config(ROOT / "course.yml",
                             data={"source": "sample"}), path, None)


@pytest.mark.parametrize("writer", WRITERS)
def test_every_instructor_output_writes_through_the_atomic_helper(writer, tmp_path, monkeypatch):
    output = tmp_path / "output"
    output.write_bytes(OLD)
    went_through = fill_the_disk(monkeypatch)
    with pytest.raises(OutputNotWritten, match="the previous file is kept as it was"):
        WRITERS[writer](output)
    assert went_through, f"{writer} did not write through write_atomically"
    assert output.read_bytes() == OLD and temporaries(tmp_path) == []


def test_json_dir_reports_the_file_it_could_not_write_and_keeps_the_old_one(tmp_path, monkeypatch):
    from autograder.batch.class_run import _write_json

    output = tmp_path / "ada.json"
    output.write_bytes(b'{"score": 13}\n')
    fill_the_disk(monkeypatch)
    error = _write_json(output, {"score": 12.0, "tests": [{"name": "x" * 50}]})
    assert f"could not write {output}: No space left on device (ENOSPC)" in error
    assert "the previous file is kept" in error and output.read_bytes() == b'{"score": 13}\n'


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 64 KiB tmpfs at tmp_path/disk: only where this runs as root and may mount one."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root (and a mount namespace that allows it)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_really_full_disk_keeps_the_previous_file(tiny_disk):
    output = tiny_disk / "grades.csv"
    output.write_bytes(OLD)
    with pytest.raises(OutputNotWritten) as failed:
        write_atomically(output, "x" * 200_000)
    assert failed.value.errno == errno.ENOSPC, failed.value
    assert output.read_bytes() == OLD and temporaries(tiny_disk) == []


def test_grade_all_json_dir_on_a_full_disk_keeps_the_old_files_and_exits_4(tmp_path, monkeypatch, capsys):
    from autograder.__main__ import main
    from tests.batch_helpers import StandInExecutor, make_course

    course, results = make_course(tmp_path / "course", ["ada", "ben"]), tmp_path / "results"
    checks = {"relabel: check_relabel[relabel_odd_even]": True}
    monkeypatch.setattr("autograder.batch.cli._executor_factory",
                        lambda args, config, settings: lambda: StandInExecutor(lambda student: checks))
    command = ["--config", str(course / "course.yml"), "grade-all", str(course), "--quiet", "--json-dir", str(results)]
    assert main(command) == 0
    before = {p.name: p.read_bytes() for p in results.iterdir()}
    checks = {"relabel: check_relabel[relabel_odd_even]": False}  # a regrade that would change every file
    fill_the_disk(monkeypatch)
    assert main([*command, "--force"]) == 4
    assert {p.name: p.read_bytes() for p in results.iterdir()} == before, "each earlier file kept, no temporary left"
    out, err = capsys.readouterr()
    assert f"could not write {results / 'ada.json'}: No space left on device (ENOSPC); the previous file is kept" in out
    assert "error: 2 file(s) asked for could not be written (named above; the grades are in" in err, err
