"""The HTML report: layer diff, failures without hidden details, curves and grids embedded, Korean."""

from __future__ import annotations

import base64
import copy
import re
from types import SimpleNamespace

import numpy as np
import pytest

from autograder.checks.architecture import expected_layers

from autograder.evidence.layer_rows import LayerRow
from autograder.messages.i18n import Translator
from autograder.report import attach_report_data, layer_diff, render_report
from autograder.report.report_data import report_data
from autograder.engine.results import CheckResult, GradeResult, GroupResult
from autograder.evidence.training_outcome import BUILDERS
from autograder.evidence.training_outcome import TrainingOutcome


def _png_sizes(html: str) -> list[tuple[int, int]]:
    sizes = []
    for data in re.findall(r'src="data:image/png;base64,([^"]+)"', html):
        png = base64.b64decode(data)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        sizes.append((int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")))
    return sizes


def test_layer_diff_marks_the_first_differing_layer_and_its_cells():
    expected = list(expected_layers("build_cnn"))
    actual = list(expected)
    actual[6] = LayerRow("Dense", (1,), 257, "units=1, activation=softmax")

    rows, first = layer_diff(expected, actual)

    assert first == 6
    assert [r.first for r in rows].index(True) == 6
    assert rows[6].differs == (False, False, False, True)
    assert rows[6].actual[3] == "units=1, activation=softmax"


def test_layer_diff_of_a_missing_model_shows_every_layer_missing():
    rows, first = layer_diff(list(expected_layers("build_mlp")), [])

    assert first == 0
    assert all(r.actual == ("—",) * 4 for r in rows)


@pytest.fixture(scope="module")
def cleo(graded_example, sample_grader):
    return attach_report_data(sample_grader, graded_example("cleo_cnn_softmax"))


@pytest.fixture(scope="module")
def cleo_html(cleo):
    return render_report(cleo, Translator("en"))


@pytest.mark.slow  # grades an example and trains the reference models for the curves
def test_broken_cnn_report_points_at_its_output_layer(cleo_html):
    html = cleo_html

    cnn = html.split('id="layers-build_cnn"')[1].split("</table>")[0]
    assert "First difference: layer 6." in cnn
    first_row = re.search(r'<tr class="first-difference">(.*?)</tr>', cnn, re.S).group(1)
    assert re.search(r'<td class="differs">units=1, activation=softmax</td>', first_row)
    assert html.count("Every layer matches the lecture&#39;s model.") == 2  # the MLP and the deep CNN
    assert "softmax over a single unit always outputs 1.0" in html


@pytest.mark.slow  # grades an example and trains the reference models for the curves
def test_report_embeds_curves_grid_strip_and_comparison_as_pngs(cleo_html):
    html = cleo_html

    sizes = _png_sizes(html)
    assert len(sizes) == 3 + 1 + 1 + 1  # curves per model, prediction grid, misclassified strip, accuracies
    assert all(w > 100 and h > 100 for w, h in sizes)
    assert "http" not in re.sub(r'<html[^>]*>', "", html).lower().replace("http-equiv", "")


@pytest.mark.slow  # grades an example and trains the reference models for the curves
def test_student_report_has_no_hidden_check_details_and_escapes_submission_text(cleo):
    result = copy.deepcopy(cleo)
    failed = result.group("accuracy").first_failure
    failed.hidden, failed.check, failed.probe = True, "secret_check", "hidden_probe"
    failed.message = "SECRET DETAIL of a hidden test"
    result.problems = ["<script>alert(1)</script>"]  # text the submission controls is escaped

    html = render_report(result, Translator("en"), show_hidden=False)

    assert "secret_check" not in html and "SECRET DETAIL" not in html and "(hidden)" not in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "SECRET DETAIL" in render_report(result, Translator("en"), show_hidden=True)


@pytest.mark.slow  # grades an example and trains the reference models for the curves
def test_korean_report_has_korean_headings_and_messages(cleo):
    html = render_report(cleo, Translator("ko"))  # the same result as the English report: graded once

    assert '<html lang="ko">' in html
    for text in ("그룹별 점수", "여러분의 모델, 층별 비교", "처음으로 다른 층: 6번 층.", "세 모델 비교"):
        assert text in html
    assert "softmax를 쓰세요" not in html and "이진 출력에는 activation='sigmoid'를 쓰세요." in html.replace("&#39;", "'")
    assert "규칙: 모델이 Dense(1, activation=" in html.replace("&#39;", "'")
    assert "Score by group" not in html and "Hint:" not in html


# ---------------------------------------------------------------- the report renders a result alone


def _outcome(builder: str, accuracy: float, probabilities=None) -> TrainingOutcome:
    return TrainingOutcome(builder, 0, accuracy=accuracy, loss=0.3, history={"loss": [0.5, 0.3], "accuracy": [0.8, accuracy]},
                           test_probabilities=probabilities)


def _stand_in_grader(n_test: int = 40):
    """What attaching reads of a grader: reference runs, thresholds, and a grading test set whose images show
    their own index (pixel value = index), so that a picture can be traced back to its label."""
    images = np.stack([np.full((28, 28, 1), i, dtype="float32") for i in range(n_test)])
    labels = (np.arange(n_test) % 2).astype("float32")
    return SimpleNamespace(
        reference_trainings={b: _outcome(b, 0.97, np.zeros(n_test, "float32")) for b in BUILDERS},
        calibration=SimpleNamespace(models={b: SimpleNamespace(threshold=0.9123) for b in BUILDERS}),
        data=SimpleNamespace(x_test={"cnn": images, "mlp": images.reshape(n_test, -1)}, y_test=labels))


def _graded(probabilities: np.ndarray) -> GradeResult:
    check = CheckResult(check="check_relabel", probe="y", group="relabel", rule="a rule", hidden=False, passed=True)
    relabel = GroupResult("relabel", 1.0, [check])
    result = GradeResult("ada.ipynb", [relabel])
    result.trainings = {"build_cnn": _outcome("build_cnn", 0.95, probabilities)}
    return result


def test_attached_report_data_holds_the_digits_the_model_was_scored_on_with_their_own_labels():
    grader = _stand_in_grader()
    predicted_odd_everywhere = np.ones(40, "float32")  # wrong on every even index

    data = report_data(grader, _graded(predicted_odd_everywhere))

    assert data.best_model == "build_cnn" and data.thresholds["build_mlp"] == pytest.approx(0.9123)
    assert [int(image[0, 0]) for image in data.grid.images] == list(range(25))
    assert [int(image[0, 0]) for image in data.misclassified.images] == list(range(0, 20, 2)), (
        "each misclassified picture is the image whose label and probability it is shown with")
    assert not data.misclassified.labels.any()
    assert all(o.test_probabilities is None for o in data.references.values()), "the result stays small"


def test_the_report_renders_a_result_alone_in_either_language_without_a_grader():
    result = attach_report_data(_stand_in_grader(), _graded(np.ones(40, "float32")))

    english, korean = render_report(result, Translator("en")), render_report(result, Translator("ko"))

    assert "0.9123" in english and '<img id="prediction-grid"' in english and '<img id="misclassified"' in english
    assert '<html lang="ko">' in korean and "그룹별 점수" in korean
    assert len(_png_sizes(english)) == 3 + 1 + 1 + 1


def test_a_result_without_report_data_is_refused_with_how_to_attach_it():
    with pytest.raises(ValueError, match=r"carries no report data: attach it with autograder.report.report_data.attach_report_data"):
        render_report(_graded(np.ones(40, "float32")), Translator("en"))


@pytest.mark.slow  # grades an example and trains the reference models for the curves (shared with the tests above)
def test_a_grade_stored_in_the_ledger_renders_everywhere_as_the_fresh_grading_does(cleo, cleo_html, sample_config,
                                                                                    tmp_path):
    """The record in a real ledger line, read back, gives every rendering of the fresh grading, in both languages."""
    import json

    from autograder.batch.class_run import _entry
    from autograder.batch.ledger import LedgerWriter, read_ledger, recorded_result
    from autograder.batch.worker_task import outcome_of
    from autograder.report.gradescope_style import gradescope_results
    from autograder.report.text import result_text
    from autograder.submissions import Submission

    path = tmp_path / "binary_mnist.jsonl"
    with LedgerWriter(path) as ledger:
        ledger.append(_entry(Submission("cleo", tmp_path / "cleo.ipynb", "c" * 64), "binary_mnist", "k", 1,
                             outcome_of(cleo, "sample-test")))
    line = path.read_text(encoding="utf-8")
    failed = next(c for g in cleo.groups for c in g.checks if not c.passed)
    assert failed.message_text(Translator("ko")).splitlines()[0] not in line, "the ledger stores no rendered text"
    stored = read_ledger(path, "binary_mnist", keep_results=True).entries[0]
    assert stored["result"]["format"] == 1
    read_back = recorded_result(stored, sample_config.partial_credit)
    # What the HTML report draws besides the grade (the reference's curves, the test digits) is the grader's,
    # attached when a report is drawn: the same here, so that only the grade's part can differ.
    read_back.report_data = cleo.report_data
    assert not all(c.passed for g in cleo.groups for c in g.checks), "the example fails some check: messages to render"
    for lang in ("en", "ko"):
        t = Translator(lang)
        for show_hidden in (True, False):
            assert result_text(read_back, show_hidden, t) == result_text(cleo, show_hidden, t), (lang, show_hidden)
        assert json.dumps(gradescope_results(read_back, t)) == json.dumps(gradescope_results(cleo, t)), lang
        fresh_html = cleo_html if lang == "en" else render_report(cleo, t)
        assert render_report(read_back, t) == fresh_html, lang
    assert result_text(read_back, translator=Translator("ko")) != result_text(read_back), "Korean is not English"
