"""Notebook 11's exercises: the common wrong answers get messages that name the mistake."""

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises import nb11
from helpers.exercises.solutions import nb11 as solutions
from helpers.taught.fine_tuning import freeze_all_but



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


def blocks_of(model):
    return list(dict.fromkeys(layer.name.split("_")[0] for layer in model.layers if layer.name.startswith("block")))


def counts_layers(model, n):                # the last n layers, not the last n blocks
    return freeze_all_but(model, last=n)


def one_block_too_many(model, n):
    return freeze_all_but(model, from_layer=blocks_of(model)[-n - 1] if n < 2 else "block1")


def one_block_too_few(model, n):
    return freeze_all_but(model, from_layer=blocks_of(model)[-n + 1] if n > 1 else "pool")


def batchnorm_trains(model, n):
    return freeze_all_but(model, from_layer=blocks_of(model)[-n], keep_batchnorm_frozen=False)


def head_frozen(model, n):                  # only the blocks' own layers
    names = solutions.train_last_blocks(model, n)
    for name in ("pool", "dense"):
        model.get_layer(name).trainable = False
    return [name for name in names if name not in ("pool", "dense")]


def whole_model(model, n):
    model.trainable = False
    return []


def returns_nothing(model, n):
    solutions.train_last_blocks(model, n)


@pytest.mark.parametrize("answer, words", [
    (counts_layers, "not the last 1 blocks: freeze_all_but(model, last=1) counts layers"),
    (one_block_too_many, "off by one (one block too many)"),
    (one_block_too_few, "off by one (one block too few)"),
    (batchnorm_trains, "BatchNormalization layers among the trained blocks are trainable"),
    (head_frozen, "the head after them (pool, dense) is frozen"),
    (whole_model, "the whole model is frozen"),
    (returns_nothing, "it returned None"),
])
def test_train_last_blocks_mistakes(answer, words):
    feedback = exercises.evaluate_answer("11.1", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def test_train_last_blocks_solution_uses_the_pages_function():
    model = nb11.tiny_backbone()
    model.trainable = False
    names = solutions.train_last_blocks(model, 1)
    assert names == ["block2_conv1", "block2_conv2", "pool", "dense"]
    assert names == freeze_all_but(nb11.tiny_backbone(), from_layer="block2_")
    assert exercises.evaluate_answer("11.1", solutions.train_last_blocks).passed


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
