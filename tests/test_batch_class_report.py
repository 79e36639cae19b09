"""grade-all --class-report: the class page from ledger lines (hand-made here): distribution, failure rate by
group, most common failures grouped by check and cause, what was not graded; English and Korean; and, where
headless Chromium is installed, the page as a browser draws it."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.batch.class_report import common_failures, failure_cause, write_class_report
from autograder.messages.i18n import Translator

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SOFTMAX = ("build_cnn() ends in Dense({units}, softmax): a binary classifier needs one sigmoid unit.\n"
           "Hint: layers.Dense(1, activation='sigmoid').")


def line(student, cnn_units=None, relabel_ok=True):
    cnn_ok = cnn_units is None
    groups = {"relabel": {"score": 1.0 if relabel_ok else 0.0, "max_score": 1.0},
              "cnn": {"score": 2.0 if cnn_ok else 0.0, "max_score": 2.0}}
    tests = [{"name": "cnn: check_output_is_one_sigmoid_unit[build_cnn]", "group": "cnn",
              "status": "passed" if cnn_ok else "failed", "output": "" if cnn_ok else SOFTMAX.format(units=cnn_units)},
             {"name": "relabel: check_relabel_maps_odd_to_1[relabel_digits]", "group": "relabel",
              "status": "passed" if relabel_ok else "failed",
              "output": "" if relabel_ok else "relabel_odd_even(y) has the classes inverted."}]
    return {"student": student, "status": "graded", "score": sum(g["score"] for g in groups.values()),
            "max_score": 3.0, "groups": groups, "result": {"tests": tests}}


CLASS = [line("ada"), line("ben", cnn_units=10), line("cleo", cnn_units=2), line("dan", cnn_units=10, relabel_ok=False)]
NOT_GRADED = [{"student": "eve", "reason": "WorkerDied: the worker process died while grading"}]


def test_the_same_mistake_with_other_numbers_is_one_cause_counted_once_per_student():
    assert failure_cause(SOFTMAX.format(units=10)) == failure_cause(SOFTMAX.format(units=2))
    failures = common_failures(CLASS)
    assert [(f["group"], f["check"], f["count"]) for f in failures] == [
        ("cnn", "check_output_is_one_sigmoid_unit", 3), ("relabel", "check_relabel_maps_odd_to_1", 1)]
    assert failures[0]["students"] == ["ben", "cleo", "dan"] and "softmax" in failures[0]["example"]


def test_the_failures_the_coordinator_keeps_of_each_line_give_the_same_common_failures():
    from autograder.batch.class_report import failures_only

    slim = [failures_only(e) for e in CLASS]
    assert all("result" not in e for e in slim)
    assert [[f["check"] for f in e["failures"]] for e in slim] == [
        [], ["check_output_is_one_sigmoid_unit"], ["check_output_is_one_sigmoid_unit"],
        ["check_relabel_maps_odd_to_1", "check_output_is_one_sigmoid_unit"]]  # in the line's group order
    assert slim[1]["groups"] == CLASS[1]["groups"]
    assert common_failures(slim) == common_failures(CLASS)


def test_the_page_shows_distribution_group_rates_failures_and_not_graded(tmp_path):
    page = write_class_report(tmp_path / "class.html", "binary_mnist", CLASS, NOT_GRADED, Translator("en"))
    html = page.read_text(encoding="utf-8")
    assert "Class report: binary_mnist" in html and "4 submission(s) graded, mean score 1.25 of 3." in html
    assert html.count("<rect ") == 4  # one bar per whole point, 0..3
    assert ["<title>0: 1</title>", "<title>1: 2</title>", "<title>2: 0</title>", "<title>3: 1</title>"] == [
        t for t in ("<title>0: 1</title>", "<title>1: 2</title>", "<title>2: 0</title>", "<title>3: 1</title>") if t in html]
    assert "3 student(s): cnn, check_output_is_one_sigmoid_unit" in html
    assert "<td class=\"num\">3 (75%)</td>" in html  # cnn lost by 3 of 4
    assert "eve</td><td>WorkerDied: the worker process died while grading" in html
    assert "<script" not in html and "http" not in html.split("</style>")[1]  # self-contained, nothing fetched


def test_the_page_is_in_the_courses_language(tmp_path):
    html = write_class_report(tmp_path / "class.html", "binary_mnist", CLASS, NOT_GRADED, Translator("ko")).read_text(
        encoding="utf-8")
    assert '<html lang="ko">' in html and "반 보고서: binary_mnist" in html and "학생 3명: cnn" in html
    assert "Class report" not in html


def regrade():
    """ben lost relabel in the regrade, and the accuracy check was renamed; ada's score did not change."""
    from autograder.batch.regrade_diff import Flip, RegradeDiff, StudentChange

    old, new = "accuracy: check_accuracy_above_threshold[build_mlp]", \
        "accuracy: check_model_reaches_reference_accuracy[build_mlp_for_accuracy]"
    flips = [Flip("relabel: check_relabel_maps_odd_to_1[relabel_digits]", "passed", "failed"),
             Flip(new, None, "passed"), Flip(old, "passed", None)]
    return RegradeDiff("newkey", compared=["ada", "ben"],
                       changes=[StudentChange("ben", "oldkey", "newkey", 3.0, 2.0, 3.0, flips)])


def test_the_regrade_section_lists_who_changed_score_with_the_checks_that_flipped(tmp_path):
    html = write_class_report(tmp_path / "class.html", "binary_mnist", CLASS, NOT_GRADED, Translator("en"),
                              regrade=regrade(), regrade_csv="grades/binary_mnist-regrade-diff.csv").read_text(
        encoding="utf-8")
    section = html.split("What the regrade under the new grading key changed", 1)[-1].split("<h2>", 1)[0]
    assert section != html, "a class report with a regrade diff should have its section"
    assert "1 of 2 student(s) regraded under the new grading key (newkey) changed score; 1 kept theirs." in section
    assert "grades/binary_mnist-regrade-diff.csv" in section
    assert '<td>ben</td><td class="num">3</td><td class="num">2/3</td>' in section
    assert "relabel: check_relabel_maps_odd_to_1[relabel_digits]: passed before, fails now" in section
    assert "check_model_reaches_reference_accuracy[build_mlp_for_accuracy]: a new check, passed" in section
    assert "check_accuracy_above_threshold[build_mlp]: no longer checked (it had passed)" in section
    assert "<td>ada</td>" not in section, "ada's score did not change: she has no row"


def test_the_regrade_section_is_in_the_courses_language_and_absent_without_a_regrade(tmp_path):
    korean = write_class_report(tmp_path / "ko.html", "binary_mnist", CLASS, NOT_GRADED, Translator("ko"),
                                regrade=regrade()).read_text(encoding="utf-8")
    assert "새 채점 키로 다시 채점해서 바뀐 것" in korean and "전에는 통과, 이제는 실패" in korean
    assert "passed before" not in korean
    first = write_class_report(tmp_path / "first.html", "binary_mnist", CLASS, NOT_GRADED,
                               Translator("en")).read_text(encoding="utf-8")
    assert "regrade" not in first, "a first grading has no regrade to show"


def similarity_section(pairs):
    """The class report's similarity section for a hand-made report: ada and ben alike, cleo and dan the same file."""
    from autograder.integrity.similarity import DuplicateGroup, SimilarityReport, StudentCode
    from autograder.integrity.similarity_page import class_report_section

    students = [StudentCode(s, Path(f"{s}.ipynb"), s, "", [], {}) for s in ("ada", "ben", "cleo", "dan")]
    report = SimilarityReport("binary_mnist", 0.5, 0.2, students, pairs, [DuplicateGroup(("cleo", "dan"), True)], [], 0)
    return class_report_section(report, "class-similarity.html")


def test_the_similarity_section_shows_the_flagged_pairs_and_duplicates_when_given_pairs(tmp_path):
    from autograder.integrity.similarity import Pair

    pairs = [Pair("cleo", "dan", 1.0, 1.0, 800, 400, 800), Pair("ada", "ben", 0.7, 0.3, 500, 100, 1000),
             Pair("ada", "cleo", 0.2, 0.1, 150, 40, 1000)]  # ada · cleo: 15%, below the threshold of 50%
    html = write_class_report(tmp_path / "class.html", "binary_mnist", CLASS, NOT_GRADED, Translator("en"),
                              similarity=similarity_section(pairs)).read_text(encoding="utf-8")
    section = html.split("Similarity of the students&#39; own code", 1)[-1]
    assert section != html, "given pairs, the class report should have its similarity section"
    assert "2 pair(s) at or above the threshold of 50%" in section and "class-similarity.html" in section
    assert "cleo, dan" in section, "the exact duplicates are listed"
    rows = section.split('id="similarity-pairs"', 1)[-1].split("</table>", 1)[0]
    assert ('<td>cleo · dan</td><td class="num">100%</td>' in rows and '<td>ada · ben</td><td class="num">50%</td>' in rows
            and "ada · cleo" not in rows), rows
    assert "Similarity of the students" not in write_class_report(
        tmp_path / "none.html", "binary_mnist", CLASS, NOT_GRADED, Translator("en")).read_text(encoding="utf-8")


@pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                    reason="headless Chromium is not installed (Debian packages chromium, chromium-driver; .ci/run installs them)")
def test_the_page_in_chromium_draws_its_bars_and_logs_no_errors(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    page = write_class_report(tmp_path / "class.html", "binary_mnist", CLASS, NOT_GRADED, Translator("ko"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1280,1600",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        browser.get(page.as_uri())
        heights = [float(r.get_attribute("height")) for r in browser.find_elements(By.CSS_SELECTOR, "#histogram rect")]
        box = browser.execute_script("const b = document.getElementById('histogram').getBoundingClientRect();"
                                     "return [b.width, b.height];")
        rows = browser.find_elements(By.CSS_SELECTOR, "#group-table tbody tr")
        errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert browser.save_screenshot(str(tmp_path / "class.png"))
    finally:
        browser.quit()
    assert heights == [70.0, 140.0, 0.0, 70.0] and box[0] > 100 and box[1] > 100
    assert len(rows) == 2 and errors == []
