"""Tests for helpers.activations: closed forms, tape derivatives, softmax, networks, measurements."""

import numpy as np
import pytest

from helpers import activations as A
from helpers.taught.deep_mlp import build_mlp  # notebook 07's network, the one these measurements are made on

X = np.linspace(-5, 5, 200)  # even count: never exactly 0 (the ReLU kink)


def test_known_values():
    assert A.activate("sigmoid", 0.0) == pytest.approx(0.5)
    assert A.activate("relu", [-2.0, 3.0]).tolist() == [0.0, 3.0]
    assert A.activate("leaky_relu", [-2.0, 3.0]).tolist() == pytest.approx([-0.2, 3.0])  # default slope 0.1
    assert A.activate("leaky_relu", -2.0, alpha=0.3) == pytest.approx(-0.6)
    assert A.activate("elu", -50.0) == pytest.approx(-1.0)
    assert A.activate("swish", 1.0) == pytest.approx(1.0 / (1.0 + np.exp(-1.0)))
    assert A.activate("tanh", 0.5) == pytest.approx(np.tanh(0.5))
    assert A.derivative("sigmoid", 0.0) == pytest.approx(0.25)
    assert A.derivative("relu", [-1.0, 1.0]).tolist() == [0.0, 1.0]
    assert A.derivative("linear", X).tolist() == [1.0] * len(X)
    assert np.isfinite(A.activate("sigmoid", [-1000.0, 1000.0])).all()  # no overflow


@pytest.mark.parametrize("name", A.ACTIVATION_NAMES)
def test_closed_form_derivative_matches_finite_differences(name):
    h = 1e-6
    numeric = (A.activate(name, X + h) - A.activate(name, X - h)) / (2 * h)
    np.testing.assert_allclose(A.derivative(name, X), numeric, atol=1e-6)


@pytest.mark.parametrize("name", A.ACTIVATION_NAMES)
def test_tape_derivative_matches_closed_form(name):
    np.testing.assert_allclose(A.tape_derivative(name, X), A.derivative(name, X), atol=1e-5)
    np.testing.assert_allclose(A.tape_derivative(name, X, dtype="float32"), A.derivative(name, X), atol=1e-5)


def test_alpha_is_used_by_tape_and_closed_form():
    np.testing.assert_allclose(A.tape_derivative("elu", X, alpha=0.5), A.derivative("elu", X, alpha=0.5), atol=1e-12)
    assert A.derivative("prelu", -1.0, alpha=0.25) == pytest.approx(0.25)


def test_softmax_sums_to_one_and_keeps_order():
    p = A.softmax([4.0, -0.5, 0.2])
    assert p.shape == (3,)
    assert np.isclose(p.sum(), 1.0)
    assert np.all((p > 0) & (p < 1))
    assert list(np.argsort(p)) == [1, 2, 0]
    np.testing.assert_allclose(np.round(p, 2), [0.97, 0.01, 0.02])


def test_softmax_batches_and_large_scores():
    p = A.softmax(np.array([[1000.0, 0.0, 0.0], [1.0, 1.0, 1.0]]))
    np.testing.assert_allclose(p.sum(axis=1), [1.0, 1.0])
    np.testing.assert_allclose(p[1], [1 / 3] * 3)
    assert np.isfinite(p).all()


def test_softmax_and_jacobian():
    p = A.softmax([2.0, 1.0, 0.1])
    assert p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(p, [0.659001, 0.242433, 0.098566], atol=1e-6)
    assert A.softmax([1000.0, 0.0])[0] == pytest.approx(1.0)  # stable
    for v in ([2.0, 1.0, 0.1], [-3.0, 0.5, 4.0, 1.0]):
        jac = A.softmax_jacobian(v)
        np.testing.assert_allclose(jac.sum(axis=0), 0.0, atol=1e-12)  # probabilities keep summing to 1
        np.testing.assert_allclose(A.tape_softmax_jacobian(v), jac, atol=1e-10)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="Unknown activation 'relu6'.*leaky_relu"):
        A.activate("relu6", X)
    with pytest.raises(ValueError, match="softmax"):
        A.derivative("softmax", X)
    with pytest.raises(ValueError, match="0 <= alpha < 1"):
        A.activate("leaky_relu", X, alpha=1.5)
    with pytest.raises(ValueError, match="alpha > 0"):
        A.activate("elu", X, alpha=0.0)
    with pytest.raises(ValueError, match="shape \\(n,\\)"):
        A.softmax_jacobian(np.ones((2, 3)))
    with pytest.raises(ValueError, match="No gradient norms"):
        A.plot_gradient_norms({})


def test_plots_return_figures():
    import matplotlib.pyplot as plt

    fig = A.plot_activation("leaky_relu", 0.2)
    assert len(fig.axes) == 2 and "0.2" in fig.axes[0].get_title()
    fig2 = A.plot_gradient_norms({"sigmoid": [1e-6, 1e-3], "relu": [0.1, 0.1]})
    assert fig2.axes[0].get_yscale() == "log"
    plt.close("all")


def test_activation_layer_slopes():
    layer = A.activation_layer("leaky_relu", 0.1)
    out = np.asarray(layer(np.array([[-1.0, 2.0]], dtype=np.float32)))
    np.testing.assert_allclose(out, [[-0.1, 2.0]], rtol=1e-6)
    prelu = A.activation_layer("prelu", 0.25)
    np.testing.assert_allclose(np.asarray(prelu(np.array([[-1.0, 2.0]], dtype=np.float32))), [[-0.25, 2.0]], rtol=1e-6)
    assert len(prelu.trainable_weights) == 1  # the slope is learned


def test_gradient_norms_vanish_with_sigmoid_not_relu():
    import keras

    rng = np.random.default_rng(0)
    x = rng.random((64, 20)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    ratios = {}
    for name in ("sigmoid", "relu"):
        keras.utils.set_random_seed(0)
        model = build_mlp(name, hidden_layers=8, units=32, input_dim=20, num_classes=3)
        norms = A.layer_gradient_norms(model, x, y)
        assert norms.shape == (8,) and (norms > 0).all()
        ratios[name] = norms[0] / norms[-1]
    assert ratios["sigmoid"] < 1e-2 < ratios["relu"]


def test_dead_unit_share():
    import keras

    model = build_mlp("relu", hidden_layers=2, units=4, input_dim=3, num_classes=2)
    dense1 = model.get_layer("dense_1")
    kernel, bias = dense1.get_weights()
    bias[:] = [-100.0, -100.0, 100.0, 100.0]  # two units can never fire for inputs in [0, 1]
    dense1.set_weights([kernel, bias])
    x = np.random.default_rng(0).random((50, 3)).astype(np.float32)
    share = A.dead_unit_share(model, x)
    assert share.shape == (2,)
    assert share[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="build_mlp"):
        A.dead_unit_share(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]), x)


def _mlp_with_negative_units(name):
    """2 hidden layers of 4 units; units 0 and 1 of layer 1 get a bias of -100 (weighted input < 0 for x in [0, 1])."""
    import keras

    keras.utils.set_random_seed(0)
    model = build_mlp(name, hidden_layers=2, units=4, input_dim=3, num_classes=2)
    dense1 = model.get_layer("dense_1")
    kernel, bias = dense1.get_weights()
    bias[:] = [-100.0, -100.0, 100.0, 100.0]
    dense1.set_weights([kernel, bias])
    return model


def test_leaky_relu_unit_with_negative_outputs_is_not_dead():
    import keras

    x = np.random.default_rng(0).random((50, 3)).astype(np.float32)
    relu = _mlp_with_negative_units("relu")
    leaky = _mlp_with_negative_units("leaky_relu")
    # both have two units whose weighted input is negative for every sample ...
    assert A.inactive_unit_share(relu, x)[0] == pytest.approx(0.5)
    assert A.inactive_unit_share(leaky, x)[0] == pytest.approx(0.5)
    first_activation = keras.Model(leaky.inputs[0], leaky.get_layer("act_1").output)
    assert (np.asarray(first_activation(x))[:, :2] < 0).all()  # leaky outputs: small negative values
    # ... but only the ReLU units pass back no gradient: the leaky ones still have slope alpha
    assert A.dead_unit_share(relu, x)[0] == pytest.approx(0.5)
    assert A.dead_unit_share(leaky, x).tolist() == [0.0, 0.0]
    assert A.dead_unit_share(_mlp_with_negative_units("prelu"), x).tolist() == [0.0, 0.0]
    # ELU and swish saturate: at z = -100 their slope (alpha e^z, about 1e-44) is 0 in float32, so they are dead too
    assert A.dead_unit_share(_mlp_with_negative_units("elu"), x)[0] == pytest.approx(0.5)


def test_dead_unit_share_uses_every_sample():
    """A ReLU unit that fires for a single sample of many is alive (the gradient check spans chunks of 1024)."""
    model = build_mlp("relu", hidden_layers=1, units=2, input_dim=1, num_classes=2)
    dense = model.get_layer("dense_1")
    dense.set_weights([np.array([[1.0, -1.0]], dtype=np.float32), np.zeros(2, dtype=np.float32)])
    x = -np.ones((2000, 1), dtype=np.float32)
    assert A.dead_unit_share(model, x).tolist() == [0.5]   # unit 0 never fires, unit 1 always does
    x[1500] = 1.0
    assert A.dead_unit_share(model, x).tolist() == [0.0]   # one sample (in the second chunk) revives unit 0
