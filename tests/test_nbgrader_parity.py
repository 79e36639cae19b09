"""nbgrader's own path gives the points `grade` gives: group by group, for every example and broken variant.

nbgrader runs the test cells in the student's kernel and scores a cell 0 when it has any stderr
output; `grade` runs the same checks out of process. The session's ``autograded_course`` is graded
by real nbgrader; ``verify`` re-grades each submission with the isolated grader and lists every group
where the two disagree.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from autograder.engine.results import GradeResult

from autograder.course import nbgrader_course
from autograder.support.config import load_config
from autograder.course.nbgrader_records import gradebook_scores
from autograder.course.verify import verify_course
from autograder.batch.ledger import latest_lines, ledger_path
from autograder.report.text import result_text
from conftest import NBGRADER_EXPLOIT, nbgrader_submissions

pytestmark = pytest.mark.slow  # real nbgrader autograde of every example and broken variant: minutes

# The exploit's points differ on purpose (see test_nbgrader_roundtrip.py); every other submission must agree.
PARITY_STUDENTS = [s for s in nbgrader_submissions() if s != NBGRADER_EXPLOIT]


@pytest.fixture
def verification(nbgrader_verification):
    return nbgrader_verification


@pytest.mark.parametrize("student", PARITY_STUDENTS)
def test_nbgrader_records_the_points_grade_gives_group_by_group(autograded_course, verification, student):
    course, _ = autograded_course
    nbgrader = gradebook_scores(course, "binary_mnist", "binary_mnist", [student])[student]
    graded = verification.results[student]
    assert {g: got for g, (got, _) in nbgrader.items()} == {g.name: g.score for g in graded.groups}, result_text(graded)
    assert [d for d in verification.discrepancies if d.student == student] == []


def test_the_broken_variants_lose_points_so_parity_is_not_vacuous(verification):
    lost = {s: {g.name for g in r.groups if g.score < g.max_score} for s, r in verification.results.items()}
    assert lost["ada_complete"] == lost["eli_lecture_style"] == lost["gus_noisy_stderr"] == set()
    assert lost["ben_relabel_inverted"] == {"relabel"} and lost["variant_mse_loss"] == {"compile"}
    assert "accuracy" in lost["variant_frozen"] and lost["dan_untouched_stubs"] == {g.name for g in
                                                                                  verification.results["dan_untouched_stubs"].groups}


@pytest.mark.parametrize("student", ["ada_complete", "eli_lecture_style", "gus_noisy_stderr", "cleo_cnn_softmax"])
def test_no_graded_cell_of_an_autograded_notebook_has_stderr_output(autograded_course, student):
    course, _ = autograded_course
    nb = nbformat.read(course / "autograded" / student / "binary_mnist" / "binary_mnist.ipynb", as_version=4)
    graded = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    assert graded
    stderr = {c.metadata.nbgrader.grade_id: o.text for c in graded for o in c.get("outputs", [])
              if o.output_type == "stream" and o.name == "stderr"}
    assert stderr == {}


def test_what_the_noisy_submission_wrote_is_shown_on_stdout_instead(autograded_course):
    course, _ = autograded_course
    nb = nbformat.read(course / "autograded" / "gus_noisy_stderr" / "binary_mnist" / "binary_mnist.ipynb", as_version=4)
    stdout = {c.metadata.nbgrader.grade_id: "".join(o.text for o in c.get("outputs", []) if o.output_type == "stream")
              for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")}
    assert "debug: relabelling" in stdout["test_relabel"] and "written to fd 2 by the student" in stdout["test_relabel"]
    assert "Python warned (UserWarning): my own warning inside build_mlp" in stdout["test_mlp"]
    assert "relabel: all" in stdout["test_relabel"] and "NodeDef" not in "".join(stdout.values())


def test_training_cells_under_autograde_show_the_very_training_grade_judges(autograded_course, verification):
    course, _ = autograded_course
    nb = nbformat.read(course / "autograded" / "ada_complete" / "binary_mnist" / "binary_mnist.ipynb", as_version=4)
    # What `grade` measured (verify graded every submission into the course's ledger).
    line = latest_lines(ledger_path(course, "binary_mnist"), "binary_mnist", {"ada_complete"}).entries[0]
    graded = {b: o.accuracy for b, o in GradeResult.from_dict(line["result"]).trainings.items()}
    for builder in ("build_mlp", "build_cnn", "build_deep_cnn"):
        cell = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == f"train_{builder}")
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        said = re.search(rf"{builder}: trained as the grader trains it in [\d.]+ s; accuracy (0\.\d{{4}})", text)
        assert said and float(said[1]) == round(graded[builder], 4), (text, graded[builder])
        assert "\b" not in text and "\r" not in text and "━" not in text  # no progress bar redrawn per batch
        assert sum("image/png" in o.get("data", {}) for o in cell.outputs) == 2  # the curves and the digit grid


def test_verify_lists_a_student_who_was_never_autograded_and_keeps_going(autograded_course, tmp_path):
    course, _ = autograded_course
    late = course / "submitted" / "zoe_late" / "binary_mnist"
    late.mkdir(parents=True)
    (late / "binary_mnist.ipynb").write_bytes(
        (course / "submitted" / "ada_complete" / "binary_mnist" / "binary_mnist.ipynb").read_bytes())
    try:
        config = load_config(course / "course.yml")
        verification = verify_course(course, config, "binary_mnist", "binary_mnist", log=lambda m: None,
                                     students=["zoe_late", "ben_relabel_inverted"])
        assert verification.not_autograded == ["zoe_late"] and not verification.all_agree
        assert list(verification.results) == ["ben_relabel_inverted"] and verification.discrepancies == []
        assert "1 submission(s) not autograded yet" in verification.text() and "zoe_late" in verification.text()
    finally:
        import shutil

        shutil.rmtree(course / "submitted" / "zoe_late")


def test_nbgrader_validate_passes_a_correct_lecture_style_notebook_and_fails_the_release(autograded_course):
    course, _ = autograded_course
    env = {"COURSE_CONFIG": str(course / "course.yml")}
    correct = course / "submitted" / "eli_lecture_style" / "binary_mnist" / "binary_mnist.ipynb"
    passed = nbgrader_course.run_nbgrader(course, "validate", str(correct), env=env, timeout=600)
    assert "Success! Your notebook passes all the tests." in passed.stdout, passed.stdout[-3000:]
    release = course / "assignments" / "binary_mnist" / "binary_mnist.ipynb"
    failed = nbgrader_course.run_nbgrader(course, "validate", str(release), env=env, timeout=600)
    assert "VALIDATION FAILED" in failed.stdout, failed.stdout[-3000:]


# On full MNIST nbgrader runs each notebook's training cells too, so two notebooks stand for the rest: one
# correct notebook, the pack of the riskiest spellings students write (a `%%time` cell, a top-level `if` choosing
# the input shape as Keras' own example does, a constant computed by a call, a loss given as a function;
# tests/spellings.py), and one broken group. Stderr does not depend on the data: the sample-data run shows it.
FULL_MNIST_STUDENTS = ["pack_riskiest", "ben_relabel_inverted"]


@pytest.fixture(scope="module")
def full_mnist_verification(sample_config, tmp_path_factory):
    from spellings import PACKS_BY_NAME
    from conftest import autograde_with_nbgrader, require_full_mnist

    require_full_mnist()
    submissions = {"pack_riskiest": PACKS_BY_NAME["pack_riskiest"],
                   "ben_relabel_inverted": nbgrader_submissions()["ben_relabel_inverted"]}
    course = autograde_with_nbgrader(sample_config, tmp_path_factory.mktemp("nbgrader_mnist"), "mnist", submissions)
    config = load_config(course / "course.yml")
    return course, verify_course(course, config, "binary_mnist", "binary_mnist", log=lambda m: None)


@pytest.mark.slow
def test_on_full_mnist_nbgrader_records_the_points_grade_gives(full_mnist_verification):
    course, verification = full_mnist_verification
    assert verification.not_autograded == [] and verification.discrepancies == [], verification.text()
    nbgrader = gradebook_scores(course, "binary_mnist", "binary_mnist", FULL_MNIST_STUDENTS)
    for student, result in verification.results.items():
        assert {g: got for g, (got, _) in nbgrader[student].items()} == {g.name: g.score for g in result.groups}
        assert "full MNIST" in " ".join(str(note) for note in result.notes)  # notes are messages, rendered here
    lost = {s: {g.name for g in r.groups if g.score < g.max_score} for s, r in verification.results.items()}
    assert lost == {"pack_riskiest": set(), "ben_relabel_inverted": {"relabel"}}
    for student in FULL_MNIST_STUDENTS:
        nb = nbformat.read(course / "autograded" / student / "binary_mnist" / "binary_mnist.ipynb", as_version=4)
        assert not [o for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")
                    for o in c.get("outputs", []) if o.output_type == "stream" and o.name == "stderr"], student
