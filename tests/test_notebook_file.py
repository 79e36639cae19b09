"""Tests of autograder.support.notebook_file: finding and reading a submitted notebook."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.support.notebook_file import NotebookError, find_notebook, read_notebook


def _nb(*cells) -> nbformat.NotebookNode:
    return new_notebook(cells=[new_code_cell(c) if isinstance(c, str) else c for c in cells])


def _write_nb(path: Path, nb: nbformat.NotebookNode) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


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
    assert nb.cells[0].source == "import os\nK = 2"


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


# --- the import shortcut ----------------------------------------------------------


def test_reading_a_notebook_validates_it_without_the_iri_grammar(tmp_path):
    """A fresh process that reads a notebook keeps jsonschema from building its IRI grammar (about 1 s);
    validation still refuses what is not a notebook."""
    good = _write_nb(tmp_path / "good.ipynb", _nb("import os"))
    bad = tmp_path / "bad.ipynb"
    bad.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}),
                   encoding="utf-8")
    script = f"""
import sys
from autograder.support.notebook_file import NotebookError, read_notebook
print(read_notebook({str(good)!r}).cells[0].source)
try:
    read_notebook({str(bad)!r})
except NotebookError as exc:
    print("refused:", str(exc).removeprefix({str(bad)!r}).split(":")[0])
print("grammar loaded:", bool(sys.modules.get("rfc3987_syntax")))
"""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["import os", "refused:  is not a Jupyter notebook nbformat can read",
                                "grammar loaded: False"], out
