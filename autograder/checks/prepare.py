"""Checks of prepare_mlp_input(x) and prepare_cnn_input(x): float32 in [0, 1], the right shape, any n, x untouched."""

from __future__ import annotations

import numpy as np

from autograder.evidence.call_record import Call
from autograder.checks._compare import describe_difference, returned_arrays, see_check
from autograder.checks.registry import rule
from autograder.expected import prepared_image_shape
from autograder.messages.i18n import _


def _expected(call: Call) -> np.ndarray:
    """x / 255 as float32, one row per image in the shape the model takes (the shape kept as data)."""
    x = call.inputs["x"]
    return (np.asarray(x).reshape((len(x), *prepared_image_shape(call.probe.function))) / 255).astype(np.float32)


@rule("prepare")
def check_prepare_returns_float32(call: Call) -> None:
    """prepare_*_input returns a float32 array."""
    (out,) = returned_arrays(call, 1)
    if out.dtype.kind in "biu":
        raise AssertionError(_(
            "{call} returned dtype {dtype}, expected float32: integer pixels cannot hold the grey levels "
            "between 0 and 1. Hint: divide with / (not //) and convert: (x / 255).astype('float32')."
        ).format(call=call.text, dtype=out.dtype))
    if out.dtype != np.float32:
        raise AssertionError(_(
            "{call} returned dtype {dtype}, expected float32. "
            "Hint: end with .astype('float32') (dividing uint8 by 255 gives float64)."
        ).format(call=call.text, dtype=out.dtype))


@rule("prepare")
def check_prepare_shape(call: Call) -> None:
    """prepare_*_input returns one row per image, in the shape the model's input expects."""
    (out,) = returned_arrays(call, 1)
    expected = _expected(call).shape
    if out.shape != expected:
        n = len(call.inputs["x"])
        hint = _("reshape to {expected}, using len(x) (or -1) for the number of images.").format(expected=expected)
        if out.size == np.prod(expected):
            hint = _("the values are all there but arranged as {actual}; reshape to {expected}.").format(
                actual=out.shape, expected=expected)
        raise AssertionError(_("{call} with {n} images returned shape {actual}, expected {expected}. Hint: {hint}").format(
            call=call.text, n=n, actual=out.shape, expected=expected, hint=hint))


@rule("prepare")
def check_prepare_scales_to_unit_range(call: Call) -> None:
    """prepare_*_input divides the pixels by 255, so values lie in [0, 1] and 255 becomes 1."""
    (out,) = returned_arrays(call, 1)
    if out.size == 0 or out.dtype.kind not in "biuf":
        raise AssertionError(_("{call} returned no numeric values (dtype {dtype}, size {size}).").format(
            call=call.text, dtype=out.dtype, size=out.size))
    low, high = float(np.min(out)), float(np.max(out))
    x_max = float(np.max(call.inputs["x"]))
    if high > 1.0 + 1e-6 or low < -1e-6:
        hint = _("divide by 255.") if high > 1.5 else _("scale with x / 255 (values must stay in [0, 1]).")
        if low < -1e-6:
            hint = _("negative values mean the pixels were centred or standardised (mean/std); only divide by 255.")
        raise AssertionError(_(
            "{call} returned values from {low:g} to {high:g}, expected [0, 1] "
            "(the input's largest pixel is {x_max:g}). Hint: {hint}"
        ).format(call=call.text, low=low, high=high, x_max=x_max, hint=hint))
    if x_max == 255 and abs(high - 1.0) > 1e-6:
        raise AssertionError(_(
            "{call} maps the brightest pixel (255) to {high:g}, expected 1.0. Hint: divide by 255, not another number."
        ).format(call=call.text, high=high))


@rule("prepare")
def check_prepare_keeps_pixel_values(call: Call) -> None:
    """prepare_*_input returns x / 255 with every pixel where it was (no other changes)."""
    (out,) = returned_arrays(call, 1)
    expected = _expected(call)
    if out.size != expected.size:
        raise see_check(call, _("the pixels are not compared with x / 255 because {actual} values came back, not "
                                "{expected}").format(actual=out.size, expected=expected.size), check_prepare_shape)
    if out.dtype.kind not in "f":
        raise see_check(call, _("the pixels are not compared with x / 255 because they are {dtype}, not floats").format(
            dtype=out.dtype), check_prepare_returns_float32)
    try:
        check_prepare_scales_to_unit_range(call)
    except AssertionError:
        raise see_check(call, _("the pixels are not compared with x / 255 because they are not scaled to [0, 1]"),
                        check_prepare_scales_to_unit_range) from None
    diff = describe_difference(out.reshape(expected.shape), expected, _("{call} compared with x / 255").format(call=call.text),
                               atol=1e-6)
    if diff is not None:
        raise AssertionError(_("{diff}\nHint: only reshape and divide by 255; don't transpose, normalise or shuffle.").format(
            diff=diff))


@rule("prepare")
def check_prepare_leaves_input_unchanged(call: Call) -> None:
    """prepare_*_input does not modify x."""
    # x.shape = (len(x), 784) passes every check above, yet reshapes the caller's images: the notebook
    # gives the same x_test to both prepare functions and to the plots, which then fail far from the cause.
    returned_arrays(call, 1)
    diff = describe_difference(call.inputs_after[0], call.inputs["x"], _("x after {call}").format(call=call.text))
    if diff is not None:
        raise AssertionError(_(
            "{call} modified its input x in place. Hint: build a new array (x.reshape(...) / 255) instead of "
            "setting x.shape or assigning into x; the notebook passes the same images to both prepare functions "
            "and to the plots.\n{diff}"
        ).format(call=call.text, diff=diff))
