"""Tests of autograder.support.config: course.yml validated against one declared schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from autograder.support.config import (GROUPS, CourseConfig, CourseConfigError, describe_schema, find_config,
                                        load_config)
from repo_paths import ROOT

COURSE_YML = ROOT / "course.yml"


@pytest.fixture(autouse=True)
def no_config_env(monkeypatch):
    monkeypatch.delenv("COURSE_CONFIG", raising=False)


def _write(tmp_path: Path, text: str, name: str = "course.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _leaf_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys += _leaf_keys(ann, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


# --- the repo's course.yml -------------------------------------------------------------------


def test_the_repo_course_yml_loads_and_validates():
    config = load_config(COURSE_YML)

    assert config.assignment == "binary_mnist"
    assert config.notebook_name == "binary_mnist.ipynb"
    assert list(config.points) == list(GROUPS)
    assert "accuracy" in config.partial_credit
    assert config.source_path == COURSE_YML.resolve()
    assert config.root == ROOT


def test_the_repo_course_yml_sets_every_group_to_positive_points():
    config = load_config(COURSE_YML)

    assert all(points > 0 for points in config.points.values())
    assert config.max_score == sum(config.points.values())


# --- defaults and overrides ------------------------------------------------------------------


def test_load_config_without_a_file_uses_the_schema_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    config = load_config(None)

    assert config.source_path is None
    assert config == CourseConfig()
    assert config.data.source == "mnist"
    assert config.training.epochs == 30
    assert config.partial_credit == ("accuracy",)
    assert config.root == tmp_path.resolve()


def test_overrides_replace_single_keys_and_keep_the_rest_of_the_section():
    config = load_config(COURSE_YML, data={"source": "sample"})

    assert config.data.source == "sample"
    assert config.data.n_val is None
    assert config.assignment == "binary_mnist"


def test_overrides_are_validated_like_the_file():
    with pytest.raises(CourseConfigError, match=r"data\.source: Input should be 'mnist' or 'sample'"):
        load_config(COURSE_YML, data={"source": "emnist"})


def test_calibration_dir_is_resolved_against_the_config_folder(tmp_path):
    path = _write(tmp_path, "calibration: {directory: cal}\n")

    assert load_config(path).calibration_dir == (tmp_path / "cal").resolve()


# --- readable errors -------------------------------------------------------------------------


def test_an_unknown_key_is_reported_with_its_full_name(tmp_path):
    path = _write(tmp_path, "grading: {epoch: 3}\n")

    with pytest.raises(CourseConfigError, match=r"grading\.epoch: unknown key \(got 3\)"):
        load_config(path)


def test_a_value_of_the_wrong_type_names_the_key(tmp_path):
    path = _write(tmp_path, "training: {epochs: many}\n")

    with pytest.raises(CourseConfigError, match=r"training\.epochs: Input should be a valid integer.*\(got 'many'\)"):
        load_config(path)


def test_a_value_out_of_range_names_the_key(tmp_path):
    path = _write(tmp_path, "grading: {momentum: 1.5}\n")

    with pytest.raises(CourseConfigError, match=r"grading\.momentum: Input should be less than 1"):
        load_config(path)


def test_every_problem_is_reported_at_once(tmp_path):
    path = _write(tmp_path, "grading: {epoch: 3}\ntraining: {epochs: many}\n")

    with pytest.raises(CourseConfigError, match=r"has 2 problem\(s\)") as info:
        load_config(path)
    assert "grading.epoch" in str(info.value) and "training.epochs" in str(info.value)


def test_a_missing_file_is_named(tmp_path):
    missing = tmp_path / "nowhere.yml"

    with pytest.raises(CourseConfigError, match=rf"course config {missing} does not exist"):
        load_config(missing)


def test_invalid_yaml_is_reported_as_such(tmp_path):
    path = _write(tmp_path, "grading: [\n")

    with pytest.raises(CourseConfigError, match=rf"{path} is not valid YAML"):
        load_config(path)


def test_a_top_level_that_is_not_a_mapping_is_rejected(tmp_path):
    path = _write(tmp_path, "- relabel\n- split\n")

    with pytest.raises(CourseConfigError, match=r"must hold a mapping of settings, not list"):
        load_config(path)


def test_an_empty_file_means_all_defaults(tmp_path):
    path = _write(tmp_path, "# nothing set\n")

    config = load_config(path)

    assert config.model_dump() == CourseConfig().model_dump()
    assert config.source_path == path.resolve()


def test_points_missing_a_group_are_rejected(tmp_path):
    *named, left_out = GROUPS
    path = _write(tmp_path, "points: {" + ", ".join(f"{g}: 1" for g in named) + "}\n")

    with pytest.raises(CourseConfigError, match=rf"points must name each check group.*unknown: none, missing: \['{left_out}'\]"):
        load_config(path)


def test_points_naming_an_unknown_group_are_rejected(tmp_path):
    points = ", ".join(f"{g}: 1" for g in GROUPS)
    path = _write(tmp_path, f"points: {{{points}, bonus: 5}}\n")

    with pytest.raises(CourseConfigError, match=r"points must name each check group.*unknown: \['bonus'\], missing: none"):
        load_config(path)


def test_partial_credit_naming_an_unknown_group_is_rejected(tmp_path):
    path = _write(tmp_path, "partial_credit: [accuracy, bonus]\n")

    with pytest.raises(CourseConfigError, match=r"partial_credit names unknown groups \['bonus'\]"):
        load_config(path)


def test_the_internal_source_path_field_is_not_accepted_as_a_yaml_key(tmp_path):
    path = _write(tmp_path, "source_path: /elsewhere\n")

    with pytest.raises(CourseConfigError, match=r"source_path"):
        load_config(path)


def test_a_non_string_top_level_key_is_reported_as_a_config_error(tmp_path):
    path = _write(tmp_path, "1: 2\n")

    with pytest.raises(CourseConfigError, match=r"1"):
        load_config(path)


# --- finding the file ------------------------------------------------------------------------


def test_find_config_walks_up_from_a_subfolder(tmp_path):
    config = _write(tmp_path, "assignment: other\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)

    assert find_config(sub) == config.resolve()


def test_find_config_returns_none_when_no_folder_above_has_one(tmp_path):
    assert find_config(tmp_path) is None


def test_find_config_honours_the_course_config_variable(tmp_path, monkeypatch):
    _write(tmp_path, "assignment: nearby\n")
    chosen = _write(tmp_path, "assignment: chosen\n", name="other.yml")
    monkeypatch.setenv("COURSE_CONFIG", str(chosen))

    assert find_config(tmp_path) == chosen


def test_load_config_without_a_path_reads_the_course_config_variable(tmp_path, monkeypatch):
    chosen = _write(tmp_path, "assignment: chosen\n", name="other.yml")
    monkeypatch.setenv("COURSE_CONFIG", str(chosen))

    assert load_config().assignment == "chosen"


def test_a_course_config_variable_naming_a_missing_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CONFIG", str(tmp_path / "gone.yml"))

    with pytest.raises(CourseConfigError, match=r"gone\.yml does not exist; create it or unset \$COURSE_CONFIG"):
        load_config()


def test_load_config_without_a_path_finds_course_yml_above_the_working_folder(tmp_path, monkeypatch):
    _write(tmp_path, "assignment: found\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    monkeypatch.chdir(sub)

    assert load_config().assignment == "found"


# --- the schema reference --------------------------------------------------------------------


def test_describe_schema_is_a_markdown_table_with_a_header():
    lines = describe_schema().splitlines()

    assert lines[0] == "| key | type | default | meaning |"
    assert lines[1] == "|---|---|---|---|"
    assert all(line.startswith("| `") and line.endswith(" |") for line in lines[2:])


def test_describe_schema_mentions_every_leaf_key():
    table = describe_schema()
    keys = _leaf_keys(CourseConfig)

    assert {"grading.n_train", "data.source", "limits.call_timeout_s", "points", "partial_credit"} <= set(keys)
    for key in keys:
        assert f"| `{key}` |" in table
    assert "source_path" not in table


def test_describe_schema_rows_all_have_four_cells():
    for line in describe_schema().splitlines():
        cells = line.strip().strip("|").split("|")
        assert len(cells) == 4, line
