"""Notebook 05's exercises: the common wrong answers get messages that name the mistake."""

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises.solutions import nb05 as solutions


def weights_only(n_inputs, hidden_units, n_outputs):
    sizes = [n_inputs, *hidden_units, n_outputs]
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def no_output_layer(n_inputs, hidden_units, n_outputs):
    return solutions.dense_parameter_count(n_inputs, hidden_units[:-1], hidden_units[-1])


def bias_per_input(n_inputs, hidden_units, n_outputs):
    sizes = [n_inputs, *hidden_units, n_outputs]
    return sum(a * b + a for a, b in zip(sizes[:-1], sizes[1:]))


@pytest.mark.parametrize("answer, words", [
    (weights_only, "forgot the biases"),
    (no_output_layer, "output layer"),
    (bias_per_input, "per *input*"),
    (lambda a, h, o: 669_706, "expected"),
])
def test_parameter_count_mistakes(answer, words):
    feedback = exercises.evaluate_answer("05.1", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


@pytest.mark.parametrize("answer, words", [
    (lambda labels, n: np.asarray(labels), "not one-hot"),
    (lambda labels, n: solutions.one_hot(labels, n).T, "swapped"),
    (lambda labels, n: solutions.one_hot(np.asarray(labels) - 1, n), "off-by-one"),
    (lambda labels, n: solutions.one_hot((np.asarray(labels) + 1) % n, n), "off-by-one"),
    (lambda labels, n: solutions.one_hot(labels, 10), "2"),  # hard-coded 10 classes
])
def test_one_hot_mistakes(answer, words):
    feedback = exercises.evaluate_answer("05.2", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)
