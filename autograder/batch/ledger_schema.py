"""What a ledger line must hold, as a pydantic schema: a line edited by hand, or damaged, is refused here with
the field and the problem, and never reaches the summary or the exports as a traceback.

Types are strict (``"13"`` is not a score, ``12345`` is not a student id) and numbers finite (``NaN`` is
not a score). What a line claims but cannot be true (a score above its maximum, a negative score) is a
different fault, found by ``impossible_values``: the line reads, but no grade is taken from it.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr, ValidationError, model_validator
from pydantic.types import FiniteFloat

# Scores are rounded to 4 decimals when written: a score this far above its maximum is still its maximum.
ROUNDING = 1e-3


class GroupScore(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    score: FiniteFloat
    max_score: FiniteFloat


class LedgerLine(BaseModel):
    """One line of ``grades/<assignment>.jsonl``, as ``class_run._entry`` writes it. Fields it does not
    name (a later kit's, or a hand-added note) are kept as they are."""

    model_config = ConfigDict(strict=True, extra="allow")

    student: StrictStr
    assignment: StrictStr
    sha256: StrictStr
    key: StrictStr
    status: Literal["graded", "not graded"]
    score: FiniteFloat | None = None
    max_score: FiniteFloat | None = None
    groups: dict[StrictStr, GroupScore] = {}
    reason: StrictStr = ""
    seconds: FiniteFloat | None = None
    attempts: StrictInt | None = None
    calibration: StrictStr | None = None
    worker: StrictStr | None = None
    isolated: StrictBool | None = None
    notebook: StrictStr | None = None
    # The full result: the grade's record (``GradeResult.to_dict``), or before it, a Gradescope-style dict.
    result: dict | None = None

    @model_validator(mode="after")
    def _a_grade_has_its_scores(self) -> "LedgerLine":
        if self.status == "graded" and (self.score is None or self.max_score is None or not self.groups):
            raise ValueError("a graded line needs its score, max_score and groups")
        return self


def ledger_line_problem(entry) -> str:
    """Why ``entry`` (a parsed JSON line) is not a ledger line, in one phrase; "" when it is one."""
    try:
        LedgerLine.model_validate(entry)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the line"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"not a ledger entry: {where}: {first['msg']} (got {_shown(first.get('input'))}){more}"
    return ""


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def impossible_values(entry: dict) -> str:
    """Why the scores a graded line claims cannot be a grade (above the maximum, negative, not finite); ""
    when they can. Checked by the summary and the exports, which refuse such a line and name it."""
    if entry.get("status") != "graded":
        return ""
    pairs = [("score", entry.get("score"), entry.get("max_score"))]
    pairs += [(f"group {name}", g.get("score"), g.get("max_score")) for name, g in (entry.get("groups") or {}).items()]
    for what, score, maximum in pairs:
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (score, maximum)):
            return f"its {what} {score!r} (out of {maximum!r}) is not a finite number"
        if score < 0 or maximum < 0:
            return f"its {what} {score:g} (out of {maximum:g}) is negative"
        if score > maximum + ROUNDING:
            return f"its {what} {score:g} is above the maximum {maximum:g}"
    return ""


def impossible_line(entry: dict, problem: str) -> str:
    """The refusal of a line with impossible values, naming it and what to do."""
    return (f"the ledger's line {entry.get('line', '?')} ({entry.get('student')!r}) cannot be a grade: {problem}; "
            "delete that line (a hand edit?) and run grade-all to grade them again")
