"""Tests of the nbgrader preprocessor that keeps hidden-test code out of feedback tracebacks."""

from __future__ import annotations

import copy

from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from autograder.course.scrub_hidden_tracebacks import ScrubHiddenTestTracebacks

GREEN, RESET = "\x1b[0;32m", "\x1b[0m"

SOURCE = (
    "assert f(0) == 1\n"
    "assert f(1) == 2\n"
    "\n"
    "### BEGIN HIDDEN TESTS\n"
    "assert f(2) == 3\n"
    "assert f(10) == 11\n"
    "### END HIDDEN TESTS"
)

# An IPython-style traceback: the header entry, then one entry quoting numbered lines of the cell.
TRACEBACK = [
    f"{GREEN}---------------------------------------------------------------------------{RESET}",
    "\n".join([
        f"{GREEN}AssertionError{RESET}                            Traceback (most recent call last)",
        f"Cell {GREEN}In[3], line 5{RESET}",
        f"{GREEN}      1{RESET} assert f(0) == 1",
        f"{GREEN}      2{RESET} assert f(1) == 2",
        f"{GREEN}      3{RESET} ",
        f"{GREEN}      4{RESET} ### BEGIN HIDDEN TESTS",
        f"{GREEN}----> 5{RESET} assert f(2) == 3",
        f"{GREEN}      6{RESET} assert f(10) == 11",
        f"{GREEN}      7{RESET} ### END HIDDEN TESTS",
    ]),
    f"{GREEN}AssertionError{RESET}: ",
]


def _error_cell(source: str = SOURCE, traceback: list[str] = TRACEBACK):
    error = new_output("error", ename="AssertionError", evalue="", traceback=list(traceback))
    return new_code_cell(source, outputs=[error])


def _scrub(cell):
    out, resources = ScrubHiddenTestTracebacks().preprocess_cell(cell, {"k": 1}, 0)
    assert resources == {"k": 1}
    return out


def _plain(text: str) -> str:
    return text.replace(GREEN, "").replace(RESET, "")


def test_traceback_lines_quoting_hidden_tests_are_removed():
    cell = _scrub(_error_cell())

    text = _plain("\n".join(cell.outputs[0]["traceback"]))
    assert "BEGIN HIDDEN TESTS" not in text
    assert "END HIDDEN TESTS" not in text
    assert "f(2) == 3" not in text
    assert "f(10) == 11" not in text


def test_traceback_lines_quoting_visible_code_remain():
    cell = _scrub(_error_cell())

    traceback = cell.outputs[0]["traceback"]
    assert len(traceback) == 3
    assert _plain(traceback[1]).splitlines() == [
        "AssertionError                            Traceback (most recent call last)",
        "Cell In[3], line 5",
        "      1 assert f(0) == 1",
        "      2 assert f(1) == 2",
        "      3 ",
    ]
    assert traceback[0] == TRACEBACK[0]
    assert traceback[2] == TRACEBACK[2]


def test_the_cell_source_is_left_for_clear_hidden_tests():
    cell = _scrub(_error_cell())

    assert cell.source == SOURCE


def test_unnumbered_lines_quoting_hidden_code_are_removed():
    traceback = ['  File "<cell>", line 5, in <module>\n    assert f(10) == 11\n>       assert f(2) == 3\nAssertionError']

    cell = _scrub(_error_cell(traceback=traceback))

    assert cell.outputs[0]["traceback"] == ['  File "<cell>", line 5, in <module>\nAssertionError']


def test_a_cell_without_hidden_tests_is_unchanged():
    cell = _error_cell(source="assert f(0) == 1\nassert f(2) == 3",
                       traceback=[f"{GREEN}----> 2{RESET} assert f(2) == 3"])
    before = copy.deepcopy(cell)

    assert _scrub(cell) == before


def test_outputs_other_than_errors_are_unchanged():
    cell = _error_cell()
    cell.outputs = [new_output("stream", name="stdout", text="assert f(2) == 3\n")]
    before = copy.deepcopy(cell)

    assert _scrub(cell) == before


def test_markdown_cells_are_unchanged():
    cell = new_markdown_cell(SOURCE)
    before = copy.deepcopy(cell)

    assert _scrub(cell) == before


def test_configured_delimiters_are_the_ones_scrubbed():
    # A course that renames nbgrader's hidden-test delimiters keeps its hidden lines out of feedback too.
    from traitlets.config import Config

    config = Config()
    config.ClearHiddenTests.begin_test_delimeter = "BEGIN SECRET"
    config.ClearHiddenTests.end_test_delimeter = "END SECRET"
    source, traceback = (SOURCE.replace("HIDDEN TESTS", "SECRET"), [t.replace("HIDDEN TESTS", "SECRET") for t in TRACEBACK])
    out, _ = ScrubHiddenTestTracebacks(config=config).preprocess_cell(_error_cell(source, traceback), {}, 0)
    text = _plain("\n".join(out.outputs[0]["traceback"]))
    assert "assert f(2) == 3" not in text and "BEGIN SECRET" not in text
    assert "assert f(0) == 1" in text
    # With the default delimiters the renamed region is not recognised: the configuration is what counts.
    default, _ = ScrubHiddenTestTracebacks().preprocess_cell(_error_cell(source, traceback), {}, 0)
    assert "assert f(2) == 3" in _plain("\n".join(default.outputs[0]["traceback"]))
