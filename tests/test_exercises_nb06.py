"""Notebook 06's exercises: the common wrong answers get messages that name the mistake."""

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises.solutions import nb06 as solutions


@pytest.mark.parametrize("answer, words", [
    (lambda w, f, stride=1, padding=0: (w - f + 2 * padding) // stride, "off by one"),
    (lambda w, f, stride=1, padding=0: (w - f + 2 * padding) // stride + 2, "off by one"),
    (lambda w, f, stride=1, padding=0: (w - f) // stride + 1, "padding was left out"),
    (lambda w, f, stride=1, padding=0: (w - f + padding) // stride + 1, "one side only"),
    (lambda w, f, stride=1, padding=0: w - f + 2 * padding + 1, "stride was ignored"),
    (lambda w, f, stride=1, padding=0: 12, "expected"),
])
def test_output_size_mistakes(answer, words):
    feedback = exercises.evaluate_answer("06.1", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def test_output_size_accepts_a_whole_float():
    feedback = exercises.evaluate_answer("06.1", lambda w, f, stride=1, padding=0: (w - f + 2 * padding) / stride + 1)
    assert feedback.passed, str(feedback)


@pytest.mark.parametrize("answer, words", [
    (lambda k, c, n: k * k * c * n, "forgot the biases"),
    (lambda k, c, n: k * k * n + n, "forgot the input channels"),
    (lambda k, c, n: k * c * n + n, "kernel_size²"),
    (lambda k, c, n: k * k * c * n + c, "per *input channel*"),
    (lambda k, c, n: 896, "expected"),
])
def test_parameter_count_mistakes(answer, words):
    feedback = exercises.evaluate_answer("06.2", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def _same_padding(image, kernel):
    kh, kw = np.shape(kernel)
    padded = np.pad(np.asarray(image, float), ((kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2)))
    return solutions.cross_correlate(padded, kernel)


def _in_place(image, kernel):
    image *= 2
    return solutions.cross_correlate(image, kernel) / 2


@pytest.mark.parametrize("answer, words", [
    (lambda image, kernel: solutions.cross_correlate(image, np.asarray(kernel)[::-1, ::-1]), "flipped the kernel"),
    (_same_padding, "'same' padding"),
    (lambda image, kernel: solutions.cross_correlate(image, kernel)[:-1], "off by one"),
    (lambda image, kernel: solutions.cross_correlate(image, kernel).T, "swapped"),
    (lambda image, kernel: solutions.cross_correlate(image, np.asarray(kernel).T), "transposed"),
    (lambda image, kernel: solutions.cross_correlate(image, kernel).ravel(), "2-D"),
    (_in_place, "changed its inputs"),
])
def test_cross_correlation_mistakes(answer, words):
    feedback = exercises.evaluate_answer("06.3", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)
