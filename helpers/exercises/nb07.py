"""Notebook 07's exercises (leaky ReLU, its derivative, the sigmoid's derivative) and self-check questions.

References: ``keras.activations.leaky_relu`` for the function, ``tf.GradientTape`` on ``keras.activations``
(float64) for the derivatives; the check points avoid the kink at exactly 0.
"""

from __future__ import annotations

import numpy as np

from helpers.exercises.core import Exercise, Trial, Wrong, fmt
from helpers.exercises.selfcheck import Question
from helpers.exercises.solutions import nb07 as solutions

# inputs the notebook does not show: both signs, small and large, never exactly 0 (the kink)
X_2D = np.array([[-3.0, -0.5, 0.25, 2.0], [-7.5, 1.5, -0.01, 4.0]])
X_WIDE = np.array([-9.0, -4.0, -2.5, -1.0, -0.3, 0.3, 1.0, 2.5, 4.0, 9.0])


def _keras_leaky_relu(x: np.ndarray, alpha: float) -> np.ndarray:
    import keras

    return np.asarray(keras.activations.leaky_relu(keras.ops.convert_to_tensor(x, dtype="float64"),
                                                   negative_slope=alpha), dtype=float)


def _tape_derivative(function, x: np.ndarray) -> np.ndarray:
    """d f(x) / dx element by element, by automatic differentiation (the gradient of sum f(x))."""
    import tensorflow as tf

    variable = tf.Variable(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(function(variable))
    return tape.gradient(total, variable).numpy()


def _same(got: np.ndarray, other) -> bool:
    other = np.asarray(other, dtype=float)
    return got.shape == other.shape and np.allclose(got, other, rtol=1e-5, atol=1e-7)


def _call_array(t: Trial, x: np.ndarray, *args, what: str) -> np.ndarray:
    """The learner's function on a copy of ``x``, as a float array of x's shape."""
    given = x.copy()
    got = t.array(t.call(given, *args), what)
    if not np.array_equal(given, x):
        raise Wrong(f"{what} changed its input x in place: compute a new array (np.where, np.maximum) instead.")
    if got.shape != x.shape:
        if got.size == 1:
            raise Wrong(f"{what} returned one number for an input of shape {x.shape}: an activation works element "
                        "by element and returns an array of the same shape.",
                        "NumPy functions such as np.where and np.maximum work on whole arrays at once.")
        raise Wrong(f"{what} returned shape {got.shape}; expected the shape of x, {x.shape} (element by element).")
    return got


def check_leaky_relu(t: Trial) -> None:
    for x, alpha in [(X_2D, 0.2), (X_WIDE, 0.05)]:
        what = f"leaky_relu(x of shape {x.shape}, alpha={alpha})"
        got = _call_array(t, x, alpha, what=what)
        expected = _keras_leaky_relu(x, alpha)
        if _same(got, expected):
            t.ok(f"{what} matches keras.activations.leaky_relu(x, negative_slope={alpha})")
            continue
        if _same(got, np.maximum(0, x)):
            raise Wrong(f"{what} gives 0 for every negative x: that is ReLU. Leaky ReLU keeps alpha·x there.",
                        "np.where(x > 0, x, alpha * x)")
        for fixed in (0.01, 0.1, 0.2, 0.3):
            if fixed != alpha and _same(got, np.where(x > 0, x, fixed * x)):
                raise Wrong(f"{what} used the slope {fixed} for negative x, not alpha = {alpha}: alpha was ignored.",
                            "Use the argument alpha, not a number written into the function.")
        if _same(got, np.where(x > 0, alpha * x, x)):
            raise Wrong(f"{what} scales the *positive* side by alpha and leaves x < 0 unchanged (np.minimum "
                        "instead of np.maximum does this too); leaky ReLU is max(alpha·x, x): x for x > 0, alpha·x "
                        "for x < 0.")
        if _same(got, np.where(x > 0, x, alpha)):
            raise Wrong(f"{what} returns the constant alpha for negative x; the output there is alpha·x.")
        index = np.unravel_index(np.argmax(np.abs(got - expected)), x.shape)
        raise Wrong(f"{what} is wrong at x = {fmt(x[index])}: got {fmt(got[index])}, expected "
                    f"{fmt(expected[index])}.", "f(x) = x for x > 0 and alpha·x for x < 0.")


def check_leaky_relu_derivative(t: Trial) -> None:
    import keras

    for x, alpha in [(X_WIDE, 0.2), (X_2D, 0.05)]:
        what = f"leaky_relu_derivative(x of shape {x.shape}, alpha={alpha})"
        got = _call_array(t, x, alpha, what=what)
        expected = _tape_derivative(lambda v: keras.activations.leaky_relu(v, negative_slope=alpha), x)
        if _same(got, expected):
            t.ok(f"{what} matches tf.GradientTape on keras.activations.leaky_relu")
            continue
        if _same(got, (x > 0).astype(float)):
            raise Wrong(f"{what} is 0 for negative x: that is ReLU's derivative. Leaky ReLU has slope alpha there, "
                        "which is why its units cannot die.", "The slope is 1 for x > 0 and alpha for x < 0.")
        if _same(got, np.where(x > 0, x, alpha * x)):
            raise Wrong(f"{what} returns leaky ReLU itself, f(x), not its derivative f'(x) (the slope).",
                        "The slope of a straight piece is a constant: 1 on the right, alpha on the left.")
        if _same(got, np.where(x > 0, 1.0, alpha * x)):
            raise Wrong(f"{what} returns alpha·x for negative x; the derivative of alpha·x is the constant alpha.")
        if _same(got, np.ones_like(x)):
            raise Wrong(f"{what} is 1 everywhere: that is the linear function's derivative; for x < 0 it is alpha.")
        if _same(got, np.where(x > 0, alpha, 1.0)):
            raise Wrong(f"{what} has the two sides swapped: the slope is 1 for x > 0 and alpha for x < 0.")
        for fixed in (0.01, 0.1, 0.2, 0.3):
            if fixed != alpha and _same(got, np.where(x > 0, 1.0, fixed)):
                raise Wrong(f"{what} used the slope {fixed} for negative x, not alpha = {alpha}: alpha was ignored.")
        index = np.unravel_index(np.argmax(np.abs(got - expected)), x.shape)
        raise Wrong(f"{what} is wrong at x = {fmt(x[index])}: got {fmt(got[index])}, expected "
                    f"{fmt(expected[index])}.", "f'(x) = 1 for x > 0 and alpha for x < 0.")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def check_sigmoid_derivative(t: Trial) -> None:
    import keras

    for x in (X_WIDE, X_2D, np.array([0.0])):
        what = f"sigmoid_derivative(x of shape {x.shape})" if x.size > 1 else "sigmoid_derivative([0.0])"
        got = _call_array(t, x, what=what)
        expected = _tape_derivative(keras.activations.sigmoid, x)
        if _same(got, expected):
            t.ok(f"{what} matches tf.GradientTape on keras.activations.sigmoid" if x.size > 1
                 else "sigmoid_derivative(0) = 0.25, the largest value it takes")
            continue
        s = _sigmoid(x)
        if _same(got, x * (1 - x)):
            raise Wrong(f"{what} computes x·(1 − x): σ(1 − σ) was applied to x itself instead of to σ(x).",
                        "First s = 1 / (1 + np.exp(-x)), then return s * (1 - s).")
        if _same(got, s):
            raise Wrong(f"{what} returns σ(x) itself, not its derivative.", "σ'(x) = σ(x)·(1 − σ(x)).")
        if _same(got, 1 - s ** 2):
            raise Wrong(f"{what} computes 1 − σ(x)²: that is the pattern of tanh's derivative (1 − tanh²); "
                        "the sigmoid's is σ(x)·(1 − σ(x)).")
        if _same(got, 1 - np.tanh(x) ** 2):
            raise Wrong(f"{what} computes 1 − tanh(x)²: that is the derivative of tanh, not of the sigmoid.",
                        "σ'(x) = σ(x)·(1 − σ(x)) with σ(x) = 1 / (1 + e^(−x)).")
        if _same(got, s * (1 + s)):
            raise Wrong(f"{what} computes σ·(1 + σ); the derivative is σ·(1 − σ).")
        if _same(got, np.exp(-x) / (1 + np.exp(-x))):
            raise Wrong(f"{what} computes e^(−x) / (1 + e^(−x)) = 1 − σ(x); the derivative has the denominator "
                        "squared: e^(−x) / (1 + e^(−x))².")
        if _same(got, -s * (1 - s)):
            raise Wrong(f"{what} has the wrong sign: the sigmoid rises everywhere, so its derivative is positive.")
        index = np.unravel_index(np.argmax(np.abs(got - expected)), x.shape)
        raise Wrong(f"{what} is wrong at x = {fmt(x[index])}: got {fmt(got[index])}, expected "
                    f"{fmt(expected[index])}.", "σ'(x) = σ(x)·(1 − σ(x)), at most 0.25 (at x = 0).")


EXERCISES = [
    Exercise("07.1", "Leaky ReLU", "leaky_relu", check_leaky_relu, solutions.leaky_relu,
             hint="max(alpha·x, x) for 0 < alpha < 1: np.where(x > 0, x, alpha * x)."),
    Exercise("07.2", "The derivative of leaky ReLU", "leaky_relu_derivative", check_leaky_relu_derivative,
             solutions.leaky_relu_derivative, hint="1 where x > 0, alpha where x < 0."),
    Exercise("07.3", "The derivative of the sigmoid", "sigmoid_derivative", check_sigmoid_derivative,
             solutions.sigmoid_derivative, hint="σ'(x) = σ(x)·(1 − σ(x))."),
]

QUESTIONS = [
    Question("What is the largest value the sigmoid's derivative σ'(x) takes?", 0.25,
             "σ'(x) = σ(x)(1 − σ(x)) peaks at x = 0 with 0.5 × 0.5 = 0.25, so each sigmoid layer shrinks a gradient "
             "at least 4-fold.", tolerance=0.0),
    Question("Two Dense layers with a linear activation, one after the other, can compute …", 1,
             "W₂(W₁x + b₁) + b₂ is again one linear map: section 3 multiplied the XOR model out into one layer.",
             options=("more than one Dense layer can", "exactly what one Dense layer can",
                      "any function, given enough units", "only XOR")),
    Question("Before training, how large was the gradient of the first of the 10 sigmoid layers compared with the "
             "last one (section 6)?", 2,
             "Measured: a ratio of about 5e-6; each sigmoid layer multiplies the gradient by at most 0.25.",
             options=("about the same size", "about 10 times larger", "a few millionths of it",
                      "exactly zero")),
    Question("In section 7 most ReLU units died. What caused it?", 0,
             "With Adam at 0.05 (instead of 0.001) large updates pushed units negative for every digit; their "
             "derivative is then 0 and they never recover.",
             options=("a far too high learning rate", "too few training epochs",
                      "the softmax output layer", "a batch size of 64")),
    Question("Why can a leaky ReLU unit not die the way a ReLU unit does?", 3,
             "For x < 0 its derivative is alpha, not 0, so some gradient always flows back and the unit can recover.",
             options=("its output is bounded", "it is zero-centred", "its weights are smaller",
                      "its derivative for x < 0 is alpha, never 0")),
]
