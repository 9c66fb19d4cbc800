"""Notebook 02's exercises (is an installed version new enough, Keras's epsilon-clipped binary cross-entropy, the
arithmetic of a timed matrix product) and self-check questions."""

from __future__ import annotations

import numpy as np

from helpers.exercises.core import Exercise, Trial, Wrong, as_floats, fmt, same, short
from helpers.exercises.selfcheck import Question
from helpers.exercises.solutions import nb02 as solutions

# --- 02.1 is the installed version new enough? ------------------------------------------------------------
# (installed, minimum, meets it?): worked out by hand; tests/test_exercises_nb02.py confirms them with `packaging`.
VERSION_CASES = [
    ("2.21.0", "2.16", True),
    ("3.9.7", "3.10", False),     # as text "3.9.7" >= "3.10"; as decimals 3.9 >= 3.1
    ("3.10.1", "3.9", True),      # as text "3.10.1" < "3.9"
    ("2.21", "2.21.0", True),     # the same version: (2, 21) < (2, 21, 0) as tuples
    ("2.21.0", "2.21", True),
    ("1.26.4", "2.0", False),
    ("2.0", "2.0.1", False),
    ("12.4", "9.1", True),        # as text "12.4" < "9.1"
    ("3.15.1", "3.15.1", True),
    ("0.9.10", "0.9.9", True),    # as decimals (major.minor only) 0.9 == 0.9 fine, as text "0.9.10" < "0.9.9"
]


def _as_text(installed: str, minimum: str) -> bool:
    return installed >= minimum


def _as_decimal(installed: str, minimum: str) -> bool | None:
    try:
        return float(".".join(installed.split(".")[:2])) >= float(".".join(minimum.split(".")[:2]))
    except ValueError:
        return None


def _as_tuples(installed: str, minimum: str) -> bool:
    return tuple(int(p) for p in installed.split(".")) >= tuple(int(p) for p in minimum.split("."))


def _strictly_newer(installed: str, minimum: str) -> bool:
    a, b = (tuple(int(p) for p in v.split(".")) for v in (installed, minimum))
    size = max(len(a), len(b))
    return a + (0,) * (size - len(a)) > b + (0,) * (size - len(b))


def check_meets_minimum(t: Trial) -> None:
    answers = {}
    for installed, minimum, right in VERSION_CASES:
        call = f"meets_minimum({installed!r}, {minimum!r})"
        got = t.call(installed, minimum)
        if not isinstance(got, (bool, np.bool_)):
            raise Wrong(f"{call} returned {short(got)}; it should return True or False.",
                        "Return the result of a comparison, e.g. `return a >= b`.")
        answers[(installed, minimum)] = bool(got)
    wrong = [(i, m, r) for i, m, r in VERSION_CASES if answers[(i, m)] != r]
    if not wrong:
        t.ok(f"all {len(VERSION_CASES)} version pairs are judged right, e.g. 3.10.1 meets 3.9 and 3.9.7 does not "
             "meet 3.10")
        return
    diagnoses = [
        (_as_text, "the versions were compared as text: character by character, '3.1…' comes before '3.9', so "
                   "3.10 looks older than 3.9",
         "Split at the dots and compare the parts as whole numbers: 10 > 9."),
        (_as_decimal, "the versions were read as decimal numbers: 3.10 is then 3.1, smaller than 3.9",
         "A version is not a decimal number: split at the dots and compare the parts as integers."),
        (_as_tuples, "2.21 and 2.21.0 are the same version, but (2, 21) < (2, 21, 0) as tuples",
         "Pad the shorter list of parts with zeros before comparing."),
        (_strictly_newer, "an installed version equal to the minimum meets it too; you asked for strictly newer",
         "Use >=, not >."),
    ]
    for rule, words, hint in diagnoses:
        if all(answers[(i, m)] == rule(i, m) for i, m, _ in VERSION_CASES):
            i, m, r = wrong[0]
            raise Wrong(f"meets_minimum({i!r}, {m!r}) gave {not r}: {words}.", hint)
    i, m, r = wrong[0]
    raise Wrong(f"meets_minimum({i!r}, {m!r}) gave {not r}, expected {r} "
                f"({len(wrong)} of {len(VERSION_CASES)} version pairs are judged wrong).",
                "Compare the parts (major, minor, patch) as integers, from the left; missing parts count as 0.")


# --- 02.2 binary cross-entropy with Keras's epsilon --------------------------------------------------------
def _keras_binary_crossentropy(y_true: np.ndarray, p: np.ndarray, epsilon: float) -> np.ndarray:
    """The reference: Keras's own elementwise binary cross-entropy, run with its epsilon set to ``epsilon``."""
    import keras

    before = keras.config.epsilon()
    keras.config.set_epsilon(epsilon)
    try:
        return np.asarray(keras.ops.binary_crossentropy(y_true, p), dtype=float)
    finally:
        keras.config.set_epsilon(before)


def _numpy_bce(y, p, low, high, log=np.log):
    q = np.clip(p, low, high)
    return -(y * log(q) + (1 - y) * log(1 - q))


def _bce_mistakes(call: str, got, y: np.ndarray, p: np.ndarray, epsilon: float) -> None:
    arr = as_floats(got)
    if arr is None:
        return
    if arr.size == 1 and y.size > 1:
        raise Wrong(f"{call} returned one number; return one loss per sample, an array of shape {y.shape} "
                    "(Keras averages them later).", "Leave out the mean: compute the formula elementwise.")
    if arr.shape != y.shape:
        return
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        edge = "p = 0 for a true 1" if y[bad] == 1 else "p = 1 for a true 0"
        raise Wrong(f"{call} is infinite (or NaN) at sample {bad} ({edge}): log(0) is −∞, so the probability was not "
                    "clipped on that side.", "Clip p into [epsilon, 1 − epsilon] before taking the log: "
                    "np.clip(p, epsilon, 1 - epsilon).")
    with np.errstate(all="ignore"):
        if same(arr, _numpy_bce(y, p, 1e-7, 1 - 1e-7), rtol=1e-4) and epsilon != 1e-7:
            raise Wrong(f"{call} clipped with 1e-7, Keras's default, instead of the epsilon passed in ({epsilon:g}).",
                        "Use the `epsilon` argument, not a number written into the function.")
        if same(arr, -_numpy_bce(y, p, epsilon, 1 - epsilon), rtol=1e-4):
            raise Wrong(f"{call} is negative: the minus sign in front of the formula is missing (log of a "
                        "probability is ≤ 0).", "loss = −(y·log(p) + (1 − y)·log(1 − p)).")
        if same(arr, _numpy_bce(y, p, epsilon, 1 - epsilon, log=np.log10), rtol=1e-4):
            raise Wrong(f"{call} used log10; cross-entropy uses the natural logarithm, np.log.")
        if same(arr, -(y * np.log(np.clip(p, epsilon, 1 - epsilon))), rtol=1e-4):
            raise Wrong(f"{call}: the samples with a true 0 got loss 0: the (1 − y)·log(1 − p) term is missing.")


def check_binary_crossentropy(t: Trial) -> None:
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    p = np.array([0.9, 0.2, 0.0, 1.0, 0.5, 0.0001])
    for epsilon in (1e-3, 1e-7):
        call = f"clipped_binary_crossentropy(y, p, epsilon={epsilon:g})"
        with np.errstate(all="ignore"):  # log(0) in an unclipped answer is explained below, not warned about
            got = t.call(y.copy(), p.copy(), epsilon)
        _bce_mistakes(call, got, y, p, epsilon)
        expected = _keras_binary_crossentropy(y, p, epsilon)
        got = t.expect_close(got, expected, call, rtol=1e-4, atol=1e-5,
                             ok=f"epsilon {epsilon:g}: the same losses as Keras with its epsilon set to {epsilon:g}")
    t.ok(f"a sure, wrong answer (p = 0 for a true 1) costs −log(1e-7) ≈ {-np.log(1e-7):.2f}, not infinity")


# --- 02.3 the arithmetic of a timed matrix product --------------------------------------------------------
def check_gflops(t: Trial) -> None:
    cases = [(1024, 1024, 1024, 0.02), (512, 2048, 64, 0.004), (3, 5, 7, 2e-9)]
    for n, k, m, seconds in cases:
        call = f"matmul_gflops({n}, {k}, {m}, {seconds:g})"
        got = t.number(t.call(n, k, m, seconds), call)
        expected = 2 * n * k * m / seconds / 1e9  # n·m sums of k products: k multiplies and k adds each
        if np.isclose(got, expected, rtol=1e-6):
            continue
        mistakes = [
            (expected / 2, "only the multiplications were counted: each of the n·k·m steps is a multiply and an "
                           "add, 2 floating-point operations", "FLOP = 2 · n · k · m."),
            (expected * 1e3, "that is in MFLOP/s (divided by 1e6): a GFLOP is 1e9 operations", None),
            (expected * seconds * seconds, "the operations were multiplied by the time; divide by it", None),
            (expected * 1e9, "the operations per second were not turned into GFLOP/s (divide by 1e9)", None),
            (2 * n ** 3 / seconds / 1e9, "2·n³ holds only for square matrices; for (n × k) @ (k × m) it is 2·n·k·m",
             None),
        ]
        for value, words, hint in mistakes:
            if not np.isclose(value, expected) and np.isclose(got, value, rtol=1e-6):
                raise Wrong(f"{call} gave {fmt(got)}, expected {fmt(expected)}: {words}.", hint)
        raise Wrong(f"{call} gave {fmt(got)}, expected {fmt(expected)}.",
                    "Count the operations (2 · n · k · m), divide by the seconds, then by 1e9.")
    t.ok("1024 × 1024 @ 1024 × 1024 in 20 ms is 107.4 GFLOP/s, as section 2 computes it")
    t.ok("non-square products, (512 × 2048) @ (2048 × 64) and (3 × 5) @ (5 × 7), are counted right too")


EXERCISES = [
    Exercise("02.1", "Is the installed version new enough?", "meets_minimum", check_meets_minimum,
             solutions.meets_minimum,
             hint="Split both versions at the dots, turn the parts into integers, pad with zeros, compare."),
    Exercise("02.2", "Cross-entropy clipped with epsilon", "clipped_binary_crossentropy",
             check_binary_crossentropy, solutions.clipped_binary_crossentropy,
             hint="Clip p into [epsilon, 1 − epsilon], then −(y·log(p) + (1 − y)·log(1 − p)), elementwise."),
    Exercise("02.3", "GFLOP/s of a timed matrix product", "matmul_gflops", check_gflops, solutions.matmul_gflops,
             hint="(n × k) @ (k × m) takes 2 · n · k · m floating-point operations."),
]

QUESTIONS = [
    Question("You have an NVIDIA GPU on Linux. Which pip command installs TensorFlow with the CUDA and cuDNN "
             "libraries it needs?", 2,
             "Since TensorFlow 2.12 there is no tensorflow-gpu package; the [and-cuda] extra pulls CUDA and cuDNN as "
             "wheels (only the driver is installed separately).",
             options=("pip install tensorflow-gpu", "pip install cuda cudnn tensorflow",
                      'pip install "tensorflow[and-cuda]"', "pip install keras-gpu")),
    Question("How many GFLOP is one 1024 × 1024 by 1024 × 1024 matrix product (section 2's timed multiply)?", 2.147,
             "2 · 1024³ = 2,147,483,648 floating-point operations: one multiply and one add per step."),
    Question("In Keras 3, what does `keras.config.set_epsilon(1e-3)` change?", 1,
             "Keras's losses and metrics clip probabilities to epsilon; layers and optimizers keep their own epsilon "
             "(Adam() still has 1e-07).",
             options=("every optimizer's epsilon, e.g. Adam's", "how far losses and metrics clip probabilities",
                      "BatchNormalization's epsilon", "the learning rate")),
    Question("How do you make a script use the JAX backend instead of TensorFlow?", 0,
             "The backend is chosen once, when Keras is imported: KERAS_BACKEND (or keras.json) must be set before "
             "`import keras`.",
             options=("set KERAS_BACKEND=jax before Python imports keras", "pip install jax is enough",
                      "set image_data_format to 'jax'", "nothing: Keras picks the fastest backend by itself")),
    Question("With `image_data_format` set to `channels_last`, what shape has a batch of 32 colour images of "
             "256 × 256?", 3,
             "channels_last puts the channels at the end: (batch, height, width, channels).",
             options=("(32, 3, 256, 256)", "(3, 32, 256, 256)", "(256, 256, 3, 32)", "(32, 256, 256, 3)")),
]
