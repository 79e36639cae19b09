"""The grading key knows the checks: a new rule moves it and the regrade diff names the new check; a comment,
a docstring or a reformatting of the kit's code moves nothing.

Seconds, no TensorFlow: grade-all runs with an in-process stand-in executor that grades every check the
registry holds when it runs (tests/batch_helpers.py), so a rule registered in the test is graded too.
"""

from __future__ import annotations

import csv
import io
import shutil

import pytest

from autograder.__main__ import main
from autograder.batch.grading_key import EXPECTED_VALUES, GRADING_CODE, KIT, code_digest, grading_key
from autograder.support.config import load_config
from tests.batch_helpers import StandInExecutor, make_course


def registered_names() -> list[str]:
    """Every registered check's full name, as the ledger's records name them (``group: check[probe]``)."""
    from autograder.batch.grading_key import registered_checks

    return [f"{group}: {rule}[{probe}]" for group, rule, probe, *_hidden_trains_weight in registered_checks()]


def every_registered_check_passes(student: str) -> dict[str, bool]:
    return {name: True for name in registered_names()}


@pytest.fixture
def course(tmp_path, monkeypatch):
    root = make_course(tmp_path / "course", ("ada", "ben"))
    executor = StandInExecutor(every_registered_check_passes)
    monkeypatch.setattr("autograder.batch.cli._executor_factory", lambda args, config, settings: lambda: executor)
    return root


def grade_all(root) -> int:
    return main(["--config", str(root / "course.yml"), "grade-all", str(root), "--quiet"])


def test_a_new_rule_moves_the_key_and_the_regrade_diff_names_the_new_check(course, monkeypatch, capsys):
    import autograder.checks.registry as registry

    config = load_config(course / "course.yml")
    assert grade_all(course) == 0
    before = grading_key(config)
    monkeypatch.setattr(registry, "RULES", list(registry.RULES))  # the registration below is undone after the test

    @registry.rule("relabel")
    def check_relabel_keeps_the_dtype(call) -> None:
        """The relabelled array keeps an integer dtype."""

    after = grading_key(config)
    assert after != before, "a rule was added, yet the grading key stayed the same: old grades would still count"
    capsys.readouterr()
    assert grade_all(course) == 0
    out = capsys.readouterr().out
    assert "graded now 2, already in the ledger 0" in out, "the new key must regrade everyone"
    rows = list(csv.DictReader(io.StringIO((course / "grades" / "binary_mnist-regrade-diff.csv").read_text())))
    assert [r["student"] for r in rows] == ["ada", "ben"]
    added = [name for name in registered_names() if "check_relabel_keeps_the_dtype" in name]
    assert added, "the new rule examines the relabel probes"
    assert rows[0]["flipped_checks"] == "; ".join(f"{name} (added, passed)" for name in added)


def kit_copy(tmp_path):
    """The kit's grading code and expected values, copied where a test may edit them."""
    copy = tmp_path / "kit"
    for pattern in (*GRADING_CODE, EXPECTED_VALUES):
        for path in KIT.glob(pattern):
            target = copy / path.relative_to(KIT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    return copy


def test_comments_docstrings_and_layout_do_not_move_the_key_but_code_does(tmp_path):
    config = load_config(KIT.parent / "course.yml")
    kit = kit_copy(tmp_path)
    key = grading_key(config, kit)
    assert key == grading_key(config), "a faithful copy of the kit has the kit's key"
    split = kit / "checks" / "split.py"
    original = split.read_text()
    assert '    """' in original and "@rule(\"split\")\n" in original
    commented = ("# A comment at the top.\n" + original.replace('    """', '    """Reworded. ', 1)
                 .replace("@rule(\"split\")\n", "@rule(\"split\")  # a trailing comment\n", 1))
    split.write_text(commented)
    assert grading_key(config, kit) == key, "a comment-only or docstring-only edit moved the key"
    (kit / "expected" / "inputs.json").write_text((KIT / "expected" / "inputs.json").read_text().replace(",", " ,"))
    assert grading_key(config, kit) == key, "the expected values' layout moved the key"
    split.write_text(original.replace("@rule(\"split\")\n", "@rule(\"split\", needs_training=True)\n", 1))
    assert grading_key(config, kit) != key, "a change to what a rule does must move the key"


def test_a_check_weight_moves_the_key(monkeypatch):
    """A rule's weight decides its share of its group's points: reweighting one regrades the class."""
    from dataclasses import replace

    from autograder.checks import registry

    config = load_config(KIT.parent / "course.yml")
    key = grading_key(config)
    monkeypatch.setattr(registry, "RULES", [replace(registry.RULES[0], weight=2), *registry.RULES[1:]])
    assert grading_key(config) != key


def test_an_expected_value_moves_the_key(tmp_path):
    config = load_config(KIT.parent / "course.yml")
    kit = kit_copy(tmp_path)
    key = grading_key(config, kit)
    inputs = kit / "expected" / "inputs.json"
    inputs.write_text(inputs.read_text().replace("784", "785", 1))
    assert grading_key(config, kit) != key


def test_a_code_digest_ignores_docstrings_and_comments_only():
    code = "def f(x):\n    '''Doc.'''\n    return x + 1\n"
    assert code_digest(code) == code_digest("# note\ndef f(x):\n    return x + 1  # why\n")
    assert code_digest(code) != code_digest("def f(x):\n    '''Doc.'''\n    return x + 2\n")
    assert code_digest(code) != code_digest("def f(x):\n    'Doc.'\n    print()\n    return x + 1\n")
