"""Helpers the assignment notebook imports: the course's data, its epochs, and the in-kernel checks.

Under nbgrader, test cells run inside the student's kernel and call ``check_group`` with the
student's functions passed explicitly (nothing is looked up by walking frames).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Callable

from autograder.config import CourseConfig, load_config
from autograder.i18n import _


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
def _grader():
    from autograder.grading import Grader

    return Grader(course_config(), log=lambda msg: None)


def check_group(group: str, hidden: bool = False, **functions: Callable) -> None:
    """Run one group's checks on the given functions; raise AssertionError listing every failure."""
    from autograder.checks import checks_for

    wanted = [c for c in checks_for((group,), include_hidden=hidden)
              if c.hidden == hidden and c.probe.function in functions]
    if not wanted:
        raise ValueError(f"no {'hidden ' if hidden else ''}checks of group {group!r} use {sorted(functions)}")
    result = _grader().grade_functions(functions, wanted)
    checks = [c for g in result.groups for c in g.checks]
    failed = [c for c in checks if not c.passed]
    t = _grader().translator
    label = f"{group}{t(_(' (hidden)')) if hidden else ''}"
    if failed:
        details = "\n\n".join(f"{c.name}: {c.message}" for c in failed)
        raise AssertionError(t(_("{label}: {failed} of {total} checks failed."), label=label, failed=len(failed),
                               total=len(checks)) + "\n\n" + details)
    print(t(_("{label}: all {total} checks passed."), label=label, total=len(checks)))
