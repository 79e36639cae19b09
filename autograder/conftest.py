"""pytest plugin for the students' self-check: ``pytest autograder [--notebook PATH]``.

One pytest test per visible check, with the grader's own messages. The notebook's functions run
once, in a child process, for the whole session; hidden checks run only when grading.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NOTEBOOK_ENV = "AUTOGRADER_NOTEBOOK"


def pytest_addoption(parser):
    parser.addoption("--notebook", default=None,
                     help=f"notebook to self-check (default: ${NOTEBOOK_ENV}, else the assignment's "
                          f"release notebook assignments/<id>/<id>.ipynb next to course.yml)")


@pytest.fixture(scope="session")
def grader():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from autograder.config import load_config
    from autograder.grading import Grader

    return Grader(load_config(), log=lambda msg: None)


@pytest.fixture(scope="session")
def notebook_path(request, grader) -> Path:
    chosen = request.config.getoption("--notebook") or os.environ.get(NOTEBOOK_ENV)
    if chosen:
        return Path(chosen)
    config = grader.config
    return config.root / "assignments" / config.assignment / config.notebook_name


@pytest.fixture(scope="session")
def calls(grader, notebook_path):
    """The notebook's calls for every visible check, or the reason there are none."""
    from autograder.checks import checks_for
    from autograder.notebook_code import NotebookError

    try:
        _, calls, problems = grader.collect_calls(notebook_path, checks_for(include_hidden=False))
    except NotebookError as exc:
        return str(exc)
    except Exception as exc:  # e.g. MNIST unavailable: every test should say so, not show a traceback
        return f"{type(exc).__name__}: {exc}"
    from autograder.i18n import _

    for problem in problems:
        print(grader.translator(_("notebook problem: {problem}"), problem=problem))
    return calls


def pytest_report_header(config):
    from autograder.config import CourseConfigError, load_config
    from autograder.i18n import Translator, _

    try:
        translator = Translator(load_config().language)
    except CourseConfigError:  # the grader fixture reports a broken course.yml; the header stays English
        translator = Translator("en")
    chosen = config.getoption("--notebook") or os.environ.get(NOTEBOOK_ENV) or translator(_("the release notebook"))
    return translator(_("autograder self-check of {notebook} (visible checks only)"), notebook=chosen)
