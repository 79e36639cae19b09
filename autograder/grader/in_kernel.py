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

    return Grader(course_config(), log=lambda msg: None)


def check_hidden_group(group: str, **functions: Callable) -> None:
    """Run one group's hidden checks on the given functions; raise AssertionError listing every failure."""
    wanted = [c for c in checks_for((group,)) if c.hidden and c.probe.function in functions]
    if not wanted:
        raise ValueError(f"no hidden checks of group {group!r} use {sorted(functions)}")
    report_group(_grader(), group, wanted, functions, hidden=True)


def session_reading_lecture_trainings(config):
    """The notebook's check session in nbgrader's kernel, reading the lecture's trainings that a trusted step
    filed (``training_cache.warm_lecture_models``; the folder is bound read-only, ``$AUTOGRADER_LECTURE_TRAININGS``).

    A model whose training the folder holds, under this kernel's protocol, data, libraries and machine, is not
    trained again: the entry gives what the training gave (accuracy, loss, curves, exact test probabilities and,
    for ``train_as_graded``, the trained weights). Anything else trains here, as without the folder; nothing the
    kernel trains is ever filed (it cannot write there, and it is not trusted to)."""
    from autograder.engine.check_session import CheckSession, training_key
    from autograder.grader.training_cache import TrainingCache, kernel_cache, lookup_outcome, training_context

    class LectureTrainingsSession(CheckSession):
        def train_under_protocol(self, model, builder: str, keep_weights: bool = False):
            key = training_key(model, builder)
            known = self.trained.get(key) if key else None
            if key and (known is None or (keep_weights and known.weights is None)) and self.lecture_trainings:
                hit = lookup_outcome(self.lecture_trainings, key, with_weights=keep_weights)
                if hit is not None:
                    self._remember(key, hit)
            return super().train_under_protocol(model, builder, keep_weights)

        @property
        def lecture_trainings(self):
            if "_lecture_trainings" not in self.__dict__:
                folder = kernel_cache()
                self.__dict__["_lecture_trainings"] = (
                    None if folder is None else TrainingCache(folder, training_context(self.config, self.data)))
            return self.__dict__["_lecture_trainings"]

    return LectureTrainingsSession(config, log=lambda msg: None)
