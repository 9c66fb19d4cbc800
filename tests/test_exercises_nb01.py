"""Notebook 01's exercises: the common wrong answers get messages that name the mistake."""

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises.core import PASSED
from helpers.exercises.solutions import nb01 as solutions


def softmax_axis0(scores):
    exps = np.exp(scores - np.max(scores))
    return exps / exps.sum(axis=0, keepdims=True)


def softmax_no_max(scores):
    exps = np.exp(scores)
    return exps / exps.sum(axis=-1, keepdims=True)


def softmax_whole_batch(scores):
    exps = np.exp(scores - np.max(scores))
    return exps / exps.sum()


@pytest.mark.parametrize("answer, words", [
    (softmax_axis0, "wrong axis in softmax"),
    (softmax_no_max, "overflows"),
    (softmax_whole_batch, "whole batch"),
    (lambda s: s / s.sum(axis=-1, keepdims=True), "without exp"),
    (lambda s: np.exp(s), "not yet divided"),
    (lambda s: np.exp(s) / np.exp(s).sum(axis=1, keepdims=True), "raised"),  # axis=1 fails on one sample's 1-D scores
])
def test_softmax_mistakes(answer, words):
    feedback = exercises.evaluate_answer("01.1", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def test_softmax_overflow_is_explained_after_the_small_cases_pass():
    feedback = exercises.evaluate_answer("01.1", softmax_no_max)
    assert len(feedback.right) == 2 and "Subtract each row's largest score" in feedback.hint, str(feedback)


@pytest.mark.parametrize("answer, words", [
    (lambda e, o: float(np.mean((e - o) ** 2)), "mean of the squared errors"),
    (lambda e, o: float(np.sum(np.abs(e - o))), "absolute errors"),
    (lambda e, o: float(np.sqrt(np.sum((e - o) ** 2))), "square root"),
    (lambda e, o: float(np.sum(e - o)), "not squared"),
    (lambda e, o: float(np.sum(e - o) ** 2), "added up first"),
    (lambda e, o: np.sum((e - o) ** 2, axis=-1), "one cost per image"),
    (lambda e, o: float(np.sum((e - o) ** 2) / len(e)) if np.ndim(e) == 2 else float(np.sum((e - o) ** 2)),
     "number of images"),
])
def test_sse_mistakes(answer, words):
    feedback = exercises.evaluate_answer("01.2", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


@pytest.mark.parametrize("answer, words", [
    (lambda w, x, y: -solutions.cost_slope(w, x, y), "sign is flipped"),
    (lambda w, x, y: float(np.sum((w * x - y) * x)), "factor 2"),
    (lambda w, x, y: float(np.mean(2 * (w * x - y) * x)), "mean over the points"),
    (lambda w, x, y: float(np.sum(2 * (w * x - y))), "inner derivative x"),
    (lambda w, x, y: float(np.sum((w * x - y) ** 2)), "cost itself"),
    (lambda w, x, y: 1.0, "expected"),
])
def test_slope_mistakes(answer, words):
    feedback = exercises.evaluate_answer("01.3", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def test_the_course_helpers_pass_the_checks():
    """activations.softmax and thirty_thousand_feet.sum_of_squared_errors (what the notebook calls) agree with the checks."""
    from helpers import activations, thirty_thousand_feet

    assert exercises.evaluate_answer("01.1", activations.softmax).status == PASSED
    assert exercises.evaluate_answer("01.2", thirty_thousand_feet.sum_of_squared_errors).status == PASSED
    assert exercises.evaluate_answer("01.3", lambda w, x, y: float(thirty_thousand_feet.one_knob_gradient(w, x, y))).status == PASSED
