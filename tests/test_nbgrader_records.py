"""The course's gradebook conventions, owned by one module: test-cell ids and who submitted."""

from autograder.support.config import GROUPS
from autograder.course.nbgrader_records import (builder_of, group_of, submitted_notebooks, submitted_students,
                                         grade_id_of)
from autograder.course.source_notebook import build_source_notebook


def test_every_test_cell_id_reads_back_as_its_group_and_model():
    for group in GROUPS:
        assert (group_of(grade_id_of(group)), builder_of(grade_id_of(group))) == (group, None)
    assert group_of("test_accuracy_build_deep_cnn") == "accuracy"
    assert builder_of(grade_id_of("accuracy", "build_deep_cnn")) == "build_deep_cnn"


def test_the_source_notebooks_graded_cells_follow_the_convention(sample_config):
    ids = [c.metadata["nbgrader"]["grade_id"] for c in build_source_notebook(sample_config).cells
           if c.metadata["nbgrader"]["grade"]]
    assert {group_of(i) for i in ids} == set(GROUPS)
    assert sorted(builder_of(i) for i in ids if builder_of(i)) == ["build_cnn", "build_deep_cnn", "build_mlp"]


def test_submitted_students_and_their_notebooks(tmp_path):
    for student in ("ada", "ben"):
        (tmp_path / "submitted" / student / "hw1").mkdir(parents=True)
    (tmp_path / "submitted" / "ada" / "hw1" / "hw1.ipynb").write_text("{}")
    (tmp_path / "submitted" / "cleo" / "other").mkdir(parents=True)
    assert submitted_students(tmp_path, "hw1") == ["ada", "ben"]
    assert list(submitted_notebooks(tmp_path, "hw1", "hw1.ipynb")) == ["ada"]
    assert submitted_notebooks(tmp_path, "hw1", "hw1.ipynb", students=["ben"]) == {}
