"""Tests for helpers.taught.cnn (exported from notebook 06): the tutorial's CIFAR-10 CNN, the book's MNIST CNNs, augmentation."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers.taught import cnn  # noqa: E402


def test_cifar10_cnn_matches_the_tutorial_summary():
    model = cnn.create_model()
    assert model.count_params() == 276_138
    assert cnn.layer_table(model) == cnn.CIFAR10_CNN_LAYERS
    assert model.output_shape == (None, 10)


def test_augmentation_adds_no_parameters_and_is_off_at_inference():
    model = cnn.create_model(augmentation=cnn.augmentation_block(seed=0))
    assert model.count_params() == 276_138
    assert cnn.layer_table(model) == cnn.CIFAR10_CNN_LAYERS
    block = cnn.augmentation_block(seed=0)
    x = np.random.default_rng(0).random((4, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(block(x, training=False)), x)
    changed = np.asarray(block(x, training=True))
    assert changed.shape == x.shape and not np.allclose(changed, x)


def test_augmentation_block_layers_and_errors():
    block = cnn.augmentation_block()
    assert [type(layer).__name__ for layer in block.layers] == ["RandomFlip", "RandomTranslation"]
    assert block.layers[0].get_config()["mode"] == "horizontal"
    assert block.layers[1].get_config()["height_factor"] == 0.1
    assert [type(layer).__name__ for layer in cnn.augmentation_block(flip=None).layers] == ["RandomTranslation"]
    with pytest.raises(ValueError, match="needs a flip or a translation"):
        cnn.augmentation_block(flip=None, translation=0.0)


@pytest.mark.parametrize("variant, params, conv_shape", [
    ("two_conv", 1_199_882, (24, 24, 64)),
    ("one_conv", 924_374, (24, 24, 64)),
])
def test_mnist_cnns_match_the_book(variant, params, conv_shape):
    model = cnn.build_mnist_cnn(variant)
    assert model.count_params() == params == cnn.MNIST_CNN_PARAMS[variant]
    last_conv = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]
    assert tuple(last_conv.output.shape[1:]) == conv_shape
    assert model.get_layer("flatten_1").output.shape[1] == 9216


def test_mnist_cnn_bad_variant():
    with pytest.raises(ValueError, match="two_conv"):
        cnn.build_mnist_cnn("lenet")


def test_cifar10_cnn_predicts_probabilities():
    model = cnn.create_model()
    probs = model.predict(np.zeros((2, 32, 32, 3), "float32"), verbose=0)
    assert probs.shape == (2, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
