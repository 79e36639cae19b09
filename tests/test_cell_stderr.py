"""A test cell's stderr stays empty (nbgrader scores any stderr output 0); what was caught is shown on stdout."""

from __future__ import annotations

import logging
import os
import sys
import warnings

import numpy as np
import pytest

from autograder import notebook
from autograder.messages.cell_stderr import captured_stderr, is_framework_line
from autograder.messages.i18n import Translator

TF_NODEDEF_LINE = ("E0000 00:00:1795934857.622174    3536 node_def_util.cc:682] NodeDef mentions attribute "
                   "use_unbounded_threadpool which is not in the op definition")


@pytest.mark.parametrize("line", [
    TF_NODEDEF_LINE,
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795934857.622174    3536 port.cc:153] oneDNN custom operations are on. You may see ...",
    "2026-11-29 06:00:00.123456: I tensorflow/core/util/port.cc:113] oneDNN custom operations are on.",
    "WARNING:tensorflow:5 out of the last 5 calls to <function> triggered tf.function retracing.",
])
def test_tensorflows_own_log_lines_are_recognised(line):
    assert is_framework_line(line)


@pytest.mark.parametrize("line", ["debug: x has shape (3,)", "Traceback (most recent call last):",
                                  "E: my own message", "WARNING: check your labels"])
def test_the_students_own_lines_are_not_taken_for_tensorflows(line):
    assert not is_framework_line(line)


def test_fd2_python_stderr_logging_and_warnings_are_all_caught(capfd):
    handler = logging.StreamHandler(sys.stderr)
    logger = logging.getLogger("a_students_logger")
    logger.addHandler(handler)
    try:
        with captured_stderr() as caught:
            os.write(2, (TF_NODEDEF_LINE + "\n").encode())
            os.write(2, b"written to fd 2 by C code\n")
            print("printed to sys.stderr", file=sys.stderr)
            logger.warning("logged to a handler on stderr")
            warnings.warn("a warning from the student's code", UserWarning)
            warnings.warn("a warning from the student's code", UserWarning)  # shown once
    finally:
        logger.removeHandler(handler)

    assert capfd.readouterr().err == ""
    assert caught.framework_lines == [TF_NODEDEF_LINE]
    assert caught.other_lines == ["written to fd 2 by C code", "printed to sys.stderr", "logged to a handler on stderr"]
    assert [(w.category, w.message) for w in caught.warnings] == [("UserWarning", "a warning from the student's code")]
    # Everything is restored afterwards.
    print("after", file=sys.stderr)
    os.write(2, b"fd after\n")
    assert capfd.readouterr().err == "after\nfd after\n"
    assert handler.stream is sys.stderr


def test_what_was_caught_before_an_exception_is_kept_and_stderr_restored(capfd):
    with pytest.raises(ZeroDivisionError, match="^division by zero$"):
        with captured_stderr() as caught:
            print("before the error", file=sys.stderr)
            1 / 0
    assert caught.other_lines == ["before the error"]
    os.write(2, b"restored\n")
    assert capfd.readouterr().err == "restored\n"


def test_a_long_stderr_is_quoted_short():
    with captured_stderr() as caught:
        for i in range(100):
            print(f"line {i}", file=sys.stderr)
    quoted = caught.quoted_stderr()
    assert quoted.splitlines()[0] == "line 0" and "(88 more line(s))" in quoted


def noisy_relabel_odd_even(y):
    """Right answer, but it prints to stderr (both ways) and warns on every call."""
    print("debug: relabelling", file=sys.stderr)
    os.write(2, b"debug from fd 2\n")
    os.write(2, (TF_NODEDEF_LINE + "\n").encode())
    warnings.warn("the student's own warning", UserWarning)
    return np.asarray(y) % 2


def test_check_group_leaves_stderr_empty_and_shows_the_notes_on_stdout(sample_grader, monkeypatch, capfd):
    monkeypatch.setattr(notebook, "_session", lambda: sample_grader)
    monkeypatch.delenv(notebook.VERBOSE_ENV, raising=False)

    notebook.check_group("relabel", relabel_odd_even=noisy_relabel_odd_even)

    out, err = capfd.readouterr()
    assert err == ""
    assert "relabel: all" in out and "checks passed." in out
    assert "Python warned (UserWarning): the student's own warning" in out
    assert "Your code wrote to stderr during the checks" in out and "debug: relabelling" in out
    assert "NodeDef" not in out  # TensorFlow's log is not the student's business ...


def test_verbose_shows_tensorflows_log_on_stdout(sample_grader, monkeypatch, capfd):
    monkeypatch.setattr(notebook, "_session", lambda: sample_grader)
    monkeypatch.setenv(notebook.VERBOSE_ENV, "1")
    notebook.check_group("relabel", relabel_odd_even=noisy_relabel_odd_even)
    out, err = capfd.readouterr()
    assert err == "" and "NodeDef mentions attribute" in out  # ... unless asked for


def test_a_failed_check_still_raises_and_its_notes_come_first(sample_grader, monkeypatch, capfd):
    monkeypatch.setattr(notebook, "_session", lambda: sample_grader)

    def inverted(y):
        print("about to invert", file=sys.stderr)
        return 1 - np.asarray(y) % 2

    with pytest.raises(AssertionError, match="has the classes inverted"):
        notebook.check_group("relabel", relabel_odd_even=inverted)
    out, err = capfd.readouterr()
    assert err == "" and "about to invert" in out


def test_the_lectures_input_dim_warning_becomes_a_one_line_hint():
    from autograder.messages.cell_stderr import CapturedStderr, CaughtWarning

    caught = CapturedStderr(warnings=[CaughtWarning(
        "UserWarning", "Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential "
        "models, prefer using an `Input(shape)` object as the first layer in the model instead.", from_keras=True)])
    assert notebook.stderr_notes(caught, Translator("en")) == [
        "Keras warned: prefer keras.Input(shape=...) as the model's first layer over input_shape= or input_dim= "
        "(the lecture's style still works and costs nothing here)."]
