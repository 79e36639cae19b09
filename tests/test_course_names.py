"""nbgrader helpers take the assignment and notebook names from course.yml, not from a constant."""

from autograder.course.nbgrader_course import course_names


def test_names_come_from_the_course_folders_course_yml(tmp_path):
    (tmp_path / "course.yml").write_text("assignment: week3_cnn\n")
    assert course_names(tmp_path) == ("week3_cnn", "week3_cnn")


def test_given_names_win(tmp_path):
    (tmp_path / "course.yml").write_text("assignment: week3_cnn\n")
    assert course_names(tmp_path, "binary_mnist", "nb") == ("binary_mnist", "nb")
