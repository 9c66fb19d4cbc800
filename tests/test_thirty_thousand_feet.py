"""Tests for helpers.thirty_thousand_feet (notebook 01's NumPy building blocks)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from PIL import Image

from helpers import thirty_thousand_feet
from helpers.taught.descent import gradient_descent  # notebook 01's loop, drawn by plot_descent_runs


def test_sum_of_squared_errors_tutorial_number():
    assert thirty_thousand_feet.sum_of_squared_errors((1, 0, 0), (0.37, 0.5, 0.13)) == pytest.approx(0.6638)
    assert thirty_thousand_feet.sum_of_squared_errors([[1, 0], [0, 1]], [[1, 0], [0, 1]]) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        thirty_thousand_feet.sum_of_squared_errors((1, 0, 0), (1, 0))


def test_resize_crop_gray_steps_on_synthetic_image():
    img = np.random.default_rng(0).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    resized = thirty_thousand_feet.resize_short_side(img, 256)
    assert resized.shape == (256, 427, 3) and resized.dtype == np.uint8
    cropped = thirty_thousand_feet.center_crop(resized, 256)
    assert cropped.shape == (256, 256, 3)
    np.testing.assert_array_equal(cropped, resized[:, 85:341])
    gray = thirty_thousand_feet.to_gray(cropped)
    assert gray.shape == (256, 256)
    rgb = thirty_thousand_feet.gray_to_rgb(gray)
    assert rgb.shape == (256, 256, 3)
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])
    assert thirty_thousand_feet.gray_to_rgb(gray[..., None]).shape == (256, 256, 3)


def test_resize_tall_image_and_bad_inputs():
    tall = np.zeros((500, 347, 3), dtype=np.uint8)
    assert thirty_thousand_feet.resize_short_side(tall, 256).shape == (369, 256, 3)
    with pytest.raises(ValueError, match="resize it first"):
        thirty_thousand_feet.center_crop(np.zeros((100, 300)), 256)
    with pytest.raises(ValueError, match="grayscale"):
        thirty_thousand_feet.gray_to_rgb(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="uint8"):
        thirty_thousand_feet.resize_short_side(np.zeros((10, 10), dtype=np.float32))


def test_fixed_size_steps_from_files(tmp_path):
    color = tmp_path / "color.png"
    Image.fromarray(np.full((472, 500, 3), 200, dtype=np.uint8)).save(color)
    steps = thirty_thousand_feet.fixed_size_steps(color)
    assert steps["original"].shape == (472, 500, 3)
    assert steps["resized"].shape == (256, 271, 3)
    assert steps["final"].shape == (256, 256, 3)
    assert steps["final"].size == 196_608
    assert "gray" not in steps
    gray_steps = thirty_thousand_feet.fixed_size_steps(color, grayscale=True)
    assert gray_steps["gray"].shape == (256, 256) and gray_steps["final"].shape == (256, 256, 3)
    gray_file = tmp_path / "gray.png"
    Image.fromarray(np.full((300, 260), 7, dtype=np.uint8)).save(gray_file)
    steps = thirty_thousand_feet.fixed_size_steps(gray_file, size=128)
    assert steps["original"].ndim == 2
    assert steps["final"].shape == (128, 128, 3)
    with pytest.raises(FileNotFoundError, match="No image"):
        thirty_thousand_feet.fixed_size_steps(tmp_path / "missing.jpg")


def test_one_knob_cost_is_a_bowl_with_known_bottom():
    x, y = thirty_thousand_feet.one_knob_data(n=30, true_knob=2.0, noise=0.1, seed=1)
    assert x.shape == y.shape == (30,)
    w_best = thirty_thousand_feet.best_knob(x, y)
    assert w_best == pytest.approx(2.0, abs=0.2)
    ws = np.array([w_best - 1, w_best, w_best + 1])
    costs = thirty_thousand_feet.one_knob_cost(ws, x, y)
    assert costs.shape == (3,)
    assert costs[1] < costs[0] and costs[1] < costs[2]
    assert thirty_thousand_feet.one_knob_gradient(w_best, x, y) == pytest.approx(0.0, abs=1e-9)
    # the gradient is the slope of the cost (finite differences)
    h = 1e-6
    numeric = (thirty_thousand_feet.one_knob_cost(1.3 + h, x, y) - thirty_thousand_feet.one_knob_cost(1.3 - h, x, y)) / (2 * h)
    assert thirty_thousand_feet.one_knob_gradient(1.3, x, y) == pytest.approx(numeric, rel=1e-5)
    with pytest.raises(ValueError):
        thirty_thousand_feet.one_knob_data(n=0)


def test_brute_force_finds_the_bottom():
    x, y = thirty_thousand_feet.one_knob_data()
    best, settings, costs = thirty_thousand_feet.brute_force_search(lambda w: thirty_thousand_feet.one_knob_cost(w, x, y), 0, 6, 1001)
    assert settings.shape == costs.shape == (1001,)
    assert best == pytest.approx(thirty_thousand_feet.best_knob(x, y), abs=0.006)
    with pytest.raises(ValueError):
        thirty_thousand_feet.brute_force_search(lambda w: w, 1, 0)


def test_figures_return_figures():
    import matplotlib.pyplot as plt

    x, y = thirty_thousand_feet.one_knob_data()
    cost = lambda w: thirty_thousand_feet.one_knob_cost(w, x, y)  # noqa: E731
    grad = lambda w: thirty_thousand_feet.one_knob_gradient(w, x, y)  # noqa: E731
    best, settings, costs = thirty_thousand_feet.brute_force_search(cost, 0, 6)
    fig = thirty_thousand_feet.plot_brute_force(settings, costs, best)
    assert isinstance(fig, plt.Figure)
    runs = {"small": (0.005, gradient_descent(grad, -1, 0.005, 10)),
            "large": (0.2, gradient_descent(grad, -1, 0.2, 10))}
    fig2 = thirty_thousand_feet.plot_descent_runs(cost, runs, minimum=best)
    assert len(fig2.axes) == 3
    with pytest.raises(ValueError):
        thirty_thousand_feet.plot_descent_runs(cost, {})
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
    files, labels = thirty_thousand_feet.cat_dog_other_files(3, seed=1, **kwargs)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [f.parent.name for f in files[:6]] == ["cats"] * 3 + ["dogs"] * 3
    assert all(not f.name.startswith("cat") for f in files[6:])
    assert files == thirty_thousand_feet.cat_dog_other_files(3, seed=1, **kwargs)[0]
    with pytest.raises(ValueError, match="Only 4 'Dog' images.*n_per_class=5"):
        thirty_thousand_feet.cat_dog_other_files(5, **kwargs)
