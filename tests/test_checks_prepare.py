"""Each prepare check against the reference and a broken stub named after its bug."""

import numpy as np
import pytest

from autograder.grader import reference
from autograder.checks.prepare import (check_prepare_keeps_pixel_values, check_prepare_leaves_input_unchanged,
                                       check_prepare_returns_float32, check_prepare_scales_to_unit_range,
                                       check_prepare_shape)

ALL = (check_prepare_returns_float32, check_prepare_shape, check_prepare_scales_to_unit_range,
       check_prepare_keeps_pixel_values, check_prepare_leaves_input_unchanged)


def prepare_no_scaling(x):
    return x.reshape(len(x), 784).astype("float32")


def prepare_float64(x):
    return x.reshape(len(x), 784) / 255


def prepare_hard_coded_60000(x):
    return (x.reshape(60000, 784) / 255).astype("float32")


def prepare_cnn_without_channel(x):
    return (x / 255).astype("float32")


def prepare_transposed(x):
    return (np.transpose(x, (0, 2, 1)).reshape(len(x), 784) / 255).astype("float32")


def prepare_divides_by_256(x):
    return (x.reshape(len(x), 784) / 256).astype("float32")


@pytest.mark.parametrize("func,probe", [
    (reference.prepare_mlp_input, "prepare_mlp_37_images"), (reference.prepare_cnn_input, "prepare_cnn_37_images"),
    (reference.prepare_mlp_input, "prepare_mlp_test_set"), (reference.prepare_cnn_input, "prepare_cnn_test_set")])
def test_reference_passes_every_prepare_check(probe_call, func, probe):
    call = probe_call(func, probe)
    for check in ALL:
        check(call)


def test_missing_division_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"returned values from 0 to 255, expected \[0, 1\].*Hint: divide by 255"):
        check_prepare_scales_to_unit_range(probe_call(prepare_no_scaling, "prepare_mlp_37_images"))


def test_float64_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"returned dtype float64, expected float32"):
        check_prepare_returns_float32(probe_call(prepare_float64, "prepare_mlp_37_images"))


def test_hard_coded_60000_gets_a_hint(probe_call):
    with pytest.raises(AssertionError, match=r"raised ValueError: cannot reshape.*\n.*not a fixed 60000"):
        check_prepare_shape(probe_call(prepare_hard_coded_60000, "prepare_mlp_37_images"))


def test_missing_channel_axis_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"returned shape \(37, 28, 28\), expected \(37, 28, 28, 1\).*arranged as"):
        check_prepare_shape(probe_call(prepare_cnn_without_channel, "prepare_cnn_37_images"))


def test_transposed_pixels_are_caught(probe_call):
    with pytest.raises(AssertionError, match=r"(?s)elements differ.*don't transpose"):
        check_prepare_keeps_pixel_values(probe_call(prepare_transposed, "prepare_mlp_37_images"))


def test_wrong_divisor_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"maps the brightest pixel \(255\) to 0.996094, expected 1.0"):
        check_prepare_scales_to_unit_range(probe_call(prepare_divides_by_256, "prepare_mlp_37_images"))


def prepare_mlp_not_scaled(x):
    return x.reshape(len(x), 784).astype("float32")


def prepare_mlp_floor_division(x):
    return x.reshape(len(x), 784) // 255


def test_missing_scaling_is_reported_by_the_scale_check_only(probe_call):
    # Issue 11.2: the pixel comparison's precondition (values in [0, 1]) fails; it names the scale
    # check rather than hint "don't transpose, normalise or shuffle".
    from autograder.checks.prepare import check_prepare_keeps_pixel_values, check_prepare_scales_to_unit_range

    call = probe_call(prepare_mlp_not_scaled, "prepare_mlp_37_images")
    with pytest.raises(AssertionError, match=r"Hint: divide by 255\."):
        check_prepare_scales_to_unit_range(call)
    with pytest.raises(AssertionError, match=r"not scaled to \[0, 1\]; check_prepare_scales_to_unit_range reports why") as raised:
        check_prepare_keeps_pixel_values(call)
    assert "Hint" not in str(raised.value.args[0])


def test_integer_division_gets_an_integer_hint(probe_call):
    from autograder.checks.prepare import check_prepare_keeps_pixel_values, check_prepare_returns_float32

    call = probe_call(prepare_mlp_floor_division, "prepare_mlp_37_images")
    with pytest.raises(AssertionError, match=r"returned dtype uint8, expected float32: integer pixels.*divide with / \(not //\)") as raised:
        check_prepare_returns_float32(call)
    assert "gives float64" not in str(raised.value.args[0])
    with pytest.raises(AssertionError, match=r"check_prepare_returns_float32 reports why"):
        check_prepare_keeps_pixel_values(call)


def prepare_mlp_sets_x_shape_in_place(x):
    x.shape = (len(x), 784)
    return (x / 255).astype("float32")


def prepare_cnn_sets_x_shape_in_place(x):
    x = np.asarray(x)  # the same array, not a copy
    x.shape = (len(x), 28, 28, 1)
    return (x / 255).astype("float32")


def prepare_mlp_blanks_x_after_use(x):
    out = (x.reshape(len(x), 784) / 255).astype("float32")
    x[:] = 0  # "free" the raw images
    return out


@pytest.mark.parametrize("func,probe", [(prepare_mlp_sets_x_shape_in_place, "prepare_mlp_37_images"),
                                        (prepare_cnn_sets_x_shape_in_place, "prepare_cnn_37_images")])
def test_input_reshaped_in_place_is_caught_by_this_check_only(probe_call, func, probe):
    # Every other rule passes: the returned array is right, only the caller's images changed shape.
    call = probe_call(func, probe)
    for check in ALL[:-1]:
        check(call)
    with pytest.raises(AssertionError, match=r"modified its input x in place\. Hint: build a new array") as raised:
        check_prepare_leaves_input_unchanged(call)
    function = probe.replace("_37_images", "_input")
    shape = "(37, 784)" if "mlp" in probe else "(37, 28, 28, 1)"
    assert str(raised.value.args[0]) == (
        f"{function}(x) modified its input x in place. Hint: build a new array (x.reshape(...) / 255) instead of "
        "setting x.shape or assigning into x; the notebook passes the same images to both prepare functions and "
        f"to the plots.\nx after {function}(x): shape expected (37, 28, 28), got {shape}")


def test_input_overwritten_in_place_shows_the_first_changed_pixels(probe_call):
    call = probe_call(prepare_mlp_blanks_x_after_use, "prepare_mlp_37_images")
    with pytest.raises(AssertionError, match=r"(?s)modified its input x in place.*\nx after prepare_mlp_input\(x\): "
                                             r"\d+ of 29008 elements differ; first at index \(0, 0, 1\)"):
        check_prepare_leaves_input_unchanged(call)
