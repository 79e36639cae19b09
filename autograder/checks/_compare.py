"""Failure messages that explain themselves: shape first, then how many elements differ, then a table."""

from __future__ import annotations

import numpy as np

from autograder.evidence.call_record import Call
from autograder.messages.i18n import Message, _
from autograder.messages.table import Table


def returned_arrays(call: Call, count: int) -> tuple[np.ndarray, ...]:
    """The call's return values, or an AssertionError saying why there are none / not ``count`` of them."""
    call.require_ok()
    got = call.returned.get("count", 0)
    is_tuple = call.returned.get("tuple", False)
    if count == 1 and (is_tuple or got != 1):
        raise AssertionError(_(
            "{call} should return one array, but returned a tuple of {got} values. "
            "Hint: return the array itself, not wrapped in a tuple."
        ).format(call=call.text, got=got))
    if count > 1 and got != count:
        types = ", ".join(call.returned.get("types", []))
        raise AssertionError(_(
            "{call} should return {count} arrays, but returned {got} value(s) ({types}). "
            "Hint: return them as one tuple, in the order the docstring gives."
        ).format(call=call.text, count=count, got=got, types=types))
    return call.values


class SeeCheck(AssertionError):
    """A failure whose cause another check reports (its precondition failed): the message says what
    could not be checked and names that check, and gives no hint of its own, since a hint written for
    this check's rule would describe a failure other than the one that happened."""

    def __init__(self, message, check):
        super().__init__(message)
        self.check = check if isinstance(check, str) else check.__name__


def see_check(call: Call, what, check) -> SeeCheck:
    """A SeeCheck for ``call``: ``what`` could not be checked because of the failure ``check`` reports."""
    name = check if isinstance(check, str) else check.__name__
    return SeeCheck(_("{call}: {what}; {check} reports why (this check has nothing to add).").format(
        call=call.text, what=what, check=name), name)


def table(headers: tuple, rows: list[tuple], marker_row: int | None = None) -> Table:
    """A small fixed-width text table; the row ``marker_row`` is flagged with '>>'."""
    return Table(headers, rows, marker_row)


def describe_difference(actual: np.ndarray, expected: np.ndarray, what, atol: float = 0.0,
                        max_rows: int = 5) -> Message | None:
    """None when equal (within ``atol``); otherwise shape, count of differing elements, and a table."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        return _("{what}: shape expected {expected}, got {actual}").format(
            what=what, expected=expected.shape, actual=actual.shape)
    if actual.size == 0:
        return None
    with np.errstate(invalid="ignore"):
        if atol:
            a = actual.astype(np.float64) if actual.dtype.kind in "biuf" else actual
            e = expected.astype(np.float64) if expected.dtype.kind in "biuf" else expected
            differ = ~np.isclose(a, e, rtol=0, atol=atol, equal_nan=False)
        else:
            # Compared in their own dtypes: float64 copies of the 60,000-image training set cost 750 MB.
            differ = actual != expected
    n_diff = int(np.count_nonzero(differ))
    if n_diff == 0:
        return None
    idx = np.argwhere(differ)[:max_rows]
    rows = [(str(tuple(int(i) for i in ix)) if ix.size > 1 else str(int(ix[0])), expected[tuple(ix)], actual[tuple(ix)])
            for ix in idx]
    largest = ""
    if actual.dtype.kind == "f" or expected.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            gaps = np.abs(actual[differ].astype(np.float64) - expected[differ].astype(np.float64))
            largest = _(", largest difference {largest:.4g}").format(largest=float(np.nanmax(gaps)))
    return _("{what}: {n_diff} of {size} elements differ{largest}; first at index {first}.\n{table}").format(
        what=what, n_diff=n_diff, size=actual.size, largest=largest, first=rows[0][0],
        table=table((_("index"), _("expected"), _("actual")), rows))
