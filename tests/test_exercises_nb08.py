"""Notebook 08's exercises: the common wrong answers get messages that name the mistake."""

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises.solutions import nb08 as solutions


def _mse(clean, other):
    return ((np.asarray(clean) - np.asarray(other)) ** 2).mean(axis=(1, 2, 3))


@pytest.mark.parametrize("answer, words", [
    (lambda a, b, m: 10 * np.log10(255 ** 2 / _mse(a, b)), "used 255"),
    (lambda a, b, m: 10 * np.log10(1 / _mse(a, b)), "forgot the largest pixel value"),
    (lambda a, b, m: 10 * np.log10(m / _mse(a, b)), "not squared"),
    (lambda a, b, m: np.log10(m ** 2 / _mse(a, b)), "factor 10 is missing"),
    (lambda a, b, m: 20 * np.log10(m ** 2 / _mse(a, b)), "20·log10"),
    (lambda a, b, m: 10 * np.log(m ** 2 / _mse(a, b)), "natural logarithm"),
    (lambda a, b, m: 10 * np.log10(_mse(a, b) / m ** 2), "upside down"),
    (lambda a, b, m: 10 * np.log10(m ** 2 / ((a - b) ** 2).sum(axis=(1, 2, 3))), "summed"),
    (lambda a, b, m: 10 * np.log10(m ** 2 / ((a - b) ** 2).mean()), "whole batch"),
    (lambda a, b, m: 10 * np.log10(m ** 2 / ((a - b) ** 2).mean(axis=0)), "wrong axis"),
    (lambda a, b, m: 10 * np.log10(m ** 2 / ((a - b) ** 2).mean(axis=-1)), "wrong axis"),
])
def test_psnr_mistakes(answer, words):
    feedback = exercises.evaluate_answer("08.1", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def test_psnr_with_rmse_and_20_log10_is_right():
    feedback = exercises.evaluate_answer("08.1", lambda a, b, m: 20 * np.log10(m / np.sqrt(_mse(a, b))))
    assert feedback.passed, str(feedback)


def _naive(y, p):
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def _clipped(p):
    return np.clip(p, 1e-7, 1 - 1e-7)


@pytest.mark.parametrize("answer, words", [
    (_naive, "log(0)"),
    (lambda y, p: -solutions.binary_crossentropy(y, p), "minus sign"),
    (lambda y, p: solutions.binary_crossentropy(p, y), "swapped"),
    (lambda y, p: -np.mean(y * np.log(_clipped(p))), "(1 − y)·log(1 − p) term is missing"),
    (lambda y, p: float(np.mean((y - p) ** 2)), "mean squared error"),
    (lambda y, p: solutions.binary_crossentropy(y, p) * np.size(y), "summed"),
    (lambda y, p: -np.mean(y * np.log2(_clipped(p)) + (1 - y) * np.log2(1 - _clipped(p))), "log base 2"),
])
def test_binary_crossentropy_mistakes(answer, words):
    feedback = exercises.evaluate_answer("08.2", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)
