"""Tests for helpers.model_zoo (architectures with weights=None, label groups, tables, filters)."""

import numpy as np
import pytest

import helpers  # noqa: F401
import keras

from helpers import model_zoo


def test_mobilenet_parameter_count_without_download():
    rows = model_zoo.architecture_table(["mobilenet"])
    assert rows[0]["parameters"] == 4_253_864
    assert rows[0]["input"] == "224x224x3"
    with pytest.raises(ValueError, match="Unknown architecture"):
        model_zoo.build_architecture("alexnet")


@pytest.mark.mirror
def test_label_groups():
    from helpers.sources import DataSourceError

    try:
        labels = model_zoo.imagenet_labels()
    except DataSourceError:
        pytest.skip("ImageNet class index not available (set DLFB_MIRROR or connect to the internet)")
    assert len(labels) == 1000
    assert labels[281][1] == "tabby" and labels[950][1] == "orange"
    assert model_zoo.is_domestic_cat(labels[283][0])  # Persian_cat
    assert not model_zoo.is_domestic_cat(labels[291][0])  # lion
    assert model_zoo.is_dog_breed(labels[151][0])  # Chihuahua
    assert not model_zoo.is_dog_breed(labels[273][0])  # dingo


def test_predictions_table():
    results = {"m1": {"cat": [("n1", "tabby", 0.61)], "dog": [("n2", "basenji", 0.2)]},
               "m2": {"cat": [("n3", "Persian_cat", 0.5)], "dog": [("n4", "dingo", 0.13)]}}
    text = model_zoo.predictions_table(results)
    lines = text.splitlines()
    assert lines[0].split() == ["photo", "m1", "m2"]
    assert "tabby (0.61)" in lines[2] and "Persian_cat (0.50)" in lines[2]
    with pytest.raises(ValueError):
        model_zoo.predictions_table({})


def test_filters_as_images_and_plot():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(5, 3, name="c1")(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="c2")(x))
    assert model_zoo.first_conv_layer(model).name == "c1"
    images = model_zoo.filters_as_images(model.get_layer("c1").kernel.numpy())
    assert images.shape == (5, 3, 3, 3)
    assert np.allclose(images.min(axis=(1, 2, 3)), 0) and np.allclose(images.max(axis=(1, 2, 3)), 1)
    fig = model_zoo.plot_filters(model)
    assert len(fig.axes) == 5
    with pytest.raises(ValueError):
        model_zoo.filters_as_images(np.zeros((3, 3, 1, 4)))
