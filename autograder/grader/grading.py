"""Grade a submission: run its functions (in a child process, or in the notebook's kernel under
nbgrader), apply every check to what came back, and train its models under the grading protocol.

Pipeline, in order:
  1. read the notebook and keep its definitions (``notebook_code``)
  2. call the student's functions on the grader's inputs in a fresh interpreter (``sandbox``)
  3. run the checks on the returned plain data; accuracy checks also train the returned models
     under the grading protocol, always with the reference compile (see training.py), so a wrong
     compile_model costs only the compile group
"""

from __future__ import annotations

import copy
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

from autograder.grader.calibration import Calibration, load_or_calibrate
from autograder.checks import Check, checks_for
from autograder.config import GROUPS, CourseConfig
from autograder.data import load_dataset
from autograder.i18n import Translator, _, render
from autograder.notebook_code import NotebookError, extract_code, find_notebook, read_notebook
from autograder.probes import Call, Probe, call_and_record, load_call, make_inputs, probe_kwargs
from autograder.results import CheckResult, GradeResult, GroupResult
from autograder.isolation.sandbox import run_submission, save_reference_model
from autograder.training import GradingData, TrainingOutcome, grading_data, train_and_evaluate


@dataclass
class Grader:
    """What grading needs, loaded once and shared by every submission: config, data, calibration."""

    config: CourseConfig
    log: Callable[[str], None] = print
    # Seconds spent on the shared set-up (data, calibration), paid once however many submissions are graded.
    setup_timings: dict[str, float] = field(default_factory=dict)
    # Language of the messages in results: 'en' or 'ko' (None: course.yml's language).
    lang: str | None = None

    @cached_property
    def translator(self) -> Translator:
        return Translator(self.lang or self.config.language)

    def in_language(self, lang: str) -> "Grader":
        """This grader writing its messages in ``lang``, sharing the data, calibration and reference runs loaded so far."""
        other = copy.copy(self)
        other.lang = lang
        other.__dict__.pop("translator", None)
        other.setup_timings = self.setup_timings
        return other

    @cached_property
    def dataset(self):
        with _timed(self.setup_timings, "load the data set"):
            return load_dataset(self.config.data.source)

    @property
    def n_val(self) -> int:
        return self.config.data.n_val or self.dataset.n_val

    @cached_property
    def data(self) -> GradingData:
        dataset = self.dataset
        with _timed(self.setup_timings, "prepare the grading data (reference pipeline)"):
            return grading_data(dataset, self.config.grading, self.n_val)

    @cached_property
    def calibration(self) -> Calibration:
        data = self.data
        with _timed(self.setup_timings, "load (or make) the calibration"):
            return load_or_calibrate(self.dataset, self.config, self.n_val, data=data, log=self.log)

    @cached_property
    def reference_trainings(self) -> dict[str, TrainingOutcome]:
        """The reference models trained under the grading protocol: the report's curves to compare with."""
        from autograder.grader import reference
        from autograder.training import BUILDERS

        seed = self.config.grading.seed
        return {b: train_and_evaluate(getattr(reference, b)(), b, self.data, self.config.grading, seed) for b in BUILDERS}

    def inputs_for(self, probes: list[Probe]) -> tuple[dict, dict]:
        """Each probe's inputs and keyword arguments; the data set is loaded only for probes that use it."""
        seed = self.config.grading.seed
        dataset = self.dataset if any(p.needs_dataset for p in probes) else None
        n_val = self.n_val if any(p.n_val_from_course for p in probes) else None
        return ({p.name: make_inputs(p, dataset, seed) for p in probes},
                {p.name: probe_kwargs(p, n_val) for p in probes})

    # ------------------------------------------------------------ entry points

    def collect_calls(self, path: Path | str, checks: list[Check],
                      timings: dict[str, float] | None = None) -> tuple[str, dict[str, Call], list[str]]:
        """Run the notebook's functions for ``checks`` in a child process: (notebook, calls, problems).

        Seconds per phase are added to ``timings`` when given. Raises NotebookError when the file
        cannot be read as a notebook.
        """
        timings = {} if timings is None else timings
        with _timed(timings, "read the notebook and keep its definitions"):
            notebook = find_notebook(Path(path), self.config.notebook_name)
            code = extract_code(read_notebook(notebook))
        probes = _probes_of(checks)
        with _timed(timings, "make the probes' inputs"):
            inputs, kwargs = self.inputs_for(probes)
        with tempfile.TemporaryDirectory(prefix="autograder-") as work, \
                _timed(timings, "run the submission in a child process (start-up, imports, calls)"):
            run = run_submission(code.to_json(), probes, inputs, kwargs, Path(work), self.config.limits,
                                 seed=self.config.grading.seed, course_root=self.config.root)
        timings.update(run.timings)
        return str(notebook), run.calls, code.problems + run.problems

    def grade_notebook(self, path: Path | str, include_hidden: bool = True,
                       groups: tuple[str, ...] | None = None) -> GradeResult:
        """Grade a notebook file (or the notebook in a folder); always returns a complete result."""
        started = time.perf_counter()
        checks = checks_for(groups, include_hidden)
        timings: dict[str, float] = {}
        try:
            notebook, calls, problems = self.collect_calls(path, checks, timings)
        except NotebookError as exc:
            result = self._unreadable(str(path), checks, str(exc))
        else:
            result = self.evaluate(notebook, checks, calls, timings)
            result.problems = problems
            result.notes.append(self.translator(_("data: {description}"), description=self.dataset.description))
        result.timings = timings
        result.execution_time = time.perf_counter() - started
        return result

    def grade_functions(self, functions: dict[str, Callable], checks: list[Check],
                        submission: str = "notebook kernel") -> GradeResult:
        """Apply ``checks`` to functions living in this process (nbgrader's test cells run in the student's kernel)."""
        started = time.perf_counter()
        probes = _probes_of(checks)
        inputs, kwargs = self.inputs_for(probes)
        calls = {}
        with tempfile.TemporaryDirectory(prefix="autograder-") as work:
            work = Path(work)
            reference_model = save_reference_model(work / "reference_mlp.keras")
            for p in probes:
                call_and_record(functions.get(p.function), p, inputs[p.name], kwargs[p.name], work,
                                reference_model_path=reference_model, seed=self.config.grading.seed)
                calls[p.name] = load_call(p, inputs[p.name], kwargs[p.name], work)
        result = self.evaluate(submission, checks, calls)
        result.notes.append(self.translator(_("data: {description}"), description=self.dataset.description))
        result.execution_time = time.perf_counter() - started
        return result

    # ------------------------------------------------------------ checks

    def evaluate(self, submission: str, checks: list[Check], calls: dict[str, Call],
                 timings: dict[str, float] | None = None) -> GradeResult:
        timings = {} if timings is None else timings
        groups = {g: GroupResult(g, float(self.config.points[g]), partial_credit=g in self.config.partial_credit)
                  for g in GROUPS if any(c.group == g for c in checks)}
        result = GradeResult(submission, list(groups.values()))
        for check in checks:
            with _timed(timings, f"checks: {check.group}"):
                groups[check.group].checks.append(self.run_check(check, calls, result.trainings))
        for builder, outcome in result.trainings.items():
            timings[f"train {builder} under the grading protocol"] = outcome.seconds
        result.layers = _student_layers(calls)
        return result

    def run_check(self, check: Check, calls: dict[str, Call],
                  trainings: dict[str, TrainingOutcome] | None = None) -> CheckResult:
        """Apply one check to the calls; any failure becomes a failed result with its message.

        Training outcomes are stored in ``trainings`` (by builder) when it is given.
        """
        call = calls[check.probe_name]
        try:
            if check.needs_training:
                outcome, threshold, summary = self._training_for(call)
                if outcome is not None and trainings is not None:
                    trainings[call.probe.function] = outcome
                check.func(call, outcome, threshold, summary)
            else:
                check.func(call)
        except AssertionError as exc:
            message = render(exc.args[0], self.translator) if exc.args else str(exc)
            # A failure whose cause another check reports names that check (see checks._compare.SeeCheck).
            return CheckResult(check.name, check.group, self.translator(check.rule), check.hidden, False, message,
                               subject=call.text, see=getattr(exc, "check", ""))
        except Exception as exc:  # a grader fault must not cost the other checks their results
            return CheckResult(check.name, check.group, self.translator(check.rule), check.hidden, False, self.translator(
                _("the grader could not run this check ({error}: {detail}); please tell your instructor."),
                error=type(exc).__name__, detail=exc), subject=call.text)
        return CheckResult(check.name, check.group, self.translator(check.rule), check.hidden, True, subject=call.text)

    def _training_for(self, call: Call) -> tuple[TrainingOutcome | None, float, str]:
        builder = call.probe.function
        if call.model is None:
            return None, 0.0, ""
        self.log(f"  training {builder} under the grading protocol ...")
        outcome = train_and_evaluate(call.model, builder, self.data, self.config.grading, self.config.grading.seed,
                                     timeout_s=self.config.limits.training_timeout_s)
        calib = self.calibration.models[builder]
        summary = _("reference under the same protocol: mean {mean:.4f}, worst {worst:.4f} over {n} seeds").format(
            mean=calib.mean, worst=calib.min, n=len(calib.accuracies))
        return outcome, calib.threshold, summary

    def _unreadable(self, submission: str, checks: list[Check], reason: str) -> GradeResult:
        groups = {g: GroupResult(g, float(self.config.points[g]), partial_credit=g in self.config.partial_credit)
                  for g in GROUPS if any(c.group == g for c in checks)}
        for c in checks:
            groups[c.group].checks.append(CheckResult(c.name, c.group, self.translator(c.rule), c.hidden, False,
                                                      self.translator(_("not graded: {reason}"), reason=reason)))
        return GradeResult(submission, list(groups.values()), problems=[reason])


@contextmanager
def _timed(timings: dict[str, float], phase: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - started


def _student_layers(calls: dict[str, Call]) -> dict[str, list]:
    """Each returned model's layer rows (as the architecture checks see them), by builder, for the report."""
    from autograder.checks.architecture import describe_layers, model_as_built

    layers = {}
    for call in calls.values():
        if call.probe.returns == "model" and call.model is not None:
            try:
                try:  # a model without an input shape is shown as built for the lecture's input, as checked
                    model, _note = model_as_built(call)
                except AssertionError:
                    model = call.model
                layers[call.probe.function] = describe_layers(model)
            except Exception:  # a model the checks could not describe is reported by the checks themselves
                continue
    return layers


def _probes_of(checks: list[Check]) -> list[Probe]:
    seen: dict[str, Probe] = {}
    for c in checks:
        seen.setdefault(c.probe_name, c.probe)
    return list(seen.values())
