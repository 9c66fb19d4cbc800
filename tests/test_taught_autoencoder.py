"""Tests for helpers.taught.autoencoder, exported from notebook 08: the 5-3-5 and the tutorial's denoising autoencoder,
the training noise block."""

import numpy as np
import pytest

from helpers.taught import autoencoder as ae


def _encoder_of(model):
    """The encoder half of the denoiser: its input to the layer named "encoding"."""
    import keras

    return keras.Model(model.inputs[0], model.get_layer("encoding").output, name="encoder")


def test_vanilla_5_3_5():
    model = ae.build_vanilla_autoencoder()
    assert model.get_layer("bottleneck").output.shape[1:] == (3,)
    assert model.output_shape == (None, 5)
    assert model.count_params() == (5 * 3 + 3) + (3 * 5 + 5)  # 38
    with pytest.raises(ValueError, match="positive"):
        ae.build_vanilla_autoencoder(bottleneck=0)


def test_conv_denoiser_shapes_and_parameters():
    model = ae.build_conv_denoising_autoencoder()
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert shapes["conv1"] == (28, 28, 32)
    assert shapes["pool1"] == (14, 14, 32)
    assert shapes["conv2"] == (14, 14, 32)
    assert shapes["encoding"] == (7, 7, 32)
    assert int(np.prod(shapes["encoding"])) == 1568
    assert shapes["conv3"] == (7, 7, 32)
    assert shapes["upsample1"] == (14, 14, 32)
    assert shapes["upsample2"] == (28, 28, 32)
    assert shapes["logits"] == (28, 28, 1)
    assert shapes["recon"] == (28, 28, 1)
    # conv1 320, conv2/conv3/upsample1/upsample2 9,248 each, logits 289
    assert model.count_params() == 320 + 4 * 9248 + 289 == 37601
    assert model.get_layer("conv1_act").negative_slope == pytest.approx(0.1)
    encoder = _encoder_of(model)
    assert encoder.output_shape == (None, 7, 7, 32)
    out = np.asarray(model(np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)))
    assert out.shape == (2, 28, 28, 1) and out.min() > 0 and out.max() < 1


def test_conv_denoiser_relu_and_other_sizes():
    model = ae.build_conv_denoising_autoencoder(input_shape=(32, 32, 3), filters=8, activation="relu")
    assert model.output_shape == (None, 32, 32, 3)
    assert _encoder_of(model).output_shape == (None, 8, 8, 8)
    assert type(model.get_layer("conv2_act")).__name__ == "ReLU"


def test_conv_denoiser_bad_arguments():
    with pytest.raises(ValueError, match="Unknown activation 'tanh'"):
        ae.build_conv_denoising_autoencoder(activation="tanh")
    with pytest.raises(ValueError, match="multiples of 4"):
        ae.build_conv_denoising_autoencoder(input_shape=(30, 30, 1))
    with pytest.raises(ValueError, match="height, width, channels"):
        ae.build_conv_denoising_autoencoder(input_shape=(28, 28))
    with pytest.raises(ValueError, match="alpha"):
        ae.build_conv_denoising_autoencoder(alpha=1.5)


def test_training_noise_is_new_for_every_batch_and_off_in_inference():
    layer = ae.build_training_noise(0.5, seed=1)
    x = np.random.default_rng(0).random((64, 28, 28, 1)).astype(np.float32)
    first, second = (np.asarray(layer(x, training=True)) for _ in range(2))
    assert first.min() >= 0.0 and first.max() <= 1.0             # clipped like the tutorial's np.clip
    assert not np.allclose(first, second)                         # a new draw for every call (batch)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)  # inference: unchanged
    # same distribution as the fixed noise of helpers.preprocessing.add_gaussian_noise (mid-grey pixels)
    from helpers import preprocessing

    grey = np.full((256, 28, 28, 1), 0.5, dtype=np.float32)
    noise = np.asarray(layer(grey, training=True)) - 0.5
    fixed = preprocessing.add_gaussian_noise(grey, 0.5, seed=0) - 0.5
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - fixed.std()) < 0.01   # both about 0.36 after clipping
    with pytest.raises(ValueError, match="noise_factor"):
        ae.build_training_noise(-1.0)


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
def test_training_noise_in_fit_draws_per_batch():
    """fit() on clean images through the noise layer: the loss is that of noisy inputs, evaluate() sees clean ones."""
    import keras

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((32, 4, 4, 1)).astype(np.float32)
    identity = keras.Sequential([keras.Input((4, 4, 1)), ae.build_training_noise(0.5, seed=0)])
    identity.compile(loss="mse")
    history = identity.fit(x, x, epochs=2, batch_size=8, verbose=0)
    assert history.history["loss"][0] > 0.01 and history.history["loss"][0] != history.history["loss"][1]
    assert identity.evaluate(x, x, verbose=0) == pytest.approx(0.0)
