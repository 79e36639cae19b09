"""Tests of autograder.notebook_code: reading a submitted notebook and picking out its definitions."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.notebook_code import NotebookError, extract_code, find_notebook, read_notebook


def _nb(*cells) -> nbformat.NotebookNode:
    return new_notebook(cells=[new_code_cell(c) if isinstance(c, str) else c for c in cells])


def _write_nb(path: Path, nb: nbformat.NotebookNode) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def _sources(extracted) -> list[str]:
    return [s.source.lstrip("\n") for s in extracted.statements]


# --- extract_code ----------------------------------------------------------------------------


def test_extract_code_keeps_imports_definitions_classes_and_constants():
    nb = _nb(
        "import numpy as np\nfrom pathlib import Path",
        "N_CLASSES = 2\nSHAPE: tuple = (28, 28)\n\ndef relabel(y):\n    return (y == 0).astype(int)",
        "class Net:\n    pass",
    )

    code = extract_code(nb)

    assert _sources(code) == [
        "import numpy as np",
        "from pathlib import Path",
        "N_CLASSES = 2",
        "SHAPE: tuple = (28, 28)",
        "def relabel(y):\n    return (y == 0).astype(int)",
        "class Net:\n    pass",
    ]
    assert code.problems == []
    assert code.skipped == 0


def test_extract_code_skips_calls_assignments_with_calls_expressions_and_loops():
    nb = _nb(
        "x = load()\nmodel.fit(x, y, epochs=30)\nmodel.summary\nfor i in range(3):\n    print(i)\nLIMIT = 10",
        "sizes = [len(s) for s in x]\nwith open('f') as f:\n    pass",
    )

    code = extract_code(nb)

    assert _sources(code) == ["LIMIT = 10"]
    assert code.skipped == 6


def test_extract_code_skips_assignments_holding_a_lambda():
    code = extract_code(_nb("square = lambda v: v * v\nK = 3"))

    assert _sources(code) == ["K = 3"]
    assert code.skipped == 1


def test_statements_record_their_cell_line_and_kind():
    nb = _nb(
        "import os",
        new_markdown_cell("# Part 1"),
        "x = load()\n\nRATE = 0.1\n\ndef f():\n    return RATE",
    )

    code = extract_code(nb)

    assert [(s.cell, s.line, s.kind) for s in code.statements] == [
        (1, 1, "import"),
        (3, 3, "assignment"),
        (3, 5, "definition"),
    ]
    assert code.statements[2].filename == "<cell 3>"


def test_statement_source_is_padded_so_line_numbers_match_the_cell():
    code = extract_code(_nb("x = load()\n\ndef f():\n    return 1"))

    (statement,) = code.statements
    assert statement.source == "\n\ndef f():\n    return 1"
    compiled = compile(statement.source, statement.filename, "exec")
    assert compiled.co_consts[0].co_firstlineno == 3


def test_to_json_lists_each_statement():
    code = extract_code(_nb("import os"))

    assert code.to_json() == [{"cell": 1, "line": 1, "source": "import os", "kind": "import"}]


def test_ipython_magics_and_shell_lines_do_not_break_parsing():
    nb = _nb("%matplotlib inline\n!pip list\nimport numpy as np\n\ndef f():\n    return np.zeros(1)")

    code = extract_code(nb)

    assert code.problems == []
    assert _sources(code) == ["import numpy as np", "def f():\n    return np.zeros(1)"]
    assert [s.line for s in code.statements] == [3, 5]
    assert code.skipped == 2


def test_a_cell_with_a_syntax_error_is_reported_and_the_other_cells_are_kept():
    nb = _nb("import os", "def broken(:\n    pass", "def fine():\n    return 1")

    code = extract_code(nb)

    assert len(code.problems) == 1
    assert code.problems[0].startswith("cell 2 has a syntax error (line 1:")
    assert "functions defined in it are missing" in code.problems[0]
    assert _sources(code) == ["import os", "def fine():\n    return 1"]
    assert [s.cell for s in code.statements] == [1, 3]


def test_markdown_cells_are_ignored_but_still_counted_in_cell_numbers():
    nb = _nb(new_markdown_cell("def not_code():\n    pass"), "import os")

    code = extract_code(nb)

    assert _sources(code) == ["import os"]
    assert code.statements[0].cell == 2
    assert code.skipped == 0


def test_decorators_are_kept_with_their_function():
    nb = _nb("import functools\n\n@functools.lru_cache(maxsize=None)\ndef f(x):\n    return x")

    code = extract_code(nb)

    decorated = code.statements[1]
    assert decorated.source.lstrip("\n") == "@functools.lru_cache(maxsize=None)\ndef f(x):\n    return x"
    assert decorated.line == 3
    assert decorated.kind == "definition"


def test_an_empty_notebook_gives_no_statements():
    code = extract_code(new_notebook())

    assert (code.statements, code.problems, code.skipped) == ([], [], 0)


# --- read_notebook ---------------------------------------------------------------------------


def test_read_notebook_reads_a_v4_notebook(tmp_path):
    path = _write_nb(tmp_path / "nb.ipynb", _nb("import os"))

    nb = read_notebook(path)

    assert nb.nbformat == 4
    assert nb.cells[0].source == "import os"


def test_invalid_json_is_reported_with_its_line(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text('{\n "cells": [\n', encoding="utf-8")

    with pytest.raises(NotebookError, match=r"nb\.ipynb is not valid JSON \(line 3, column 1: "):
        read_notebook(path)


def test_bytes_that_are_not_utf8_are_reported(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(b'{"cells": "\xff\xfe"}')

    with pytest.raises(NotebookError, match=r"nb\.ipynb is not UTF-8 text \(byte 11\)"):
        read_notebook(path)


def test_json_that_is_not_a_notebook_is_rejected(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"a": 1}), encoding="utf-8")

    with pytest.raises(NotebookError, match=r"nb\.ipynb is not a Jupyter notebook nbformat can read: "):
        read_notebook(path)


@pytest.mark.parametrize("content", [
    [1, 2],
    {"nbformat": 5, "nbformat_minor": 0, "metadata": {}, "cells": []},
    {"nbformat": 4, "nbformat_minor": 5, "metadata": {}},
    {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "oops"},
], ids=["list", "unknown-version", "no-cells", "cells-a-string"])
def test_other_json_that_nbformat_cannot_read_is_rejected(tmp_path, content):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(content), encoding="utf-8")

    with pytest.raises(NotebookError, match=r"nb\.ipynb is not a Jupyter notebook nbformat can read: "):
        read_notebook(path)


def test_a_v4_notebook_whose_cells_are_a_mapping_is_rejected(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": {}}), encoding="utf-8")

    with pytest.raises(NotebookError, match=r"nb\.ipynb has no list of cells"):
        read_notebook(path)


def test_a_v3_notebook_is_upgraded_to_v4(tmp_path):
    v3 = {
        "metadata": {},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [{"metadata": {}, "cells": [
            {"cell_type": "code", "collapsed": False, "input": ["import os\n", "K = 2"],
             "language": "python", "metadata": {}, "outputs": []},
            {"cell_type": "markdown", "metadata": {}, "source": ["# notes"]},
        ]}],
    }
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3), encoding="utf-8")

    nb = read_notebook(path)

    assert nb.nbformat == 4
    assert [c.cell_type for c in nb.cells] == ["code", "markdown"]
    assert _sources(extract_code(nb)) == ["import os", "K = 2"]


def test_a_missing_file_cannot_be_read(tmp_path):
    with pytest.raises(NotebookError, match=r"cannot read .*gone\.ipynb: No such file or directory"):
        read_notebook(tmp_path / "gone.ipynb")


# --- find_notebook ---------------------------------------------------------------------------


def test_find_notebook_returns_a_file_path_itself(tmp_path):
    path = _write_nb(tmp_path / "anything.ipynb", _nb())

    assert find_notebook(path, "binary_mnist.ipynb") == path


def test_find_notebook_picks_the_named_notebook_in_a_folder(tmp_path):
    _write_nb(tmp_path / "scratch.ipynb", _nb())
    named = _write_nb(tmp_path / "binary_mnist.ipynb", _nb())

    assert find_notebook(tmp_path, "binary_mnist.ipynb") == named


def test_find_notebook_picks_the_only_notebook_in_a_folder(tmp_path):
    only = _write_nb(tmp_path / "my_work.ipynb", _nb())
    _write_nb(tmp_path / ".hidden.ipynb", _nb())

    assert find_notebook(tmp_path, "binary_mnist.ipynb") == only


def test_find_notebook_refuses_to_guess_between_two_notebooks(tmp_path):
    _write_nb(tmp_path / "b.ipynb", _nb())
    _write_nb(tmp_path / "a.ipynb", _nb())

    with pytest.raises(NotebookError, match=r"holds 2 notebooks \(a\.ipynb, b\.ipynb\) and none is called binary_mnist\.ipynb"):
        find_notebook(tmp_path, "binary_mnist.ipynb")


def test_find_notebook_reports_a_folder_without_notebooks(tmp_path):
    with pytest.raises(NotebookError, match=r"holds 0 notebooks \(none\)"):
        find_notebook(tmp_path, "binary_mnist.ipynb")


def test_find_notebook_reports_a_path_that_does_not_exist(tmp_path):
    with pytest.raises(NotebookError, match=r"nowhere does not exist\. Give a notebook file or a folder holding one"):
        find_notebook(tmp_path / "nowhere", "binary_mnist.ipynb")
