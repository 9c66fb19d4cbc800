"""Tests for helpers.taught.feedforward, exported from notebook 04: the Playground's networks and their training loop."""

import keras
import numpy as np
import pytest

from helpers import playground
from helpers.taught import feedforward


def test_small_classifier_and_single_neuron():
    neuron = feedforward.single_neuron(3)
    assert neuron.count_params() == 4 and neuron.output_shape == (None, 1)
    model = feedforward.small_classifier(2, 3)
    assert model.count_params() == 2 * 3 + 3 + 3 + 1
    assert [layer.name for layer in model.layers] == ["hidden_1", "output"]
    deep = feedforward.small_classifier(5, (4, 2), activation="sigmoid", l2=0.03)
    assert deep.count_params() == (5 * 4 + 4) + (4 * 2 + 2) + (2 + 1)
    out = np.asarray(deep(np.ones((2, 5), dtype=np.float32)))
    assert out.shape == (2, 1) and np.all((out > 0) & (out < 1))
    assert len(deep.losses) == 3  # one L2 penalty per kernel
    assert not feedforward.small_classifier(2, 3).losses  # l2=0: no penalty


def test_train_full_batch_learns_gaussian():
    x, y = playground.make_dataset("gaussian", 100, seed=0)
    keras.utils.set_random_seed(0)
    neuron = feedforward.single_neuron(2)
    history = feedforward.train_full_batch(neuron, x, y, steps=100, learning_rate=0.05,
                                           validation_data=(x, y), record_every=25)
    assert history["step"] == [25, 50, 75, 100]
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_loss"] == pytest.approx(history["loss"])  # the same points
    assert keras.metrics.BinaryAccuracy(dtype="float64")(y, neuron(x)) >= 0.95
    assert list(history) == ["step", "loss", "accuracy", "val_loss", "val_accuracy"]
    with pytest.raises(ValueError, match="steps"):
        feedforward.train_full_batch(neuron, x, y, steps=0)


def test_train_full_batch_without_validation_records_the_last_step():
    x, y = playground.make_dataset("circle", 60, seed=1)
    keras.utils.set_random_seed(1)
    history = feedforward.train_full_batch(feedforward.small_classifier(2, 3, l2=0.01), x, y, steps=7, record_every=3)
    assert list(history) == ["step", "loss", "accuracy"] and history["step"] == [3, 6, 7]
