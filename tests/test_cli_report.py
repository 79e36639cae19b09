"""`python -m autograder grade PATH --html FILE --lang ko`: a complete Korean report even for bad input."""

from __future__ import annotations

from autograder.__main__ import main
from repo_paths import ROOT


def test_grade_writes_a_korean_report_for_a_notebook_that_does_not_exist(tmp_path, capsys):
    report = tmp_path / "report.html"

    code = main(["--config", str(ROOT / "course.yml"), "grade", str(tmp_path / "missing.ipynb"), "--data", "sample",
                 "--quiet", "--lang", "ko", "--html", str(report)])

    out = capsys.readouterr().out
    assert code == 0
    assert "합계" in out and "채점하지 못함" in out and f"wrote {report}" in out
    html = report.read_text(encoding="utf-8")
    assert '<html lang="ko">' in html and "채점하지 못함" in html
    assert "학습할 수 있는 모델이 없어서 보여 줄 예측이 없습니다." in html
