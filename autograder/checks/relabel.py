"""Checks of relabel_odd_even(y): odd digits → 1, even → 0, same shape, input untouched."""

from __future__ import annotations

import numpy as np

from autograder.evidence.call_record import Call
from autograder.checks._compare import describe_difference, returned_arrays, see_check
from autograder.checks.registry import rule
from autograder.messages.i18n import _


@rule("relabel")
def check_relabel_keeps_shape(call: Call) -> None:
    """relabel_odd_even(y) returns an array of y's shape."""
    (labels,) = returned_arrays(call, 1)
    y = call.inputs["y"]
    if labels.shape != y.shape:
        raise AssertionError(_(
            "{call} returned shape {actual}, expected {expected} (one label per input label). "
            "Hint: compute the label element-wise, e.g. with y % 2; don't reshape or one-hot encode."
        ).format(call=call.text, actual=labels.shape, expected=y.shape))


@rule("relabel")
def check_relabel_returns_only_zeros_and_ones(call: Call) -> None:
    """relabel_odd_even(y) returns only the values 0 and 1."""
    (labels,) = returned_arrays(call, 1)
    if labels.dtype.kind not in "biuf":
        raise AssertionError(_(
            "{call} returned {dtype} values ({examples}), expected the numbers 0 and 1. "
            "Hint: keep the labels numeric: y % 2, without converting to text."
        ).format(call=call.text, dtype=labels.dtype, examples=", ".join(map(repr, np.unique(labels)[:5].tolist()))))
    values = np.unique(labels)
    extra = [v for v in values.tolist() if v not in (0, 1)]
    if extra:
        raise AssertionError(_(
            "{call} returned values other than 0 and 1: {extra}. "
            "Hint: the binary label is the digit's parity (y % 2), not the digit itself."
        ).format(call=call.text, extra=extra[:10]))


@rule("relabel")
def check_relabel_maps_odd_to_1_and_even_to_0(call: Call) -> None:
    """relabel_odd_even(y) is 1 exactly where the digit is odd."""
    (labels,) = returned_arrays(call, 1)
    y = call.inputs["y"]
    expected = (y % 2).astype(np.int64)
    if labels.shape != y.shape:
        raise see_check(call, _("the labels are not compared with y % 2 because the shape is {actual}, not "
                                "{expected}").format(expected=y.shape, actual=labels.shape), check_relabel_keeps_shape)
    if labels.dtype.kind not in "biuf":
        raise see_check(call, _("the labels are not compared with y % 2 because they are not numbers ({dtype})").format(
            dtype=labels.dtype), check_relabel_returns_only_zeros_and_ones)
    diff = describe_difference(labels, expected, _("{call} compared with y % 2").format(call=call.text))
    if diff is None:
        return
    if labels.size and np.array_equal(np.asarray(labels, dtype=np.int64), 1 - expected):
        raise AssertionError(_(
            "{call} has the classes inverted: every odd digit got 0 and every even digit got 1. "
            "Hint: odd → 1 and even → 0, which is exactly y % 2.\n{diff}"
        ).format(call=call.text, diff=diff))
    raise AssertionError(_("{diff}\nHint: odd digits (1, 3, 5, 7, 9) → 1, even digits (0, 2, 4, 6, 8) → 0.").format(
        diff=diff))


@rule("relabel")
def check_relabel_leaves_input_unchanged(call: Call) -> None:
    """relabel_odd_even(y) does not modify y."""
    returned_arrays(call, 1)
    diff = describe_difference(call.inputs_after[0], call.inputs["y"], _("y after {call}").format(call=call.text))
    if diff is not None:
        raise AssertionError(_(
            "{call} modified its input y in place. Hint: build a new array (y % 2) instead of "
            "assigning into y; the caller still needs the original digits.\n{diff}"
        ).format(call=call.text, diff=diff))
