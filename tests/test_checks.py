"""helpers.checks: the expect_* checks return what they checked and fail with what was expected and what came."""

import numpy as np
import pytest

from helpers import checks


def test_checks_pass_and_return_values(capsys):
    assert checks.expect_at_least(0.95, 0.9, "accuracy") == 0.95
    assert checks.expect_at_most(0.1, 0.2, "loss") == 0.1
    assert checks.expect_equal(14, 14, "params") == 14
    assert checks.expect_shape(np.zeros((2, 3)), (None, 3), "x") == (2, 3)
    checks.expect_close([1.0, 2.0], [1.0, 2.0 + 1e-9], "v")
    out = capsys.readouterr().out
    assert out.count("OK  ") == 5 and "accuracy: 0.9500 >= 0.9" in out


@pytest.mark.parametrize("call, pattern", [
    (lambda: checks.expect_at_least(0.5, 0.9, "test accuracy"), r"test accuracy = 0\.5000, expected at least 0\.9"),
    (lambda: checks.expect_at_least(float("nan"), 0.9, "acc"), r"acc = nan"),
    (lambda: checks.expect_at_most(3.0, 2.0, "test loss"), r"test loss = 3\.0000, expected at most 2\.0"),
    (lambda: checks.expect_equal(13, 14, "params"), r"params = 13, expected 14"),
    (lambda: checks.expect_shape(np.zeros((2, 4)), (2, 3), "x"), r"x has shape \(2, 4\), expected \(2, 3\)"),
    (lambda: checks.expect_shape(np.zeros((2,)), (2, 3), "x"), r"expected \(2, 3\)"),
    (lambda: checks.expect_close([1.0], [1.1], "w", atol=0.01), r"w = .*expected .*largest difference"),
    (lambda: checks.expect_close([1.0, 2.0], [1.0], "w"), r"shape differs"),
])
def test_checks_fail_with_expected_and_got(call, pattern):
    with pytest.raises(checks.ExpectationError, match=pattern) as info:
        call()
    assert isinstance(info.value, AssertionError)
