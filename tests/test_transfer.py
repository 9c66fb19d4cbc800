"""Tests for helpers.transfer (feature caching, heads, errors, freezing, splitting) with tiny models."""

import numpy as np
import pytest

import helpers  # noqa: F401  (quiet TensorFlow first)
import keras
from PIL import Image

from helpers import transfer
from helpers.taught.transfer import build_head  # notebook 10's head, the model these mechanics run on
from tiny_models import tiny_cnn




@pytest.fixture
def image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for cls, n in (("cats", 3), ("dogs", 2)):
        (tmp_path / cls).mkdir()
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(tmp_path / cls / f"{cls}{i}.jpg")
    return tmp_path


def test_load_image_folder(image_folder):
    data = transfer.load_image_folder(image_folder, 16)
    assert data.images.shape == (5, 16, 16, 3) and data.images.dtype == np.uint8
    assert data.class_names == ["cats", "dogs"]
    assert data.labels.tolist() == [0, 0, 0, 1, 1]
    assert data.counts() == {"cats": 3, "dogs": 2}
    assert data.file_paths[0].endswith("cats0.jpg")
    assert "5 images" in data.describe()


def test_load_image_folder_errors(image_folder, tmp_path):
    with pytest.raises(FileNotFoundError):
        transfer.load_image_folder(tmp_path / "missing", 16)
    with pytest.raises(ValueError, match="expected"):
        transfer.load_image_folder(image_folder, 16, class_names=["ants", "bees"])


def test_extract_features_and_cache(tmp_path):
    model = tiny_cnn()
    images = np.random.default_rng(1).integers(0, 255, (7, 16, 16, 3)).astype(np.uint8)
    cache = tmp_path / "f.npz"
    feats = transfer.extract_features(model, images, preprocess=lambda b: b / 255.0, batch_size=3, cache_file=cache)
    assert feats.shape == (7, 8) and feats.dtype == np.float32
    np.testing.assert_allclose(feats, model.predict(images / 255.0, verbose=0), atol=1e-5)
    assert cache.is_file()
    np.savez(cache, features=np.zeros((7, 8), np.float32))  # the cache is what is returned next time
    assert transfer.extract_features(model, images, cache_file=cache).sum() == 0
    with pytest.raises(ValueError, match="height, width, 3"):
        transfer.extract_features(model, images[..., 0])


def test_misclassified_and_error_line():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    labels = np.array([0, 0, 1, 1])
    errors = transfer.misclassified(probs, labels, ["cats", "dogs"], ["a.jpg", "b.jpg", "c.jpg", "d.jpg"])
    assert [e.index for e in errors] == [1, 2]  # most confident first
    assert errors[0].true_label == "cats" and errors[0].predicted_label == "dogs"
    assert errors[0].title() == "Original label:b.jpg,\nPrediction :dogs, confidence : 0.800"
    assert errors[0].confidence == pytest.approx(0.8)
    assert "b.jpg" in str(errors[0])
    assert transfer.error_line(errors, 4) == "No of errors = 2/4 (accuracy 0.500)"
    with pytest.raises(ValueError):
        transfer.misclassified(probs[:, :1], labels, ["cats", "dogs"])


def test_layer_rows_split_trainable_and_frozen_parameters():
    model = tiny_cnn()
    model.get_layer("block1_conv").trainable = False
    rows = transfer.layer_rows(model)
    assert [row.name for row in rows] == [layer.name for layer in model.layers]
    assert rows[0] == ("img", "InputLayer", (None, 16, 16, 3), True, 0, 0)
    conv, bn = rows[1], rows[2]
    assert conv == ("block1_conv", "Conv2D", (None, 14, 14, 4), False, 0, 3 * 3 * 3 * 4 + 4)
    # a trainable BatchNorm: gamma, beta train; the moving mean and variance never do
    assert bn.kind == "BatchNormalization" and bn.trainable
    assert (bn.trainable_params, bn.frozen_params) == (2 * 4, 2 * 4)
    assert rows[-1].output_shape == (None, 8)
    assert [row.params for row in rows] == [layer.count_params() for layer in model.layers]
    # a nested model is one row, counted whole
    outer = keras.Sequential([keras.Input((16, 16, 3)), model, keras.layers.Dense(2, name="out")])
    nested = transfer.layer_rows(outer)
    assert [row.name for row in nested] == ["tiny", "out"]
    assert nested[0].params == model.count_params() and nested[0].output_shape == (None, 8)


def test_counts_and_tables():
    model = tiny_cnn()
    for layer in model.layers:
        layer.trainable = layer.name in ("block2_conv", "block2_bn", "block2_pool")
    counts = transfer.trainable_counts(model)
    assert counts["trainable"] == 3 * 3 * 4 * 8 + 8 + 2 * 8  # block2's convolution and its BatchNorm's gamma, beta
    assert counts["total"] == model.count_params()
    assert counts["trainable"] + counts["non_trainable"] == counts["total"]
    rows = transfer.trainable_table(model)
    assert rows[1] == ("block1_conv", "Conv2D", False, 3 * 3 * 3 * 4 + 4)
    blocks = transfer.block_table(model)
    assert [b[0] for b in blocks] == ["img", "block1", "block2"]
    assert blocks[2][1] == 3 and blocks[2][2] == transfer.trainable_counts(model)["trainable"]


def test_split_model_shares_layers():
    model = tiny_cnn()
    front, tail = transfer.split_model(model, "block2_conv")
    x = np.random.default_rng(2).random((2, 16, 16, 3)).astype(np.float32)
    assert front.output.shape[1:] == (7, 7, 4)
    np.testing.assert_allclose(tail.predict(front.predict(x, verbose=0), verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)
    kernel = model.get_layer("block2_conv").kernel
    kernel.assign(kernel * 0)  # changing the shared weight changes the tail too
    np.testing.assert_allclose(tail.get_layer("block2_conv").kernel.numpy(), 0)
    with pytest.raises(ValueError):
        transfer.split_model(model, "nope")


def test_cached_validation_callback_adds_metrics():
    head = build_head((4,), 2)
    x = np.random.default_rng(3).random((6, 4)).astype(np.float32)
    y = np.array([0, 1, 0, 1, 0, 1])
    cb = transfer.cached_validation_callback(head, x, y)
    logs = {}
    cb.on_epoch_end(0, logs)
    assert set(logs) == {"val_loss", "val_accuracy"}
    assert 0 <= logs["val_accuracy"] <= 1 and logs["val_loss"] > 0
