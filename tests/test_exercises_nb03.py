"""Notebook 03's exercises: the common wrong answers get messages that name the mistake."""

import keras
import numpy as np
import pytest
from keras import layers

from helpers import exercises
from helpers.exercises.solutions import nb03 as solutions


def mlp(n_features, hidden_units, n_outputs=1, use_bias=True):
    return keras.Sequential([keras.Input(shape=(n_features,)), layers.Dense(hidden_units, use_bias=use_bias),
                             layers.Dense(n_outputs, use_bias=use_bias)])


def forgot_the_biases(n_features, n_params):
    return mlp(n_features, n_params // (n_features + 1))     # solved n·H + H·1 = N: weights only


def forgot_the_hidden_biases(n_features, n_params):
    return mlp(n_features, (n_params - 1) // (n_features + 1))   # solved n·H + H + 1 = N


def no_input(n_features, n_params):
    return keras.Sequential([layers.Dense((n_params - 1) // (n_features + 2)), layers.Dense(1)])


def biases_switched_off(n_features, n_params):
    return mlp(n_features, 1, use_bias=False)


@pytest.mark.parametrize("answer, words", [
    (forgot_the_biases, "forgot the biases"),
    (forgot_the_hidden_biases, "bias"),
    (no_input, "keras.Input"),
    (lambda n, p: (p - 1) // (n + 2), "should return a Keras model"),
    (lambda n, p: mlp(n, (p - 1) // (n + 2), n_outputs=2), "output has shape"),
    (lambda n, p: mlp(n + 1, (p - 1) // (n + 2)), "should take"),
    (lambda n, p: keras.Sequential([keras.Input(shape=(n,)), layers.Dense(1)]), "hidden Dense layer"),
    (biases_switched_off, "use_bias=False"),
    (lambda n, p: mlp(n, 1), "expected"),
])
def test_parameter_count_mistakes(answer, words):
    feedback = exercises.evaluate_answer("03.1", answer)
    assert not feedback.passed and words in feedback.problem + feedback.hint, str(feedback)


def own_statistics(x_train, x_test):
    def scale(x):
        return (x - x.mean(axis=0)) / x.std(axis=0)
    return scale(x_train), scale(x_test)


@pytest.mark.parametrize("answer, words", [
    (own_statistics, "its own mean"),
    (lambda a, b: ((a - a.mean(axis=1, keepdims=True)) / a.std(axis=1, keepdims=True), b), "per row"),
    (lambda a, b: ((a - a.mean()) / a.std(), (b - a.mean()) / a.std()), "whole array"),
    (lambda a, b: ((a - a.mean(0)) / a.std(0, ddof=1), (b - a.mean(0)) / a.std(0, ddof=1)), "ddof=1"),
    (lambda a, b: (a - a.mean(0), b - a.mean(0)), "not divided"),
    (lambda a, b: (a / a.std(0), b / a.std(0)), "mean was not subtracted"),
    (lambda a, b: solutions.standardise(a, b)[0], "two arrays"),
    (lambda a, b: (solutions.standardise(a, b)[0], b), "the scaled test set is wrong"),
])
def test_standardise_mistakes(answer, words):
    feedback = exercises.evaluate_answer("03.2", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)
