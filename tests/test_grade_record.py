"""One record of a grade: ``GradeResult.to_dict`` is language-free JSON that reads back as the same result, refuses
what it is not, and a ledger line written before records still reads (a real old line, written by hand)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autograder.checks._compare import table
from autograder.evidence.layer_rows import LayerRow
from autograder.engine.results import RECORD_FORMAT, CheckResult, GradeResult, GroupResult
from autograder.evidence.training_outcome import TrainingOutcome
from autograder.messages.i18n import Translator, _
from autograder.report.gradescope_style import gradescope_results
from autograder.report.text import result_text

EN, KO = Translator("en"), Translator("ko")


def graded() -> GradeResult:
    inverted = _("{call} has the classes inverted: odd digits must be 1, even digits 0.").format(
        call="relabel_odd_even(y_train[:5])")
    # A message whose argument is a table (headers translated, widths fitted when rendered), as checks write them.
    differ = _("{what}: {n_diff} of {size} elements differ{largest}; first at index {first}.\n{table}").format(
        what="relabel_odd_even(y) compared with y % 2", n_diff=np.int64(20), size=20, largest="", first=0,
        table=table((_("index"), _("expected"), _("actual")), [(0, np.uint8(0), 1), (1, 1, 0)], marker_row=0))
    relabel = GroupResult("relabel", 1.0, [
        CheckResult(check="check_relabel_maps_odd_to_1", probe="relabel_digits", group="relabel",
                    rule=_("relabel_odd_even(y) is 1 exactly where the digit is odd."), hidden=False, passed=False,
                    message=inverted, subject="relabel_odd_even(y_train[:5])"),
        CheckResult(check="check_relabel_maps_odd_to_1", probe="relabel_all_labels", group="relabel",
                    rule="a plain rule", hidden=True, passed=True),
        CheckResult(check="check_relabel_values", probe="relabel_digits", group="relabel", rule="values rule",
                    hidden=False, passed=False, message=differ)])
    accuracy = GroupResult("accuracy", 3.0, [
        CheckResult(check="check_accuracy", probe=f"{b}_for_accuracy", group="accuracy", rule="accuracy rule",
                    hidden=True, passed=b != "build_cnn") for b in ("build_mlp", "build_cnn", "build_deep_cnn")],
        partial_credit=True)
    return GradeResult(
        "ada.ipynb", [relabel, accuracy],
        problems=[_("the submission printed {printed:,} bytes; only the first {kept:,} were kept").format(
            printed=2_000_000, kept=1_000_000)], notes=["graded on the sample data"], execution_time=12.345,
        timings={"cells": 3.5, "models": 8.25},
        trainings={"build_mlp": TrainingOutcome("build_mlp", 0, 0.9312, 0.2, {"accuracy": [0.8, 0.93]}, 4.5)},
        layers={"build_mlp": [LayerRow("Dense", (None, 64), 50240, "units=64, activation=relu")]},
        isolation={"submission": {"network": "off", "hidden": True}})


def test_the_record_reads_back_as_the_same_result_and_renders_the_same_in_both_languages():
    result = graded()
    record = json.loads(json.dumps(result.to_dict()))  # through JSON, as the ledger stores it
    assert record["format"] == RECORD_FORMAT and record["score"] == 2.0 and record["max_score"] == 4.0
    assert record["groups"][0]["checks"][0]["message"] == {  # its key and arguments, not its text
        "msgid": "{call} has the classes inverted: odd digits must be 1, even digits 0.",
        "kwargs": {"call": "relabel_odd_even(y_train[:5])"}}
    back = GradeResult.from_dict(record)
    assert back == result
    assert "인덱스" in result_text(back, translator=KO) and "expected" in result_text(back, translator=EN)
    for t in (EN, KO):
        assert result_text(back, translator=t) == result_text(result, translator=t)
        assert gradescope_results(back, t) == gradescope_results(result, t)
    assert back.to_dict() == result.to_dict()


def test_a_layer_without_an_output_shape_reads_back_from_the_record():
    # describe_layers writes ("?",) for a layer that has no output (a model never built): the grade that holds such
    # a row must still read back from the ledger, or grade-all and verify could never use it.
    result = graded()
    result.layers["build_mlp"].append(LayerRow("Dense", ("?",), 0, "units=1, activation=sigmoid"))
    back = GradeResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert back.layers == result.layers


@pytest.mark.parametrize("damage, said", [
    (lambda r: r.update(format=2), "format 1"),
    (lambda r: r.pop("format"), "format 1"),
    (lambda r: r.update(groups=None), "groups must be a list"),
    (lambda r: r.update(score=4.0), "its checks give the submission 2 points, the record says 4.0"),
    (lambda r: r["groups"][1].update(score=3.0), "group accuracy 2 points"),
    (lambda r: r["groups"][0]["checks"][0].update(passed="yes"), "wrong types"),
    (lambda r: r["groups"][0]["checks"][0].update(message={"msgid": "{x.__class__}", "kwargs": {"x": 1}}), "message"),
    (lambda r: r["trainings"]["build_mlp"].update(history={"accuracy": ["high"]}), "history"),
    (lambda r: r["layers"].update(build_mlp=[["Dense", "64", 1, ""]]), "layer row"),
    (lambda r: r.update(execution_time=float("nan")), "execution_time"),
    (lambda r: r["groups"][0]["checks"][2]["message"]["kwargs"]["table"]["table"]["rows"].append(["1"]),
     "one cell per header"),
    (lambda r: r["groups"][0]["checks"][2]["message"]["kwargs"]["table"]["table"]["rows"].append(["x" * 30_000] * 3),
     "characters"),
], ids=["future-format", "no-format", "groups-null", "total-disagrees", "group-disagrees", "check-type",
        "unsafe-message", "history-type", "layer-type", "nan-time", "table-row-short", "table-cell-long"])
def test_a_record_that_is_not_one_is_refused_with_the_reason(damage, said):
    record = json.loads(json.dumps(graded().to_dict()))
    damage(record)
    with pytest.raises(ValueError) as refused:
        GradeResult.from_dict(record)
    assert said in str(refused.value)


# A graded line exactly as grade-all wrote it before records (issue 32): the result is a Gradescope-style dict,
# its text rendered in English, each test named "group: check[probe]".
OLD_LINE = (
    '{"student": "ada", "assignment": "binary_mnist", "sha256": "' + "a" * 64 + '", "key": "dfeb3578ab5768e1", '
    '"notebook": "/course/submitted/ada/binary_mnist/binary_mnist.ipynb", "attempts": 1, '
    '"recorded_at": "2026-11-30T10:00:00+00:00", "status": "graded", "reason": "", "isolated": true, '
    '"score": 3.0, "max_score": 4.0, "groups": {"relabel": {"score": 0.0, "max_score": 1.0}, '
    '"accuracy": {"score": 3.0, "max_score": 3.0}}, "seconds": 12.3, "calibration": "sample-1a2b", '
    '"worker": "host:4242", "result": {"score": 3.0, "max_score": 4.0, "execution_time": 12.3, '
    '"output": "note: graded on the sample data", "tests": ['
    '{"name": "relabel: check_relabel_maps_odd_to_1[relabel_digits]", "group": "relabel", "score": 0.0, '
    '"max_score": 1.0, "status": "failed", "output": "relabel_odd_even(y_train[:5]) has the classes inverted.", '
    '"visibility": "visible"}, '
    '{"name": "accuracy: check_accuracy[build_mlp_for_accuracy]", "group": "accuracy", "score": 3.0, '
    '"max_score": 3.0, "status": "passed", "output": "passed: accuracy rule", "visibility": "hidden"}], '
    '"extra_data": {"timings": {"cells": 3.5}, "accuracies": {"build_mlp": 0.93}, "isolation": {}}}}\n')


def test_a_ledger_line_written_before_records_still_reads_everywhere(tmp_path):
    from autograder.batch.class_report import failures_only
    from autograder.batch.gradebook_writer import cell_points
    from autograder.batch.ledger import read_ledger, recorded_result
    from autograder.batch.regrade_diff import _outcomes

    path = tmp_path / "binary_mnist.jsonl"
    path.write_text(OLD_LINE + json.dumps({**json.loads(OLD_LINE), "key": "new", "result": None}) + "\n")
    contents = read_ledger(path, "binary_mnist", keep_results=True)
    assert contents.warnings == [] and len(contents.entries) == 2
    old = contents.entries[0]
    result = recorded_result(old, partial_credit={"accuracy"})
    assert [(g.name, g.score, g.max_score) for g in result.groups] == [("relabel", 0.0, 1.0), ("accuracy", 3.0, 3.0)]
    failure = result.group("relabel").first_failure
    assert (failure.check, failure.probe, failure.message) == (
        "check_relabel_maps_odd_to_1", "relabel_digits", "relabel_odd_even(y_train[:5]) has the classes inverted.")
    assert result.group("accuracy").checks[0].hidden and result.notes == ["note: graded on the sample data"]
    assert GradeResult.from_dict(result.to_dict()) == result, "an old line migrates to a record"
    assert failures_only(old, KO)["failures"] == [{"group": "relabel", "check": "check_relabel_maps_odd_to_1",
                                                   "output": "relabel_odd_even(y_train[:5]) has the classes inverted."}]
    assert _outcomes(old)["tests"] == {"relabel: check_relabel_maps_odd_to_1[relabel_digits]": "failed",
                                       "accuracy: check_accuracy[build_mlp_for_accuracy]": "passed"}
    assert cell_points("test_accuracy_build_mlp", 1.0, old) == 1.0 and cell_points("test_relabel", 1.0, old) == 0.0
