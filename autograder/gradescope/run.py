"""What ``run_autograder`` runs for each upload: ``python3 -m autograder.gradescope.run``.

Gradescope's contract: grade the upload in ``<root>/submission`` and leave
``<root>/results/results.json``. This module leaves one every time. A provisional one ("did not
finish") is written before anything can go wrong, so even a grader killed from outside leaves a
visible reason. The grading itself runs in a process of its own (``grade_child``) under
``gradescope.timeout_s``, so a crash or a hang there becomes a result too.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from autograder.support.config import CourseConfig, CourseConfigError, GradescopeSettings, load_config
from autograder.gradescope.layout import GradescopeRoot
from autograder.gradescope.results_json import from_graded, not_graded, write_results
from autograder.gradescope.schema import validate_results
from autograder.messages.i18n import Translator, _
from autograder.engine.results import GradeResult
from autograder.report.gradescope_style import gradescope_results
from autograder.report.protections import protections_text
from autograder.report.text import result_text

# Folders that upload tools add and that never hold the student's notebook.
_NOT_SUBMITTED = (".ipynb_checkpoints", "__MACOSX")


def find_notebooks(submission: Path) -> list[Path]:
    """Every notebook in the upload, whatever its name, in subfolders too."""
    if not submission.is_dir():
        return []
    return sorted(p for p in submission.rglob("*.ipynb")
                  if p.is_file() and not any(part in _NOT_SUBMITTED for part in p.relative_to(submission).parts))


def student_name(metadata: Path) -> str:
    """The submitters' names from Gradescope's submission_metadata.json ('' when absent or unreadable)."""
    try:
        users = json.loads(metadata.read_text(encoding="utf-8")).get("users") or []
        return ", ".join(str(u["name"]) for u in users if isinstance(u, dict) and u.get("name"))
    except (OSError, ValueError, AttributeError, TypeError):
        return ""


def _how_it_ended(returncode: int) -> str:
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.Signals._value2member_map_ else str(-returncode)
        return f"killed by {name}" + (" (often: out of memory)" if name == "SIGKILL" else "")
    return f"exit status {returncode}"


def _descendants(pid: int) -> list[int]:
    """Every living process below ``pid`` (from /proc; empty where there is none)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # it ended while being read
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found += sorted(frontier)
    return found


def _run_grading(request: dict, timeout_s: float) -> tuple[str, int | None]:
    """Run ``grade_child``; ('timeout', None) or ('ended', its exit status). Its log goes to Gradescope's stdout."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(request, f)
    proc = subprocess.Popen([sys.executable, "-m", "autograder.gradescope.grade_child", f.name],
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        return "ended", proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return "timeout", None
    finally:
        # The grader and the submission's processes it started go together, whatever happened. The
        # submission's processes run in sessions of their own, so they are found by parentage, not group.
        for pid in [proc.pid, *_descendants(proc.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
        os.unlink(f.name)


def grade_upload(root: GradescopeRoot, config: CourseConfig, started: float) -> dict:
    """The results.json for the upload in ``root``, whatever the upload and the grading did."""
    t = Translator(config.language)
    settings = config.gradescope
    elapsed = lambda: time.monotonic() - started  # noqa: E731
    notebooks = find_notebooks(root.submission)
    if not notebooks:
        files = sorted(p.name for p in root.submission.rglob("*") if p.is_file())[:10] if root.submission.is_dir() else []
        reason = t(_("No notebook (.ipynb file) was found in your upload (it holds: {files}). Upload your notebook."),
                   files=", ".join(files) or t(_("nothing")))
        return not_graded(t(_("Finding your notebook")), reason, config.max_score, settings, elapsed())
    if len(notebooks) > 1:
        names = ", ".join(str(p.relative_to(root.submission)) for p in notebooks)
        reason = t(_("Your upload holds {count} notebooks ({names}); upload exactly one .ipynb file."),
                   count=len(notebooks), names=names)
        return not_graded(t(_("Finding your notebook")), reason, config.max_score, settings, elapsed())
    notebook = notebooks[0]
    name = student_name(root.metadata)
    title = f"{name} ({notebook.name})" if name else notebook.name
    root.report_html.unlink(missing_ok=True)  # never leave a report the submission could have planted
    with tempfile.TemporaryDirectory(prefix="gradescope-") as work:
        outcome_path = Path(work) / "outcome.json"
        request = {"config": str(config.source_path), "notebook": str(notebook), "title": title,
                   "outcome": str(outcome_path), "report": str(root.report_html) if settings.html_report else ""}
        ended, returncode = _run_grading(request, settings.timeout_s)
        if ended == "timeout":
            reason = t(_("Grading did not finish within {seconds:g} s, so this upload scores 0. Look for code that "
                         "runs for a long time (for example training outside a function) and upload again."),
                       seconds=settings.timeout_s)
            return not_graded(t(_("Grading")), reason, config.max_score, settings, elapsed())
        try:
            outcome = json.loads(outcome_path.read_text(encoding="utf-8")) if returncode == 0 else None
        except (OSError, ValueError):
            outcome = None
    if outcome is None:
        reason = t(_("The grader stopped before it finished ({how}), so this upload scores 0. This is not your "
                     "mark: tell your instructor."), how=_how_it_ended(returncode))
        return not_graded(t(_("Grading")), reason, config.max_score, settings, elapsed())
    if "refused" in outcome:  # the grader's machine, not the upload: no student code ran
        reason = t(_("The grader would not run your code here: {reason} This is not your mark: tell your instructor."),
                   reason=outcome["refused"])
        return not_graded(t(_("Grading")), reason, config.max_score, settings, elapsed())
    if "machine_fault" in outcome:  # killed from outside while grading: the same upload may grade next time
        reason = t(_("The machine grading your upload failed before it finished ({reason}), so this upload is not "
                     "graded. This is not your mark: upload it again, and if this happens again, tell your "
                     "instructor."), reason=outcome["machine_fault"])
        return not_graded(t(_("Grading")), reason, config.max_score, settings, elapsed())
    if "unreadable" in outcome:
        reason = t(_("Your notebook could not be read, so nothing in it was graded: {reason}"), reason=outcome["unreadable"])
        return not_graded(t(_("Reading your notebook")), reason, config.max_score, settings, elapsed())
    result = GradeResult.from_dict(outcome["record"])  # a record that does not read is the grader's failure
    # The text says which protections were in force when the result records them; otherwise, that they were not.
    output = [result_text(result, show_hidden=False, translator=t)]
    output += [] if result.isolation else ["", protections_text({}, t)]
    if outcome.get("report"):
        output.append(t(_("HTML report with plots: {path}"), path=Path(outcome["report"]).name))
    results = from_graded(gradescope_results(result, t), settings, "\n".join(output))
    results["execution_time"] = round(elapsed(), 2)
    return results


def run_autograder(root: GradescopeRoot, config_path: Path | None = None) -> dict:
    """Grade the upload and write results.json; return what was written. Never raises for a bad upload."""
    started = time.monotonic()
    try:
        config = load_config(config_path or root.course_config)
    except CourseConfigError as exc:
        # In English: without a readable course.yml there is no course language to write in.
        results = not_graded("Course configuration", f"The autograder is misconfigured, tell your instructor: {exc}",
                             0.0, GradescopeSettings(), time.monotonic() - started)
        write_results(root.results_json, results)
        return results
    t = Translator(config.language)
    write_results(root.results_json, not_graded(
        t(_("Grading")), t(_("Grading started but did not finish: the grader was stopped before it wrote a result. "
                             "This is not your mark: tell your instructor.")), config.max_score, config.gradescope))
    try:
        results = grade_upload(root, config, started)
        validate_results(results)
    except Exception:  # a bug of the kit's: the upload still gets a result that says so
        traceback.print_exc()
        results = not_graded(t(_("Grading")), t(_("The grader failed ({error}), so this upload scores 0. This is not "
                                                  "your mark: tell your instructor."), error=traceback.format_exc(limit=1).strip().splitlines()[-1]),
                             config.max_score, config.gradescope, time.monotonic() - started)
    write_results(root.results_json, results)
    print(results["output"])
    print(f"score: {results['score']:g} / {results['extra_data']['max_score']:g}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m autograder.gradescope.run",
                                     description="Grade the upload in $GRADESCOPE_ROOT/submission (default /autograder) "
                                                 "and write results/results.json, as Gradescope's run_autograder must.")
    parser.add_argument("--config", help="course.yml (default: <root>/source/course/course.yml)")
    args = parser.parse_args(argv)
    run_autograder(GradescopeRoot.from_environment(), Path(args.config) if args.config else None)
    return 0  # Gradescope reads results.json; a nonzero status would only add its own "Autograder failed"


if __name__ == "__main__":
    sys.exit(main())
