"""Tests for helpers.feature_maps: feature maps of any Keras model, and the model diagram (graphviz or text)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers import feature_maps as fm  # noqa: E402
from helpers.taught import cnn  # noqa: E402


@pytest.fixture(scope="module")
def mnist_model():
    return cnn.build_mnist_cnn("two_conv")


def test_feature_maps_shapes(mnist_model):
    maps = fm.feature_maps(mnist_model, np.zeros((28, 28, 1)), ["conv2d_1", "conv2d_2", "max_pooling2d_1"])
    assert list(maps) == ["conv2d_1", "conv2d_2", "max_pooling2d_1"]
    assert maps["conv2d_1"].shape == (26, 26, 32)
    assert maps["conv2d_2"].shape == (24, 24, 64)
    assert maps["max_pooling2d_1"].shape == (12, 12, 64)
    # with a batch axis of 1 as well
    assert fm.feature_maps(mnist_model, np.zeros((1, 28, 28, 1)), "conv2d_1")["conv2d_1"].shape == (26, 26, 32)


def test_feature_maps_errors(mnist_model):
    with pytest.raises(ValueError, match="Layers with feature maps"):
        fm.feature_maps(mnist_model, np.zeros((28, 28, 1)), ["conv9"])
    with pytest.raises(ValueError, match="expects one image shaped"):
        fm.feature_maps(mnist_model, np.zeros((32, 32, 3)), ["conv2d_1"])
    with pytest.raises(ValueError, match="not feature maps"):
        fm.feature_maps(mnist_model, np.zeros((28, 28, 1)), ["dense_1"])


def test_plot_feature_maps_any_model():
    import matplotlib

    matplotlib.use("Agg")
    model = cnn.create_model(augmentation=cnn.augmentation_block())
    fig = fm.plot_feature_maps(model, np.random.default_rng(0).random((32, 32, 3)), ["conv2d_1", "conv2d_4"],
                               max_maps=12, ncols=6)
    image_axes = [ax for ax in fig.get_axes() if ax.images]
    assert len(image_axes) == 24


def test_text_diagram(mnist_model):
    text = fm.text_diagram(mnist_model)
    assert "conv2d_1 (Conv2D)" in text and "3x3, 32 filters" in text
    assert "(batch, 24, 24, 64)" in text and "1,179,776 params" in text
    assert text.endswith("Total: 1,199,882 parameters in 8 layers")
    widths = {len(line) for line in text.splitlines()[:-1] if line.startswith(("│", "┌", "└"))}
    assert len(widths) == 1  # every box line has the same width


def test_model_diagram_falls_back_to_text(mnist_model, capsys):
    out = fm.model_diagram(mnist_model, force_text=True)
    assert isinstance(out, str) and out == fm.text_diagram(mnist_model)
    if not fm.graphviz_available():
        assert isinstance(fm.model_diagram(mnist_model), str)
        assert "pydot/graphviz not installed" in capsys.readouterr().out


@pytest.mark.graphviz
def test_model_diagram_draws_the_graph_with_graphviz(mnist_model, tmp_path):
    if not fm.graphviz_available():
        pytest.skip("pydot or Graphviz's dot program is missing (pip install pydot; apt-get install graphviz)")
    from IPython.display import Image
    from PIL import Image as PILImage

    target = tmp_path / "mnist.png"
    picture = fm.model_diagram(mnist_model, to_file=target)
    assert isinstance(picture, Image) and target.is_file()
    with PILImage.open(target) as png:
        width, height = png.size
    assert png.format == "PNG"
    assert height > 1.5 * width  # the layers stacked top to bottom, one box each


def test_receptive_fields_of_the_tutorial_cifar_network():
    fields = fm.receptive_fields(cnn.create_model())
    assert fields["conv2d_1"] == (3, 1)
    assert fields["conv2d_2"] == (5, 1)
    assert fields["max_pooling2d_1"] == (6, 2)
    assert fields["conv2d_6"] == (32, 4)      # the last conv layer sees the whole 32x32 image
    assert fields["max_pooling2d_3"] == (36, 8)
    assert list(fields) == [name for name, _, _ in cnn.CIFAR10_CNN_LAYERS if name.startswith(("conv", "max"))]


def test_shift_response_equivariance_and_invariance(mnist_model):
    rng = np.random.default_rng(0)
    digits = np.zeros((3, 28, 28, 1), dtype="float32")
    digits[:, 6:22, 6:22, 0] = rng.random((3, 16, 16))          # content away from the borders
    rows = {r["layer"]: r for r in fm.shift_response(mnist_model, digits, ["conv2d_1", "max_pooling2d_1"], 2)}
    assert rows["conv2d_1"]["stride"] == 1 and rows["max_pooling2d_1"]["stride"] == 2
    # convolutions move with the input: identical maps after moving back
    assert rows["conv2d_1"]["moved_max_difference"] <= 1e-5 * rows["conv2d_1"]["largest_value"]
    assert rows["max_pooling2d_1"]["moved_correlation"] > 0.999
    # ... but they are not invariant: at the same positions the maps differ
    assert rows["conv2d_1"]["same_place_correlation"] < 0.9
    odd = fm.shift_response(mnist_model, digits, ["max_pooling2d_1"], 1)[0]
    assert np.isnan(odd["moved_max_difference"])                 # 1 pixel is not a whole step of the pooled map
    with pytest.raises(ValueError, match="Conv2D or pooling"):
        fm.shift_response(mnist_model, digits, ["dropout_1"], 1)
    with pytest.raises(ValueError, match="shift"):
        fm.shift_response(mnist_model, digits, ["conv2d_1"], 0)
