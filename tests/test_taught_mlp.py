"""Tests for helpers.taught.mlp, exported from notebook 05: the tutorial's MLP and the low-level TensorFlow network."""

import numpy as np
import pytest

from helpers.taught import mlp


def test_tutorial_mlp_has_the_tutorials_669706_parameters():
    model = mlp.tutorial_mlp()
    assert model.count_params() == 669_706 == mlp.mlp_parameter_count()
    assert [layer.name for layer in model.layers] == ["hidden_1", "hidden_2", "output"]
    assert model.output_shape == (None, 10)
    probs = np.asarray(model(np.zeros((3, 784), dtype=np.float32)))
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_dropout_version_adds_layers_but_no_parameters():
    model = mlp.tutorial_mlp(dropout=0.5)
    assert model.count_params() == 669_706
    assert [layer.name for layer in model.layers] == ["hidden_1", "dropout_1", "hidden_2", "dropout_2", "output"]
    assert model.get_layer("dropout_1").rate == 0.5


@pytest.mark.parametrize("layers, units", [(0, 512), (1, 256), (3, 64)])
def test_parameter_count_formula_matches_keras(layers, units):
    model = mlp.tutorial_mlp(hidden_layers=layers, hidden_units=units, activation="tanh")
    assert model.count_params() == mlp.mlp_parameter_count(784, layers, units, 10)


def test_every_activation_the_parameters_allow_builds():
    for activation in mlp.ACTIVATIONS:
        assert mlp.tutorial_mlp(hidden_layers=1, hidden_units=4, activation=activation).count_params() == 3190


def test_lowlevel_network_shapes_and_training():
    net = mlp.DenseSoftmaxNet(input_dim=20, hidden_units=16, num_classes=3, init_stddev=None, seed=0)
    assert sorted(tuple(v.shape) for v in net.trainable_variables) == [(3,), (16,), (16, 3), (20, 16)]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 20)).astype(np.float32)
    labels = np.argmax(x[:, :3], axis=1)  # a learnable rule
    y = np.eye(3, dtype=np.float32)[labels]
    before = float(mlp.loss_fn(net, x, y, l2=0.0))
    history = mlp.train_sgd(net, x[:240], y[:240], x[240:], y[240:], steps=150, batch_size=32,
                            learning_rate=0.1, l2=1e-4, eval_every=50, verbose=False)
    assert history["step"] == [0, 50, 100, 149]
    assert float(mlp.loss_fn(net, x, y, l2=0.0)) < before
    assert history["val_accuracy"][-1] > 0.7
    assert net.predict(x[:5]).shape == (5, 3)
    assert net.class_templates().shape == (20, 3)
    same = mlp.DenseSoftmaxNet(input_dim=20, hidden_units=16, num_classes=3, init_stddev=None, seed=0)
    again = mlp.DenseSoftmaxNet(input_dim=20, hidden_units=16, num_classes=3, init_stddev=None, seed=0)
    np.testing.assert_array_equal(same.weights[0].numpy(), again.weights[0].numpy())
    softmax_regression = mlp.DenseSoftmaxNet(input_dim=20, hidden_units=0, num_classes=3)
    assert len(softmax_regression.trainable_variables) == 2
    with pytest.raises(ValueError, match="batch_size"):
        mlp.train_sgd(net, x[:10], y[:10], x, y, steps=1, batch_size=64)


def test_accuracy_compares_arg_maxes():
    assert mlp.accuracy([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], [[1, 0], [0, 1], [0, 1]]) == pytest.approx(2 / 3)
