"""Checks of split_train_val(x, y, n_val): the last n_val samples become validation, order kept."""

from __future__ import annotations

import numpy as np

from autograder.evidence.call_record import Call
from autograder.checks._compare import describe_difference, returned_arrays, see_check
from autograder.checks.registry import rule
from autograder.messages.i18n import _, lines

DEFAULT_N_VAL = 10000
_NAMES = ("x_train", "y_train", "x_val", "y_val")


def _n_val(call: Call) -> int:
    return int(call.kwargs.get("n_val", DEFAULT_N_VAL))


def _expected(call: Call) -> tuple[np.ndarray, ...]:
    x, y = call.inputs["x"], call.inputs["y"]
    cut = len(x) - _n_val(call)  # the last n_val samples are validation, in order
    return x[:cut], y[:cut], x[cut:], y[cut:]


@rule("split")
def check_split_returns_four_arrays(call: Call) -> None:
    """split_train_val returns a tuple (x_train, y_train, x_val, y_val)."""
    returned_arrays(call, 4)


@rule("split")
def check_split_sizes(call: Call) -> None:
    """split_train_val keeps len(x) - n_val samples for training and n_val for validation."""
    got = returned_arrays(call, 4)
    n, n_val = len(call.inputs["x"]), _n_val(call)
    expected_len = (n - n_val, n - n_val, n_val, n_val)
    actual_len = tuple(len(a) if a.ndim else 0 for a in got)
    if actual_len == expected_len:
        return
    hint = _("the last n_val samples are validation: x[:len(x) - n_val] and x[len(x) - n_val:].")
    order = _returned_order(call, got)
    if order is not None:
        hint = _("the four arrays are all there but come back as ({order}); return them as "
                 "(x_train, y_train, x_val, y_val). (sklearn's train_test_split returns x_train, x_val, y_train, "
                 "y_val.)").format(order=", ".join(order))
    elif actual_len[0] >= n and actual_len[2] == 0:
        hint = _("x_train holds all {n} samples and x_val none: the split point lies at or past the end of x. "
                 "Use len(x) - n_val, not a fixed number (the lecture's 50000 fits only the 60,000 training "
                 "images).").format(n=n)
    elif n_val != DEFAULT_N_VAL and DEFAULT_N_VAL in actual_len[2:] + (n - actual_len[0],):
        hint = _("n_val={n_val} was ignored (the split used 10000). Use the n_val argument, not a fixed number.").format(
            n_val=n_val)
    elif 50000 in actual_len:
        hint = _("don't hard-code 50000: use len(x) - n_val.")
    rows = lines(_("   {name:<8} expected {expected:>6}  got {actual:>6}").format(name=name, expected=e, actual=a)
                 for name, e, a in zip(_NAMES, expected_len, actual_len))
    raise AssertionError(_("{call} with len(x) = {n} returned the wrong sizes:\n{rows}\nHint: {hint}").format(
        call=call.text, n=n, rows=rows, hint=hint))


def _sizes_right(call: Call, got: tuple[np.ndarray, ...]) -> bool:
    return tuple(len(a) if a.ndim else 0 for a in got) == tuple(len(e) for e in _expected(call))


def _returned_order(call: Call, got: tuple[np.ndarray, ...]) -> tuple[str, ...] | None:
    """The names of the expected arrays in the order they came back, when they are a reordering of them."""
    expected = _expected(call)
    names = []
    for actual in got:
        match = [n for n, e in zip(_NAMES, expected)
                 if n not in names and actual.shape == e.shape and np.array_equal(actual, e)]
        if not match:
            return None
        names.append(match[0])
    return tuple(names) if tuple(names) != _NAMES else None


@rule("split")
def check_split_keeps_order(call: Call) -> None:
    """split_train_val returns x[:n-n_val], y[:n-n_val], x[n-n_val:], y[n-n_val:] with their order kept."""
    got = returned_arrays(call, 4)
    if not _sizes_right(call, got):
        raise see_check(call, _("the order is not compared because the parts have the wrong sizes"),
                        check_split_sizes)
    for name, actual, expected in zip(_NAMES, got, _expected(call)):
        diff = describe_difference(actual, expected, _("{name} of {call}").format(name=name, call=call.text))
        if diff is not None:
            raise AssertionError(_("{diff}\nHint: {hint}").format(diff=diff, hint=_order_hint(call, got)))


def _order_hint(call: Call, got: tuple[np.ndarray, ...]):
    hint = _("slice without shuffling: x[:len(x) - n_val] for training, x[len(x) - n_val:] for validation.")
    x = call.inputs["x"]
    try:
        joined = np.concatenate([got[0], got[2]])
    except ValueError:
        return hint
    if joined.shape != x.shape:
        return hint
    if np.array_equal(got[2], x[:len(got[2])]) and np.array_equal(got[0], x[len(got[2]):]):
        return _("the validation part was taken from the front of x; it is the last n_val samples. {hint}").format(
            hint=hint)
    if np.array_equal(joined, x[::-1]):
        return _("the samples are in reverse order. {hint}").format(hint=hint)
    if np.array_equal(np.sort(joined, axis=0), np.sort(x, axis=0)):
        return _("all the samples are there, but in another order (shuffled?). {hint}").format(hint=hint)
    return hint


# It needs inputs that carry their own index, which MNIST's training set (a hidden probe) does not.
@rule("split", applies_to=lambda probe: probe.inputs_carry_their_index)
def check_split_keeps_x_and_y_aligned(call: Call) -> None:
    """split_train_val keeps each image with its own label (x[i] still pairs with y[i])."""
    x_train, y_train, x_val, y_val = returned_arrays(call, 4)
    if not _sizes_right(call, (x_train, y_train, x_val, y_val)):
        raise see_check(call, _("the pairing of images and labels is not compared because the parts have the "
                                "wrong sizes"), check_split_sizes)
    x = call.inputs["x"]
    # The probe's inputs carry their index: x[i] holds 4i..4i+3 and y[i] == i.
    for part, xs, ys in ((_("training"), x_train, y_train), (_("validation"), x_val, y_val)):
        if xs.shape[1:] != x.shape[1:] or len(xs) != len(ys):
            raise AssertionError(_(
                "{call}: the {part} images and labels don't line up (x shape {shape}, "
                "{n_labels} labels). Hint: split x and y at the same index."
            ).format(call=call.text, part=part, shape=xs.shape, n_labels=len(ys)))
        paired = xs.reshape(len(xs), -1)[:, 0] // 4 if len(xs) else np.array([], dtype=int)
        diff = describe_difference(ys, paired, _("{part} labels vs. the labels of their images").format(part=part))
        if diff is not None:
            raise AssertionError(_(
                "{call} separated images from their labels in the {part} part: {diff}\n"
                "Hint: apply the same slice to x and y (and shuffle neither)."
            ).format(call=call.text, part=part, diff=diff))
