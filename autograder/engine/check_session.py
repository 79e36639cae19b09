"""Running checks on calls: the student wing's session, which the grader and its model process compose.

A ``CheckSession`` holds what checking needs once per session (config, translator, data set, the
grading data) and applies checks to calls, however they were made. What differs between its users is
given to it, not subclassed: who calls a function living in this process (``caller``: by default
``autograder.engine.in_process.call_here``, the student's self-check and nbgrader's visible test cells), where
the accuracy thresholds come from (``thresholds``: by default the shipped copy, ``autograder.expected``), the
class's earlier trainings (``class_training``) and grading data already prepared (``prepared_data``). The
instructor's ``Grader`` (``autograder.grader.grading``) gives the calibration's thresholds and calls through
the jail's files; the model process (``autograder.isolation.model_process_server``) gives the grader's.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from pathlib import Path
from typing import Callable

from autograder.engine import data_cell
from autograder.evidence.call_record import Call
from autograder.checks import Check
from autograder.support.config import GROUPS, CourseConfig
from autograder.support.mnist import MnistUnavailableError, load_dataset
from autograder.messages.i18n import Message, Translator, _, lazy
from autograder.engine.in_process import call_here
from autograder.support.notebook_file import find_notebook, read_notebook
from autograder.engine.notebook_runner import (CellOutcome, PlannedCell, Wanted, call_checkpoints, cell_problem,
                                               plan_notebook, run_notebook, why_missing)
from autograder.evidence.probes import Probe, make_inputs, probe_kwargs
from autograder.engine.results import CheckResult, GradeResult, GroupResult
from autograder.engine.training import GradingData, grading_data, train_and_evaluate
from autograder.evidence.training_outcome import ProtocolTraining, TrainingOutcome


@dataclass(frozen=True)
class AccuracyBar:
    """What a trained model must reach: the calibrated threshold, and the reference's figures behind it."""

    threshold: float
    summary: Message | str
    # The calibration file the threshold comes from (its name in the calibration folder).
    file: str = ""


class NoCalibratedThreshold(RuntimeError):
    """No shipped threshold matches the data and protocol in use."""


def shipped_threshold(session: "CheckSession", builder: str) -> AccuracyBar:
    """The shipped threshold for ``builder`` on the session's data set and protocol (``autograder.expected``)."""
    from autograder.expected import calibrated_thresholds

    protocol, fingerprint = session.config.grading.model_dump(), session.dataset.fingerprint
    for calibration in calibrated_thresholds():
        if (calibration["data_fingerprint"], calibration["protocol"], calibration["n_val"]) == (
                fingerprint, protocol, session.n_val) and builder in calibration["models"]:
            model = calibration["models"][builder]
            return AccuracyBar(model["threshold"], reference_summary(model["mean"], model["worst"], model["seeds"]),
                               calibration["file"])
    raise NoCalibratedThreshold(
        f"no shipped accuracy threshold matches this data set ({session.dataset.source}, fingerprint {fingerprint}), "
        f"n_val {session.n_val} and grading protocol; the instructor calibrates it (python -m autograder calibrate, "
        "then build-source)")


@dataclass
class CheckSession:
    """What checking needs, loaded once and shared by every check: config, data, thresholds."""

    config: CourseConfig
    log: Callable[[str], None] = print
    # Seconds spent on the shared set-up (data, calibration), paid once however many submissions are checked.
    setup_timings: dict[str, float] = field(default_factory=dict)
    # Language of the messages in results: 'en' or 'ko' (None: course.yml's language).
    lang: str | None = None
    # Calls a function living in this process for a probe (``calls_for_functions``): (function, probe, inputs,
    # kwargs, seed) -> Call. A notebook run in this process (``calls_for_notebook``) is the self-check's own path.
    caller: Callable[..., Call] = call_here
    # The bar a builder's trained model must reach: (session, builder) -> AccuracyBar.
    thresholds: Callable[["CheckSession", str], AccuracyBar] = shipped_threshold
    # The class's earlier training of a model with this ``training_key``, or None (train it): (key, with_weights)
    # -> TrainingOutcome, which with_weights must carry the trained weights. grade-all's training cache, which the
    # model process asks the grader for; nbgrader's kernel, the lecture's trainings (``grader.in_kernel``). None: a
    # session on its own has no class.
    class_training: Callable[[str, bool], TrainingOutcome | None] | None = None
    # The grading data, where the session is handed it (the model process gets it from the grader) rather than
    # preparing it from the data set.
    prepared_data: GradingData | None = field(default=None, repr=False)

    @cached_property
    def translator(self) -> Translator:
        return Translator(self.lang or self.config.language)

    @cached_property
    def dataset(self):
        with timed(self.setup_timings, "load the data set"):
            return load_dataset(self.config.data.source)

    @property
    def n_val(self) -> int:
        return self.config.data.n_val or self.dataset.n_val

    @cached_property
    def data(self) -> GradingData:
        if self.prepared_data is not None:
            return self.prepared_data
        dataset = self.dataset
        with timed(self.setup_timings, "prepare the grading data (trusted pipeline)"):
            return grading_data(dataset, self.config.grading, self.n_val)

    @cached_property
    def release(self):
        """The course's release notebook (its locked cells are the ones run, as nbgrader's OverwriteCells
        does), or None where this folder has none."""
        path = self.config.root / "assignments" / self.config.assignment / self.config.notebook_name
        try:
            return read_notebook(path) if path.is_file() else None
        except Exception:  # a damaged release: the student's own copy of the locked cells is run instead
            return None

    def plan(self, path: Path | str) -> tuple[str, list[PlannedCell]]:
        """The notebook file (or the one in a folder) and what the runner does with each of its cells.

        Raises NotebookError when the file cannot be read as a notebook.
        """
        notebook = find_notebook(Path(path), self.config.notebook_name)
        return str(notebook), plan_notebook(read_notebook(notebook), self.release)

    def inputs_for(self, probes: list[Probe]) -> tuple[dict, dict]:
        """Each probe's inputs and keyword arguments; the data set is loaded only for probes that use it."""
        seed = self.config.grading.seed
        dataset = self.dataset if any(p.needs_dataset for p in probes) else None
        n_val = self.n_val if any(p.n_val_from_course for p in probes) else None
        return ({p.name: make_inputs(p, dataset, seed) for p in probes},
                {p.name: probe_kwargs(p, n_val) for p in probes})

    def data_cell_stand_ins(self) -> dict:
        """The names the provided data cell defines, as arrays (``autograder.engine.data_cell``): made from the
        course's data set, or the sample data where full MNIST is not here (the self-check without MNIST_PATH),
        since code reads their shapes, which are the same."""
        try:
            dataset, n_val = self.dataset, self.n_val
        except MnistUnavailableError:
            dataset = load_dataset("sample")
            n_val = self.config.data.n_val or dataset.n_val
        return data_cell.stand_in_arrays(dataset, n_val, self.config.training)

    # ------------------------------------------------------------ making the calls

    def calls_for_functions(self, functions: dict[str, Callable], checks: list[Check]) -> dict[str, Call]:
        """Call functions living in this process for ``checks``: one Call per probe."""
        probes = probes_of(checks)
        inputs, kwargs = self.inputs_for(probes)
        seed = self.config.grading.seed
        return {p.name: self.caller(functions.get(p.function), p, inputs[p.name], kwargs[p.name], seed) for p in probes}

    def calls_for_notebook(self, path: Path | str, checks: list[Check]) -> tuple[str, dict[str, Call], list]:
        """Run the notebook's cells in this process, as the grader's submission process does, calling its
        functions for ``checks`` where their check cells run: (notebook, calls, problems).

        Raises NotebookError when the file cannot be read as a notebook.
        """
        notebook, plan = self.plan(path)
        probes, groups = probes_of(checks), groups_of_probes(checks)
        inputs, kwargs = self.inputs_for(probes)
        by_name = {p.name: p for p in probes}
        calls: dict[str, Call] = {}

        def call(wanted: Wanted, function) -> None:
            probe = by_name[wanted.probe]
            calls[probe.name] = call_here(function, probe, inputs[probe.name], kwargs[probe.name], self.config.grading.seed)

        wanted = [Wanted(p.name, groups[p.name], p.function) for p in probes]
        stand_ins = data_cell.bindable(self.data_cell_stand_ins()) if data_cell.needed(plan, wanted) else None
        run = run_notebook(plan, wanted, self.config.limits.cell_timeout_s, call=call, stand_ins=stand_ins)
        explain_missing(calls, plan, run.outcomes, groups)
        return notebook, calls, notebook_problems(run.outcomes, self.config.limits.cell_timeout_s)

    def grade_functions(self, functions: dict[str, Callable], checks: list[Check],
                        submission: str = "notebook kernel") -> GradeResult:
        """Apply ``checks`` to functions living in this process (nbgrader's test cells run in the student's kernel)."""
        started = time.perf_counter()
        result = self.evaluate(submission, checks, self.calls_for_functions(functions, checks))
        if any(c.needs_training or c.probe.needs_dataset for c in checks):  # only these checks load the data set
            result.notes.append(_("data: {description}").format(description=self.dataset.description))
        result.execution_time = time.perf_counter() - started
        return result

    # ------------------------------------------------------------ checks

    def evaluate(self, submission: str, checks: list[Check], calls: dict[str, Call],
                 timings: dict[str, float] | None = None) -> GradeResult:
        timings = {} if timings is None else timings
        groups = self.empty_groups(checks)
        result = GradeResult(submission, list(groups.values()))
        for check in checks:
            with timed(timings, f"checks: {check.group}"):
                groups[check.group].checks.append(self.run_check(check, calls, result.trainings))
        for builder, outcome in result.trainings.items():
            timings[f"train {builder} under the grading protocol"] = outcome.seconds
        result.layers = student_layers(calls)
        return result

    def empty_groups(self, checks: list[Check]) -> dict[str, GroupResult]:
        """A result group, with its points, for each group ``checks`` belong to, in the course's order."""
        return {g: GroupResult(g, float(self.config.points[g]), partial_credit=g in self.config.partial_credit)
                for g in GROUPS if any(c.group == g for c in checks)}

    def run_check(self, check: Check, calls: dict[str, Call],
                  trainings: dict[str, TrainingOutcome] | None = None) -> CheckResult:
        """Apply one check to the calls; any failure becomes a failed result with its message.

        Training outcomes are stored in ``trainings`` (by builder) when it is given.
        """
        made = calls[check.probe_name]
        # What a check needs beyond the call comes through it: its model's training under the protocol, this
        # session's work, run when the check asks for it. On a copy: the calls stay tied to no session.
        call = replace(made, train_under_protocol=partial(self._training_for, made, trainings))
        try:
            check.func(call)
        except AssertionError as exc:
            # Messages stay lazy: the result is rendered in its reader's language when it is shown.
            message = lazy(exc.args[0]) if exc.args else str(exc)
            # A failure whose cause another check reports names that check (see checks._compare.SeeCheck).
            return CheckResult.of(check, False, message, subject=call.text, see=getattr(exc, "check", ""))
        except Exception as exc:  # a grader fault must not cost the other checks their results
            return CheckResult.of(check, False, _("the grader could not run this check ({error}: {detail}); please "
                                                  "tell your instructor.").format(error=type(exc).__name__,
                                                                                   detail=str(exc)),
                                  subject=call.text)
        return CheckResult.of(check, True, subject=call.text)

    def accuracy_bar(self, builder: str) -> AccuracyBar:
        """The bar ``builder``'s trained model must reach, from this session's ``thresholds``."""
        return self.thresholds(self, builder)

    def _training_for(self, call: Call, trainings: dict[str, TrainingOutcome] | None = None) -> ProtocolTraining:
        """``call``'s model trained under the protocol (once per distinct model) and its bar; the outcome is
        also stored in ``trainings`` (by builder) when it is given."""
        builder = call.probe.function
        if call.model is None:
            return ProtocolTraining(None, 0.0, "")
        bar = self.accuracy_bar(builder)
        outcome = replace(self.train_under_protocol(call.model, builder), weights=None)
        if trainings is not None:
            trainings[builder] = outcome
        return ProtocolTraining(outcome, bar.threshold, bar.summary)

    def train_under_protocol(self, model, builder: str, keep_weights: bool = False) -> TrainingOutcome:
        """``model`` trained under the grading protocol, or this session's earlier training of the same model
        (``training_key``); ``keep_weights`` asks for the trained weights too (``TrainingOutcome.weights``).

        The accuracy checks judge what this returns, so a training cell that calls it under nbgrader
        (``autograder.notebook.train_as_graded``) saves its accuracy check the same training.
        """
        key = training_key(model, builder)
        outcome = self.trained.get(key) if key else None
        if key and self.class_training is not None and (outcome is None or (keep_weights and outcome.weights is None)):
            earlier = self.class_training(key, keep_weights)
            if earlier is not None:
                self._remember(key, earlier)
                outcome = earlier
        if outcome is None or (keep_weights and outcome.weights is None):
            self.log(f"  training {builder} under the grading protocol ...")
            outcome = train_and_evaluate(model, builder, self.data, self.config.grading, self.config.grading.seed,
                                         timeout_s=self.config.limits.training_timeout_s, keep_weights=keep_weights)
            outcome.key = key
            if key and outcome.error is None:  # a run cut short depends on the machine's load: never reused
                self._remember(key, replace(outcome, reused=True))
            return outcome
        # The key is the input kind's, not the builder's: the same model under another builder trains alike.
        return outcome if outcome.builder == builder else replace(outcome, builder=builder)

    def _remember(self, key: str, outcome: TrainingOutcome) -> None:
        self.trained.pop(key, None)
        self.trained[key] = outcome
        while len(self.trained) > MAX_TRAINED:
            self.trained.pop(next(iter(self.trained)))

    @cached_property
    def trained(self) -> dict[str, TrainingOutcome]:
        """Trainings already made in this session, by ``training_key``: the same model trains once."""
        return {}


# Distinct models whose training a session keeps (a class's submissions mostly share the lecture's few).
MAX_TRAINED = 64


def training_key(model, builder: str) -> str | None:
    """What a training under the protocol depends on, of the model: its config without names (the protocol
    rebuilds it from its config with fresh seeded weights, so two models of one config train alike) and the
    input its builder's models take (``INPUT_KIND``). None when the config cannot be read (the model then trains
    every time)."""
    from autograder.evidence.training_outcome import INPUT_KIND

    def without_names(value):
        if isinstance(value, dict):  # names go; a dtype policy's "name" is its dtype, so dtypes stay as they are
            return {k: v if k == "dtype" else without_names(v) for k, v in value.items() if k != "name"}
        if isinstance(value, list):
            return [without_names(v) for v in value]
        return value

    try:
        return json.dumps([INPUT_KIND[builder], type(model).__name__, without_names(model.get_config())],
                          sort_keys=True, default=repr)
    except Exception:  # a config Keras cannot give (or JSON cannot hold) is simply not reused
        return None


def reference_summary(mean: float, worst: float, seeds: int) -> Message:
    """The reference's figures under the protocol, as the accuracy check quotes them."""
    return _("reference under the same protocol: mean {mean:.4f}, worst {worst:.4f} over {n} seeds").format(
        mean=mean, worst=worst, n=seeds)


@contextmanager
def timed(timings: dict[str, float], phase: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - started


def student_layers(calls: dict[str, Call]) -> dict[str, list]:
    """Each returned model's layer rows (as the architecture checks see them), by builder, for the report."""
    from autograder.checks.architecture import model_as_built
    from autograder.evidence.layer_rows import describe_layers

    layers = {}
    for call in calls.values():
        if call.probe.returns == "model" and call.model is not None:
            try:
                try:  # a model without an input shape is shown as built for the lecture's input, as checked
                    model, _note = model_as_built(call)
                except AssertionError:
                    model = call.model
                # The architecture group's call comes first; the accuracy group's own call of a builder shows the same.
                layers.setdefault(call.probe.function, describe_layers(model))
            except Exception:  # a model the checks could not describe is reported by the checks themselves
                continue
    return layers


def groups_of_probes(checks: list[Check]) -> dict[str, str]:
    """The group each probe's call is made for (where its check cell runs): probe name → group."""
    groups: dict[str, str] = {}
    for c in checks:
        groups.setdefault(c.probe_name, c.group)
    return groups


def explain_missing(calls: dict[str, Call], plan: list[PlannedCell], outcomes: list[CellOutcome],
                    groups: dict[str, str]) -> None:
    """Give each call whose function was not defined where its check cell runs the reason (``why_missing``)."""
    at = call_checkpoints(plan, [Wanted(c.probe.name, groups[c.probe.name], c.probe.function) for c in calls.values()])
    for call in calls.values():
        if call.status == "missing" and call.error is None:
            call.error = {"type": "NameError", "where": [], "reason": True,
                          "message": why_missing(call.probe.function, plan, outcomes, at[call.probe.name])}


def notebook_problems(outcomes: list[CellOutcome], cell_timeout_s: float) -> list[Message]:
    """One line for each cell that did not run to its end."""
    return [p for p in (cell_problem(o, cell_timeout_s) for o in outcomes) if p is not None]


def probes_of(checks: list[Check]) -> list[Probe]:
    seen: dict[str, Probe] = {}
    for c in checks:
        seen.setdefault(c.probe_name, c.probe)
    return list(seen.values())
