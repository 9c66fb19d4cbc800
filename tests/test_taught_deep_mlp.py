"""Tests for helpers.taught.deep_mlp, exported from notebook 07: the MLP with a named activation after every layer."""

import numpy as np
import pytest

from helpers.activations import ACTIVATION_NAMES
from helpers.taught.deep_mlp import build_mlp


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_build_mlp_every_activation(name):
    model = build_mlp(name, hidden_layers=2, units=8, input_dim=6, num_classes=3)
    out = model(np.zeros((4, 6), dtype=np.float32))
    assert tuple(out.shape) == (4, 3)
    np.testing.assert_allclose(np.asarray(out).sum(axis=1), 1.0, atol=1e-5)
    # 6*8+8 + 8*8+8 + 8*3+3 (+ 8 slopes per PReLU layer)
    assert model.count_params() == 155 + (16 if name == "prelu" else 0)


def test_layer_and_model_names_are_the_ones_the_measurements_look_for():
    model = build_mlp("relu", hidden_layers=10, units=64)
    assert model.name == "mlp_relu_10x64"
    assert model.count_params() == 88_330   # notebook 07, section 6: 10 layers of 64 units on 784 pixels
    assert [layer.name for layer in model.layers] == (
        ["pixels"] + [name for i in range(1, 11) for name in (f"dense_{i}", f"act_{i}")] + ["output"])


def test_bad_sizes_and_names_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        build_mlp("relu", hidden_layers=0)
    with pytest.raises(ValueError, match="Unknown activation 'relu6'"):
        build_mlp("relu6")
