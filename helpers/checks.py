"""The expectations a notebook asserts, with errors that say what was expected and what came out.

Each function returns the checked value, so a notebook can write
``acc = expect_at_least(acc, MIN_TEST_ACCURACY, "test accuracy")`` and print a confirmation line.
"""

from __future__ import annotations

import math

import numpy as np

from helpers import handoff


class ExpectationError(AssertionError):
    """A value computed in a notebook did not meet the course's expectation."""


def _record_checked(what: str, value: float) -> None:
    """Hand ``what = value`` to the course runner *before* it is compared (:mod:`helpers.handoff`), so an
    execution that fails a check still reports what it measured up to that point; nothing when run by hand."""
    handoff.append("checked", what=what, value=None if math.isnan(value) else round(value, 6))


def _missed_threshold(message: str) -> None:
    """Raise :class:`ExpectationError`, or, when the runner asked for misses to be reported (an execution whose
    parameters differ from those its thresholds were tuned for, and no preset brought its own), hand the miss
    over and go on, so a sweep keeps the metrics it exists for and the runner marks the run 'below expectation'."""
    if not handoff.request().report_missed:
        raise ExpectationError(message)
    handoff.append("missed", message=message.replace("\n", " "))
    print(f"BELOW EXPECTATION  {message}")


def _ok(what: str, detail: str) -> None:
    print(f"OK  {what}: {detail}")


def expect_at_least(value: float, threshold: float, what: str) -> float:
    """Check ``value >= threshold`` (e.g. an accuracy against the notebook's minimum)."""
    value = float(value)
    _record_checked(what, value)
    if math.isnan(value) or value < threshold:
        _missed_threshold(f"{what} = {value:.4f}, expected at least {threshold}. "
                          f"Train longer or on more data (see the parameters cell), or check the inputs.")
        return value
    _ok(what, f"{value:.4f} >= {threshold}")
    return value


def expect_at_most(value: float, threshold: float, what: str) -> float:
    """Check ``value <= threshold`` (e.g. a loss, or an accuracy that must stay low)."""
    value = float(value)
    _record_checked(what, value)
    if math.isnan(value) or value > threshold:
        _missed_threshold(f"{what} = {value:.4f}, expected at most {threshold}.")
        return value
    _ok(what, f"{value:.4f} <= {threshold}")
    return value


def expect_equal(value, expected, what: str):
    """Check ``value == expected`` exactly (counts, labels, shapes)."""
    if value != expected:
        raise ExpectationError(f"{what} = {value!r}, expected {expected!r}.")
    _ok(what, repr(value))
    return value


def expect_shape(array, shape: tuple, what: str) -> tuple:
    """Check an array's or tensor's shape; ``None`` in ``shape`` matches any size on that axis."""
    got = tuple(array.shape)
    expected = tuple(shape)
    if len(got) != len(expected) or any(e is not None and g != e for g, e in zip(got, expected)):
        raise ExpectationError(f"{what} has shape {got}, expected {expected}.")
    _ok(what, f"shape {got}")
    return got


def expect_close(value, expected, what: str, atol: float = 1e-6, rtol: float = 0.0):
    """Check ``|value - expected| <= atol + rtol * |expected|`` element-wise."""
    value_arr, expected_arr = np.asarray(value, dtype=float), np.asarray(expected, dtype=float)
    if value_arr.shape != expected_arr.shape or not np.allclose(value_arr, expected_arr, atol=atol, rtol=rtol):
        diff = np.max(np.abs(value_arr - expected_arr)) if value_arr.shape == expected_arr.shape else "shape differs"
        raise ExpectationError(f"{what} = {value!r}, expected {expected!r} (atol={atol}, rtol={rtol}; "
                               f"largest difference {diff}).")
    _ok(what, f"matches within atol={atol}")
    return value
