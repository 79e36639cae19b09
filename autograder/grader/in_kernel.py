"""The hidden test cells' entry point: ``check_hidden_group`` runs a group's hidden checks in nbgrader's kernel.

The source notebook's hidden test cells import it (between ``### BEGIN/END HIDDEN TESTS``, so the
student release never names it). The calls go through the same files and safe loading as the
jailed grader (``Grader.calls_for_functions``); the output rules are the visible cells' own
(``autograder.notebook.report_group``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from autograder.hidden.every_check import checks_for
from autograder.notebook import course_config, report_group


@lru_cache(maxsize=1)
def _grader():
    from autograder.grader.grading import Grader

    grader = Grader(course_config(), log=lambda msg: None)
    reading_the_lecture_trainings(grader.session)
    return grader


def check_hidden_group(group: str, **functions: Callable) -> None:
    """Run one group's hidden checks on the given functions; raise AssertionError listing every failure."""
    wanted = [c for c in checks_for((group,)) if c.hidden and c.probe.function in functions]
    if not wanted:
        raise ValueError(f"no hidden checks of group {group!r} use {sorted(functions)}")
    report_group(_grader(), group, wanted, functions, hidden=True)


def reading_the_lecture_trainings(session):
    """``session``, made to take the lecture's trainings that a trusted step filed (``course.lecture_trainings``;
    the folder is bound read-only, ``$AUTOGRADER_LECTURE_TRAININGS``); unchanged where the kernel has none.

    A model whose training the folder holds, under this kernel's protocol, data, libraries and machine, is not
    trained again: the entry gives what the training gave (accuracy, loss, curves, exact test probabilities and,
    for ``train_as_graded``, the trained weights). Anything else trains here, as without the folder; nothing the
    kernel trains is ever filed (it cannot write there, and it is not trusted to)."""
    from autograder.grader.training_cache import TrainingCache, kernel_cache, lookup_outcome, training_context

    folder = kernel_cache()
    if folder is None:
        return session

    @lru_cache(maxsize=1)
    def lecture_trainings():  # its key needs the grading data: made at the first lookup, not at the kernel's start
        return TrainingCache(folder, training_context(session.config, session.data))

    session.class_training = lambda key, with_weights: lookup_outcome(lecture_trainings(), key, with_weights)
    return session


def give_the_self_check_the_lecture_trainings() -> None:
    """Run by the kernel's start-up (``course.sandboxed_kernel``, IPython's ``exec_lines``), before any cell: the
    notebook's own session (its training cells' ``train_as_graded``, its visible check cells) reads the lecture's
    trainings too. The student wing never imports this wing; this wing hands it the session instead."""
    import autograder.notebook as notebook
    from autograder.engine.check_session import CheckSession

    notebook.session_maker = lambda: reading_the_lecture_trainings(CheckSession(course_config(), log=lambda msg: None))
