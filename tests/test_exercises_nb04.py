"""Notebook 04's exercises: the common wrong answers get messages that name the mistake."""

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises.solutions import nb04 as solutions


@pytest.mark.parametrize("answer, words", [
    (lambda x: x ** 2, "only x1² and x2²"),
    (lambda x: solutions.circle_features(x).T, "one row per point"),
    (lambda x: np.c_[x, x[:, 0] * x[:, 1], x[:, 0] * x[:, 1]], "XOR"),
    (lambda x: np.c_[x, x[:, :1] * x[:, 1:]], "shape"),  # x1, x2, x1·x2: three columns
    (lambda x: np.c_[x, 2 * x], "not x1 * 2"),
    (lambda x: np.c_[x, (x ** 2).sum(axis=1)], "four columns"),
    (lambda x: np.c_[x, (x[:, 0] + x[:, 1]) ** 2, (x[:, 0] - x[:, 1]) ** 2], "squared on its own"),
    (lambda x: np.c_[x, x], "is wrong"),
])
def test_circle_feature_mistakes(answer, words):
    feedback = exercises.evaluate_answer("04.1", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def test_circle_features_report_the_trained_neuron():
    feedback = exercises.evaluate_answer("04.1", solutions.circle_features)
    assert feedback.passed and any("test accuracy 1.00" in line for line in feedback.right), str(feedback)


def no_bias(x, W, b, activation):
    return solutions.dense_forward(x, W, np.zeros_like(b), activation)


def bias_after_activation(x, W, b, activation):
    return solutions.dense_forward(x, W, np.zeros_like(b), activation) + b


def transposed(x, W, b, activation):
    return solutions.dense_forward(x, W.T, b, activation) if W.shape[0] == W.shape[1] else \
        solutions.dense_forward(x, W, b, activation)


def sigmoid_sign(x, W, b, activation):
    z = x @ W + b
    return 1 / (1 + np.exp(z)) if activation == "sigmoid" else solutions.dense_forward(x, W, b, activation)


def relu_min(x, W, b, activation):
    z = x @ W + b
    return np.minimum(z, 0) if activation == "relu" else solutions.dense_forward(x, W, b, activation)


@pytest.mark.parametrize("answer, words", [
    (no_bias, "the bias is missing"),
    (bias_after_activation, "after the activation"),
    (transposed, "transposed"),
    (lambda x, W, b, activation: x @ W + b, "activation still has to be applied"),
    (sigmoid_sign, "sign is flipped"),
    (relu_min, "max(0, z)"),
    (lambda x, W, b, activation: solutions.dense_forward(x, W, b, activation).T, "one row per sample"),
    (lambda x, W, b, activation: x @ W, "x·W only"),
    (lambda x, W, b, activation: solutions.dense_forward(x, W, b, "sigmoid"), "the activation asked for is 'relu'"),
])
def test_dense_forward_mistakes(answer, words):
    feedback = exercises.evaluate_answer("04.2", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def with_biases(model, rate):
    return rate * sum(float(np.sum(np.asarray(w) ** 2)) for w in model.get_weights())


@pytest.mark.parametrize("answer, words", [
    (with_biases, "biases were included"),
    (lambda model, rate: rate * sum(float(np.sum(np.abs(layer.kernel))) for layer in model.layers), "L1"),
    (lambda model, rate: solutions.l2_penalty(model, rate) / rate, "rate is missing"),
    (lambda model, rate: rate * np.sqrt(solutions.l2_penalty(model, rate) / rate), "square root"),
    (lambda model, rate: 0.5 * solutions.l2_penalty(model, rate), "factor ½"),
    (lambda model, rate: rate * float(np.sum(np.asarray(model.layers[0].kernel) ** 2)), "first layer"),
    (lambda model, rate: np.asarray(model.layers[0].kernel), "single number"),
])
def test_l2_penalty_mistakes(answer, words):
    feedback = exercises.evaluate_answer("04.3", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)
