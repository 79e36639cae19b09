"""Each relabel check against the reference and a broken stub named after its bug."""

import numpy as np
import pytest

from autograder.grader import reference
from autograder.checks.relabel import (check_relabel_keeps_shape, check_relabel_leaves_input_unchanged,
                                       check_relabel_maps_odd_to_1_and_even_to_0,
                                       check_relabel_returns_only_zeros_and_ones)


def relabel_inverted(y):
    return 1 - y % 2


def relabel_one_hot(y):
    return np.eye(2)[y % 2]


def relabel_returns_digits(y):
    return y.copy()


def relabel_in_place(y):
    y %= 2
    return y


def relabel_stub(y):
    raise NotImplementedError()


def relabel_returns_tuple(y):
    return y % 2, y


def relabel_wrong_above_5(y):
    return np.where(y > 5, 0, y % 2)


@pytest.mark.parametrize("probe", ["relabel_digits", "relabel_all_labels", "relabel_random_labels"])
def test_reference_passes_every_relabel_check(probe_call, probe):
    call = probe_call(reference.relabel_odd_even, probe)
    for check in (check_relabel_keeps_shape, check_relabel_returns_only_zeros_and_ones,
                  check_relabel_maps_odd_to_1_and_even_to_0, check_relabel_leaves_input_unchanged):
        check(call)


def test_inverted_parity_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"has the classes inverted: every odd digit got 0.*Hint: odd → 1"):
        check_relabel_maps_odd_to_1_and_even_to_0(probe_call(relabel_inverted, "relabel_digits"))


def test_partly_wrong_parity_shows_a_table(probe_call):
    with pytest.raises(AssertionError, match=r"(?s)4 of 20 elements differ; first at index 7\.\n.*index\s+expected\s+actual\n.*7\s+1\s+0"):
        check_relabel_maps_odd_to_1_and_even_to_0(probe_call(relabel_wrong_above_5, "relabel_digits"))


def test_one_hot_output_fails_the_shape_check(probe_call):
    with pytest.raises(AssertionError, match=r"returned shape \(20, 2\), expected \(20,\)"):
        check_relabel_keeps_shape(probe_call(relabel_one_hot, "relabel_digits"))


def test_digits_instead_of_parity_fail_the_values_check(probe_call):
    with pytest.raises(AssertionError, match=r"returned values other than 0 and 1: \[2, 3, 4"):
        check_relabel_returns_only_zeros_and_ones(probe_call(relabel_returns_digits, "relabel_digits"))


def test_in_place_change_is_caught(probe_call):
    with pytest.raises(AssertionError, match=r"modified its input y in place"):
        check_relabel_leaves_input_unchanged(probe_call(relabel_in_place, "relabel_digits"))


def test_untouched_stub_says_so(probe_call):
    with pytest.raises(AssertionError, match=r"raised NotImplementedError.*\n.*Hint: relabel_odd_even is still the stub"):
        check_relabel_keeps_shape(probe_call(relabel_stub, "relabel_digits"))


def test_tuple_return_is_refused(probe_call):
    with pytest.raises(AssertionError, match=r"should return one array, but returned a tuple of 2 values"):
        check_relabel_keeps_shape(probe_call(relabel_returns_tuple, "relabel_digits"))


def test_missing_function_says_it_is_not_defined(probe_call):
    with pytest.raises(AssertionError, match=r"relabel_odd_even is not defined in the notebook"):
        check_relabel_keeps_shape(probe_call(None, "relabel_digits"))


def test_text_labels_get_a_text_hint_not_the_parity_hint(probe_call):
    from autograder.checks.relabel import check_relabel_maps_odd_to_1_and_even_to_0, check_relabel_returns_only_zeros_and_ones

    call = probe_call(lambda y: (y % 2).astype(str), "relabel_digits")
    with pytest.raises(AssertionError, match=r"returned <U\d+ values \('0', '1'\), expected the numbers 0 and 1") as raised:
        check_relabel_returns_only_zeros_and_ones(call)
    assert "not the digit itself" not in str(raised.value.args[0])
    with pytest.raises(AssertionError, match=r"check_relabel_returns_only_zeros_and_ones reports why") as raised:
        check_relabel_maps_odd_to_1_and_even_to_0(call)
    assert "odd digits (1, 3, 5, 7, 9)" not in str(raised.value.args[0])


def relabel_returns_ragged_parts(y):
    # Issue 28.1: numpy cannot make one array of these; the function itself raised nothing.
    return [y[:10] % 2, y[10:15] % 2]


def test_a_ragged_list_says_returned_not_raised(probe_call):
    call = probe_call(relabel_returns_ragged_parts, "relabel_digits")
    assert call.status == "returned_other"
    with pytest.raises(AssertionError) as raised:
        check_relabel_keeps_shape(call)
    message = str(raised.value.args[0])
    assert message == (
        "relabel_odd_even(y) returned a list of 2 arrays of different shapes ((10,), (5,)); expected one numeric "
        "array. Hint: numpy cannot make one array of parts of different shapes: return one array holding every "
        "value (np.asarray of equal-shaped parts, or np.concatenate).")
    assert "raised" not in message
    listed = probe_call(lambda y: [int(v) % 2 for v in y], "relabel_digits")  # a list of numbers is still one array
    assert listed.status == "ok" and listed.returned["count"] == 1
    check_relabel_keeps_shape(listed)
