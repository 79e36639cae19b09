""""Will this fit the grader?": each model of the self-check against the grader's limits.

Everything is measured from the self-check's own run; nothing is run for the summary alone:

- parameters and activations: counted on the model each builder returned, as the grader counts them
  (``autograder.support.model_caps``), against the caps above which the grader refuses a model;
- the slowest call: each builder's calls, timed as the grader times a call (the function and saving
  its model), against ``limits.call_timeout_s``;
- training: the accuracy check's training under the grading protocol, against
  ``limits.training_timeout_s``; where full MNIST is missing it trains on the sample data's fewer
  images, so the time is scaled in proportion to the images grading trains on and marked ``≈``;
- memory: how much this process's resident memory grew while that training ran (sampled every
  20 ms), against ``limits.model_memory_limit_mb``. The grader's model process also holds
  TensorFlow and the data, which this growth leaves out; the summary says so.

The measurement (``ModelFit``, ``CallsFit``) and the text (``render_summary``) are separate. A figure
above half its limit is flagged, with what to change.
"""

from __future__ import annotations

import gc
import threading
import unicodedata
from dataclasses import dataclass

from autograder.messages.i18n import Message, Translator, _
from autograder.support.model_caps import MAX_LAYER_VALUES, MAX_PARAMS, MAX_TOTAL_VALUES, built_size

BUILDERS = ("build_mlp", "build_cnn", "build_deep_cnn")
MiB = 2**20


@dataclass(frozen=True)
class Caps:
    """The grader's limits a model is shown against: the model caps and course.yml's ``limits.*``."""

    call_s: float
    training_s: float
    memory_mb: float
    submission_s: float
    params: int = MAX_PARAMS
    layer_values: int = MAX_LAYER_VALUES
    total_values: int = MAX_TOTAL_VALUES

    @classmethod
    def of(cls, limits) -> Caps:
        """The caps for a course's ``limits`` section (``CourseConfig.limits``)."""
        return cls(call_s=limits.call_timeout_s, training_s=limits.training_timeout_s,
                   memory_mb=limits.model_memory_limit_mb, submission_s=limits.submission_timeout_s)


@dataclass(frozen=True)
class TrainingRecord:
    """What one accuracy check's training under the grading protocol measured."""

    seconds: float
    # Training images it used, and those grading uses (more where it fell back to the sample data).
    images: int
    grading_images: int
    # Growth of this process's resident memory while it trained (None: not measurable here).
    memory_mb: float | None
    error: str | None = None
    timed_out: bool = False


@dataclass
class ModelFit:
    """One builder's figures; ``None`` where a figure was not measured, ``no_model`` when there was nothing to measure."""

    builder: str
    no_model: Message | None = None
    params: int | None = None
    largest_values: int | None = None
    total_values: int | None = None
    slowest_call_s: float | None = None
    training_s: float | None = None
    # The training time is scaled from trained_images to grading_images (the sample data's fewer images).
    training_estimated: bool = False
    trained_images: int | None = None
    grading_images: int | None = None
    memory_mb: float | None = None
    # Why training and memory have no figure.
    not_trained: Message | None = None


@dataclass
class CallsFit:
    """The other functions' calls (relabel, split, prepare, compile) and all calls together."""

    slowest_call: str | None = None
    slowest_s: float | None = None
    total_s: float | None = None


@dataclass(frozen=True)
class Flag:
    """A figure above half of its limit (``over``: above the limit itself)."""

    subject: str
    figure: str
    value: float
    limit: float
    over: bool


# ---------------------------------------------------------------- measuring


def measure_model(builder: str, calls: dict, training: TrainingRecord | None) -> ModelFit:
    """The figures of ``builder``'s model from the self-check's calls of it and its training record."""
    own = [c for c in calls.values() if c.probe.function == builder]
    fit = ModelFit(builder)
    with_model = [c for c in own if c.model is not None]
    if not with_model:
        fit.no_model = why_no_model(own[0] if own else None, builder)
        return fit
    times = [c.seconds for c in own if c.seconds is not None]
    fit.slowest_call_s = max(times) if times else None
    sizes = [s for s in (_size_of(c) for c in with_model) if s is not None]
    if sizes:
        fit.params, fit.largest_values, fit.total_values = (max(s[i] for s in sizes) for i in range(3))
    if training is None:
        fit.not_trained = _("the accuracy check did not train it (it did not run, or stopped before training)")
        return fit
    if training.error and not training.timed_out:
        fit.not_trained = _("its training under the grading protocol failed ({error}); its accuracy check says "
                            "more").format(error=training.error)
        return fit
    fit.training_s, fit.memory_mb = training.seconds, training.memory_mb
    fit.trained_images, fit.grading_images = training.images, training.grading_images
    if 0 < training.images < training.grading_images:
        fit.training_s = training.seconds * training.grading_images / training.images
        fit.training_estimated = True
    return fit


def measure_calls(calls: dict) -> CallsFit:
    """The slowest call of the functions that are not builders, and the time of all calls together."""
    timed = [c for c in calls.values() if c.seconds is not None]
    others = [c for c in timed if c.probe.function not in BUILDERS]
    fit = CallsFit(total_s=sum(c.seconds for c in timed) if timed else None)
    if others:
        slowest = max(others, key=lambda c: c.seconds)
        fit.slowest_call, fit.slowest_s = slowest.text, slowest.seconds
    return fit


def why_no_model(call, builder: str) -> Message:
    """A short reason why ``builder``'s calls gave no model (its own checks give the whole story)."""
    if call is None:
        return _("{fn} was not called").format(fn=builder)
    if call.status == "missing":
        return _("{fn} is not defined where its check cell runs").format(fn=builder)
    if call.status == "raised":
        return _("{call} raised {error}").format(call=call.text, error=(call.error or {}).get("type", "an error"))
    if call.status == "ok":
        return _("{call} returned no Keras model").format(call=call.text)
    return _("the model {call} returned could not be read back").format(call=call.text)


def _size_of(call) -> tuple[int, int, int] | None:
    # As the grader sizes it: a model without an input shape is built for the lecture's input first.
    from autograder.checks.architecture import model_as_built

    try:
        model, _note = model_as_built(call)
        return built_size(model)
    except Exception:  # a model that cannot be built for its input: its checks say why
        return None


def grading_images(config) -> int:
    """The training images grading uses on full MNIST: grading.n_train of the 60,000 less the validation split."""
    return min(config.grading.n_train, 60_000 - (config.data.n_val or 10_000))


def training_record(outcome, images: int, grading: int, memory_mb: float | None) -> TrainingRecord:
    """A record of a ``autograder.evidence.training_outcome.TrainingOutcome``."""
    error = outcome.error
    # training.train_and_evaluate's own words for a run it stopped at limits.training_timeout_s.
    timed_out = bool(error) and error.startswith("training ran past the time limit")
    return TrainingRecord(outcome.seconds, images, grading, memory_mb, error, timed_out)


class PeakMemory:
    """How much this process's resident memory grew, at its highest, while the ``with`` block ran.

    Sampled every ``every_s`` seconds by a thread (psutil, else /proc/self/statm); ``growth_mb`` is
    None where neither is available. Memory Python freed before the block is handed back first
    (``gc.collect``, glibc's ``malloc_trim``), so that reusing it does not hide the block's growth.
    """

    def __init__(self, every_s: float = 0.02):
        self.every_s = every_s
        self.baseline: int | None = None
        self.peak: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        gc.collect()
        _trim_heap()
        self.baseline = self.peak = rss_bytes()
        if self.baseline is not None:
            self._thread = threading.Thread(target=self._sample, name="autograder-peak-memory", daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.every_s):
            self._note(rss_bytes())

    def _note(self, rss: int | None) -> None:
        if rss is not None and self.peak is not None:
            self.peak = max(self.peak, rss)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._note(rss_bytes())

    @property
    def growth_mb(self) -> float | None:
        if self.baseline is None or self.peak is None:
            return None
        return max(0, self.peak - self.baseline) / MiB


def rss_bytes() -> int | None:
    """This process's resident memory in bytes (None where it cannot be read)."""
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:
        pass
    try:
        import os

        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except Exception:
        return None


def _trim_heap() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except Exception:  # not glibc: nothing to hand back
        pass


# ---------------------------------------------------------------- judging


def flags(fit: ModelFit, caps: Caps) -> list[Flag]:
    """The model's figures above half of their limits, in the table's order."""
    found = []
    for key, attr, cap in _FIGURES:
        value = getattr(fit, attr)
        limit = getattr(caps, cap)
        if value is not None and value > limit / 2:
            found.append(Flag(fit.builder, key, float(value), float(limit), value > limit))
    return found


def calls_flags(fit: CallsFit, caps: Caps) -> list[Flag]:
    found = []
    if fit.slowest_s is not None and fit.slowest_s > caps.call_s / 2:
        found.append(Flag(fit.slowest_call or "", "other_call", fit.slowest_s, caps.call_s, fit.slowest_s > caps.call_s))
    if fit.total_s is not None and fit.total_s > caps.submission_s / 2:
        found.append(Flag("", "all_calls", fit.total_s, caps.submission_s, fit.total_s > caps.submission_s))
    return found


# The table's figures: (key, ModelFit attribute, Caps attribute).
_FIGURES = (
    ("params", "params", "params"),
    ("largest", "largest_values", "layer_values"),
    ("total", "total_values", "total_values"),
    ("call", "slowest_call_s", "call_s"),
    ("training", "training_s", "training_s"),
    ("memory", "memory_mb", "memory_mb"),
)
_UNIT = {"params": "count", "largest": "count", "total": "count", "call": "s", "training": "s", "memory": "MB",
         "other_call": "s", "all_calls": "s"}


def _headers() -> dict[str, Message]:
    return {"params": _("parameters"), "largest": _("largest layer"), "total": _("all layers"),
            "call": _("slowest call"), "training": _("training"), "memory": _("memory")}


def _figure_names() -> dict[str, Message]:
    return {
        "params": _("its parameter count"),
        "largest": _("its largest layer's output (values per image)"),
        "total": _("all its layers' outputs together (values per image)"),
        "call": _("its slowest call"),
        "training": _("its training under the grading protocol"),
        "memory": _("the memory its training took"),
        "other_call": _("its time"),
        "all_calls": _("all calls together"),
    }


def _fixes() -> dict[str, Message]:
    return {
        "params": _("use a smaller Dense layer or fewer filters, or pool before Flatten: the Dense layer after "
                    "Flatten holds most of the parameters."),
        "largest": _("pool earlier or use fewer filters in the first convolutions: a MaxPooling2D((2, 2)) right "
                     "after a Conv2D quarters what the next layers output."),
        "total": _("use fewer or smaller layers, and pool earlier so that the later layers output less."),
        "call": _("build and return the model only: no training, data loading or fit inside the function."),
        "training": _("a smaller model trains faster: fewer filters, a smaller Dense layer, pooling earlier."),
        "memory": _("pool earlier and use fewer filters: a batch's layer outputs take most of the memory in "
                    "training."),
        "other_call": _("work on whole arrays with numpy (no Python loop over the images or pixels)."),
        "all_calls": _("find the slow function in the table above and make it faster."),
    }


# ---------------------------------------------------------------- rendering


def _number(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f} s" if value < 1 else f"{value:.1f} s" if value < 10 else f"{value:,.0f} s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{int(value):,}"


def _cell(fit: ModelFit, key: str, attr: str, cap: str, caps: Caps) -> tuple[str, str]:
    """A figure's (text, mark): '!' above half of its limit, '!!' over it."""
    value = getattr(fit, attr)
    if value is None:
        return "–", ""
    text = _number(value, _UNIT[key])
    if key == "training" and fit.training_estimated:
        text = "≈" + text
    limit = getattr(caps, cap)
    return text, " !!" if value > limit else " !" if value > limit / 2 else ""


def _width(text: str) -> int:
    # Columns on a terminal: Korean (wide) characters take two.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def render_summary(fits: list[ModelFit], calls_fit: CallsFit | None, caps: Caps, t: Translator) -> list[str]:
    """The summary's lines: a table (one row per model, the limits on top), then the flags with their fixes and notes."""
    headers = _headers()
    # Each cell is (text, mark); the marks get a column of their own, so that the figures stay aligned.
    table = [[(t(_("model")), "")] + [(t(headers[key]), "") for key, _a, _c in _FIGURES],
             [(t(_("grader's limit")), "")] + [(_number(getattr(caps, cap), _UNIT[key]), "")
                                               for key, _a, cap in _FIGURES]]
    spans: dict[int, str] = {}
    for fit in fits:
        if fit.no_model is not None:
            spans[len(table)] = t(_("no model: {reason} (its checks above say why); nothing to measure"),
                                  reason=fit.no_model)
            table.append([(fit.builder, "")])
        else:
            table.append([(fit.builder, "")] + [_cell(fit, key, attr, cap, caps) for key, attr, cap in _FIGURES])
    columns = range(len(table[0]))
    marks = [max(_width(row[i][1]) for row in table if len(row) > i) for i in columns]
    widths = [max(_width(row[i][0]) + (0 if n == 0 else marks[i]) for n, row in enumerate(table) if len(row) > i)
              for i in columns]
    lines = []
    for n, row in enumerate(table):
        if n in spans:
            lines.append(f"{_pad(row[0][0], widths[0], False)}  {spans[n]}")
        elif n == 0:
            lines.append("  ".join(_pad(text, widths[i], i > 0) for i, (text, _m) in enumerate(row)))
        else:
            lines.append("  ".join(_pad(text, widths[i] - marks[i], i > 0) + _pad(mark, marks[i], False)
                                   for i, (text, mark) in enumerate(row)).rstrip())
    lines.append("")
    lines.append(t(_("! above half of the grader's limit, !! over it. Layer outputs are values per image; times "
                     "are this machine's.")))

    names, fixes = _figure_names(), _fixes()
    raised = [f for fit in fits for f in flags(fit, caps)] + (calls_flags(calls_fit, caps) if calls_fit else [])
    for flag in raised:
        unit = _UNIT[flag.figure]
        args = dict(subject=flag.subject, figure=names[flag.figure], value=_number(flag.value, unit),
                    limit=_number(flag.limit, unit), fix=fixes[flag.figure])
        if flag.over:
            message = _("{subject}: {figure} is {value}, over the grader's limit of {limit}, so grading would fail "
                        "it. Fix: {fix}")
        else:
            message = _("{subject}: {figure} is {value}, above half of the grader's limit of {limit}. To stay "
                        "clear of it: {fix}")
        if not flag.subject and flag.over:  # all calls together: no one function to name
            message = _("{figure} took {value}, over the grader's limit of {limit} for all calls, so the calls "
                        "left would score 0. Fix: {fix}")
        elif not flag.subject:
            message = _("{figure} took {value}, above half of the grader's limit of {limit} for all calls. "
                        "Fix: {fix}")
        lines.append(t(message, **args))
    measured = [f for f in fits if f.no_model is None]
    if measured and not raised:
        lines.append(t(_("Every figure measured is below half of its limit.")))

    if calls_fit is not None and calls_fit.total_s is not None:
        if calls_fit.slowest_call is not None:
            lines.append(t(_("Other calls: the slowest, {call}, took {seconds} (limit {limit} per call); all calls "
                             "together {total} (limit {total_limit})."), call=calls_fit.slowest_call,
                           seconds=_number(calls_fit.slowest_s, "s"), limit=_number(caps.call_s, "s"),
                           total=_number(calls_fit.total_s, "s"), total_limit=_number(caps.submission_s, "s")))
        else:
            lines.append(t(_("All calls together took {total} (limit {total_limit})."),
                           total=_number(calls_fit.total_s, "s"), total_limit=_number(caps.submission_s, "s")))
    for fit in measured:
        if fit.not_trained is not None:
            lines.append(t(_("{model}: training and memory not measured: {why}."), model=fit.builder,
                           why=fit.not_trained))
    estimated = next((f for f in measured if f.training_estimated), None)
    if estimated is not None:
        lines.append(t(_("≈: full MNIST is not available here, so the accuracy checks trained on the sample data's "
                         "{images:,} images; the time is scaled in proportion to the {grading:,} that grading "
                         "trains on."), images=estimated.trained_images, grading=estimated.grading_images))
    if any(f.training_s is not None and f.memory_mb is None for f in measured):
        lines.append(t(_("memory: not measured, as this machine's memory use could not be read (pip install "
                         "psutil to measure it).")))
    elif any(f.memory_mb is not None for f in measured):
        lines.append(t(_("memory: how much this process's memory grew while the model trained under the grading "
                         "protocol; the grader's model process also holds TensorFlow and the data, which this "
                         "leaves out.")))
    return lines


SUMMARY_TITLE = _("will this fit the grader?")


# ---------------------------------------------------------------- the self-check's side


def run_training_check(runner, grader, check, calls: dict, records: dict[str, TrainingRecord]):
    """Run an accuracy check (``runner.run_check``) and record its training's time and memory in ``records``.

    ``runner`` is the session the check trains with: ``grader`` itself, or one on the sample data where
    full MNIST is missing (then the time is scaled to the images grading uses on full MNIST).
    """
    try:  # the session's data set and grading arrays are not the model's memory: made before measuring
        images = len(runner.data.y_train)
    except Exception:  # no data: the check itself reports it
        images = None
    trainings: dict = {}
    with PeakMemory() as memory:
        result = runner.run_check(check, calls, trainings)
    builder = calls[check.probe_name].probe.function
    outcome = trainings.get(builder)
    if outcome is not None and images is not None:
        grading = images if runner is grader else grading_images(grader.config)
        records[builder] = training_record(outcome, images, grading, memory.growth_mb)
    return result


def summary_lines(config, calls: dict, records: dict[str, TrainingRecord], t: Translator) -> list[str]:
    """The whole summary for a course ``config``, the self-check's calls and its training records."""
    fits = [measure_model(builder, calls, records.get(builder)) for builder in BUILDERS]
    return render_summary(fits, measure_calls(calls), Caps.of(config.limits), t)
