"""Tests for helpers.taught.keras_basics, exported from notebook 03: the tutorial's linear regression network."""

import numpy as np

from helpers.taught.keras_basics import linear_regression


def test_one_dense_unit_on_13_features_has_14_parameters():
    model = linear_regression(13)
    assert model.name == "linear_regression"
    assert [layer.name for layer in model.layers] == ["dense"]
    assert model.count_params() == 14 and model.output_shape == (None, 1)
    np.testing.assert_array_equal(model.get_layer("dense").bias.numpy(), [0.0])   # Keras's usual start


def test_bias_start_and_name():
    model = linear_regression(3, bias_start=22.5, name="with_adam")
    assert model.name == "with_adam" and model.count_params() == 4
    x = np.zeros((2, 3), dtype=np.float32)
    np.testing.assert_allclose(np.asarray(model(x)), [[22.5], [22.5]])   # zero features: the prediction is the bias
