"""Run a notebook's code cells as a Jupyter kernel does, and take each group's functions where its check cell runs.

One runner serves the grader's submission process (``autograder.isolation.child``, inside the jail) and
the students' self-check (``pytest autograder``, in its own process), so that "passes here, fails in the
grader" cannot come from how the notebook was run. Cells run in order through IPython's own
``InteractiveShell.run_cell``: line and cell magics, ``!`` lines, compound statements and everything
else a kernel accepts. What is not run, and why:

* the test cells (nbgrader ``grade`` cells): the grader calls the functions itself;
* the provided cells that do work (load data, train, plot); the provided cells that only import and
  define (the imports, the plot helpers) do run, in the course's own version (``release``), as
  nbgrader's ``OverwriteCells`` does at autograde. Where the data cell stands, the names it defines are
  bound to small slices of the grader's data (``autograder.engine.data_cell``), as running it would bind them.

Every student cell (a solution cell or a cell the student added) runs under ``cell_timeout_s``; a cell
that is stopped or raises keeps what it defined before, as in a kernel. A group's functions are taken
as they stand where that group's check cell would run; a notebook without nbgrader metadata is taken
as it stands at its end.
"""

from __future__ import annotations

import ast
import linecache
import re
import signal
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from autograder.support.config import GROUPS
from autograder.messages.error_text import describe_exception, keras2_hint
from autograder.messages.i18n import Message, _

STUDENT, PROVIDED, PROVIDED_NOT_RUN, CHECK = "student", "provided", "provided not run", "check"
# The functions a check cell hands to the checks: check_group("mlp", build_mlp=build_mlp).
_CHECK_CALLS = ("check_group", "check_hidden_group")


@dataclass(frozen=True)
class PlannedCell:
    """One code cell and what the runner does with it."""

    cell: int  # the cell's number, counting every cell of the notebook from 1
    source: str
    kind: str  # STUDENT | PROVIDED | PROVIDED_NOT_RUN | CHECK
    # A check cell's calls: (group, names of the functions it passes), in order.
    checks: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def runs(self) -> bool:
        return self.kind in (STUDENT, PROVIDED)

    def to_data(self) -> dict:
        return {"cell": self.cell, "source": self.source, "kind": self.kind,
                "checks": [[g, list(names)] for g, names in self.checks]}

    @classmethod
    def from_data(cls, data: dict) -> "PlannedCell":
        return cls(int(data["cell"]), str(data["source"]), str(data["kind"]),
                   tuple((str(g), tuple(str(n) for n in names)) for g, names in data.get("checks", [])))


# ---------------------------------------------------------------- the plan: which cell runs, from which copy


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _nbgrader(cell) -> dict:
    meta = (cell.get("metadata") or {}).get("nbgrader") or {}
    return meta if isinstance(meta, dict) else {}


def as_python(source: str) -> ast.Module | None:
    """The cell as IPython runs it (magics and ``!`` lines turned into calls), parsed; None if it does not parse."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source.replace("\r\n", "\n")))
    except Exception:  # SyntaxError, or IPython's transformer failing on odd input
        return None


def _is_magic_call(node: ast.stmt) -> bool:
    # ``get_ipython().run_line_magic(...)``: what ``%matplotlib inline`` becomes.
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute) and isinstance(node.value.func.value, ast.Call)
            and getattr(node.value.func.value.func, "id", None) == "get_ipython")


def only_defines(source: str) -> bool:
    """Whether a provided cell only imports and defines (so the grader runs it): no data, training or plots."""
    tree = as_python(source)
    return tree is not None and all(
        isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        or _is_magic_call(n) for n in tree.body)


def check_calls(source: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The ``check_group("group", name=name, ...)`` calls of a cell: each group and the names it passes."""
    tree = as_python(source)
    found = []
    for node in ast.walk(tree) if tree is not None else ():
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in _CHECK_CALLS and node.args
                and isinstance(node.args[0], ast.Constant) and node.args[0].value in GROUPS):
            found.append((node.args[0].value, tuple(k.arg for k in node.keywords if k.arg)))
    return tuple(found)


def _only_checks(source: str) -> bool:
    # A copy of a check cell that the student made: it would run the checks (and train) inside the submission.
    tree = as_python(source)
    return bool(tree and tree.body) and all(
        isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and getattr(n.value.func, "id", None) in _CHECK_CALLS
        or isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body) and bool(check_calls(source))


_SELF_CHECK_COMMAND = re.compile(r"\bpytest\b.*\bautograder\b")


def _runs_the_self_check(source: str) -> bool:
    # ``!pytest autograder`` (or ``!python -m pytest --pyargs autograder``, as in Colab): the self-check runs
    # this very notebook, so running the cell inside a run of the notebook would start it again, and again.
    tree = as_python(source)
    return bool(tree and tree.body) and all(
        _is_magic_call(n) and n.value.func.attr in ("system", "getoutput") and n.value.args
        and isinstance(n.value.args[0], ast.Constant) and _SELF_CHECK_COMMAND.search(str(n.value.args[0].value))
        for n in tree.body)


def _normalised(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.replace("\r\n", "\n").strip().splitlines())


def plan_notebook(nb, release=None) -> list[PlannedCell]:
    """What the runner does with each code cell of ``nb``; locked cells are taken from ``release`` when given."""
    provided = {}
    provided_by_text = {}
    for cell in (release.cells if release is not None else ()):
        meta = _nbgrader(cell)
        if cell.get("cell_type") == "code" and meta.get("grade_id") and not meta.get("solution"):
            provided[meta["grade_id"]] = _source(cell)
            provided_by_text[_normalised(_source(cell))] = meta["grade_id"]
    plan = []
    for index, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        meta, source = _nbgrader(cell), _source(cell)
        grade_id = meta.get("grade_id") if meta.get("locked") or meta.get("grade") else None
        if grade_id is None and not meta:
            # A cell without metadata (pasted into a fresh notebook) that is the course's own provided cell.
            grade_id = provided_by_text.get(_normalised(source))
        if grade_id is not None and not meta.get("solution") and (grade_id in provided or release is None):
            source = provided.get(grade_id, source)
            is_check = bool(meta.get("grade")) or bool(check_calls(source)) and not only_defines(source)
            kind = CHECK if is_check else PROVIDED if only_defines(source) else PROVIDED_NOT_RUN
            # Only the course's own check cells say where a group is checked (a pasted copy does not).
            plan.append(PlannedCell(index, source, kind, check_calls(source) if meta.get("grade") else ()))
        elif _only_checks(source) or _runs_the_self_check(source):
            plan.append(PlannedCell(index, source, CHECK))
        else:
            plan.append(PlannedCell(index, source, STUDENT))
    return plan


@dataclass(frozen=True)
class Wanted:
    """A call the runner makes while it runs the notebook: ``probe`` of ``function``, for ``group``'s checks."""

    probe: str
    group: str
    function: str

    def to_data(self) -> list[str]:
        return [self.probe, self.group, self.function]

    @classmethod
    def from_data(cls, data) -> "Wanted":
        probe, group, function = (str(v) for v in data)
        return cls(probe, group, function)


def call_checkpoints(plan: list[PlannedCell], wanted: list[Wanted]) -> dict[str, int]:
    """Where each wanted call is made: right after the first check cell of its group that passes its function,
    else after the group's first check cell, else at the end of the notebook (0). That is where nbgrader's
    check cell calls it, with the notebook's state as it is there."""
    passed: dict[tuple[str, str], int] = {}
    first_of_group: dict[str, int] = {}
    for cell in plan:
        for group, names in cell.checks:
            first_of_group.setdefault(group, cell.cell)
            for name in names:
                passed.setdefault((group, name), cell.cell)
    return {w.probe: passed.get((w.group, w.function), first_of_group.get(w.group, 0)) for w in wanted}


# ---------------------------------------------------------------- running


@dataclass
class CellOutcome:
    """What running one cell did."""

    cell: int
    status: str  # ok | raised | stopped | syntax_error | ended_process (the grader's record: it killed the process)
    seconds: float = 0.0
    error: dict | None = None  # describe_exception's data, and the cell's line where it happened

    def to_data(self) -> dict:
        return asdict(self)


@dataclass
class NotebookRun:
    """The outcome of every cell run, and each wanted call's function as it stood where the call was made."""

    outcomes: list[CellOutcome] = field(default_factory=list)
    functions: dict[str, Any] = field(default_factory=dict)  # by probe name
    namespace: dict = field(default_factory=dict)


class CellTimeLimit(BaseException):
    """Raised inside a student cell that ran past its time limit (a BaseException, so ``except Exception`` in
    the cell does not swallow it)."""


def _make_shell():
    from IPython.core.compilerop import CachingCompiler
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import Type
    from traitlets.config import Config

    class CellNamedCompiler(CachingCompiler):
        """Names each cell's code ``<cell N>``: tracebacks and the checks' messages then say which cell."""

        current_cell = 0

        def get_code_name(self, raw_code, transformed_code, number):
            return f"<cell {self.current_cell}>"

    class GradingShell(InteractiveShell):
        """A kernel's shell without a front end: there is no GUI loop, so ``%matplotlib inline`` just selects
        the inline backend, as in Jupyter."""

        compiler_class = Type(CellNamedCompiler)

        def enable_gui(self, gui=None):
            pass

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.xmode = "plain"
    return GradingShell(config=config)


class _Alarm:
    """Raises CellTimeLimit in the main thread after ``seconds``, then again every second until cleared,
    so that a cell which catches it once still stops."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()

    def __enter__(self):
        if self.usable:
            self._previous = signal.signal(signal.SIGALRM, self._raise)
            signal.setitimer(signal.ITIMER_REAL, self.seconds, 1.0)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise CellTimeLimit()

    def __exit__(self, *exc):
        if self.usable:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)
        return False


def _error_data(exc: BaseException, cell: int) -> dict:
    data = describe_exception(exc)
    lines = [fs.lineno for fs in traceback.extract_tb(exc.__traceback__) if fs.filename == f"<cell {cell}>"]
    if isinstance(exc, SyntaxError) and exc.lineno:
        lines = [exc.lineno]
    data["line"] = lines[0] if lines else None
    return data


def run_notebook(plan: list[PlannedCell], wanted: list[Wanted], cell_timeout_s: float,
                 call: Callable[[Wanted, Any], None] | None = None, skip: tuple[int, ...] = (),
                 on_cell: Callable[[PlannedCell], None] | None = None,
                 on_outcome: Callable[[list[CellOutcome]], None] | None = None,
                 stand_ins: dict[str, Any] | None = None) -> NotebookRun:
    """Run the plan's cells in order in a fresh IPython shell, and make each wanted call where
    ``call_checkpoints`` says: ``call(wanted, the function as it stands there, or None)``.

    ``stand_ins`` are the values of the names the provided data cell defines (``data_cell``): where a provided
    cell that is not run stands, the names it assigns that are among them are bound, as running it would.

    ``skip`` lists cells not to run (one that ended the process before); ``on_cell`` is told of each cell
    before it runs (the submission's process writes it down, so that the grader knows where it stopped),
    ``on_outcome`` of the outcomes so far after each cell.
    """
    saved = sys.modules.get("__main__"), sys.excepthook, sys.displayhook
    shell = _make_shell()
    at = call_checkpoints(plan, wanted)
    run = NotebookRun(namespace=shell.user_ns)

    def make_calls(cell_number: int) -> None:
        for w in wanted:
            if at[w.probe] == cell_number:
                function = run.functions[w.probe] = shell.user_ns.get(w.function)
                if call is not None:
                    call(w, function)

    try:
        for cell in plan:
            if cell.runs and cell.cell not in skip:
                if on_cell is not None:
                    on_cell(cell)
                run.outcomes.append(_run_cell(shell, cell, cell_timeout_s))
                if on_outcome is not None:
                    on_outcome(run.outcomes)
            elif cell.kind == PROVIDED_NOT_RUN and stand_ins:
                _bind_stand_ins(shell.user_ns, cell, stand_ins)
            make_calls(cell.cell)
        make_calls(0)
    finally:
        shell.compile.current_cell = 0
        for cell in plan:  # IPython cached each cell's lines for tracebacks; a later run's cell N is another cell
            linecache.cache.pop(f"<cell {cell.cell}>", None)
        if saved[0] is not None:
            sys.modules["__main__"] = saved[0]
        sys.excepthook, sys.displayhook = saved[1], saved[2]
    return run


def _bind_stand_ins(namespace: dict, cell: PlannedCell, stand_ins: dict[str, Any]) -> None:
    # In Jupyter the cells below the data cell (the accuracy checks) see the names it defines: so do they here.
    from autograder.engine.data_cell import assigned_names

    for name in sorted(assigned_names(cell.source) & set(stand_ins)):
        value = stand_ins[name]
        namespace[name] = value.copy() if hasattr(value, "copy") else value  # a student's in-place edit stays here


def _run_cell(shell, cell: PlannedCell, cell_timeout_s: float) -> CellOutcome:
    shell.compile.current_cell = cell.cell
    source = cell.source.replace("\r\n", "\n")
    started = time.perf_counter()
    try:
        # The instructor's provided cells are trusted and bounded by the process's own start-up limit.
        if cell.kind == STUDENT:
            with _Alarm(cell_timeout_s):
                result = shell.run_cell(source, store_history=False)
        else:
            result = shell.run_cell(source, store_history=False)
    except CellTimeLimit as exc:  # it fired outside the student's code, between IPython's own steps
        return CellOutcome(cell.cell, "stopped", time.perf_counter() - started, _error_data(exc, cell.cell))
    seconds = time.perf_counter() - started
    if result.error_before_exec is not None:
        return CellOutcome(cell.cell, "syntax_error", seconds, _error_data(result.error_before_exec, cell.cell))
    error = result.error_in_exec
    if isinstance(error, CellTimeLimit):
        return CellOutcome(cell.cell, "stopped", seconds, _error_data(error, cell.cell))
    if isinstance(error, KeyboardInterrupt):
        raise error  # a real Ctrl-C ends the self-check, as in a kernel it stops the run
    if error is not None:
        return CellOutcome(cell.cell, "raised", seconds, _error_data(error, cell.cell))
    return CellOutcome(cell.cell, "ok", seconds)


# ---------------------------------------------------------------- what went wrong, in words


def cell_problem(outcome: CellOutcome, cell_timeout_s: float) -> Message | None:
    """One line for the result's problems about a cell that did not run to its end (None when it did)."""
    err = outcome.error or {}
    if outcome.status == "stopped":
        return _("cell {cell} was stopped after {seconds:.0f} s (limits.cell_timeout_s is {limit:g} s); what it "
                 "defined before that was kept").format(cell=outcome.cell, seconds=outcome.seconds, limit=cell_timeout_s)
    if outcome.status == "raised":
        problem = _("cell {cell} raised {error} at line {line}: {message}; what it defined before the error was "
                    "kept").format(cell=outcome.cell, error=err.get("type", "?"), line=err.get("line") or "?",
                                   message=str(err.get("message", ""))[:300])
        hint = keras2_hint(str(err.get("message", "")))
        return _("{problem}. Hint: {hint}").format(problem=problem, hint=hint) if hint is not None else problem
    if outcome.status == "syntax_error":
        return _("cell {cell} has a syntax error (line {line}: {message}), so none of it ran").format(
            cell=outcome.cell, line=err.get("line") or "?", message=str(err.get("message", ""))[:300])
    if outcome.status == "ended_process":
        return _("cell {cell} ended the submission's process, so the grader ran the notebook again without it: "
                 "{message}").format(cell=outcome.cell, message=err.get("message", ""))
    return None


def _defines(source: str, name: str) -> int | None:
    """The line where a cell defines ``name`` at its top level (def, class, assignment, import), or None."""
    tree = as_python(source)
    for node in (tree.body if tree is not None else ()):
        names = set()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For)):
            names.update(n.name for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.ClassDef)))
        if name in names:
            return node.lineno
    return None


def _defines_raw(source: str, name: str) -> bool:
    # A def the parser cannot see: the cell has a syntax error, or IPython could not transform it.
    return re.search(rf"^\s*def\s+{re.escape(name)}\s*\(", source, flags=re.M) is not None


def why_missing(name: str, plan: list[PlannedCell], outcomes: list[CellOutcome], taken_at: int) -> Message:
    """Why ``name`` was not defined where its check cell runs (``taken_at``; 0 is the end of the notebook)."""
    by_cell = {o.cell: o for o in outcomes}
    above = [c for c in plan if c.kind == STUDENT and (taken_at == 0 or c.cell < taken_at)]
    for cell in reversed(above):
        outcome = by_cell.get(cell.cell)
        line = _defines(cell.source, name)
        if outcome is None or outcome.status == "ended_process":
            if line is not None or _defines_raw(cell.source, name):
                return _("{name} is defined in cell {cell}, which ended the submission's process and was not "
                         "run again. Hint: look for exit() or a crash in that cell.").format(name=name, cell=cell.cell)
            continue
        if outcome.status == "syntax_error" and _defines_raw(cell.source, name):
            err = outcome.error or {}
            return _("{name} is defined in cell {cell}, which has a syntax error (line {line}: {message}), so none of "
                     "it ran. Hint: fix that line; Jupyter shows the same error when you run the cell.").format(
                name=name, cell=cell.cell, line=err.get("line") or "?", message=err.get("message", ""))
        if line is None or outcome.status == "ok":
            continue
        err = outcome.error or {}
        if outcome.status == "stopped":
            return _("{name} is defined in cell {cell}, which was stopped after {seconds:.0f} s, before it reached "
                     "the definition (line {line}). Hint: keep long work such as training out of the cells that "
                     "define functions.").format(name=name, cell=cell.cell, seconds=outcome.seconds, line=line)
        if outcome.status == "raised" and (err.get("line") or 0) < line:
            message = str(err.get("message", ""))[:300]
            return _("{name} is defined in cell {cell} at line {line}, but the cell raised {error} at line "
                     "{error_line} ({message}), before it reached the definition. Hint: {hint}").format(
                name=name, cell=cell.cell, line=line, error=err.get("type", "?"), error_line=err.get("line") or "?",
                message=message, hint=keras2_hint(message) or _(
                    "fix that error, or move the definition into a cell of its own."))
    below = [c.cell for c in plan if c.kind == STUDENT and taken_at and c.cell > taken_at
             and (_defines(c.source, name) is not None or _defines_raw(c.source, name))]
    if below:
        return _("{name} is defined only in cell {cell}, below its check cell (cell {check}): in Jupyter and under "
                 "nbgrader the check cell runs before it. Hint: move the definition above the check cell.").format(
            name=name, cell=below[0], check=taken_at)
    return _("{name} is not defined in the notebook. Hint: keep the function's name and arguments as the stub "
             "has them.").format(name=name)


_STATUSES = ("ok", "raised", "stopped", "syntax_error", "ended_process")


def outcomes_from_data(data, kinds: dict[int, str]) -> list[CellOutcome]:
    """The cells' outcomes as the submission's process wrote them (``notebook.json``), every field checked.

    ``kinds`` are the plan's cells: an outcome for a cell the plan does not run is refused. Raises
    ValueError on anything else than what ``run_notebook``'s outcomes serialise to.
    """
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("outcomes"), list) or len(data["outcomes"]) > len(kinds):
        raise ValueError("notebook.json is not a list of cell outcomes")
    outcomes = []
    for entry in data["outcomes"]:
        if not isinstance(entry, dict) or type(entry.get("cell")) is not int or kinds.get(entry["cell"]) not in (
                STUDENT, PROVIDED) or entry.get("status") not in _STATUSES or not isinstance(entry.get("seconds"), (int, float)):
            raise ValueError("a cell outcome is not one the grader wrote")
        error = entry.get("error")
        if error is not None:
            if not isinstance(error, dict):
                raise ValueError("a cell's error is not a mapping")
            line = error.get("line")
            error = {"type": str(error.get("type", ""))[:100], "message": str(error.get("message", ""))[:2000],
                     "where": [str(w)[:500] for w in error.get("where", [])[:5]] if isinstance(error.get("where"), list) else [],
                     "line": line if type(line) is int else None}
        outcomes.append(CellOutcome(entry["cell"], entry["status"], float(entry["seconds"]), error))
    return outcomes
