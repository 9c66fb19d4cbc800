"""Tests for helpers.taught.transfer, exported from notebook 10: the IBM talk's scratch CNN and the tutorials' head."""

import numpy as np
import pytest

import helpers  # noqa: F401  (quiet TensorFlow first)
import keras
from keras import layers

from helpers.taught.transfer import build_head, build_scratch_cnn


def _layers(model):
    """(type, output shape, parameters) of every layer: what two ways of writing one network must share."""
    return [(type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers]


# --- the scratch baseline -----------------------------------------------------------------------------------------
def test_shapes_at_150_match_the_talk():
    model = build_scratch_cnn(150)
    assert model.get_layer("pool3").output.shape[1:] == (17, 17, 64)
    assert model.get_layer("flatten").output.shape[1:] == (18496,)
    assert model.output_shape[1:] == (1,)
    conv = 3 * 3 * 3 * 32 + 32 + 3 * 3 * 32 * 32 + 32 + 3 * 3 * 32 * 64 + 64
    assert model.count_params() == conv + 18496 * 64 + 64 + 65 == 1_212_513
    assert model.name == "scratch_cnn"


def test_builder_matches_the_talks_sequential_code():
    talk = keras.Sequential([keras.Input((150, 150, 3)), layers.Rescaling(1 / 255)]
                            + [layer for f in (32, 32, 64)
                               for layer in (layers.Conv2D(f, 3, activation="relu"), layers.MaxPooling2D(2))]
                            + [layers.Flatten(), layers.Dense(64, activation="relu"), layers.Dropout(0.5),
                               layers.Dense(1, activation="sigmoid")])
    assert _layers(build_scratch_cnn(150)) == _layers(talk)


def test_small_model_trains_one_step():
    model = build_scratch_cnn(32)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])   # as notebook 10 compiles it (the talk's optimizer='rmsprop')
    x = np.random.default_rng(0).integers(0, 255, (4, 32, 32, 3)).astype(np.float32)
    history = model.fit(x, np.array([0, 1, 0, 1]), epochs=1, verbose=0)
    assert set(history.history) >= {"loss", "accuracy"}
    p = model.predict(x, verbose=0)
    assert p.shape == (4, 1) and np.all((p >= 0) & (p <= 1))


def test_too_small_input():
    with pytest.raises(ValueError, match="at least 22"):
        build_scratch_cnn(16)


# --- the head -----------------------------------------------------------------------------------------------------
def test_build_head_shapes_and_counts():
    head = build_head((7, 7, 512), 3)
    assert head.output_shape[1:] == (3,)
    assert head.count_params() == 7 * 7 * 512 * 256 + 256 + 256 * 3 + 3
    flat = build_head((1280,), 2, name="h")
    assert [layer.name for layer in flat.layers] == ["h_dense", "h_dropout", "h_output"]
    averaged = build_head((5, 5, 1280), 2, hidden_units=1024, pooling="avg")
    assert averaged.layers[0].name == "head_avg" and averaged.count_params() == 1280 * 1024 + 1024 + 1024 * 2 + 2
    with pytest.raises(ValueError):
        build_head((10,), 1)
    with pytest.raises(ValueError, match="pooling"):
        build_head((5, 5, 8), 2, pooling="max")


def test_build_head_matches_the_tutorials_sequential_code():
    """The head as the tutorial writes it (models.Sequential, Dense 256 -> Dropout -> softmax) is the builder's."""
    tutorial = keras.Sequential([keras.Input((7, 7, 512)), layers.Flatten(), layers.Dense(256, activation="relu"),
                                 layers.Dropout(0.5), layers.Dense(3, activation="softmax")])
    head = build_head((7, 7, 512), 3)
    assert _layers(head) == _layers(tutorial) and head.count_params() == 6_423_555
