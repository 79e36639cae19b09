"""Each split check against the reference and a broken stub named after its bug."""

import numpy as np
import pytest

from autograder.grader import reference
from autograder.checks.split import (check_split_keeps_order, check_split_keeps_x_and_y_aligned,
                                     check_split_returns_four_arrays, check_split_sizes)


def split_shuffles(x, y, n_val=10000):
    order = np.random.default_rng(1).permutation(len(x))
    return reference.split_train_val(x[order], y[order], n_val)


def split_reversed(x, y, n_val=10000):
    return reference.split_train_val(x[::-1], y[::-1], n_val)


def split_ignores_n_val(x, y, n_val=10000):
    return x[:-10000], y[:-10000], x[-10000:], y[-10000:]


def split_first_is_validation(x, y, n_val=10000):
    return x[n_val:], y[n_val:], x[:n_val], y[:n_val]


def split_misaligned(x, y, n_val=10000):
    x_train, y_train, x_val, y_val = reference.split_train_val(x, y, n_val)
    return x_train, np.roll(y_train, 1), x_val, y_val


def split_returns_two(x, y, n_val=10000):
    return x[:-n_val], x[-n_val:]


def split_hard_coded_50000(x, y, n_val=10000):
    return x[:50000], y[:50000], x[50000:], y[50000:]


ALL = (check_split_returns_four_arrays, check_split_sizes, check_split_keeps_order, check_split_keeps_x_and_y_aligned)


@pytest.mark.parametrize("probe", ["split_default_n_val", "split_n_val_2000", "split_n_val_111_of_777"])
def test_reference_passes_every_split_check(probe_call, probe):
    call = probe_call(reference.split_train_val, probe)
    for check in ALL:
        check(call)


def test_reference_passes_on_the_training_set(probe_call):
    call = probe_call(reference.split_train_val, "split_training_set")
    for check in (check_split_returns_four_arrays, check_split_sizes, check_split_keeps_order):
        check(call)


def test_shuffled_split_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"(?s)x_train of split_train_val\(x, y\): .* elements differ.*Hint: all the samples are there, but in another order \(shuffled\?\)"):
        check_split_keeps_order(probe_call(split_shuffles, "split_default_n_val"))


def test_reversed_split_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"Hint: the samples are in reverse order"):
        check_split_keeps_order(probe_call(split_reversed, "split_default_n_val"))


def test_ignored_n_val_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"(?s)x_val\s+expected\s+2000\s+got\s+10000.*n_val=2000 was ignored"):
        check_split_sizes(probe_call(split_ignores_n_val, "split_n_val_2000"))


def test_validation_taken_from_the_front_fails_order(probe_call):
    with pytest.raises(AssertionError, match=r"x_train of split_train_val\(x, y, n_val=2000\): 40000 of 40000 elements differ; first at index \(0, 0, 0\)"):
        check_split_keeps_order(probe_call(split_first_is_validation, "split_n_val_2000"))


def test_misaligned_labels_are_caught(probe_call):
    with pytest.raises(AssertionError, match=r"separated images from their labels in the training part"):
        check_split_keeps_x_and_y_aligned(probe_call(split_misaligned, "split_default_n_val"))


def test_two_return_values_are_refused(probe_call):
    with pytest.raises(AssertionError, match=r"should return 4 arrays, but returned 2 value\(s\)"):
        check_split_returns_four_arrays(probe_call(split_returns_two, "split_default_n_val"))


def test_hard_coded_50000_fails_on_other_sizes(probe_call):
    with pytest.raises(AssertionError, match=r"(?s)len\(x\) = 777 returned the wrong sizes"):
        check_split_sizes(probe_call(split_hard_coded_50000, "split_n_val_111_of_777"))


@pytest.mark.parametrize("probe", ["split_default_n_val", "split_n_val_2000"])
def test_hard_coded_50000_is_reported_by_the_sizes_check_only(probe_call, probe):
    # Issue 11.2: the order and pairing checks' preconditions fail; they name the sizes check instead
    # of giving their own hint ("shuffled?").
    call = probe_call(split_hard_coded_50000, probe)
    with pytest.raises(AssertionError, match=r"x_train holds all 12000 samples and x_val none.*not a fixed number"):
        check_split_sizes(call)
    for check in (check_split_keeps_order, check_split_keeps_x_and_y_aligned):
        with pytest.raises(AssertionError,
                           match="because the parts have the wrong sizes; check_split_sizes reports why") as raised:
            check(call)
        message = str(raised.value.args[0])
        assert "because the parts have the wrong sizes; check_split_sizes reports why" in message
        assert "Hint" not in message and "shuffled" not in message
        assert raised.value.check == "check_split_sizes"


def split_in_train_test_split_order(x, y, n_val=10000):
    return x[:-n_val], x[-n_val:], y[:-n_val], y[-n_val:]


def test_arrays_in_train_test_split_order_are_named(probe_call):
    call = probe_call(split_in_train_test_split_order, "split_default_n_val")
    with pytest.raises(AssertionError, match=r"come back as \(x_train, x_val, y_train, y_val\); return them as "
                                             r"\(x_train, y_train, x_val, y_val\)"):
        check_split_sizes(call)
    with pytest.raises(AssertionError, match=r"check_split_sizes reports why") as raised:
        check_split_keeps_x_and_y_aligned(call)
    assert "split x and y at the same index" not in str(raised.value.args[0])


def test_validation_from_the_front_is_named_not_called_shuffled(probe_call):
    with pytest.raises(AssertionError, match=r"the validation part was taken from the front of x") as raised:
        check_split_keeps_order(probe_call(split_first_is_validation, "split_default_n_val"))
    assert "shuffled" not in str(raised.value.args[0])


def split_returns_nothing(x, y, n_val=10000):
    x_train, y_train, x_val, y_val = reference.split_train_val(x, y, n_val)


def test_missing_return_is_not_called_an_error_it_raised(probe_call):
    call = probe_call(split_returns_nothing, "split_default_n_val")
    with pytest.raises(AssertionError, match=r"returned NoneType, not a numeric array\. Hint: split_train_val returns "
                                             r"nothing: end it with `return`") as raised:
        check_split_returns_four_arrays(call)
    assert "raised" not in str(raised.value.args[0]) and "read the error" not in str(raised.value.args[0])


# Issue 28.1: `return [x_train, y_train, x_val, y_val]` unpacks in the notebook as a tuple does.
def split_returns_a_list(x, y, n_val=10000):
    return list(reference.split_train_val(x, y, n_val))


@pytest.mark.parametrize("probe", ["split_default_n_val", "split_n_val_2000", "split_n_val_111_of_777",
                                   "split_training_set"])
def test_a_list_of_the_four_arrays_is_graded_as_the_tuple_is(probe_call, probe):
    listed, tupled = probe_call(split_returns_a_list, probe), probe_call(reference.split_train_val, probe)
    assert listed.status == "ok" and listed.returned["count"] == 4
    assert [(a.shape, a.dtype) for a in listed.values] == [(a.shape, a.dtype) for a in tupled.values]
    assert all(np.array_equal(a, b) for a, b in zip(listed.values, tupled.values))
    for check in ALL if probe != "split_training_set" else ALL[:3]:
        check(listed)


def test_a_list_of_the_wrong_length_is_counted_not_called_an_error_and_one_array_is_still_refused(probe_call):
    with pytest.raises(AssertionError, match=r"should return 4 arrays, but returned 2 value\(s\) \(ndarray, ndarray\)"):
        check_split_returns_four_arrays(probe_call(lambda x, y, n_val=10000: [x[:-n_val], x[-n_val:]],
                                                   "split_default_n_val"))
    with pytest.raises(AssertionError, match=r"should return 4 arrays, but returned 1 value\(s\) \(ndarray\)"):
        check_split_returns_four_arrays(probe_call(lambda x, y, n_val=10000: np.asarray(x), "split_default_n_val"))


def split_nests_a_ragged_list(x, y, n_val=10000):
    x_train, y_train, x_val, y_val = reference.split_train_val(x, y, n_val)
    return x_train, [y_train, x_val], x_val, y_val


def test_a_ragged_part_says_what_was_returned_not_that_the_function_raised(probe_call):
    call = probe_call(split_nests_a_ragged_list, "split_default_n_val")
    assert call.status == "returned_other"
    with pytest.raises(AssertionError) as raised:
        check_split_returns_four_arrays(call)
    assert str(raised.value.args[0]) == (
        "split_train_val(x, y) returned a list of 2 arrays of different shapes ((2000,), (10000, 2, 2)) as value 2 "
        "of 4; expected each of the 4 values to be one numeric array. Hint: numpy cannot make one array of parts of "
        "different shapes: return each part as an array of its own.")


def test_every_split_probe_expects_the_four_values_its_checks_count():
    from autograder.hidden.every_probe import PROBES_BY_NAME

    assert {p.name: p.values for p in PROBES_BY_NAME.values() if p.values != 1} == {
        p.name: 4 for p in PROBES_BY_NAME.values() if p.function == "split_train_val"}
