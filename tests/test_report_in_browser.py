"""The report in a real browser (headless Chromium): every image loads and is not blank, the score
table shows the grade's numbers, and the page logs no errors. Screenshots go to the test's tmp folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder.messages.i18n import Translator
from autograder.report import attach_report_data, write_report

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")

pytestmark = [pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                 reason="headless Chromium is not installed (Debian packages chromium, "
                                        "chromium-driver; .ci/run installs them)"),
              pytest.mark.slow]  # a browser, and a report whose reference models train

# Per image: loaded, its natural size, and the variance of its pixels' brightness drawn on a canvas.
_IMAGE_STATS = """
return Array.from(document.images).map(img => {
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  let variance = 0;
  if (img.naturalWidth > 0) {
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0, sumSq = 0, n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const v = (data[i] + data[i + 1] + data[i + 2]) / 3; sum += v; sumSq += v * v;
    }
    variance = sumSq / n - (sum / n) ** 2;
  }
  return {id: img.id || img.className, complete: img.complete, width: img.naturalWidth, variance: variance};
});
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,2000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def _open(browser, path: Path, screenshot: Path) -> dict:
    from selenium.webdriver.common.by import By

    browser.get(path.as_uri())
    images = browser.execute_script(_IMAGE_STATS)
    rows = {row.get_attribute("data-group"): row.find_element(By.CSS_SELECTOR, "td.score").text
            for row in browser.find_elements(By.CSS_SELECTOR, "#score-table tr[data-group]")}
    total = browser.find_element(By.CSS_SELECTOR, "#score-table tr.total td.score").text
    browser.set_window_size(1280, browser.execute_script("return document.body.scrollHeight") + 100)
    assert browser.save_screenshot(str(screenshot))
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    return {"images": images, "rows": rows, "total": total, "errors": errors}


def _score(x: float) -> str:
    return f"{x:g}" if float(x).is_integer() else f"{x:.2f}"


@pytest.mark.parametrize("example, lang", [("ada_complete", "en"), ("cleo_cnn_softmax", "ko")])
def test_report_renders_in_chromium(example, lang, browser, graded_example, sample_grader, tmp_path):
    result = graded_example(example, lang)
    report = write_report(tmp_path / f"{example}.html", attach_report_data(sample_grader, result), Translator(lang),
                          show_hidden=False)

    page = _open(browser, report, tmp_path / f"{example}.png")

    assert len(page["images"]) >= 5
    for image in page["images"]:
        assert image["complete"] and image["width"] > 0, f"image {image['id']} did not load"
        assert image["variance"] > 100, f"image {image['id']} is blank (pixel variance {image['variance']:.1f})"
    assert page["rows"] == {g.name: f"{_score(g.score)}/{_score(g.max_score)}" for g in result.groups}
    assert page["total"] == f"{_score(result.score)}/{_score(result.max_score)}"
    assert page["errors"] == []
    assert (tmp_path / f"{example}.png").stat().st_size > 10_000
    shutil.copy(tmp_path / f"{example}.png", tmp_path.parent / f"{example}-{lang}-screenshot.png")
