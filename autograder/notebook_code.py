"""Read a submitted notebook and pick out the code the grader may run.

The grader never runs a student's training cells: of each code cell it keeps only top-level
imports, function and class definitions, and assignments without calls (constants). Everything
else (loading data, ``fit``, plots) is listed as skipped. Cells are parsed, never executed, here.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

_KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class NotebookError(ValueError):
    """The file is not a notebook the grader can read."""


@dataclass(frozen=True)
class Statement:
    """One top-level statement kept for the submission's process, with where it came from."""

    cell: int
    line: int
    source: str
    kind: str  # import | definition | assignment

    @property
    def filename(self) -> str:
        return f"<cell {self.cell}>"


@dataclass
class ExtractedCode:
    statements: list[Statement] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: int = 0

    def to_json(self) -> list[dict]:
        return [{"cell": s.cell, "line": s.line, "source": s.source, "kind": s.kind} for s in self.statements]


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


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read and upgrade a notebook, turning every kind of damage into a NotebookError."""
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


def _to_python(source: str) -> str:
    # Cells may hold IPython syntax (%magics, !shell); turn it into Python so ast can parse it.
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _is_constant_assignment(node: ast.stmt) -> bool:
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        return False
    return not any(isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.Lambda))
                   for n in ast.walk(node.value))


def extract_code(nb: nbformat.NotebookNode) -> ExtractedCode:
    """The statements of the notebook that define things, in order, and the cells that don't parse."""
    out = ExtractedCode()
    for index, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        try:
            code = _to_python(source)
            tree = ast.parse(code, filename=f"<cell {index}>")
        except SyntaxError as exc:
            out.problems.append(
                f"cell {index} has a syntax error (line {exc.lineno}: {exc.msg}); "
                f"the grader skipped the whole cell, so functions defined in it are missing."
            )
            continue
        except Exception as exc:  # IPython's transformer can fail on odd input too
            out.problems.append(f"cell {index} could not be read ({type(exc).__name__}: {exc}); skipped.")
            continue
        lines = code.splitlines()
        for node in tree.body:
            if isinstance(node, _KEPT) or _is_constant_assignment(node):
                start = node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno
                text = "\n".join(lines[start - 1: node.end_lineno])
                # Pad with blank lines so tracebacks report the line numbers the student sees.
                kind = ("import" if isinstance(node, (ast.Import, ast.ImportFrom))
                        else "definition" if isinstance(node, _KEPT) else "assignment")
                out.statements.append(Statement(index, start, "\n" * (start - 1) + text, kind))
            else:
                out.skipped += 1
    return out
