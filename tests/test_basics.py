"""Tests for helpers.basics (notebook 01's NumPy building blocks)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from PIL import Image

from helpers import basics
from helpers.taught.descent import gradient_descent  # notebook 01's loop, drawn by plot_descent_runs


def test_sum_of_squared_errors_tutorial_number():
    assert basics.sum_of_squared_errors((1, 0, 0), (0.37, 0.5, 0.13)) == pytest.approx(0.6638)
    assert basics.sum_of_squared_errors([[1, 0], [0, 1]], [[1, 0], [0, 1]]) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        basics.sum_of_squared_errors((1, 0, 0), (1, 0))


def test_resize_crop_gray_steps_on_synthetic_image():
    img = np.random.default_rng(0).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    resized = basics.resize_short_side(img, 256)
    assert resized.shape == (256, 427, 3) and resized.dtype == np.uint8
    cropped = basics.center_crop(resized, 256)
    assert cropped.shape == (256, 256, 3)
    np.testing.assert_array_equal(cropped, resized[:, 85:341])
    gray = basics.to_gray(cropped)
    assert gray.shape == (256, 256)
    rgb = basics.gray_to_rgb(gray)
    assert rgb.shape == (256, 256, 3)
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])
    assert basics.gray_to_rgb(gray[..., None]).shape == (256, 256, 3)


def test_resize_tall_image_and_bad_inputs():
    tall = np.zeros((500, 347, 3), dtype=np.uint8)
    assert basics.resize_short_side(tall, 256).shape == (369, 256, 3)
    with pytest.raises(ValueError, match="resize it first"):
        basics.center_crop(np.zeros((100, 300)), 256)
    with pytest.raises(ValueError, match="grayscale"):
        basics.gray_to_rgb(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="uint8"):
        basics.resize_short_side(np.zeros((10, 10), dtype=np.float32))


def test_fixed_size_steps_from_files(tmp_path):
    color = tmp_path / "color.png"
    Image.fromarray(np.full((472, 500, 3), 200, dtype=np.uint8)).save(color)
    steps = basics.fixed_size_steps(color)
    assert steps["original"].shape == (472, 500, 3)
    assert steps["resized"].shape == (256, 271, 3)
    assert steps["final"].shape == (256, 256, 3)
    assert steps["final"].size == 196_608
    assert "gray" not in steps
    gray_steps = basics.fixed_size_steps(color, grayscale=True)
    assert gray_steps["gray"].shape == (256, 256) and gray_steps["final"].shape == (256, 256, 3)
    gray_file = tmp_path / "gray.png"
    Image.fromarray(np.full((300, 260), 7, dtype=np.uint8)).save(gray_file)
    steps = basics.fixed_size_steps(gray_file, size=128)
    assert steps["original"].ndim == 2
    assert steps["final"].shape == (128, 128, 3)
    with pytest.raises(FileNotFoundError, match="No image"):
        basics.fixed_size_steps(tmp_path / "missing.jpg")


def test_one_knob_cost_is_a_bowl_with_known_bottom():
    x, y = basics.one_knob_data(n=30, true_knob=2.0, noise=0.1, seed=1)
    assert x.shape == y.shape == (30,)
    w_best = basics.best_knob(x, y)
    assert w_best == pytest.approx(2.0, abs=0.2)
    ws = np.array([w_best - 1, w_best, w_best + 1])
    costs = basics.one_knob_cost(ws, x, y)
    assert costs.shape == (3,)
    assert costs[1] < costs[0] and costs[1] < costs[2]
    assert basics.one_knob_gradient(w_best, x, y) == pytest.approx(0.0, abs=1e-9)
    # the gradient is the slope of the cost (finite differences)
    h = 1e-6
    numeric = (basics.one_knob_cost(1.3 + h, x, y) - basics.one_knob_cost(1.3 - h, x, y)) / (2 * h)
    assert basics.one_knob_gradient(1.3, x, y) == pytest.approx(numeric, rel=1e-5)
    with pytest.raises(ValueError):
        basics.one_knob_data(n=0)


def test_brute_force_finds_the_bottom():
    x, y = basics.one_knob_data()
    best, settings, costs = basics.brute_force_search(lambda w: basics.one_knob_cost(w, x, y), 0, 6, 1001)
    assert settings.shape == costs.shape == (1001,)
    assert best == pytest.approx(basics.best_knob(x, y), abs=0.006)
    with pytest.raises(ValueError):
        basics.brute_force_search(lambda w: w, 1, 0)


def test_figures_return_figures():
    import matplotlib.pyplot as plt

    x, y = basics.one_knob_data()
    cost = lambda w: basics.one_knob_cost(w, x, y)  # noqa: E731
    grad = lambda w: basics.one_knob_gradient(w, x, y)  # noqa: E731
    best, settings, costs = basics.brute_force_search(cost, 0, 6)
    fig = basics.plot_brute_force(settings, costs, best)
    assert isinstance(fig, plt.Figure)
    runs = {"small": (0.005, gradient_descent(grad, -1, 0.005, 10)),
            "large": (0.2, gradient_descent(grad, -1, 0.2, 10))}
    fig2 = basics.plot_descent_runs(cost, runs, minimum=best)
    assert len(fig2.axes) == 3
    with pytest.raises(ValueError):
        basics.plot_descent_runs(cost, {})
    plt.close("all")


def _jpegs(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.new("RGB", (8, 6), (10, 20, 30)).save(folder / name)


def test_cat_dog_other_files_is_balanced_and_seeded(tmp_path):
    _jpegs(tmp_path / "cvd" / "train" / "cats", [f"cat.{i}.jpg" for i in range(5)])
    _jpegs(tmp_path / "cvd" / "train" / "dogs", [f"dog.{i}.jpg" for i in range(4)])
    _jpegs(tmp_path / "other" / "ants", [f"ant{i}.jpg" for i in range(3)])
    _jpegs(tmp_path / "other2", ["orange.jpg", "cat.jpg"])       # a cat photo is never "Other"
    kwargs = dict(cats_dogs_dir=tmp_path / "cvd", other_dirs=[tmp_path / "other", tmp_path / "other2"])
    files, labels = basics.cat_dog_other_files(3, seed=1, **kwargs)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [f.parent.name for f in files[:6]] == ["cats"] * 3 + ["dogs"] * 3
    assert all(not f.name.startswith("cat") for f in files[6:])
    assert files == basics.cat_dog_other_files(3, seed=1, **kwargs)[0]
    with pytest.raises(ValueError, match="Only 4 'Dog' images.*n_per_class=5"):
        basics.cat_dog_other_files(5, **kwargs)
