"""Tests of autograder.engine.results' scoring rules, and of its renderings: the text (``report.text``), and the
Gradescope-style dict and JSON (``report.gradescope_style``)."""

from __future__ import annotations

import json

import pytest

from autograder.report.gradescope_style import gradescope_json, gradescope_results
from autograder.report.text import result_text
from autograder.engine.results import CheckResult, GradeResult, GroupResult, split_check_name


def _check(name: str, group: str, passed: bool, message: str = "", hidden: bool = False) -> CheckResult:
    return CheckResult(check=name, probe="", group=group, rule=f"rule of {name}", hidden=hidden, passed=passed,
                       message="" if passed else (message or f"{name} failed"))


def _result() -> GradeResult:
    """relabel (all-or-nothing, one failure) + accuracy (partial credit, 3 of 4 passed) + compile (all passed)."""
    relabel = GroupResult("relabel", 2, [
        _check("zeros", "relabel", True),
        _check("ones", "relabel", False, "expected 1, got 0"),
    ])
    accuracy = GroupResult("accuracy", 3, [
        _check("mlp", "accuracy", True),
        _check("cnn", "accuracy", True),
        _check("deep_cnn", "accuracy", True, hidden=True),
        _check("ensemble", "accuracy", False, "accuracy 0.51 is below 0.97", hidden=True),
    ], partial_credit=True)
    compile_ = GroupResult("compile", 1, [_check("loss", "compile", True)])
    return GradeResult("student.ipynb", [relabel, accuracy, compile_], execution_time=12.345)


# --- scoring ---------------------------------------------------------------------------------


def test_one_failed_check_zeroes_an_all_or_nothing_group():
    group = _result().group("relabel")

    assert group.score == 0
    assert not group.passed
    assert group.n_passed == 1
    assert [group.check_score(c) for c in group.checks] == [0, 0]
    assert group.first_failure.name == "ones"


def test_an_all_or_nothing_group_scores_full_points_when_every_check_passes():
    group = GroupResult("relabel", 2, [_check("a", "relabel", True), _check("b", "relabel", True)])

    assert group.passed
    assert group.score == pytest.approx(2)
    assert group.first_failure is None


def test_a_partial_credit_group_scores_a_share_per_passed_check():
    group = _result().group("accuracy")

    assert group.score == pytest.approx(3 * 3 / 4)
    assert [group.check_score(c) for c in group.checks] == pytest.approx([0.75, 0.75, 0.75, 0.0])
    assert not group.passed


def test_with_every_weight_1_a_group_splits_its_points_evenly_as_before():
    # Today's scores, exactly: the points over the number of checks, a share per passed check.
    group = GroupResult("accuracy", 2.5, [_check(n, "accuracy", n != "c") for n in "abc"], partial_credit=True)

    assert [group.check_max_score(c) for c in group.checks] == [2.5 / 3] * 3
    assert group.score == 2.5 * 2 / 3
    assert [group.check_score(c) for c in group.checks] == [2.5 / 3, 2.5 / 3, 0.0]


def test_a_check_weighted_2_is_worth_twice_each_other_check_of_its_group():
    checks = [_check("heavy", "accuracy", True), _check("light", "accuracy", False), _check("other", "accuracy", True)]
    checks[0].weight = 2
    partial = GroupResult("accuracy", 4, checks, partial_credit=True)

    assert [partial.check_max_score(c) for c in checks] == [2.0, 1.0, 1.0]
    assert partial.score == 3.0 and [partial.check_score(c) for c in checks] == [2.0, 0.0, 1.0]
    whole = GroupResult("relabel", 4, checks)
    assert whole.score == 0.0 and [whole.check_score(c) for c in checks] == [0.0, 0.0, 0.0]
    tests = gradescope_results(GradeResult("nb", [partial]))["tests"]
    assert [(t["score"], t["max_score"]) for t in tests] == [(2.0, 2.0), (0.0, 1.0), (1.0, 1.0)]


def test_a_weight_is_stored_only_when_it_is_not_1_and_read_back():
    even, heavy = _check("even", "split", True), _check("heavy", "split", True)
    heavy.weight = 2.5

    assert "weight" not in even.to_dict()  # a record of even shares is written as it always was
    assert heavy.to_dict()["weight"] == 2.5
    assert CheckResult.from_dict(heavy.to_dict()).weight == 2.5 and CheckResult.from_dict(even.to_dict()).weight == 1
    group = GroupResult("split", 3, [even, heavy], partial_credit=True)
    even.passed = False
    assert GroupResult.from_dict(group.to_dict()).score == group.score == 3 * 2.5 / 3.5
    for bad in (0, -1, "2", True, float("nan")):
        with pytest.raises(ValueError, match="weight"):
            CheckResult.from_dict({**heavy.to_dict(), "weight": bad})


def test_a_group_without_checks_has_not_passed_and_scores_nothing():
    group = GroupResult("cnn", 2)

    assert not group.passed
    assert group.score == 0


def test_grade_score_and_max_score_sum_the_groups():
    result = _result()

    assert result.score == pytest.approx(0 + 2.25 + 1)
    assert result.max_score == pytest.approx(2 + 3 + 1)


def test_group_lookup_fails_for_an_unknown_name():
    with pytest.raises(StopIteration, match="^$"):
        _result().group("nope")


# --- Gradescope / JSON -----------------------------------------------------------------------


def test_gradescope_results_has_the_totals_and_one_test_per_check():
    out = gradescope_results(_result())

    assert {"score", "max_score", "execution_time", "tests"} <= set(out)
    assert out["score"] == pytest.approx(3.25)
    assert out["max_score"] == pytest.approx(6)
    assert out["execution_time"] == pytest.approx(12.35)
    assert len(out["tests"]) == 7
    for test in out["tests"]:
        assert set(test) == {"name", "group", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden")


def test_gradescope_results_marks_a_passed_check_in_a_failed_group_as_passed_with_no_points():
    zeros, ones = gradescope_results(_result())["tests"][:2]

    assert zeros == {"name": "relabel: zeros", "group": "relabel", "score": 0, "max_score": 1.0,
                     "status": "passed", "output": "passed: rule of zeros", "visibility": "visible"}
    assert ones["status"] == "failed"
    assert ones["score"] == 0
    assert ones["output"] == "expected 1, got 0"


def test_gradescope_results_scores_partial_credit_checks_and_marks_hidden_ones():
    tests = {t["name"]: t for t in gradescope_results(_result())["tests"]}

    assert tests["accuracy: mlp"]["score"] == pytest.approx(0.75)
    assert tests["accuracy: mlp"]["visibility"] == "visible"
    assert tests["accuracy: deep_cnn"]["visibility"] == "hidden"
    assert tests["accuracy: ensemble"] == {
        "name": "accuracy: ensemble", "group": "accuracy", "score": 0.0, "max_score": 0.75,
        "status": "failed", "output": "accuracy 0.51 is below 0.97", "visibility": "hidden",
    }


def test_gradescope_results_output_joins_problems_and_notes():
    result = _result()
    result.problems = ["cell 3 has a syntax error"]
    result.notes = ["graded on the sample data"]

    assert gradescope_results(result)["output"] == "cell 3 has a syntax error\ngraded on the sample data"


def test_gradescope_json_round_trips_through_json_loads():
    result = _result()

    assert json.loads(gradescope_json(result)) == gradescope_results(result)


def test_gradescope_json_keeps_non_ascii_messages_readable():
    result = GradeResult("s.ipynb", [GroupResult("relabel", 1, [_check("a", "relabel", False, "정답이 아닙니다")])])

    assert "정답이 아닙니다" in gradescope_json(result)


# --- a check and its probe ------------------------------------------------------------------


def test_a_result_stores_its_check_and_probe_and_names_them_together_as_reports_do():
    result = CheckResult(check="check_split_sizes", probe="split_n_val_2000", group="split", rule="r", hidden=False,
                         passed=True)

    assert (result.check, result.probe) == ("check_split_sizes", "split_n_val_2000")
    assert result.name == "check_split_sizes[split_n_val_2000]"
    assert _check("ones", "relabel", True).name == "ones", "a result with no probe is named by its check alone"


def test_a_result_is_built_by_keyword_so_no_field_lands_in_another():
    with pytest.raises(TypeError):
        CheckResult("check_x", "probe", "relabel", "rule", False, True)


def test_a_result_writes_its_check_and_probe_apart_and_reads_them_back():
    result = CheckResult(check="check_x", probe="relabel_small", group="relabel", rule="r", hidden=True, passed=False,
                         message="m", subject="relabel_odd_even(y)", see="check_y")

    data = json.loads(json.dumps(result.to_dict()))

    assert (data["check"], data["probe"]) == ("check_x", "relabel_small") and "name" not in data
    assert CheckResult.from_dict(data) == result


# What ``CheckResult.to_dict`` wrote before the check and its probe were stored apart (the model process's
# answers, and any file kept from then): the two joined in "name".
_OLD_DATA = {"name": "check_split_keeps_x_and_y_aligned[split_default_n_val]", "group": "split",
             "rule": {"msgid": "split_train_val keeps each image with its label.", "kwargs": {}}, "hidden": False,
             "passed": False, "message": {"msgid": "{call} mixed images and labels.",
                                          "kwargs": {"call": "split_train_val(x, y)"}},
             "subject": "split_train_val(x, y)", "see": ""}


def test_data_written_with_the_joined_name_is_still_read():
    result = CheckResult.from_dict(_OLD_DATA)

    assert (result.check, result.probe) == ("check_split_keeps_x_and_y_aligned", "split_default_n_val")
    assert result.name == _OLD_DATA["name"]
    assert (result.group, result.hidden, result.passed, result.subject) == ("split", False, False, "split_train_val(x, y)")
    assert result.message_text() == "split_train_val(x, y) mixed images and labels."
    assert result.rule_text() == "split_train_val keeps each image with its label."


@pytest.mark.parametrize("name, check, probe", [
    ("check_x[probe]", "check_x", "probe"),
    ("check_x", "check_x", ""),
    ("", "", ""),
    ("check_x[]", "check_x[]", ""),
    ("check_x[probe", "check_x[probe", ""),
    ("[probe]", "", "probe"),
    ("check_x[a[b]]", "check_x", "a[b]"),
])
def test_a_joined_name_is_split_so_that_joining_gives_it_back_whole(name, check, probe):
    assert split_check_name(name) == (check, probe)
    assert CheckResult.from_dict({**_OLD_DATA, "name": name}).name == name


@pytest.mark.parametrize("changes, why", [
    ({"name": 7}, "the wrong types: name, group"),
    ({"name": "x" * 2_001}, "name has more than 2,000 characters"),
    ({"check": "check_x"}, "both a name and a check or probe"),
    ({"probe": "p"}, "both a name and a check or probe"),
])
def test_data_written_with_the_joined_name_is_refused_as_before_when_malformed(changes, why):
    with pytest.raises(ValueError, match=why):
        CheckResult.from_dict({**_OLD_DATA, **changes})


def test_a_too_long_check_or_probe_is_refused():
    data = _check("c", "relabel", True).to_dict()

    with pytest.raises(ValueError, match="probe has more than 2,000 characters"):
        CheckResult.from_dict({**data, "probe": "p" * 2_001})
    with pytest.raises(ValueError, match="check has more than 2,000 characters"):
        CheckResult.from_dict({**data, "check": "c" * 2_001})


# --- text ------------------------------------------------------------------------------------


def test_result_text_shows_a_table_with_each_group_and_the_total():
    lines = result_text(_result()).splitlines()

    assert lines[0] == "Grade for student.ipynb"
    assert "  relabel    0.00/2.00   1/2 FAILED" in lines
    assert "  accuracy   2.25/3.00   3/4 FAILED" in lines
    assert "  compile    1.00/1.00   1/1 ok" in lines
    assert "  total      3.25/6.00 " in lines


def test_result_text_reports_each_failure_with_its_rule_and_message():
    text = result_text(_result())

    assert "FAILED relabel: ones\n  rule: rule of ones\n  expected 1, got 0" in text
    assert "FAILED accuracy: ensemble (hidden)\n" in text


def test_result_text_reports_identical_failures_of_a_group_once():
    stub = "NotImplementedError: the function is still a stub"
    group = GroupResult("mlp", 2, [
        _check("layers", "mlp", False, stub),
        _check("output", "mlp", False, stub),
        _check("params", "mlp", False, "expected 3 layers", hidden=True),
    ])
    text = result_text(GradeResult("s.ipynb", [group]))

    assert text.count(stub) == 1
    assert "FAILED mlp: layers, output\n  " + stub in text
    assert "FAILED mlp: params (hidden)\n  rule: rule of params\n  expected 3 layers" in text


def test_result_text_without_hidden_checks_leaves_out_their_failures():
    text = result_text(_result(), show_hidden=False)

    assert "ensemble" not in text
    assert "accuracy 0.51" not in text
    assert any(line.startswith("  accuracy   2.25/3.00   2/2 ") for line in text.splitlines())


def test_result_text_lists_problems_and_notes():
    result = _result()
    result.problems = ["cell 3 has a syntax error"]
    result.notes = ["graded on the sample data"]

    text = result_text(result)

    assert "\nproblem: cell 3 has a syntax error" in text
    assert text.endswith("\nnote: graded on the sample data")


def test_one_cause_over_several_inputs_is_one_block_with_the_checks_it_stopped_named():
    # Issue 11.6: a split hard-coded at 50,000 fails the sizes check on every input, and the order
    # check could not check further; one block, the inputs on one line, the order check named under it.
    def sizes(probe, n, hidden=False):
        return CheckResult(check="check_split_sizes", probe=probe, group="split", rule="rule of sizes", hidden=hidden,
                           passed=False, message=f"split_train_val(x, y{n}) returned the wrong sizes:\n   x_val  "
                           f"expected {len(n) * 7}  got 0\nHint: the split point lies past the end.",
                           subject=f"split_train_val(x, y{n})")

    def order(probe, n, hidden=False):
        return CheckResult(check="check_split_keeps_order", probe=probe, group="split", rule="rule of order",
                           hidden=hidden, passed=False,
                           message=f"split_train_val(x, y{n}): not compared; check_split_sizes reports why",
                           subject=f"split_train_val(x, y{n})", see="check_split_sizes")

    group = GroupResult("split", 1.0, [sizes("default", ""), order("default", ""), sizes("n2000", ", n_val=2000"),
                                       order("n2000", ", n_val=2000"), sizes("h", ", n_val=111", True),
                                       order("h", ", n_val=111", True)])
    result = GradeResult("s.ipynb", [group])
    text = result_text(result)
    assert text.count("FAILED split:") == 1, text
    assert "FAILED split: check_split_sizes\n  rule: rule of sizes\n  failed on: default, n2000, h (hidden)\n" in text
    assert text.endswith("also failed because of this (not checked further): check_split_keeps_order")
    assert "not compared" not in text and "shuffled" not in text
    assert len(gradescope_results(result)["tests"]) == 6  # the per-check entries stay
    student = result_text(result, show_hidden=False)
    assert "failed on: default, n2000\n" in student and "(hidden)" not in student
