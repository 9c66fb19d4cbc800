"""Notebook 08's exercises (PSNR per image, the binary cross-entropy of a reconstruction) and self-check questions.

References: ``tf.image.psnr`` and ``keras.losses.binary_crossentropy`` (which clips predictions to
``[1e-7, 1 - 1e-7]``); the common mistakes are recognised by computing them in NumPy on the same images.
"""

from __future__ import annotations

import math

import numpy as np

from helpers.exercises.core import Exercise, Trial, Wrong, as_floats, fmt
from helpers.exercises.selfcheck import Question
from helpers.exercises.solutions import nb08 as solutions


def _images(seed: int, shape: tuple, top: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Clean images with values in [0, top] and a noisy copy clipped to the same range (noise grows per image)."""
    rng = np.random.default_rng(seed)
    clean = np.clip(rng.uniform(-0.3, 1.0, size=shape), 0, 1) * top
    scale = noise * top * np.linspace(0.5, 1.5, shape[0]).reshape(-1, *([1] * (len(shape) - 1)))
    noisy = np.clip(clean + scale * rng.normal(size=shape), 0, top)
    return clean, noisy


def _tf_psnr(clean: np.ndarray, other: np.ndarray, max_value: float) -> np.ndarray:
    import tensorflow as tf

    return tf.image.psnr(tf.constant(clean, tf.float64), tf.constant(other, tf.float64), max_val=max_value).numpy()


def check_psnr(t: Trial) -> None:
    cases = [("4 images of 8×8×1 in [0, 1], max_value=1.0", *_images(8, (4, 8, 8, 1), 1.0, 0.3), 1.0),
             ("3 images of 6×5×3 in [0, 255], max_value=255", *_images(9, (3, 6, 5, 3), 255.0, 0.2), 255.0)]
    for what, clean, noisy, max_value in cases:
        call = f"psnr of {what}"
        given_clean, given_noisy = clean.copy(), noisy.copy()
        with np.errstate(all="ignore"):  # a division by zero is reported in words below, not as a warning
            raw = t.call(given_clean, given_noisy, max_value)
        if not (np.array_equal(given_clean, clean) and np.array_equal(given_noisy, noisy)):
            raise Wrong(f"{call}: your function changed the images it was given; compute on new arrays.")
        expected = _tf_psnr(clean, noisy, max_value)
        n = len(clean)
        got = as_floats(raw)  # the shape first: a mean over the wrong axis can also divide by zero
        if got is None or got.shape == expected.shape:
            got = t.array(raw, call, shape=expected.shape)
        else:
            if got.size == 0:
                raise Wrong(f"{call} returned an empty array; expected one PSNR per image, shape ({n},).")
            if got.size == 1:
                raise Wrong(f"{call} returned one number for the whole batch; expected one PSNR per image, shape "
                            f"({n},).", "Average the squared error over each image's pixels: "
                            "axis=(1, 2, 3), not over the whole batch.")
            if got.shape == clean.shape[1:] or got.shape == clean.shape[1:3]:
                raise Wrong(f"{call} returned shape {got.shape}: the mean went over the wrong axis (axis 0 is the "
                            f"images); expected one PSNR per image, shape ({n},).",
                            "Take the mean over the height, width and channel axes: axis=(1, 2, 3).")
            raise Wrong(f"{call} returned shape {got.shape}; expected one PSNR per image, shape ({n},): the mean "
                        "went over the wrong axis.", "mse = ((clean - other) ** 2).mean(axis=(1, 2, 3)).")
        if np.allclose(got, expected, rtol=1e-4, atol=1e-3):
            t.ok(f"{call} matches tf.image.psnr ({', '.join(fmt(v) for v in expected)} dB)")
            continue
        mse = ((clean - noisy) ** 2).reshape(n, -1).mean(axis=1)
        sse = ((clean - noisy) ** 2).reshape(n, -1).sum(axis=1)
        peak = max_value ** 2
        mistakes = [
            (10 * np.log10(255.0 ** 2 / mse), "used 255 as the largest pixel value, but these images are in [0, 1]",
             "Use the max_value argument: 1.0 for images scaled to [0, 1], 255 for 8-bit pixels."),
            (10 * np.log10(1.0 / mse), "forgot the largest pixel value (computed as if it were 1)",
             "PSNR = 10·log10(max_value² / MSE): with pixels in [0, 255], max_value is 255."),
            (10 * np.log10(max_value / mse), "max_value is not squared",
             "PSNR = 10·log10(max_value² / MSE): the peak power is max_value²."),
            (np.log10(peak / mse), "the factor 10 is missing: a log of the ratio without 10·log10 is in bels, "
             "not decibels", "PSNR = 10·log10(max_value² / MSE)."),
            (20 * np.log10(peak / mse), "20·log10 of the squared ratio doubles the decibels",
             "Use 10·log10(max_value² / MSE), or 20·log10(max_value / RMSE): the same thing."),
            (10 * np.log(peak / mse), "used the natural logarithm; decibels use log10", "np.log10, not np.log."),
            (np.log(peak / mse), "used ln without the factor 10; PSNR is 10·log10(max_value² / MSE)",
             "np.log10 and the factor 10."),
            (10 * np.log10(peak / np.sqrt(mse)), "divided by the RMSE (root of the MSE) inside 10·log10",
             "10·log10(max_value² / MSE) uses the mean squared error itself."),
            (10 * np.log10(mse / peak), "the ratio is upside down (MSE / max_value²): the PSNR came out negative",
             "Signal over noise: max_value² / MSE."),
            (10 * np.log10(peak / sse), "summed the squared errors instead of averaging them (MSE is a mean)",
             "mean over each image's pixels, not sum."),
            (np.full(n, 10 * np.log10(peak / mse.mean())), "one MSE for the whole batch was used for every image",
             "Compute one MSE per image."),
        ]
        for value, message, hint in mistakes:
            if max_value == 1.0 and "255" not in message and np.allclose(value, expected):
                continue  # with max_value 1 some mistakes give the right number; the 255 case tells them apart
            if np.allclose(got, value, rtol=1e-4, atol=1e-3):
                raise Wrong(f"{call}: {message} (got {fmt(got[0])} dB for the first image, expected "
                            f"{fmt(expected[0])}).", hint)
        index = int(np.argmax(np.abs(got - expected)))
        raise Wrong(f"{call} is wrong for image {index}: got {fmt(got[index])} dB, expected "
                    f"{fmt(expected[index])} dB.", "PSNR = 10·log10(max_value² / MSE), one MSE per image.")


def _keras_bce(target: np.ndarray, predicted: np.ndarray) -> float:
    import keras

    per_row = keras.losses.binary_crossentropy(keras.ops.convert_to_tensor(target.reshape(len(target), -1)),
                                               keras.ops.convert_to_tensor(predicted.reshape(len(target), -1)))
    return float(np.mean(np.asarray(per_row)))


def _bce(target, predicted, log=np.log):
    return -np.mean(target * log(predicted) + (1 - target) * log(1 - predicted))


def check_binary_crossentropy(t: Trial) -> None:
    rng = np.random.default_rng(88)
    # grey targets strictly inside (0, 1) and predictions strictly inside (0, 1): every formula is finite here
    grey = rng.uniform(0.05, 0.95, size=(3, 5, 5, 1))
    predicted = np.clip(grey + 0.2 * rng.normal(size=grey.shape), 0.02, 0.98)
    call = "binary_crossentropy(target, predicted) with grey targets"
    got = t.number(_call_quietly(t, grey, predicted), call)
    expected = _keras_bce(grey, predicted)
    if not math.isclose(got, expected, rel_tol=1e-4, abs_tol=1e-6):
        mistakes = [
            (-expected, "the result is negative: the minus sign in front of the mean is missing",
             "BCE = −mean(y·log p + (1 − y)·log(1 − p)); the logs of probabilities are negative."),
            (_bce(predicted, grey), "target and predicted are swapped: the log goes on the predictions",
             "−mean(target·log(predicted) + (1 − target)·log(1 − predicted))."),
            (-np.mean(grey * np.log(predicted)), "the (1 − y)·log(1 − p) term is missing",
             "Pixels that should be dark count too: add (1 − target)·log(1 − predicted)."),
            (-np.sum(grey * np.log(predicted) + (1 - grey) * np.log(1 - predicted)),
             "summed over the pixels instead of averaging", "Keras's loss is the mean over all pixels."),
            (_bce(grey, predicted, np.log2), "used log base 2; Keras's cross-entropy uses the natural log",
             "np.log, not np.log2."),
            (_bce(grey, predicted, np.log10), "used log10; Keras's cross-entropy uses the natural log",
             "np.log, not np.log10."),
            (float(np.mean((grey - predicted) ** 2)), "this is the mean squared error, not the cross-entropy",
             "BCE = −mean(y·log p + (1 − y)·log(1 − p))."),
        ]
        for value, message, hint in mistakes:
            if math.isclose(got, value, rel_tol=1e-4, abs_tol=1e-6):
                raise Wrong(f"{call} gave {fmt(got)}, expected {fmt(expected)}: {message}.", hint)
        raise Wrong(f"{call} gave {fmt(got)}, expected {fmt(expected)} (keras.losses.binary_crossentropy).",
                    "−mean(target·log(predicted) + (1 − target)·log(1 − predicted)) over every pixel.")
    t.ok(f"{call} = {fmt(expected)}, as keras.losses.binary_crossentropy")

    # clean MNIST-like targets: many exact 0s and 1s, and predictions that are exactly 0 or 1 where they agree
    target = (rng.uniform(size=(2, 6, 6, 1)) > 0.6).astype(float)
    sure = np.where(rng.uniform(size=target.shape) > 0.5, target, np.clip(np.abs(target - 0.3), 0.1, 0.9))
    call = "binary_crossentropy with predictions of exactly 0 and 1"
    raw = _call_quietly(t, target, sure)
    try:
        value = float(np.asarray(raw, dtype=float).reshape(()))
    except (TypeError, ValueError):
        value = 0.0  # not a single number: t.number below says so in plain words
    if math.isnan(value) or math.isinf(value):
        raise Wrong(f"{call} gave {value}: log(0) for a prediction of exactly 0 or 1 (0 × log 0 is NaN in NumPy).",
                    "Clip the predictions first, as Keras does: np.clip(predicted, 1e-7, 1 - 1e-7).")
    got = t.number(raw, call)
    expected = _keras_bce(target, sure)
    if not math.isclose(got, expected, rel_tol=1e-3, abs_tol=1e-5):
        raise Wrong(f"{call} gave {fmt(got)}, expected {fmt(expected)} (keras.losses.binary_crossentropy).",
                    "Clip the predictions to [1e-7, 1 − 1e-7], as Keras does, then take the mean.")
    t.ok(f"{call} = {fmt(expected)}: no NaN from log(0)")


def _call_quietly(t: Trial, *args):
    """Call the learner's function without NumPy's divide-by-zero warnings (the check reports log(0) itself)."""
    with np.errstate(all="ignore"):
        return t.call(*(np.array(a) for a in args))


EXERCISES = [
    Exercise("08.1", "PSNR, one value per image", "psnr", check_psnr, solutions.psnr,
             hint="PSNR = 10·log10(max_value² / MSE), with the MSE of each image over its pixels."),
    Exercise("08.2", "The binary cross-entropy of a reconstruction", "binary_crossentropy", check_binary_crossentropy,
             solutions.binary_crossentropy,
             hint="−mean(target·log(predicted) + (1 − target)·log(1 − predicted)), predictions clipped away from 0 "
                  "and 1."),
]

QUESTIONS = [
    Question("The tutorial's encoder turns a 28×28×1 digit into a 7×7×32 encoding. How many numbers is that?", 1568,
             "7 × 7 × 32 = 1,568, twice the 784 pixels of the input.", tolerance=0.0),
    Question("So is the tutorial's 7×7×32 encoding a bottleneck?", 1,
             "1,568 > 784: the code is overcomplete; the noisy input and clean target, not the size, stop it from "
             "copying.",
             options=("yes: it compresses each digit to fewer numbers", "no: it holds more numbers than the input "
                      "(overcomplete)", "it depends on the noise factor", "yes: pooling removes the noise")),
    Question("The denoiser gains about 6 dB of PSNR over the noisy input. What happens to the root-mean-square "
             "error?", 2,
             "10·log10(1/MSE) grows by 6 dB when the MSE falls 4-fold, i.e. the RMS error halves.",
             options=("it falls by 6 %", "it falls to a sixth", "it halves", "it doubles")),
    Question("With NOISE_PER_BATCH = True, where does the training noise come from?", 3,
             "A GaussianNoise layer in front of the network adds new noise to every batch in training, as the "
             "tutorial's loop did; it is off in predict and evaluate.",
             options=("a noisy copy of the training set made once", "the test images",
                      "dropout inside the autoencoder",
                      "a GaussianNoise layer, new noise for every training batch")),
    Question("Why is the validation loss (binary cross-entropy) not close to 0 even for a good reconstruction?", 0,
             "Against grey target pixels even a perfect copy scores the pixels' own entropy: compare losses with a "
             "baseline, not with 0.",
             options=("grey target pixels give cross-entropy a floor above 0",
                      "the network is underfitting", "binary cross-entropy is always at least 0.1",
                      "the test images are noisier than the training images")),
]
