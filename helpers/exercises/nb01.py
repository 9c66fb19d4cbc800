"""Notebook 01's exercises (softmax, the sum of squared errors, the slope of the one-knob cost) and self-check."""

from __future__ import annotations

import numpy as np

from helpers.exercises.core import Exercise, Trial, Wrong, as_floats, fmt, same
from helpers.exercises.selfcheck import Question
from helpers.exercises.solutions import nb01 as solutions


# --- 01.1 softmax ----------------------------------------------------------------------------------------
def _reference_softmax(scores: np.ndarray) -> np.ndarray:
    """The reference: TensorFlow's softmax (on the last axis), in float64."""
    import tensorflow as tf

    return tf.nn.softmax(tf.constant(scores, dtype=tf.float64), axis=-1).numpy()


def _softmax_mistakes(call: str, got: np.ndarray | None, scores: np.ndarray) -> None:
    """Raise :class:`Wrong` naming the mistake when ``got`` is a known wrong softmax of ``scores``."""
    if got is None or got.shape != scores.shape:
        return
    with np.errstate(all="ignore"):
        exp = np.exp(scores - scores.max())
        if scores.ndim == 2 and same(got, exp / exp.sum(axis=0, keepdims=True)):
            raise Wrong(f"{call}: wrong axis in softmax: each column sums to 1, but each row (one sample's scores) "
                        "should.", "Sum over the last axis: exp.sum(axis=-1, keepdims=True).")
        if scores.ndim == 2 and same(got, exp / exp.sum()):
            raise Wrong(f"{call}: you divided by the total of the whole batch, so the batch sums to 1; each row should "
                        "sum to 1 on its own.", "Sum over the last axis only: exp.sum(axis=-1, keepdims=True).")
        if same(got, scores / scores.sum(axis=-1, keepdims=True)):
            raise Wrong(f"{call}: the scores were divided by their total without exp first; a negative score would "
                        "give a negative 'probability'.", "Apply np.exp to the scores, then divide by the total.")
        if same(got, np.exp(scores)) or same(got, np.exp(scores - scores.max(axis=-1, keepdims=True))):
            raise Wrong(f"{call}: these are exp(scores), not yet divided by their total, so they do not sum to 1.",
                        "Divide each exp by the sum of the exps of its row.")


def check_softmax(t: Trial) -> None:
    scores = np.array([1.0, 2.0, 0.5, -1.0])
    call = "softmax([1.0, 2.0, 0.5, -1.0])"
    got = as_floats(t.call(scores.copy()))
    _softmax_mistakes(call, got, scores)
    t.expect_close(got, _reference_softmax(scores), call, ok=f"{call} matches TensorFlow's softmax")

    batch = np.array([[2.0, -1.0, 0.0, 3.0], [0.1, 0.2, 0.3, 0.4], [-2.0, 5.0, 1.0, 1.0]])
    call = "softmax of a batch of shape (3, 4)"
    got = as_floats(t.call(batch.copy()))
    _softmax_mistakes(call, got, batch)
    got = t.expect_close(got, _reference_softmax(batch), call,
                         ok="a batch of shape (3, 4): one softmax per row, each row sums to 1")

    large = np.array([[1000.0, 1001.0, 999.0], [-800.0, -790.0, -805.0]])
    call = "softmax([[1000, 1001, 999], [-800, -790, -805]])"
    with np.errstate(all="ignore"):  # an overflowing exp is the learner's mistake, explained below, not a warning
        got = as_floats(t.call(large.copy()))
    if got is not None and got.shape == large.shape and not np.isfinite(got).all():
        raise Wrong(f"{call} gave NaN or inf: exp(1000) overflows (it is larger than any float), and inf / inf is NaN.",
                    "Subtract each row's largest score before exp: softmax(s - max(s)) = softmax(s), and the largest "
                    "exp is then exp(0) = 1.")
    t.expect_close(got, _reference_softmax(large), call,
                   ok="large scores (1000 and -800) give no overflow: the maximum is subtracted")


# --- 01.2 sum of squared errors ---------------------------------------------------------------------------
def _sse_mistakes(call: str, got, expected: np.ndarray, output: np.ndarray) -> None:
    diff = expected - output
    arr = as_floats(got)
    if arr is None:
        return
    if arr.size > 1:
        if same(arr, np.sum(diff ** 2, axis=-1)):
            raise Wrong(f"{call} returned one cost per image, shape {arr.shape}; the cost of the whole set is their "
                        "total, a single number.", "Sum over every axis: np.sum(...) without axis.")
        if same(arr, diff ** 2):
            raise Wrong(f"{call} returned the squared errors one by one, shape {arr.shape}; add them up into one number.")
        return
    value = float(arr.reshape(-1)[0]) if arr.size == 1 else float("nan")
    total = float(np.sum(diff ** 2))
    mistakes = [
        (np.mean(diff ** 2), "that is the mean of the squared errors (divided by their count); the SSE is their sum"),
        (np.sum(diff ** 2) / len(expected) if expected.ndim == 2 else None,
         "that is the total divided by the number of images; the cost over a set is the plain sum"),
        (np.sum(np.abs(diff)), "those are absolute errors; square each error instead"),
        (np.sqrt(total), "that is the square root of the SSE (a distance); the SSE has no square root"),
        (np.sum(diff) ** 2, "the errors were added up first and then squared: square each error, then add"),
        (np.sum(diff), "the errors were not squared, so positive and negative ones cancel"),
    ]
    for wrong_value, words in mistakes:
        if wrong_value is not None and not np.isclose(wrong_value, total) and np.isclose(value, wrong_value):
            raise Wrong(f"{call} gave {fmt(value)}: {words}.", "SSE = sum over all entries of (expected - output)².")


def check_sse(t: Trial) -> None:
    expected = np.array([0.0, 1.0, 0.0, 0.0])
    output = np.array([0.1, 0.5, 0.3, 0.2])
    call = "sum_of_squared_errors([0, 1, 0, 0], [0.1, 0.5, 0.3, 0.2])"
    got = t.call(expected.copy(), output.copy())
    _sse_mistakes(call, got, expected, output)
    got = t.number(got, call)
    if not np.isclose(got, 0.39):  # 0.1² + 0.5² + 0.3² + 0.2², worked out by hand
        raise Wrong(f"{call} gave {fmt(got)}, expected 0.39 (0.01 + 0.25 + 0.09 + 0.04).",
                    "Subtract, square each difference, add them all up.")
    t.ok(f"{call} = 0.39")

    expected = np.eye(3)[[2, 0, 1]]
    output = np.array([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05], [0.4, 0.4, 0.2]])
    call = "sum_of_squared_errors over 3 images, shape (3, 3)"
    got = t.call(expected.copy(), output.copy())
    _sse_mistakes(call, got, expected, output)
    t.expect_close(t.number(got, call), float(np.sum((expected - output) ** 2)), call,
                   ok="over 3 images: one number, the total cost of the set")


# --- 01.3 the slope of the one-knob cost -------------------------------------------------------------------
def _reference_slope(w: float, x: np.ndarray, y: np.ndarray) -> float:
    """The reference: tf.GradientTape differentiates the cost sum((w x - y)²) (float64)."""
    import tensorflow as tf

    knob = tf.Variable(w, dtype=tf.float64)
    with tf.GradientTape() as tape:
        cost = tf.reduce_sum((knob * tf.constant(x) - tf.constant(y)) ** 2)
    return float(tape.gradient(cost, knob))


def check_slope(t: Trial) -> None:
    x = np.array([0.5, -1.0, 2.0, 1.5, -0.3])
    y = np.array([1.2, -2.9, 6.1, 4.4, -1.0])
    for w in (1.0, 4.0, -2.5):
        call = f"cost_slope({w}, x, y)"
        got = t.number(t.call(w, x.copy(), y.copy()), call)
        expected = _reference_slope(w, x, y)
        if np.isclose(got, expected):
            continue
        error = w * x - y
        mistakes = [
            (-expected, "the sign is flipped: the slope of (w·x − y)² is 2·(w·x − y)·x, not 2·(y − w·x)·x"),
            (expected / 2, "the factor 2 from the square is missing"),
            (expected / len(x), "that is the mean over the points; the cost is their sum, so its slope is a sum too"),
            (float(np.sum(2 * error)), "the inner derivative x is missing (chain rule: d(w·x)/dw = x)"),
            (float(np.sum(error * x)), "the factor 2 from the square is missing"),
            (float(np.sum(error ** 2)), "that is the cost itself, not its slope"),
        ]
        for wrong_value, words in mistakes:
            if np.isclose(got, wrong_value):
                raise Wrong(f"{call} gave {fmt(got)}, expected {fmt(expected)}: {words}.",
                            "Differentiate one term (w·x − y)² with the chain rule, then add the terms up.")
        raise Wrong(f"{call} gave {fmt(got)}, expected {fmt(expected)}.",
                    "Chain rule on one term: d/dw (w·x − y)² = 2·(w·x − y)·x; the cost's slope is the sum over points.")
    t.ok("the slope at w = 1, 4 and -2.5 matches tf.GradientTape")
    bottom = float(np.dot(x, y) / np.dot(x, x))
    got = t.number(t.call(bottom, x.copy(), y.copy()), f"cost_slope(w at the bottom of the bowl, x, y)")
    if abs(got) > 1e-6:
        raise Wrong(f"at the bottom of the bowl (w = {fmt(bottom)}) the slope should be 0; got {fmt(got)}.")
    t.ok("the slope is 0 at the bottom of the bowl")


EXERCISES = [
    Exercise("01.1", "Softmax by hand", "softmax", check_softmax, solutions.softmax,
             hint="exp of each score, divided by the sum of the exps of the same row (the last axis)."),
    Exercise("01.2", "Sum of squared errors", "sum_of_squared_errors", check_sse, solutions.sum_of_squared_errors,
             hint="Subtract, square each difference, add them all up into one number."),
    Exercise("01.3", "The slope of the one-knob cost", "cost_slope", check_slope, solutions.cost_slope,
             hint="cost(w) = Σ (w·x − y)²; its slope is Σ 2·(w·x − y)·x."),
]

QUESTIONS = [
    Question("How many numbers does the black box receive for one 256 × 256 colour image?", 196608,
             "256 × 256 pixels × 3 channels (red, green, blue) = 196,608 numbers.", tolerance=0.0),
    Question("The box's softmax gets the raw scores (2.0, 2.0, 2.0). What does it output?", 1,
             "Equal scores give equal probabilities, and softmax outputs always sum to 1: one third each.",
             options=("(2.0, 2.0, 2.0)", "(1/3, 1/3, 1/3)", "(1.0, 1.0, 1.0)", "(0.0, 0.0, 0.0)")),
    Question("A dog photo, expected (0, 1, 0); the box says (0.2, 0.7, 0.1). What is the sum of squared errors?", 0.14,
             "0.2² + 0.3² + 0.1² = 0.04 + 0.09 + 0.01 = 0.14."),
    Question("On a test set with as many cats as dogs as other photos, about how often is an untrained box right?", 2,
             "Its random knobs make its answers unrelated to the photo: right about one time in three on 3 balanced "
             "classes.", options=("never", "one time in two", "one time in three", "almost always")),
    Question("Gradient descent with a learning rate that is too large (section 5) ...", 1,
             "Each step jumps past the bottom of the bowl; above the critical rate the swings even grow (divergence).",
             options=("crawls slowly towards the bottom", "overshoots the bottom and swings across it",
                      "stops exactly at the bottom in one step", "does not move the knob at all")),
]
