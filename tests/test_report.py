"""The HTML report: layer diff, failures without hidden details, curves and grids embedded, Korean."""

from __future__ import annotations

import base64
import copy
import re

import pytest

from autograder.checks.architecture import LayerRow, expected_layers
from autograder.i18n import Translator
from autograder.report import layer_diff, render_report


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
def cleo(graded_example):
    return graded_example("cleo_cnn_softmax")


@pytest.fixture(scope="module")
def cleo_html(cleo, grader):
    return render_report(cleo, grader, Translator("en"))


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
def test_student_report_has_no_hidden_check_details_and_escapes_submission_text(cleo, grader):
    result = copy.deepcopy(cleo)
    failed = result.group("accuracy").first_failure
    failed.hidden, failed.name, failed.message = True, "secret_check[hidden_probe]", "SECRET DETAIL of a hidden test"
    result.problems = ["<script>alert(1)</script>"]  # text the submission controls is escaped

    html = render_report(result, grader, Translator("en"), show_hidden=False)

    assert "secret_check" not in html and "SECRET DETAIL" not in html and "(hidden)" not in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "SECRET DETAIL" in render_report(result, grader, Translator("en"), show_hidden=True)


@pytest.mark.slow  # grades an example and trains the reference models for the curves
def test_korean_report_has_korean_headings_and_messages(graded_example, grader):
    html = render_report(graded_example("cleo_cnn_softmax", "ko"), grader, Translator("ko"))

    assert '<html lang="ko">' in html
    for text in ("그룹별 점수", "여러분의 모델, 층별 비교", "처음으로 다른 층: 6번 층.", "세 모델 비교"):
        assert text in html
    assert "softmax를 쓰세요" not in html and "이진 출력에는 activation='sigmoid'를 쓰세요." in html.replace("&#39;", "'")
    assert "규칙: 모델이 Dense(1, activation=" in html.replace("&#39;", "'")
    assert "Score by group" not in html and "Hint:" not in html
