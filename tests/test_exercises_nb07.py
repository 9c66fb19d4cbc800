"""Notebook 07's exercises: the common wrong answers get messages that name the mistake."""

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises.solutions import nb07 as solutions


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _in_place(x, alpha):
    x[x < 0] *= alpha
    return x


@pytest.mark.parametrize("answer, words", [
    (lambda x, alpha: np.maximum(0, x), "that is ReLU"),
    (lambda x, alpha: np.where(x > 0, x, 0.1 * x), "alpha was ignored"),
    (lambda x, alpha: np.where(x > 0, alpha * x, x), "*positive* side"),
    (lambda x, alpha: np.minimum(alpha * x, x), "np.minimum"),
    (lambda x, alpha: np.where(x > 0, x, alpha), "constant alpha"),
    (lambda x, alpha: float(np.max(x)), "one number"),
    (_in_place, "in place"),
])
def test_leaky_relu_mistakes(answer, words):
    feedback = exercises.evaluate_answer("07.1", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


@pytest.mark.parametrize("answer, words", [
    (lambda x, alpha: (x > 0).astype(float), "ReLU's derivative"),
    (solutions.leaky_relu, "not its derivative"),
    (lambda x, alpha: np.where(x > 0, 1.0, alpha * x), "constant alpha"),
    (lambda x, alpha: np.ones_like(x), "1 everywhere"),
    (lambda x, alpha: np.where(x > 0, alpha, 1.0), "swapped"),
    (lambda x, alpha: np.where(x > 0, 1.0, 0.01), "alpha was ignored"),
])
def test_leaky_relu_derivative_mistakes(answer, words):
    feedback = exercises.evaluate_answer("07.2", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


@pytest.mark.parametrize("answer, words", [
    (lambda x: x * (1 - x), "applied to x itself"),
    (_sigmoid, "not its derivative"),
    (lambda x: 1 - _sigmoid(x) ** 2, "tanh's derivative"),
    (lambda x: 1 - np.tanh(x) ** 2, "derivative of tanh"),
    (lambda x: np.exp(-x) / (1 + np.exp(-x)), "squared"),
    (lambda x: -_sigmoid(x) * (1 - _sigmoid(x)), "wrong sign"),
])
def test_sigmoid_derivative_mistakes(answer, words):
    feedback = exercises.evaluate_answer("07.3", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)
