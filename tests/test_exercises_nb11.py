"""Notebook 11's exercises: the common wrong answers get messages that name the mistake."""

import keras
import numpy as np
import pytest

from helpers import exercises
from helpers.exercises import nb11
from helpers.exercises.solutions import nb11 as solutions

BN = keras.layers.BatchNormalization


def test_hand_worked_counts_agree_with_keras():
    model = nb11.tiny_backbone()
    assert model.count_params() == nb11.TOTAL == 987
    for layer in model.layers:
        if layer.name in nb11.LAYER_PARAMETERS:
            trainable, non_trainable = nb11.LAYER_PARAMETERS[layer.name]
            assert layer.count_params() == trainable + non_trainable, layer.name
            assert sum(int(np.prod(w.shape)) for w in layer.non_trainable_weights) == non_trainable, layer.name
        else:
            assert layer.count_params() == 0, layer.name


def whole_model(model, n):
    model.trainable = False


def only_freezes_the_front(model, n):       # BatchNormalization in the last n stays trainable
    for layer in model.layers[:-n]:
        layer.trainable = False


def forgets_the_frozen_model(model, n):     # model.trainable stays False
    for layer in model.layers[:-n]:
        layer.trainable = False
    for layer in model.layers[-n:]:
        layer.trainable = not isinstance(layer, BN)


def never_freezes_the_front(model, n):
    for layer in model.layers[-n:]:
        layer.trainable = not isinstance(layer, BN)


def unfreezes_every_batchnorm(model, n):
    solutions.freeze_all_but_last(model, n)
    for layer in model.layers:
        if isinstance(layer, BN):
            layer.trainable = True


def first_n(model, n):
    model.trainable = True
    for i, layer in enumerate(model.layers):
        layer.trainable = i < n and not isinstance(layer, BN)


@pytest.mark.parametrize("answer, words", [
    (whole_model, "whole model is frozen"),
    (only_freezes_the_front, "BatchNormalization layer(s) block2_bn among the last layers"),
    (unfreezes_every_batchnorm, "BatchNormalization"),
    (never_freezes_the_front, "early layers"),
    (lambda model, n: solutions.freeze_all_but_last(model, n + 1), "off by one (one layer too many)"),
    (lambda model, n: solutions.freeze_all_but_last(model, n - 1), "off by one (one layer too few)"),
    (first_n, "first 5 layers"),
    (forgets_the_frozen_model, "model.trainable is False"),
    (lambda model, n: None, "nothing was frozen"),
])
def test_freeze_mistakes(answer, words):
    feedback = exercises.evaluate_answer("11.1", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def test_freeze_may_return_the_model():
    def returns_model(model, n):
        solutions.freeze_all_but_last(model, n)
        return model
    assert exercises.evaluate_answer("11.1", returns_model).passed


def by_layer_flags(model):
    trainable = sum(layer.count_params() for layer in model.layers if layer.trainable)
    return trainable, model.count_params() - trainable


@pytest.mark.parametrize("answer, words", [
    (by_layer_flags, "moving mean and variance"),
    (lambda model: (model.count_params(), 0), "moving mean and variance"),
    (lambda model: solutions.count_parameters(model)[::-1], "swapped"),
    (lambda model: (len(model.trainable_weights), len(model.non_trainable_weights)), "weight arrays"),
    (lambda model: {"trainable": 1, "non_trainable": 2}, "a dict"),
    (lambda model: sum(solutions.count_parameters(model)), "pair"),
])
def test_count_parameters_mistakes(answer, words):
    feedback = exercises.evaluate_answer("11.2", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)
