"""Grade a submission: run its functions in a jailed child process (or, for nbgrader's hidden test
cells, in the notebook's kernel), apply every check to what came back, and train its models under
the grading protocol.

Pipeline, in order:
  1. read the notebook and plan its cells (``notebook_runner``: which run, from the student's copy or the release)
  2. in a fresh, jailed interpreter (``isolation.sandbox``), run the cells as a kernel does and call the
     student's functions, as they stand at their check cells, on the grader's inputs
  3. run the checks on the returned plain data (``check_session.CheckSession``, shared with the student
     wing); accuracy checks also train the returned models under the grading protocol, always with
     the reference compile (see engine/training.py), so a wrong compile_model costs only the compile group
"""

from __future__ import annotations

import copy
import tempfile
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

from autograder.engine import data_cell
from autograder.evidence.call_record import Call
from autograder.engine.check_session import (AccuracyBar, CheckSession, explain_missing, groups_of_probes,
                                             notebook_problems, probes_of, reference_summary, timed)
from autograder.checks import Check
from autograder.support.config import CourseConfig
from autograder.grader.calibration import Calibration, load_or_calibrate
from autograder.hidden.every_check import checks_for
from autograder.messages.i18n import Translator, _
from autograder.isolation.jail import owned_prefix
from autograder.isolation.model_process_client import ModelProcess, needs_models
from autograder.isolation.recording import call_through_files
from autograder.isolation.sandbox import SubmissionRun, run_submission
from autograder.support.notebook_file import NotebookError
from autograder.engine.notebook_runner import Wanted
from autograder.engine.results import CheckResult, GradeResult, GroupResult
from autograder.engine.training import GradingData, train_and_evaluate
from autograder.evidence.training_outcome import TrainingOutcome


def calibrated_threshold(calibration: Calibration, builder: str) -> AccuracyBar:
    """The threshold from the calibration files (calibrated on the fly when none matches)."""
    calib = calibration.models[builder]
    return AccuracyBar(calib.threshold, reference_summary(calib.mean, calib.min, len(calib.accuracies)),
                       f"{calibration.data_source}-{calibration.key}.json")


@dataclass
class Grader:
    """What grading needs, loaded once and shared by every submission: config, data, calibration; and the grading
    pipeline over them. It applies the checks with a ``CheckSession`` of its own (``session``), given the
    calibration's thresholds and calls through the jail's files, and answers for it where a check session is
    expected (nbgrader's hidden test cells report through ``autograder.notebook.report_group``)."""

    config: CourseConfig
    log: Callable[[str], None] = print
    # Seconds spent on the shared set-up (data, calibration), paid once however many submissions are graded.
    setup_timings: dict[str, float] = field(default_factory=dict)
    # Language of the messages in results: 'en' or 'ko' (None: course.yml's language).
    lang: str | None = None
    # The class's training cache folder (grade-all), or None: every model trains (``grader.training_cache``).
    training_cache_dir: Path | None = None

    @cached_property
    def session(self) -> CheckSession:
        # Functions living in this process (nbgrader's hidden test cells) are called through the jail's files.
        return CheckSession(self.config, self.log, self.setup_timings, self.lang, caller=call_through_files,
                            thresholds=lambda session, builder: calibrated_threshold(self.calibration, builder))

    def in_language(self, lang: str) -> "Grader":
        """This grader writing its messages in ``lang``, sharing the data, calibration and reference runs loaded so far."""
        other = copy.copy(self)
        other.lang = lang
        session = copy.copy(self.session)
        session.lang = lang
        session.__dict__.pop("translator", None)  # a cached property: made again in the new language
        other.session = session
        return other

    # ------------------------------------------------------------ what a check session answers

    @property
    def translator(self) -> Translator:
        return self.session.translator

    @property
    def dataset(self):
        return self.session.dataset

    @property
    def n_val(self) -> int:
        return self.session.n_val

    @property
    def data(self) -> GradingData:
        return self.session.data

    def accuracy_bar(self, builder: str) -> AccuracyBar:
        return self.session.accuracy_bar(builder)

    def plan(self, path: Path | str):
        return self.session.plan(path)

    def inputs_for(self, probes):
        return self.session.inputs_for(probes)

    def empty_groups(self, checks: list[Check]) -> dict[str, GroupResult]:
        return self.session.empty_groups(checks)

    def run_check(self, check: Check, calls: dict[str, Call], trainings: dict | None = None) -> CheckResult:
        return self.session.run_check(check, calls, trainings)

    def evaluate(self, submission: str, checks: list[Check], calls: dict[str, Call],
                 timings: dict[str, float] | None = None) -> GradeResult:
        return self.session.evaluate(submission, checks, calls, timings)

    def train_under_protocol(self, model, builder: str, keep_weights: bool = False) -> TrainingOutcome:
        return self.session.train_under_protocol(model, builder, keep_weights)

    def calls_for_functions(self, functions: dict[str, Callable], checks: list[Check]) -> dict[str, Call]:
        """Call functions living in this process (nbgrader's hidden test cells), through the same files as the sandbox."""
        return self.session.calls_for_functions(functions, checks)

    def calls_for_notebook(self, path: Path | str, checks: list[Check]):
        return self.session.calls_for_notebook(path, checks)

    def grade_functions(self, functions: dict[str, Callable], checks: list[Check],
                        submission: str = "notebook kernel") -> GradeResult:
        return self.session.grade_functions(functions, checks, submission)

    # ------------------------------------------------------------ what grading adds

    @cached_property
    def calibration(self) -> Calibration:
        data = self.data
        with timed(self.setup_timings, "load (or make) the calibration"):
            return load_or_calibrate(self.dataset, self.config, self.n_val, data=data, log=self.log)

    @cached_property
    def reference_trainings(self) -> dict[str, TrainingOutcome]:
        """The reference models trained under the grading protocol: the report's curves to compare with."""
        from autograder.grader import reference
        from autograder.evidence.training_outcome import BUILDERS

        seed = self.config.grading.seed
        return {b: train_and_evaluate(getattr(reference, b)(), b, self.data, self.config.grading, seed) for b in BUILDERS}

    @cached_property
    def model_process(self) -> ModelProcess:
        """The bounded process that loads and trains the submissions' models (launched by ``grade_notebook``
        before the submission runs, or else on first use)."""
        return ModelProcess(self.config, self.data, training_cache=self.training_cache)

    @cached_property
    def training_cache(self):
        """The class's training cache under this grader's protocol, data and machine, or None without a folder."""
        if self.training_cache_dir is None:
            return None
        from autograder.grader.training_cache import TrainingCache, training_context

        return TrainingCache(self.training_cache_dir, training_context(self.config, self.data))

    def model_bars(self, checks: list[Check]) -> dict:
        """The accuracy thresholds the model process checks against, as plain data (or why there is none)."""
        bars = {}
        for builder in dict.fromkeys(c.probe.function for c in checks if c.needs_training):
            try:
                calib = self.calibration.models[builder]
                bars[builder] = {"threshold": calib.threshold, "mean": calib.mean, "worst": calib.min,
                                 "seeds": len(calib.accuracies),
                                 "file": f"{self.calibration.data_source}-{self.calibration.key}.json"}
            except Exception as exc:  # said by the check that needs it, as any grader fault is
                bars[builder] = {"error": f"{type(exc).__name__}: {exc}"}
        return bars

    # ------------------------------------------------------------ entry points

    def collect_calls(self, path: Path | str, checks: list[Check], workdir: Path,
                      timings: dict[str, float] | None = None) -> tuple[str, SubmissionRun, list[str]]:
        """Run the notebook's functions for ``checks`` in a child process: (notebook, run, problems).

        Returned models stay files in ``workdir/out`` for the model process. Seconds per phase are
        added to ``timings`` when given. Raises NotebookError when the file cannot be read as a notebook.
        """
        timings = {} if timings is None else timings
        with timed(timings, "read the notebook and plan its cells"):
            notebook, plan = self.plan(path)
        probes, groups = probes_of(checks), groups_of_probes(checks)
        with timed(timings, "make the probes' inputs"):
            inputs, kwargs = self.inputs_for(probes)
            if data_cell.needed(plan, [Wanted(p.name, groups[p.name], p.function) for p in probes]):
                inputs.update(data_cell.as_inputs(self.session.data_cell_stand_ins()))
        with timed(timings, "run the submission in a child process (start-up, the notebook's cells, calls)"):
            run = run_submission(plan, groups, probes, inputs, kwargs, workdir, self.config.limits,
                                 seed=self.config.grading.seed, load_models=False)
        timings.update(run.timings)
        explain_missing(run.calls, plan, run.cells, groups)
        return notebook, run, notebook_problems(run.cells, self.config.limits.cell_timeout_s) + run.problems

    def grade_notebook(self, path: Path | str, include_hidden: bool = True,
                       groups: tuple[str, ...] | None = None) -> GradeResult:
        """Grade a notebook file (or the notebook in a folder); always returns a complete result, or raises
        ``InfrastructureFault`` where a jailed process was killed from outside the grader (no grade at all)."""
        started = time.perf_counter()
        checks = checks_for(groups, include_hidden)
        timings: dict[str, float] = {}
        models = None
        if any(needs_models(c) for c in checks):
            # First, so that its start-up (TensorFlow's import) overlaps with the submission's process; nothing
            # it needs lies on disk meanwhile (isolation.model_process_client). Waiting for it is part of the model
            # checks.
            models = self.model_process  # the first time, this loads the data (timed in setup_timings)
            with timed(timings, "launch the model process (not waiting for it)"):
                models.launch()
        # With models to check, the work folder lies where the model process, in its own jail, can read them.
        with models.submission_folder() if models else tempfile.TemporaryDirectory(prefix=owned_prefix("work")) as work:
            try:
                notebook, run, problems = self.collect_calls(path, checks, Path(work), timings)
            except NotebookError as exc:
                result = self._unreadable(str(path), checks, str(exc))
            else:
                result = self.evaluate_in_two_processes(notebook, checks, run.calls, Path(work) / "out", timings)
                result.problems = problems
                result.isolation = {"submission": dict(run.isolation), **result.isolation}
                result.notes.append(_("data: {description}").format(description=self.dataset.description))
        result.timings = timings
        result.execution_time = time.perf_counter() - started
        return result

    def evaluate_in_two_processes(self, submission: str, checks: list[Check], calls: dict[str, Call], outdir: Path,
                                  timings: dict[str, float]) -> GradeResult:
        """Checks on returned arrays run here; checks on returned models run in the bounded model process."""
        result = GradeResult(submission, list(self.empty_groups(checks).values()))
        results: dict[str, CheckResult] = {}
        for check in checks:
            if not needs_models(check):
                with timed(timings, f"checks: {check.group}"):
                    results[check.name] = self.run_check(check, calls, result.trainings)
        on_models = [c for c in checks if needs_models(c)]
        if on_models:
            with timed(timings, "checks on the models (in the grader's bounded model process)"):
                answer = self.model_process.check_models(outdir, on_models, self.model_bars(on_models),
                                                         calls={c.probe_name: calls[c.probe_name] for c in on_models})
            timings["model process: waiting until it is ready (part of the checks on the models)"] = answer.waited_s
            results.update(answer.results)
            # What bounded the models' process, and the most memory it held for this submission.
            result.isolation["models"] = dict(self.model_process.protections, **(
                {"peak_mb": answer.peak_mb} if answer.peak_mb is not None else {}))
            result.trainings.update(answer.trainings)
            result.layers = answer.layers
            if self.training_cache is not None:
                with timed(timings, "file the fresh trainings in the class's training cache"):
                    for outcome in answer.trainings.values():
                        self.training_cache.store(outcome)
        for check in checks:
            result.group(check.group).checks.append(results[check.name])
        for builder, outcome in result.trainings.items():
            if outcome.reused:  # trained before, for another submission: this one took none of its time
                timings[f"train {builder} under the grading protocol: reused (trained before for the same model)"] = 0.0
            else:
                timings[f"train {builder} under the grading protocol"] = outcome.seconds
        return result

    def _unreadable(self, submission: str, checks: list[Check], reason: str) -> GradeResult:
        groups = self.empty_groups(checks)
        for c in checks:
            groups[c.group].checks.append(CheckResult.of(c, False, _("not graded: {reason}").format(reason=reason)))
        return GradeResult(submission, list(groups.values()), problems=[reason])
