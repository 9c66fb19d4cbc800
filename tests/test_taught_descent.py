"""Tests for helpers.taught.descent, exported from notebook 01: gradient descent on the one-knob bowl."""

import numpy as np
import pytest

from helpers import thirty_thousand_feet
from helpers.taught.descent import gradient_descent


def test_gradient_descent_small_right_large_learning_rates():
    x, y = thirty_thousand_feet.one_knob_data()
    bottom = thirty_thousand_feet.best_knob(x, y)
    grad = lambda w: thirty_thousand_feet.one_knob_gradient(w, x, y)  # noqa: E731
    critical = thirty_thousand_feet.critical_learning_rate(x)
    slow = gradient_descent(grad, -1.0, 0.03 * critical, 20)
    good = gradient_descent(grad, -1.0, 0.4 * critical, 20)
    jumpy = gradient_descent(grad, -1.0, 0.9 * critical, 20)
    wild = gradient_descent(grad, -1.0, 1.5 * critical, 200)
    assert good.shape == (21,) and good[0] == -1.0
    assert abs(good[-1] - bottom) < 1e-3
    assert abs(slow[-1] - bottom) > 0.5  # too small: still far away
    assert np.all(np.diff(slow) > 0)  # ... but always moving towards the bottom
    assert jumpy[1] > bottom  # too large: jumps past the bottom (overshoot) ...
    assert np.any(np.sign(np.diff(jumpy)) < 0)  # ... and comes back
    assert abs(jumpy[-1] - bottom) < abs(jumpy[0] - bottom)  # yet still converges, slowly
    assert np.isnan(wild[-1])  # past 2/curvature it diverges and stops
    with pytest.raises(ValueError, match="learning_rate"):
        gradient_descent(grad, 0.0, 0.0, 5)
