"""Which notebooks grade-all finds, and the bad input it refuses with a reason instead of a traceback."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import unicodedata

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
    notebook(tmp_path / "cleo.ipynb")
    real_open = os.open

    def open_but_not_cleo(path, *args, **kwargs):
        if str(path).endswith("cleo.ipynb"):  # root reads any file, so a permission error is simulated
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_but_not_cleo)
    found, refused = find_submissions(tmp_path, "binary_mnist")
    assert [s.student for s in found] == ["ada"]
    assert [(r.student, r.reason.split(": ", 1)[1]) for r in refused] == [
        ("ben", "No such file or directory"), ("cleo", "Permission denied")]


# ---------------------------------------------------------------- odd class input (issue 31, item 8)

def nbgrader_notebook(root, student, text="{}"):
    return notebook(root / "submitted" / student / "binary_mnist" / "binary_mnist.ipynb", text)


@pytest.fixture
def no_hang():
    """Fail, rather than hang, if the code under test blocks on a FIFO or reads a device without end."""
    def timed_out(signum, frame):
        raise TimeoutError("find_submissions blocked: it opened or read what it should have refused")

    previous = signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_a_notebook_directly_in_the_students_folder_is_refused_saying_where_it_goes(tmp_path):
    nbgrader_notebook(tmp_path, "ada")
    notebook(tmp_path / "submitted" / "emma" / "binary_mnist.ipynb")
    notebook(tmp_path / "submitted" / "fay.ipynb")
    found, refused = find_submissions(tmp_path, "binary_mnist")
    assert [s.student for s in found] == ["ada"]
    assert [r.student for r in refused] == ["emma", "fay"]
    target = tmp_path / "submitted" / "emma" / "binary_mnist" / "binary_mnist.ipynb"
    assert refused[0].reason == (f"{tmp_path / 'submitted' / 'emma' / 'binary_mnist.ipynb'} is not in nbgrader's "
                                 f"layout (submitted/<student>/binary_mnist/), so it was not graded; move it to "
                                 f"{target} and run again")
    assert f"move it to {tmp_path / 'submitted' / 'fay' / 'binary_mnist' / 'binary_mnist.ipynb'}" in refused[1].reason


def test_a_scratch_notebook_beside_other_assignments_folders_is_not_taken_for_this_one(tmp_path):
    nbgrader_notebook(tmp_path, "ada")
    notebook(tmp_path / "submitted" / "ben" / "other_hw" / "other_hw.ipynb")
    notebook(tmp_path / "submitted" / "ben" / "scratch.ipynb")  # ben has not submitted binary_mnist
    notebook(tmp_path / "submitted" / "cal" / "other_hw" / "other_hw.ipynb")
    notebook(tmp_path / "submitted" / "cal" / "binary_mnist.ipynb")  # named after it: cal meant this one
    found, refused = find_submissions(tmp_path, "binary_mnist")
    assert [s.student for s in found] == ["ada"] and [r.student for r in refused] == ["cal"]


def test_a_stray_notebook_beside_a_submission_in_the_right_place_does_not_refuse_it(tmp_path):
    right = nbgrader_notebook(tmp_path, "ada")
    notebook(tmp_path / "submitted" / "ada.ipynb")
    found, refused = find_submissions(tmp_path, "binary_mnist")
    assert [s.path for s in found] == [right] and refused == []


def test_symlinks_that_leave_the_course_are_refused_and_those_inside_it_followed(tmp_path):
    course, outside = tmp_path / "course", notebook(tmp_path / "elsewhere" / "solution.ipynb", "solution")
    nbgrader_notebook(course, "ada", "ada")
    (course / "submitted" / "ben" / "binary_mnist").mkdir(parents=True)
    (course / "submitted" / "ben" / "binary_mnist" / "binary_mnist.ipynb").symlink_to(outside)
    (course / "submitted" / "cal").mkdir()
    (course / "submitted" / "cal" / "binary_mnist").symlink_to(outside.parent, target_is_directory=True)
    (course / "submitted" / "dan" / "binary_mnist").mkdir(parents=True)
    (course / "submitted" / "dan" / "binary_mnist" / "binary_mnist.ipynb").symlink_to(
        course / "submitted" / "ada" / "binary_mnist" / "binary_mnist.ipynb")
    found, refused = find_submissions(course, "binary_mnist")
    assert [(s.student, s.sha256) for s in found] == [("ada", hashlib.sha256(b"ada").hexdigest()),
                                                      ("dan", hashlib.sha256(b"ada").hexdigest())]
    assert [r.student for r in refused] == ["ben", "cal"]
    for r in refused:
        assert "is a symbolic link (or lies in a linked folder) that leads outside the course folder" in r.reason
        assert f"to {outside}; copy the notebook itself into" in r.reason, r.reason


def test_a_fifo_or_a_link_to_dev_zero_is_refused_without_being_opened(tmp_path, no_hang):
    nbgrader_notebook(tmp_path, "ada")
    fifo = tmp_path / "submitted" / "ben" / "binary_mnist" / "binary_mnist.ipynb"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)  # opened for reading without O_NONBLOCK, this blocks until a writer comes: forever
    (tmp_path / "submitted" / "cal" / "binary_mnist").mkdir(parents=True)
    (tmp_path / "submitted" / "cal" / "binary_mnist" / "binary_mnist.ipynb").symlink_to(fifo)
    (tmp_path / "submitted" / "dan" / "binary_mnist").mkdir(parents=True)
    (tmp_path / "submitted" / "dan" / "binary_mnist" / "binary_mnist.ipynb").symlink_to("/dev/zero")
    found, refused = find_submissions(tmp_path, "binary_mnist")
    assert [s.student for s in found] == ["ada"]
    reasons = {r.student: r.reason for r in refused}
    assert reasons["ben"].startswith(f"{fifo} is a FIFO (named pipe), not a regular file; it was not opened")
    assert "is a FIFO (named pipe), not a regular file" in reasons["cal"]
    assert "leads outside the course folder" in reasons["dan"] and "to /dev/zero" in reasons["dan"]


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_inside_the_course_is_refused_without_being_read(tmp_path, no_hang):
    device = tmp_path / "submitted" / "ben" / "binary_mnist" / "binary_mnist.ipynb"
    device.parent.mkdir(parents=True)
    try:
        os.mknod(device, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero's numbers: endless zeros if read
    except PermissionError:
        pytest.skip("this container may not make device nodes")
    nbgrader_notebook(tmp_path, "ada")
    found, refused = find_submissions(tmp_path, "binary_mnist")
    assert [s.student for s in found] == ["ada"]
    assert refused[0].reason.startswith(f"{device} is a character device, not a regular file; it was not opened")


def test_a_notebook_above_the_size_cap_is_refused_unread_and_one_at_the_cap_is_read(tmp_path):
    at_cap = nbgrader_notebook(tmp_path, "ada", "x" * 1000)
    over = nbgrader_notebook(tmp_path, "ben")
    with over.open("r+b") as f:
        f.truncate(10**9)  # 1 GB, sparse: reading it whole would take seconds and 1 GB of memory
    found, refused = find_submissions(tmp_path, "binary_mnist", max_bytes=1000)
    assert [s.path for s in found] == [at_cap]
    assert refused[0].reason.startswith(f"{over} is 1,000,000,000 bytes, above limits.notebook_size_limit_mb "
                                        f"(0.001 MB); it was not read")


def test_the_size_cap_is_a_course_setting_of_50_mb_by_default():
    from autograder.submissions import default_size_limit
    from autograder.support.config import CourseConfig

    assert default_size_limit() == 50 * 10**6 == CourseConfig().limits.notebook_size_limit_mb * 10**6


def test_ids_equal_once_nfc_normalised_and_case_folded_are_refused_as_a_pair(tmp_path):
    composed, decomposed = unicodedata.normalize("NFC", "zoë"), unicodedata.normalize("NFD", "Zoë")
    assert composed != decomposed.lower()  # they look alike, but are other code points
    nbgrader_notebook(tmp_path, composed, "one")
    nbgrader_notebook(tmp_path, decomposed, "two")
    nbgrader_notebook(tmp_path, "ada")
    found, refused = find_submissions(tmp_path, "binary_mnist")
    assert [s.student for s in found] == ["ada"]
    assert len(refused) == 1, refused
    reason = refused[0].reason
    assert reason.startswith("two submissions with the same student id once Unicode composition and case are "
                             "ignored"), reason
    assert ascii(composed) in reason and ascii(decomposed) in reason and "not NFC" in reason, reason


def test_changing_the_size_cap_regrades_no_one():
    """The cap decides which notebooks are read, not how one is graded: the grading key ignores it (as it
    ignores the similarity settings), so raising it after a refusal regrades only the refused."""
    from autograder.batch.grading_key import grading_key
    from autograder.support.config import CourseConfig

    config = CourseConfig()
    raised = config.model_copy(update={"limits": config.limits.model_copy(update={"notebook_size_limit_mb": 500})})
    other = config.model_copy(update={"limits": config.limits.model_copy(update={"cpu_threads": 3})})
    assert grading_key(raised) == grading_key(config) != grading_key(other)
