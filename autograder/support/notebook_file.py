"""Find and read a submitted notebook, turning every kind of damage into a NotebookError that says what to do.

What runs of it, and how, is ``autograder.engine.notebook_runner``'s job.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat


class NotebookError(ValueError):
    """The file is not a notebook the grader can read."""


def find_notebook(path: Path, name: str) -> Path:
    """``path`` itself when it is a file, else the notebook called ``name`` (or the only one) inside it."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise NotebookError(f"{path} does not exist. Give a notebook file or a folder holding one.")
    if (path / name).is_file():
        return path / name
    notebooks = sorted(p for p in path.glob("*.ipynb") if not p.name.startswith("."))
    if len(notebooks) == 1:
        return notebooks[0]
    raise NotebookError(
        f"{path} holds {len(notebooks)} notebooks ({', '.join(p.name for p in notebooks) or 'none'}) "
        f"and none is called {name}. Give the notebook's path."
    )


def read_notebook(path: Path) -> "nbformat.NotebookNode":
    """Read and upgrade a notebook, turning every kind of damage into a NotebookError."""
    # Imported here, not above: the kernels that run check cells import this module's users without reading any
    # notebook. And without jsonschema's IRI format checker: where the optional rfc3987_syntax is installed
    # (nbgrader's dependencies install it), jsonschema builds a Lark grammar for it on import, about 1 s of every
    # grade on this machine. Notebook schemas use no IRI format, and jsonschema skips a format it has no checker for.
    sys.modules.setdefault("rfc3987_syntax", None)
    import nbformat

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise NotebookError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{path} is not UTF-8 text (byte {exc.start}). Save the notebook again from Jupyter.") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). "
            f"The file was damaged, perhaps by editing it as text; re-download it from Jupyter."
        ) from None
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several types for unknown versions and layouts
        raise NotebookError(f"{path} is not a Jupyter notebook nbformat can read: {exc}") from None
    if not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{path} has no list of cells.")
    return nb
