"""Grade one upload in a process of its own: ``python -m autograder.gradescope.grade_child REQUEST.json``.

``run`` starts this process so that whatever happens to it (TensorFlow aborting, the kernel's
OOM killer, a hang) leaves ``run`` alive to write a results.json that says so. It writes
``OUTCOME.json``: the grade's record (``GradeResult.to_dict``: the checks, the protections in force, messages
as msgid and arguments), which ``run`` renders, and the report's path; or, with the reason, ``unreadable`` (the
notebook), ``refused`` (no sandbox here) or ``machine_fault`` (a process of the grading killed from outside).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def grade(request: dict) -> dict:
    from autograder.support.config import load_config
    from autograder.grader.grading import Grader
    from autograder.support.notebook_file import NotebookError, read_notebook
    from autograder.isolation.bubblewrap import SandboxUnavailable
    from autograder.isolation.infrastructure_fault import InfrastructureFault
    from autograder.isolation.jail import require_sandbox

    config = load_config(request["config"])
    try:
        read_notebook(Path(request["notebook"]))
    except NotebookError as exc:
        return {"unreadable": str(exc)}
    try:
        require_sandbox(config.limits)
    except SandboxUnavailable as exc:
        return {"refused": str(exc)}
    grader = Grader(config, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    try:
        result = grader.grade_notebook(request["notebook"], include_hidden=True)
    except InfrastructureFault as exc:  # the machine's failure, not the upload's: no grade to record
        return {"machine_fault": str(exc)}
    result.submission = request["title"]
    # The grade's language-free record: ``run`` renders it (results.json, the text) in the course's language.
    outcome = {"record": result.to_dict(), "report": ""}
    if request.get("report"):
        from autograder.report import attach_report_data, write_report

        print("drawing the HTML report (the reference models train once for its curves) ...", file=sys.stderr)
        try:
            attach_report_data(grader, result)
            outcome["report"] = str(write_report(request["report"], result, grader.translator, show_hidden=False))
        except Exception as exc:  # the report is extra: losing it must not cost the grade
            outcome["report_error"] = f"{type(exc).__name__}: {exc}"
    return outcome


def main(request_path: str) -> int:
    from autograder.messages.framework_log import drop_framework_log_lines

    drop_framework_log_lines()
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    outcome = grade(request)
    Path(request["outcome"]).write_text(json.dumps(outcome, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
