"""Tests for helpers.playground: 2-D datasets, feature crosses, the fast trainer and the boundary plot."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from helpers import playground


@pytest.mark.parametrize("name", playground.DATASETS)
def test_make_dataset_shapes_dtypes_and_balance(name):
    x, y = playground.make_dataset(name, n_samples=301, seed=3)
    assert x.shape == (301, 2) and x.dtype == np.float32
    assert y.shape == (301,) and y.dtype == np.int32
    assert set(np.unique(y)) <= {0, 1}
    assert 0.3 < y.mean() < 0.7
    assert np.abs(x).max() <= playground.EXTENT


@pytest.mark.parametrize("name", playground.DATASETS)
def test_make_dataset_is_deterministic_with_a_seed(name):
    a = playground.make_dataset(name, 100, noise=0.2, label_noise=0.1, seed=7)
    b = playground.make_dataset(name, 100, noise=0.2, label_noise=0.1, seed=7)
    c = playground.make_dataset(name, 100, noise=0.2, label_noise=0.1, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_clean_datasets_follow_their_rules():
    x, y = playground.make_dataset("xor", 500, seed=0)
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] > 0).astype(np.int32))
    x, y = playground.make_dataset("circle", 500, seed=0)
    radius = np.hypot(x[:, 0], x[:, 1])
    assert radius[y == 1].max() <= 2.5 + 1e-5 and radius[y == 0].min() >= 3.5 - 1e-5
    x, y = playground.make_dataset("gaussian", 500, seed=0)
    # linearly separable by the diagonal x1 + x2 = 0 (up to rare tails)
    assert np.mean((x.sum(axis=1) > 0) == (y == 1)) > 0.99


def test_label_noise_flips_the_requested_fraction():
    x_clean, y_clean = playground.make_dataset("xor", 400, seed=5)
    x_noisy, y_noisy = playground.make_dataset("xor", 400, label_noise=0.3, seed=5)
    np.testing.assert_array_equal(x_clean, x_noisy)  # same points, only labels change
    assert np.sum(y_clean != y_noisy) == 120


@pytest.mark.parametrize("name", playground.DATASETS)
def test_noise_moves_points_but_keeps_their_labels(name):
    """The Playground's noise is point jitter: same seed, same labels, points moved (no label flipping)."""
    x_clean, y_clean = playground.make_dataset(name, 400, seed=2)
    x_noisy, y_noisy = playground.make_dataset(name, 400, noise=0.3, seed=2)
    np.testing.assert_array_equal(y_clean, y_noisy)
    assert np.abs(x_noisy - x_clean).mean() > 0.1


def test_gaussian_noise_widens_the_blobs_like_the_playground():
    x, y = playground.make_dataset("gaussian", 4000, noise=0.3, seed=0)
    centred = x - np.where(y[:, None] == 1, 2.0, -2.0)
    np.testing.assert_allclose(centred.std(), np.sqrt(0.5 + 7 * 0.3), rtol=0.05)
    # the blobs now overlap: some points lie on the other side of the diagonal
    assert 0.01 < np.mean((x.sum(axis=1) > 0) != (y == 1)) < 0.15


@pytest.mark.parametrize("kwargs, message", [
    (dict(name="moons"), "Unknown dataset"),
    (dict(name="xor", n_samples=1), "n_samples"),
    (dict(name="xor", noise=1.5), "noise"),
    (dict(name="xor", label_noise=0.7), "label_noise"),
])
def test_make_dataset_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        playground.make_dataset(**kwargs)


def test_add_features_computes_the_crosses():
    x = np.array([[1.0, 2.0], [-3.0, 0.5]], dtype=np.float32)
    f = playground.add_features(x, ("x1", "x2", "x1^2", "x2^2", "x1*x2"))
    np.testing.assert_allclose(f, [[1, 2, 1, 4, 2], [-3, 0.5, 9, 0.25, -1.5]])
    assert f.dtype == np.float32
    with pytest.raises(ValueError, match="Unknown feature"):
        playground.add_features(x, ("x3",))
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        playground.add_features(np.zeros((4, 3)), ("x1",))
    with pytest.raises(ValueError, match="at least one"):
        playground.add_features(x, ())


def test_plot_decision_boundary_draws_and_checks_predict():
    x, y = playground.make_dataset("gaussian", 50, seed=0)
    fig = playground.plot_decision_boundary(lambda p: (p.sum(axis=1) > 0).astype(float), x, y, title="t",
                                            resolution=20)
    ax = fig.axes[0]
    assert ax.get_title() == "t" and ax.get_xlim() == (-6.0, 6.0)
    with pytest.raises(ValueError, match="one probability per point"):
        playground.plot_decision_boundary(lambda p: np.zeros(3), x, y, resolution=20)
    with pytest.raises(ValueError, match="differ in length"):
        playground.plot_decision_boundary(lambda p: np.zeros(len(p)), x, y[:10], resolution=20)


def test_run_experiment_and_plot():
    result = playground.run_experiment("xor", hidden_units=4, activation="tanh", features=("x1", "x2", "x1*x2"),
                                       n_train=60, n_test=40, steps=50, seed=1)
    assert result["x_train"].shape == (60, 2) and result["x_test"].shape == (40, 2)
    assert 0.0 <= result["test_accuracy"] <= 1.0
    mags = playground.kernel_magnitudes(result["model"])
    assert [m.shape for m in mags.values()] == [(12,), (4,)]
    fig = playground.plot_experiment(result, title="x")
    assert len(fig.axes) == 2
    single = playground.run_experiment("gaussian", hidden_units=0, n_train=20, n_test=20, steps=5)
    assert single["model"].count_params() == 3
