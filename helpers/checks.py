"""The expectations a notebook asserts, with errors that say what was expected and what came out.

Each function returns the checked value, so a notebook can write
``acc = expect_at_least(acc, MIN_TEST_ACCURACY, "test accuracy")`` and print a confirmation line.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np


class ExpectationError(AssertionError):
    """A value computed in a notebook did not meet the course's expectation."""


#: Set by the course runner for an execution whose parameters differ from those its thresholds were
#: tuned for (and no preset brought its own): a missed threshold is then reported, not raised.
REPORT_ENV = "DLFB_EXPECTATIONS_FILE"
#: Set by the course runner: every value a threshold check receives is appended there *before* it is
#: compared, so an execution that fails a check still reports what it measured up to that point.
CHECKED_ENV = "DLFB_CHECKED_FILE"


def _record_checked(what: str, value: float) -> None:
    """Append ``what = value`` to the runner's checked-values file (JSON lines); nothing when run by hand."""
    target = os.environ.get(CHECKED_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"what": what, "value": None if math.isnan(value) else round(value, 6)}) + "\n")


def _missed_threshold(message: str) -> None:
    """Raise :class:`ExpectationError`, or, under the runner's report mode, record the miss and go on,
    so a sweep keeps the metrics it exists for and the runner marks the run 'below expectation'."""
    target = os.environ.get(REPORT_ENV)
    if not target:
        raise ExpectationError(message)
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(message.replace("\n", " ") + "\n")
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
