"""What runs in a worker process (local pool or Dask): build the Grader once, then grade submissions.

Imported by the coordinator only for the function objects' names; TensorFlow is imported here
lazily, inside the worker, never at module import. Each worker process keeps one Grader per course
settings, so data and calibration load once per worker, not once per submission.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

_graders: dict = {}


@dataclass(frozen=True)
class GradingSettings:
    """How to rebuild the coordinator's config in a worker: course.yml's path and the command's overrides."""

    config_path: str | None
    overrides: tuple = ()  # ((section, key, value), ...): hashable, so it can key the worker's cache
    lang: str | None = None
    # Seconds after which a submission's grading is abandoned, on top of the grader's own limits (Dask has none).
    timeout_s: float = 1800.0
    # Where to write each student's HTML report (grade --html), drawn by the worker that graded it; None: none.
    html_dir: str | None = None
    # The class's training cache folder beside the ledger (grade-all), or None (--no-training-cache).
    training_cache: str | None = None
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    def override_dict(self) -> dict:
        out: dict = {}
        for section, key, value in self.overrides:
            out.setdefault(section, {})[key] = value
        return out


def settings_for(config, data_source: str | None = None, lang: str | None = None,
                 html_dir: str | None = None, training_cache: str | None = None) -> GradingSettings:
    """The settings that rebuild ``config`` (as loaded from its course.yml) in a worker, with the command's overrides."""
    overrides = (("data", "source", data_source),) if data_source else ()
    limits = config.limits
    # Far beyond what the grader's own limits allow a submission: a safety net, not a grading rule.
    timeout = limits.startup_timeout_s + limits.submission_timeout_s + 3 * limits.training_timeout_s + 600
    return GradingSettings(str(config.source_path) if config.source_path else None, overrides, lang, timeout,
                           html_dir=html_dir, training_cache=training_cache)


def grader_for(settings: GradingSettings):
    """This worker's Grader for ``settings``, built and warmed (data, calibration) on first use."""
    key = (settings.config_path, settings.overrides, settings.lang, settings.training_cache)
    if key not in _graders:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if not os.environ.get("AUTOGRADER_VERBOSE"):
            # Filtered here, in the worker, before TensorFlow loads: the coordinator's own filter sees these
            # lines glued to its progress bar's partial lines and could not tell them apart.
            from autograder.messages.framework_log import drop_framework_log_lines

            drop_framework_log_lines()
        from autograder.support.config import load_config
        from autograder.grader.grading import Grader

        grader = Grader(load_config(settings.config_path, **settings.override_dict()), log=lambda msg: None,
                        lang=settings.lang,
                        training_cache_dir=Path(settings.training_cache) if settings.training_cache else None)
        grader.calibration  # load (or make) it now, so that every submission costs the same
        _graders[key] = grader
    return _graders[key]


# How often a worker looks whether its coordinator (its parent: the grade-all process, or a Dask nanny) is alive.
COORDINATOR_CHECK_S = 0.5
_watching: list[int] = []


def watch_the_coordinator() -> None:
    """Start, once per worker process, a thread that ends this worker when its parent dies (a coordinator killed
    with SIGKILL cannot end its workers): its jailed processes through their cgroups and its temp folders first
    (``jail.end_jails_of``), then itself. The parent's death is seen as this process's parent pid changing.
    Started by the local pool's initializers and the LocalCluster's worker plugin (``dask_pool``), whose workers
    are the coordinator's children; never in a cluster's own workers (``--scheduler``), which outlive any run."""
    if _watching:
        return
    _watching.append(os.getppid())

    def watch() -> None:
        import time

        while os.getppid() == _watching[0]:
            time.sleep(COORDINATOR_CHECK_S)
        from autograder.isolation.jail import end_jails_of

        try:
            end_jails_of(os.getpid())
        finally:
            os._exit(1)

    threading.Thread(target=watch, name="watch the coordinator", daemon=True).start()


def warm_up(settings: GradingSettings) -> None:
    """Pool initializer: build the Grader before the first submission arrives. A failure here is not
    raised (it would break the pool without a reason); the first submission raises it instead."""
    watch_the_coordinator()
    try:
        grader_for(settings)
    except Exception:
        pass


def grade_submission(settings: GradingSettings, student: str, path: str) -> dict:
    """Grade one notebook exactly as ``python -m autograder grade`` does; return plain data for the ledger.

    Raises when grading itself fails (the grader's data or calibration is unavailable, a grader bug, the
    timeout, a jailed process killed from outside: ``InfrastructureFault``): the coordinator retries once, then
    records the submission as not graded with this reason.
    """
    grader = grader_for(settings)
    outcome: dict = {}

    def grade() -> None:
        try:
            outcome["result"] = grader.grade_notebook(path)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    # The grader bounds the student's process and each training; this bounds the whole submission as well,
    # inside the task, because Dask has no task timeout of its own.
    thread = threading.Thread(target=grade, name=f"grade {student}", daemon=True)
    thread.start()
    thread.join(settings.timeout_s)
    if thread.is_alive():
        raise TimeoutError(f"grading ran past {settings.timeout_s:g} s")
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    from autograder.isolation.jail import sandbox_problem

    return {"student": student, "isolated": sandbox_problem() is None,
            "report_error": _write_report(grader, result, student, settings.html_dir),
            **outcome_of(result, grader.calibration.key)}


def outcome_of(result, calibration: str) -> dict:
    """What the ledger line of ``result`` (a ``GradeResult``) records of it: its scores by group, and as its full
    result the grade's language-free record (``GradeResult.to_dict``), from which every rendering (text, HTML,
    Gradescope's, the class report, the exports) is made when it is read, in the reader's language."""
    return {"score": round(result.score, 4), "max_score": round(result.max_score, 4),
            "groups": {g.name: {"score": round(g.score, 4), "max_score": round(g.max_score, 4)} for g in result.groups},
            "seconds": round(result.execution_time, 2), "calibration": calibration,
            "worker": f"{socket.gethostname()}:{os.getpid()}", "result": result.to_dict()}


def _write_report(grader, result, student: str, html_dir: str | None) -> str:
    """Write the student's HTML report as ``grade --html`` does; a failure is returned, not raised: the grade stands."""
    if not html_dir:
        return ""
    from autograder.report import attach_report_data, write_report

    try:
        write_report(Path(html_dir) / f"{student}.html", attach_report_data(grader, result), grader.translator,
                     show_hidden=True)
    except OSError as exc:  # OutputNotWritten: which file, why, and whether an earlier report is kept
        return f"the HTML report: {exc}"
    except Exception as exc:  # the report is extra; losing it must not cost the grade
        return f"could not write the HTML report: {type(exc).__name__}: {exc}"
    return ""


def sleep_instead_of_grading(settings: GradingSettings, student: str, path: str) -> dict:
    """A stand-in task for the benchmark: sleeps ``extra['sleep_s']``, no TensorFlow, and returns one of
    ``extra['outcomes']`` (real gradings' returned data, so that ledger lines have their real size), else a
    minimal result."""
    import time

    time.sleep(settings.extra.get("sleep_s", 0.0))
    if settings.extra.get("outcomes"):
        outcomes = settings.extra["outcomes"]
        outcome = outcomes[sum(student.encode()) % len(outcomes)]
        return {**outcome, "student": student, "worker": f"{socket.gethostname()}:{os.getpid()}"}
    from autograder.engine.results import CheckResult, GradeResult, GroupResult

    check = CheckResult(check="check_stand_in", probe="", group="stand_in", rule="stands in", hidden=False, passed=True)
    record = GradeResult(path, [GroupResult("stand_in", 1.0, [check])]).to_dict()
    return {"student": student, "score": 1.0, "max_score": 1.0, "groups": {"stand_in": {"score": 1.0, "max_score": 1.0}},
            "seconds": settings.extra.get("sleep_s", 0.0), "calibration": "none",
            "worker": f"{socket.gethostname()}:{os.getpid()}", "result": record}


def no_warm_up(settings: GradingSettings) -> None:
    """Initializer for stand-in tasks: nothing to load; the coordinator is watched as by a real worker."""
    watch_the_coordinator()
