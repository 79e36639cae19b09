"""Helpers the assignment notebook imports: the course's data, its epochs, and the in-kernel checks.

Under nbgrader, test cells run inside the student's kernel and call ``check_group`` with the
student's functions passed explicitly (nothing is looked up by walking frames).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Callable

from autograder.cell_stderr import CapturedStderr, captured_stderr
from autograder.config import CourseConfig, load_config
from autograder.i18n import Translator, _

# Set to show TensorFlow's own log lines caught during the checks (hidden by default).
VERBOSE_ENV = "AUTOGRADER_VERBOSE"

if os.environ.get("NBGRADER_EXECUTION") and not os.environ.get(VERBOSE_ENV):
    # Under nbgrader, TensorFlow's C++ log lines (the oneDNN banner at import, tf.data's NodeDef
    # error) would land in the autograded notebook and its feedback page; the notebook imports this
    # module before keras so that they never do.
    from autograder.framework_log import drop_framework_log_lines

    drop_framework_log_lines()


@lru_cache(maxsize=1)
def course_config() -> CourseConfig:
    """course.yml as seen from the notebook's folder ($COURSE_CONFIG or the nearest one above)."""
    return load_config()


def load_course_data():
    """The course's data set (full MNIST or the offline sample, as course.yml says); prints which."""
    from autograder.data import load_dataset

    dataset = load_dataset(course_config().data.source)
    print(f"Data: {dataset.description}")
    return dataset


def course_n_val(dataset) -> int:
    """Validation size: course.yml's data.n_val, else the lecture's proportion for this data set."""
    return course_config().data.n_val or dataset.n_val


def training_epochs() -> int:
    """Epochs for the notebook's training cells: the lecture's, or a short run under nbgrader autograde."""
    training = course_config().training
    if os.environ.get("NBGRADER_EXECUTION"):
        return training.nbgrader_epochs
    return training.epochs


def training_batch_size() -> int:
    return course_config().training.batch_size


@lru_cache(maxsize=1)
def _session():
    from autograder.checking import CheckSession

    return CheckSession(course_config(), log=lambda msg: None)


def training_verbosity() -> int | str:
    """Keras' fit verbosity for the training cells: one line per epoch under nbgrader, else the progress bar.

    The bar is redrawn for every batch (1,563 times an epoch on full MNIST), and under nbgrader
    every redraw is kept in the autograded notebook and its feedback page.
    """
    return 2 if os.environ.get("NBGRADER_EXECUTION") else "auto"


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
    report_group(_session(), group, wanted, functions)


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
