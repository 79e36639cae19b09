"""The real nbgrader pipeline in a temporary course: generate → submit → autograde → export → feedback."""

import re

import pytest

from autograder.course import nbgrader_course
from autograder.support.config import GROUPS
from autograder.course.nbgrader_records import gradebook_scores
from autograder.support.config import load_config
from autograder.course.verify import verify_course

pytestmark = pytest.mark.slow  # real nbgrader autograde of several notebooks: minutes


def test_reference_submission_gets_full_marks_in_the_export(autograded_course, sample_config):
    course, _ = autograded_course
    rows = {row["student_id"]: row for row in nbgrader_course.export_grades(course)}
    assert rows["ada_complete"]["score"] == rows["ada_complete"]["max_score"] == sample_config.max_score


def test_one_broken_function_loses_exactly_its_groups_points(autograded_course, sample_config):
    course, students = autograded_course
    scores = gradebook_scores(course, "binary_mnist", "binary_mnist", students)
    expected = {g: (float(sample_config.points[g]), float(sample_config.points[g])) for g in GROUPS}
    assert scores["ada_complete"] == expected
    expected["relabel"] = (0.0, float(sample_config.points["relabel"]))
    assert scores["ben_relabel_inverted"] == expected


def test_verify_reports_the_subverted_test_cells_and_writes_the_verified_points(autograded_course, sample_config):
    course, students = autograded_course
    before = gradebook_scores(course, "binary_mnist", "binary_mnist", students)
    assert sum(v[0] for v in before["eve_redefines_check_group"].values()) == sample_config.max_score  # fooled
    config = load_config(course / "course.yml")
    verification = verify_course(course, config, "binary_mnist", "binary_mnist", write_back=True, log=lambda m: None,
                                 students=["eve_redefines_check_group", "ada_complete"])
    discrepancies = verification.discrepancies
    assert [(d.student, d.group, d.nbgrader_points, d.verified_points) for d in discrepancies] == \
        [("eve_redefines_check_group", "relabel", 1.0, 0.0)]
    assert "has the classes inverted" in discrepancies[0].reason
    after = gradebook_scores(course, "binary_mnist", "binary_mnist", students)
    assert after["eve_redefines_check_group"]["relabel"] == (0.0, 1.0)
    assert after["ada_complete"] == before["ada_complete"]


def test_feedback_shows_the_failure_but_no_hidden_tests(autograded_course):
    course, _ = autograded_course
    feedback = nbgrader_course.generate_feedback(course)
    ben = nbgrader_course.html_text(feedback["ben_relabel_inverted"])
    assert "has the classes inverted" in ben
    for text in (ben, nbgrader_course.html_text(feedback["ada_complete"])):
        assert "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text


def test_feedback_report_lands_next_to_nbgraders_feedback_without_hidden_tests(autograded_course, sample_grader):
    from autograder.course.feedback import write_feedback_reports
    from autograder.messages.i18n import Translator

    course, _ = autograded_course
    nbgrader_page = nbgrader_course.generate_feedback(course)["ben_relabel_inverted"]

    reports = write_feedback_reports(course, sample_grader, Translator("en"), students=["ben_relabel_inverted"])

    assert list(reports) == ["ben_relabel_inverted"]
    assert reports["ben_relabel_inverted"].parent == nbgrader_page.parent
    text = nbgrader_course.html_text(reports["ben_relabel_inverted"])
    assert "has the classes inverted" in text and re.search(r"relabel\s*0/1", text)
    # The hidden probes (all 70,000 labels, random labels) fail too, but nothing of them is shown.
    assert "relabel_all_labels" not in text and "relabel_random_labels" not in text and "(hidden)" not in text
