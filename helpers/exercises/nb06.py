"""Notebook 06's exercises (a convolution's output size, a Conv2D layer's parameter count, a whole Conv2D layer in
NumPy built on the page's ``cross_correlate2d``) and self-check questions.

References: Keras itself. Output sizes come from ``ZeroPadding2D`` + ``Conv2D(strides=S)``'s
``compute_output_shape``, parameter counts from ``Conv2D.count_params()``, feature maps from a ``Conv2D`` layer
given the kernels and biases as its weights.
"""

from __future__ import annotations

import numpy as np

from helpers.exercises.core import Exercise, Trial, Wrong
from helpers.exercises.selfcheck import Question
from helpers.exercises.solutions import nb06 as solutions


# --- 06.1 output size -----------------------------------------------------------------------------------
def _keras_output_size(input_size: int, filter_size: int, stride: int, padding: int) -> int:
    """The reference: the width Keras gives after P zeros on each side and a stride-S convolution."""
    import keras

    padded = keras.layers.ZeroPadding2D(padding).compute_output_shape((None, input_size, input_size, 1))
    shape = keras.layers.Conv2D(1, filter_size, strides=stride).compute_output_shape(padded)
    return int(shape[1])


# (W, F, S, P): each fits a whole number of times (so the formula has no rounding), none is shown in the notebook
OUTPUT_SIZE_CASES = [(28, 5, 1, 0), (227, 11, 4, 0), (65, 3, 2, 1), (13, 3, 1, 1), (9, 3, 3, 0), (20, 4, 2, 3)]


def _first_matching(cases, answers, mistakes):
    """The first ``(formula, message, hint)`` of ``mistakes`` whose formula gives every one of the learner's
    ``answers`` on ``cases`` (so a mistake is named only when it explains all the wrong numbers), or None."""
    for formula, message, hint in mistakes:
        if all(got == formula(*case) for case, got in zip(cases, answers)):
            return message, hint
    return None


def _ok_and_first_wrong(t: Trial, calls: list[str], answers: list, expected: list, shown=str) -> int | None:
    """Report each right answer (``call = value``, the value written by ``shown``); return the first wrong one's index."""
    wrong = [i for i in range(len(calls)) if answers[i] != expected[i]]
    for i in range(len(calls)):
        if i not in wrong:
            t.ok(f"{calls[i]} = {shown(expected[i])}")
    return wrong[0] if wrong else None


def check_conv_output_size(t: Trial) -> None:
    calls, answers, expected = [], [], []
    for w, f, s, p in OUTPUT_SIZE_CASES:
        calls.append(f"conv_output_size({w}, {f}, stride={s}, padding={p})")
        answers.append(t.integer(t.call(w, f, s, p), calls[-1]))
        expected.append(_keras_output_size(w, f, s, p))
    i = _ok_and_first_wrong(t, calls, answers, expected)
    if i is None:
        return
    w, f, s, p = OUTPUT_SIZE_CASES[i]
    shown = f"{calls[i]} gave {answers[i]}, expected ({w} - {f} + 2·{p}) / {s} + 1 = {expected[i]}"
    named = _first_matching(OUTPUT_SIZE_CASES, answers, [
        (lambda w, f, s, p: (w - f + 2 * p) // s, "off by one: the `+ 1` is missing",
         "The first position of the filter counts too: a 3×3 filter on a 3×3 input fits once, not 0 times."),
        (lambda w, f, s, p: (w - f + 2 * p) // s + 2, "off by one: one position too many",
         "Use (W - F + 2P) / S + 1 exactly: a 3×3 filter on a 3×3 input fits once."),
        (lambda w, f, s, p: (w - f) // s + 1, "the padding was left out",
         "P zeros are added on *each* side, so the input grows by 2P before the filter slides."),
        (lambda w, f, s, p: (w - f + p) // s + 1, "the padding was counted on one side only",
         "P zeros go on each side of the input: W + 2P, not W + P."),
        (lambda w, f, s, p: w - f + 2 * p + 1, "the stride was ignored",
         "With stride S the filter moves S pixels per step: divide (W - F + 2P) by S."),
        (lambda w, f, s, p: (w - f + 2 * p + 1) // s, "the `+ 1` was divided by the stride too",
         "Divide only (W - F + 2P) by S, then add 1."),
        (lambda w, f, s, p: (w + f + 2 * p) // s + 1, "the filter size was added instead of subtracted",
         "The filter must fit inside the padded input: W + 2P - F."),
    ])
    if named:
        raise Wrong(f"{shown}: {named[0]}.", named[1])
    off = " (off by one)" if abs(answers[i] - expected[i]) == 1 else ""
    raise Wrong(f"{shown}{off}.",
                "Work one case by hand: a 5-pixel input, a 3-pixel filter, stride 1, no padding has 3 positions.")


# --- 06.2 parameter count -------------------------------------------------------------------------------
def _keras_conv_params(kernel_size: int, in_channels: int, filters: int) -> int:
    """The reference: Keras counts the parameters of the same layer."""
    import keras

    layer = keras.layers.Conv2D(filters, kernel_size)
    layer.build((None, kernel_size + 4, kernel_size + 4, in_channels))
    return int(layer.count_params())


PARAMETER_CASES = [(3, 16, 8), (5, 1, 6), (1, 64, 32), (7, 3, 64), (3, 2, 5)]


def check_conv2d_parameter_count(t: Trial) -> None:
    calls, answers, expected = [], [], []
    for k, c, n in PARAMETER_CASES:
        calls.append(f"conv2d_parameter_count(kernel_size={k}, in_channels={c}, filters={n})")
        answers.append(t.integer(t.call(k, c, n), calls[-1]))
        expected.append(_keras_conv_params(k, c, n))
    i = _ok_and_first_wrong(t, calls, answers, expected, shown="{:,}".format)
    if i is None:
        return
    k, c, n = PARAMETER_CASES[i]
    shown = f"{calls[i]} gave {answers[i]:,}, expected {expected[i]:,}"
    named = _first_matching(PARAMETER_CASES, answers, [
        (lambda k, c, n: k * k * c * n, f"the weights only: you forgot the biases (one per filter, {n} here)",
         "Each filter has one bias besides its kernel_size × kernel_size × in_channels weights."),
        (lambda k, c, n: k * k * n + n, f"you forgot the input channels: each filter spans all {c} channels of its "
         f"input, so it has {k}×{k}×{c} weights, not {k}×{k}",
         "A filter is F × F × D_in: on an RGB image a 3×3 filter has 27 weights."),
        (lambda k, c, n: k * k * n, "you forgot the input channels and the biases",
         "A filter is F × F × D_in weights, plus one bias."),
        (lambda k, c, n: k * c * n + n, f"the kernel is {k}×{k}: count kernel_size² weights per channel, not "
         "kernel_size", "A 3×3 filter has 9 weights per input channel."),
        (lambda k, c, n: k * k * c * n + c, "one bias per *input channel* was counted; biases belong to the filters "
         "(one per filter)", "Each filter adds exactly one bias, whatever the number of input channels."),
        (lambda k, c, n: (k * k + 1) * c * n, "one bias per filter *and* input channel was counted; each filter has "
         "one bias", "(kernel_size² × in_channels + 1) × filters."),
    ])
    if named:
        raise Wrong(f"{shown}: {named[0]}.", named[1])
    raise Wrong(f"{shown}.", "Per filter: kernel_size × kernel_size × in_channels weights + 1 bias; times the filters.")


# --- 06.3 a whole Conv2D layer ---------------------------------------------------------------------------
def _keras_conv2d(image: np.ndarray, kernels: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The reference: a Keras Conv2D layer ('valid', stride 1) given ``kernels`` and ``bias`` as its weights."""
    import keras

    layer = keras.layers.Conv2D(kernels.shape[3], kernels.shape[:2], padding="valid", dtype="float64")
    layer.build((None, *image.shape))
    layer.set_weights([kernels, bias])
    return np.asarray(layer(image[np.newaxis]), dtype=float)[0]


def check_conv2d_layer(t: Trial) -> None:
    rng = np.random.default_rng(6)
    cases = [
        ("a 6×7 image with 3 channels and 2 filters of 3×3", rng.integers(-4, 5, size=(6, 7, 3)).astype(float),
         rng.integers(-2, 3, size=(3, 3, 3, 2)).astype(float), np.array([0.5, -1.0])),
        ("a 5×6 image with 2 channels and 3 filters of 2×3 (not square)",
         rng.integers(0, 9, size=(5, 6, 2)).astype(float), rng.integers(-3, 4, size=(2, 3, 2, 3)).astype(float),
         np.array([1.0, 0.0, -2.0])),
    ]
    for what, image, kernels, bias in cases:
        expected = _keras_conv2d(image, kernels, bias)
        given = image.copy(), kernels.copy(), bias.copy()
        got = t.array(t.call(*given), f"conv2d_layer with {what}")
        if not all(np.array_equal(a, b) for a, b in zip(given, (image, kernels, bias))):
            raise Wrong(f"conv2d_layer changed its inputs ({what}): work on copies, or build a new output array.")
        filters = kernels.shape[3]
        if got.shape == (filters, *expected.shape[:2]):
            raise Wrong(f"conv2d_layer with {what} returned shape {got.shape}: the filters come first. Keras puts them "
                        f"last (channels last): expected {expected.shape}.",
                        "np.stack(maps, axis=-1) puts one map per filter along the last axis.")
        if got.shape != expected.shape:
            raise Wrong(f"conv2d_layer with {what} returned shape {got.shape}; expected {expected.shape}: "
                        "(H - kh + 1, W - kw + 1, filters).",
                        "cross_correlate2d(image[:, :, c], kernels[:, :, c, f]) gives one (H_out, W_out) map.")
        if np.allclose(got, expected - bias):
            raise Wrong(f"with {what} every map is off by its filter's bias: add bias[f] to map f.")
        first_channel = _keras_conv2d(image[:, :, :1], kernels[:, :, :1, :], bias)
        if np.allclose(got, first_channel):
            raise Wrong(f"with {what} your maps use the first input channel only. A filter spans every input channel: "
                        "its map is the sum over the channels c of the cross-correlation of channel c with "
                        "kernels[:, :, c, f].")
        flipped = _keras_conv2d(image, kernels[::-1, ::-1].copy(), bias)
        if np.allclose(got, flipped) and not np.allclose(got, expected):
            raise Wrong(f"with {what} your maps are *true* convolutions: the kernels were flipped. Keras's Conv2D "
                        "slides them as they are (section 3): use cross_correlate2d, not convolve2d.")
        t.expect_close(got, expected, f"conv2d_layer with {what}", ok=f"conv2d_layer with {what} matches Keras's "
                       "Conv2D")


EXERCISES = [
    Exercise("06.1", "Output size of a convolution", "conv_output_size", check_conv_output_size,
             solutions.conv_output_size,
             hint="W_out = (W - F + 2P) / S + 1 (section 4)."),
    Exercise("06.2", "Parameters of a Conv2D layer", "conv2d_parameter_count", check_conv2d_parameter_count,
             solutions.conv2d_parameter_count,
             hint="Each filter: kernel_size × kernel_size × in_channels weights and one bias."),
    Exercise("06.3", "A whole Conv2D layer in NumPy", "conv2d_layer", check_conv2d_layer, solutions.conv2d_layer,
             hint="For each filter f: the sum over the input channels c of cross_correlate2d(image[:, :, c], "
                  "kernels[:, :, c, f]), plus bias[f]; then np.stack(maps, axis=-1)."),
]

QUESTIONS = [
    Question("The book's MNIST CNN applies two 3×3 convolutions without padding to a 28×28 digit, then 2×2 max "
             "pooling. How wide is the pooled map?", 12,
             "28 − 3 + 1 = 26, then 26 − 3 + 1 = 24, and pooling halves it: 12.", tolerance=0.0),
    Question("What does a Keras Conv2D layer compute at each position?", 1,
             "It slides the kernel as it is (no flip): a cross-correlation, although it is called convolution.",
             options=("a true convolution: the kernel is flipped by 180° first",
                      "a cross-correlation: the sum of the element-wise products with the kernel as it is",
                      "a matrix product of the whole image with the kernel",
                      "the maximum of the patch times the kernel")),
    Question("How many parameters has a Conv2D layer with 16 filters of 3×3 on a 32×32 RGB image?", 448,
             "(3 × 3 × 3 + 1) × 16 = 448; the image size does not matter, the filters are shared.", tolerance=0.0),
    Question("A digit is moved 2 pixels to the right. What happens to the feature maps of the MNIST CNN's "
             "convolutional layers (section 6)?", 2,
             "Weight sharing makes them equivariant: the maps move with the input (measured exactly), they do not "
             "stay the same.",
             options=("nothing: they are invariant to shifts", "they change unpredictably",
                      "they move 2 positions to the right with the digit", "they become all zeros")),
    Question("Where are most of the 1,199,882 parameters of the book's two-layer MNIST CNN?", 1,
             "The Dense layer after flattening 12 × 12 × 64 = 9,216 values holds 1,179,776 of them.",
             options=("in the two convolutional layers", "in the Dense layer after Flatten",
                      "in the max pooling layer", "in the dropout layers")),
]
