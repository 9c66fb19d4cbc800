"""Tests for helpers.models.scratch_cnn (the IBM talk's 3-convolution baseline)."""

import numpy as np
import pytest

import helpers  # noqa: F401
from helpers.models import scratch_cnn


def test_shapes_at_150_match_the_talk():
    model = scratch_cnn.build_scratch_cnn(150)
    assert model.get_layer("pool3").output.shape[1:] == (17, 17, 64)
    assert model.get_layer("flatten").output.shape[1:] == (18496,)
    assert model.output_shape[1:] == (1,)
    conv = 3 * 3 * 3 * 32 + 32 + 3 * 3 * 32 * 32 + 32 + 3 * 3 * 32 * 64 + 64
    assert model.count_params() == conv + 18496 * 64 + 64 + 65


def test_builder_matches_the_talks_sequential_code():
    import keras
    from keras import layers

    from helpers import checks

    page = keras.Sequential([keras.Input((150, 150, 3)), layers.Rescaling(1 / 255)]
                            + [layer for f in (32, 32, 64)
                               for layer in (layers.Conv2D(f, 3, activation="relu"), layers.MaxPooling2D(2))]
                            + [layers.Flatten(), layers.Dense(64, activation="relu"), layers.Dropout(0.5),
                               layers.Dense(1, activation="sigmoid")])
    assert checks.expect_same_architecture(page, scratch_cnn.build_scratch_cnn(150), "scratch CNN") == 1_212_513


def test_small_model_trains_one_step():
    model = scratch_cnn.compile_scratch_cnn(scratch_cnn.build_scratch_cnn(32))
    x = np.random.default_rng(0).integers(0, 255, (4, 32, 32, 3)).astype(np.float32)
    history = model.fit(x, np.array([0, 1, 0, 1]), epochs=1, verbose=0)
    assert set(history.history) >= {"loss", "accuracy"}
    p = model.predict(x, verbose=0)
    assert p.shape == (4, 1) and np.all((p >= 0) & (p <= 1))


def test_too_small_input():
    with pytest.raises(ValueError, match="at least 22"):
        scratch_cnn.build_scratch_cnn(16)
