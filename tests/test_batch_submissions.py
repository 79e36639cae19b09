"""Which notebooks grade-all finds, and the bad input it refuses with a reason instead of a traceback."""

from __future__ import annotations

import hashlib

import pytest

from autograder.submissions import NothingToGrade, find_submissions


def notebook(path, text="{}"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_nbgrader_layout_one_notebook_per_student(tmp_path):
    ada = notebook(tmp_path / "submitted" / "ada" / "binary_mnist" / "binary_mnist.ipynb", "ada")
    notebook(tmp_path / "submitted" / "ben" / "binary_mnist" / "binary_mnist.ipynb", "ben")
    notebook(tmp_path / "submitted" / "ben" / "other_hw" / "other_hw.ipynb")  # another assignment: not this run's
    found, refused = find_submissions(tmp_path, "binary_mnist")
    assert [s.student for s in found] == ["ada", "ben"] and refused == []
    assert found[0].path == ada and found[0].sha256 == hashlib.sha256(b"ada").hexdigest()


def test_a_student_with_two_notebooks_none_named_after_the_assignment_is_refused(tmp_path):
    folder = tmp_path / "submitted" / "ada" / "binary_mnist"
    notebook(folder / "draft.ipynb")
    notebook(folder / "final.ipynb")
    notebook(tmp_path / "submitted" / "ben" / "binary_mnist" / "binary_mnist.ipynb")
    found, refused = find_submissions(tmp_path, "binary_mnist")
    assert [s.student for s in found] == ["ben"]
    assert refused[0].student == "ada" and "2 notebooks (draft.ipynb, final.ipynb)" in refused[0].reason


def test_a_student_with_the_assignment_notebook_and_another_is_graded_on_the_assignment_one(tmp_path):
    folder = tmp_path / "submitted" / "ada" / "binary_mnist"
    right = notebook(folder / "binary_mnist.ipynb")
    notebook(folder / "scratch.ipynb")
    found, refused = find_submissions(tmp_path, "binary_mnist")
    assert found[0].path == right and refused == []


def test_folder_of_notebooks_student_id_is_the_stem(tmp_path):
    notebook(tmp_path / "ada.ipynb")
    notebook(tmp_path / "ben.ipynb")
    notebook(tmp_path / ".ipynb_checkpoints" / "ada-checkpoint.ipynb")
    found, refused = find_submissions(tmp_path, "binary_mnist")
    assert [s.student for s in found] == ["ada", "ben"] and refused == []


def test_two_submissions_with_the_same_student_id_are_both_refused(tmp_path):
    notebook(tmp_path / "ada.ipynb")
    notebook(tmp_path / "ada" / "binary_mnist.ipynb")
    notebook(tmp_path / "Ben.ipynb")
    notebook(tmp_path / "ben.ipynb")
    notebook(tmp_path / "cleo.ipynb")
    found, refused = find_submissions(tmp_path, "binary_mnist")
    assert [s.student for s in found] == ["cleo"]
    assert len(refused) == 2 and all("two submissions with the same student id" in r.reason for r in refused)


def test_a_folder_with_no_notebooks_says_where_it_looked(tmp_path):
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(NothingToGrade, match=r"no notebooks found under .*\*\.ipynb"):
        find_submissions(tmp_path, "binary_mnist")
    (tmp_path / "submitted").mkdir()
    with pytest.raises(NothingToGrade, match="submitted/\\*/binary_mnist/"):
        find_submissions(tmp_path, "binary_mnist")


def test_an_unreadable_notebook_is_refused_with_the_reason(tmp_path, monkeypatch):
    notebook(tmp_path / "ada.ipynb")
    (tmp_path / "ben.ipynb").symlink_to(tmp_path / "missing.ipynb")  # listed, but cannot be opened
    cleo = notebook(tmp_path / "cleo.ipynb")
    real_read = type(cleo).read_bytes

    def read_bytes(path):
        if path.name == "cleo.ipynb":  # root reads any file, so a permission error is simulated
            raise PermissionError(13, "Permission denied")
        return real_read(path)

    monkeypatch.setattr(type(cleo), "read_bytes", read_bytes)
    found, refused = find_submissions(tmp_path, "binary_mnist")
    assert [s.student for s in found] == ["ada"]
    assert [(r.student, r.reason.split(": ", 1)[1]) for r in refused] == [
        ("ben", "No such file or directory"), ("cleo", "Permission denied")]
