"""Notebook 02's exercises: the common wrong answers get messages that name the mistake."""

import numpy as np
import pytest
from packaging.version import Version

from helpers import exercises
from helpers.exercises import nb02
from helpers.exercises.solutions import nb02 as solutions


def test_version_cases_agree_with_packaging():
    """The hand-written answers of 02.1's check are what pip's own version rules say."""
    for installed, minimum, right in nb02.VERSION_CASES:
        assert (Version(installed) >= Version(minimum)) is right, (installed, minimum)


def as_tuples(installed, minimum):
    return tuple(map(int, installed.split("."))) >= tuple(map(int, minimum.split(".")))


@pytest.mark.parametrize("answer, words", [
    (lambda installed, minimum: installed >= minimum, "compared as text"),
    (lambda installed, minimum: float(installed.rsplit(".", installed.count(".") - 1)[0])
     >= float(minimum.rsplit(".", minimum.count(".") - 1)[0]), "decimal numbers"),
    (as_tuples, "pad the shorter"),
    (lambda installed, minimum: Version(installed) > Version(minimum), "equal to the minimum"),
    (lambda installed, minimum: "yes" if Version(installed) >= Version(minimum) else "no", "True or False"),
    (lambda installed, minimum: int(installed.split(".")[0]) >= int(minimum.split(".")[0]), "expected"),
])
def test_meets_minimum_mistakes(answer, words):
    feedback = exercises.evaluate_answer("02.1", answer)
    assert not feedback.passed and words.lower() in (feedback.problem + feedback.hint).lower(), str(feedback)


def unclipped(y, p, epsilon):
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def clipped_below_only(y, p, epsilon):
    p = np.maximum(p, epsilon)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


@pytest.mark.parametrize("answer, words", [
    (unclipped, "not clipped"),
    (clipped_below_only, "p = 1 for a true 0"),
    (lambda y, p, e: solutions.clipped_binary_crossentropy(y, p, 1e-7), "Keras's default"),
    (lambda y, p, e: -solutions.clipped_binary_crossentropy(y, p, e), "minus sign"),
    (lambda y, p, e: solutions.clipped_binary_crossentropy(y, p, e) / np.log(10), "log10"),
    (lambda y, p, e: -(y * np.log(np.clip(p, e, 1 - e))), "(1 − y)·log(1 − p) term is missing"),
    (lambda y, p, e: float(np.mean(solutions.clipped_binary_crossentropy(y, p, e))), "one loss per sample"),
])
def test_binary_crossentropy_mistakes(answer, words):
    feedback = exercises.evaluate_answer("02.2", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def test_binary_crossentropy_check_leaves_keras_epsilon_alone():
    import keras

    before = keras.config.epsilon()
    exercises.evaluate_answer("02.2", solutions.clipped_binary_crossentropy)
    exercises.evaluate_answer("02.2", unclipped)
    assert keras.config.epsilon() == before


@pytest.mark.parametrize("answer, words", [
    (lambda n, k, m, s: n * k * m / s / 1e9, "only the multiplications"),
    (lambda n, k, m, s: 2 * n * k * m / s / 1e6, "MFLOP/s"),
    (lambda n, k, m, s: 2 * n * k * m * s / 1e9, "multiplied by the time"),
    (lambda n, k, m, s: 2 * n * k * m / s, "not turned into GFLOP/s"),
    (lambda n, k, m, s: 2 * n ** 3 / s / 1e9, "only for square matrices"),
])
def test_gflops_mistakes(answer, words):
    feedback = exercises.evaluate_answer("02.3", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)
