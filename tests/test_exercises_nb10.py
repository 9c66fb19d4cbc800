"""Notebook 10's exercises: the common wrong answers get messages that name the mistake."""

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises import nb10
from helpers.exercises.solutions import nb10 as solutions


def test_hand_worked_errors_agree_with_numpy():
    for probabilities, labels, errors in [(nb10.THREE_CLASSES, nb10.THREE_LABELS, nb10.THREE_ERRORS),
                                          (nb10.TWO_CLASSES, nb10.TWO_LABELS, nb10.TWO_ERRORS)]:
        assert np.allclose(probabilities.sum(axis=1), 1)
        assert np.flatnonzero(probabilities.argmax(axis=1) != labels).tolist() == errors
    assert nb10.THREE_CLASSES[2].max() < 0.5   # a right prediction no 0.5 threshold finds


def threshold(column):
    return lambda p, labels: np.flatnonzero((np.asarray(p)[:, column] > 0.5).astype(int) != np.asarray(labels))


@pytest.mark.parametrize("answer, words", [
    (lambda p, labels: np.flatnonzero(np.asarray(p).max(axis=1) != labels), "compared with the labels directly"),
    (lambda p, labels: np.flatnonzero(np.asarray(p) != np.asarray(labels)[:, None]), "element by element"),
    (threshold(0), "0.5 threshold on column 0"),
    (threshold(1), "0.5 threshold on column 1"),
    (lambda p, labels: np.flatnonzero(np.asarray(p).argmax(axis=1) != labels), "one-hot"),       # integers only
    (lambda p, labels: np.flatnonzero(np.asarray(p).argmax(axis=1) != np.asarray(labels).argmax(axis=1)),
     "not one-hot"),                                                                           # one-hot only
    (lambda p, labels: np.flatnonzero(np.asarray(p).argmax(axis=0) != labels), "axis 0"),
    (lambda p, labels: np.flatnonzero(np.asarray(p).argmax(axis=1) == labels), "correctly classified"),
    (lambda p, labels: np.asarray(p).argmax(axis=1) != labels, "mask"),
    (lambda p, labels: int((np.asarray(p).argmax(axis=1) != labels).sum()), "single number"),
])
def test_find_errors_mistakes(answer, words):
    feedback = exercises.evaluate_answer("10.1", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def test_binary_threshold_on_the_wrong_column_is_named():
    def binary_only(p, labels):
        p, labels = np.asarray(p), np.asarray(labels)
        if labels.ndim == 2:
            labels = labels.argmax(axis=1)
        if p.shape[1] == 2:
            return np.flatnonzero((p[:, 0] > 0.5).astype(int) != labels)
        return solutions.find_errors(p, labels)
    feedback = exercises.evaluate_answer("10.1", binary_only)
    assert not feedback.passed and "wrong column" in feedback.problem, str(feedback)


def pooled(avg, flatten):
    return lambda maps, pooling: avg(np.asarray(maps)) if pooling == "avg" else flatten(np.asarray(maps))


FLAT = lambda m: m.reshape(len(m), -1)  # noqa: E731
MEAN = lambda m: m.mean(axis=(1, 2))    # noqa: E731


@pytest.mark.parametrize("answer, words", [
    (pooled(lambda m: m.mean(axis=0), FLAT), "over the samples"),
    (pooled(lambda m: m.mean(axis=-1), FLAT), "over the channels"),
    (pooled(lambda m: m.max(axis=(1, 2)), FLAT), "max pooling"),
    (pooled(lambda m: m.sum(axis=(1, 2)), FLAT), "divide"),
    (pooled(lambda m: m.mean(axis=(1, 2), keepdims=True), FLAT), "keepdims"),
    (pooled(MEAN, lambda m: m.reshape(-1)), "whole batch flattened"),
    (pooled(MEAN, lambda m: m.transpose(0, 3, 1, 2).reshape(len(m), -1)), "another order"),
])
def test_pool_features_mistakes(answer, words):
    feedback = exercises.evaluate_answer("10.2", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def inputs_of(shape, pooling):
    h, w, c = shape
    return c if pooling == "avg" else h * w * c


@pytest.mark.parametrize("answer, words", [
    (lambda s, p, u, k: solutions.head_parameters(s, "flatten" if p == "avg" else "avg", u, k), "as if the map"),
    (lambda s, p, u, k: inputs_of(s, p) * u + u * k, "forgot the biases"),
    (lambda s, p, u, k: inputs_of(s, p) * u + u, "output layer"),
    (lambda s, p, u, k: solutions.head_parameters(s, "flatten", u, k), "flattened"),
    (lambda s, p, u, k: 328_450, "expected"),
])
def test_head_parameters_mistakes(answer, words):
    feedback = exercises.evaluate_answer("10.3", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def test_head_parameters_match_the_notebook_figures():
    assert solutions.head_parameters((5, 5, 1280), "avg", 256, 2) == 328_450
    assert solutions.head_parameters((5, 5, 1280), "flatten", 256, 2) == 8_192_770
