"""helpers.plots: training curves, comparisons, image grids, predictions and probability bars."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import plots  # noqa: E402


HISTORY = {"loss": [1.0, 0.5, 0.3], "accuracy": [0.5, 0.7, 0.8], "val_loss": [1.1, 0.7, 0.6],
           "val_accuracy": [0.4, 0.6, 0.7], "learning_rate": [0.1, 0.1, 0.1]}


class FakeHistory:
    history = HISTORY


def test_plot_history_panels_and_curves():
    fig = plots.plot_history(FakeHistory(), title="t")
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 2  # loss and accuracy (not learning_rate, not val_)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].lines) == 2  # training + validation
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), HISTORY["loss"])
    one = plots.plot_history({"loss": [3, 2]}, metrics=["loss"])
    assert len(one.axes) == 1 and len(one.axes[0].lines) == 1
    with pytest.raises(KeyError, match="mae"):
        plots.plot_history(HISTORY, metrics=["mae"])
    with pytest.raises(TypeError):
        plots.plot_history({})
    plt.close("all")


def test_compare_histories_and_image_figures():
    fig = plots.compare_histories({"a": HISTORY, "b": FakeHistory()}, metric="val_loss")
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(KeyError, match="mae"):
        plots.compare_histories({"a": HISTORY}, metric="mae")
    images = np.random.default_rng(0).integers(0, 255, (5, 8, 8), dtype=np.uint8)
    grid = plots.show_images(images, titles=list("abcde"), ncols=3)
    assert len(grid.axes) == 6 and grid.axes[0].get_title() == "a"
    with pytest.raises(ValueError, match="titles"):
        plots.show_images(images, titles=["a"])
    with pytest.raises(ValueError, match="No images"):
        plots.show_images([])
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    pred = plots.show_predictions(images[:2], probs, ["cat", "dog"], true_labels=[0, 0])
    assert pred.axes[0].get_title().startswith("cat (90%)")
    assert pred.axes[0].title.get_color() == plots.CORRECT_COLOR and pred.axes[1].title.get_color() == plots.WRONG_COLOR
    with pytest.raises(ValueError, match="probabilities"):
        plots.show_predictions(images[:2], probs, ["a", "b", "c"])
    bars = plots.plot_probabilities([0.2, 0.7, 0.1], ["Cat", "Dog", "Other"])
    assert len(bars.axes[0].patches) == 3
    with pytest.raises(ValueError):
        plots.plot_probabilities([0.5, 0.5], ["Cat", "Dog", "Other"])
    plt.close("all")
