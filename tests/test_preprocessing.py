"""helpers.preprocessing: flattening, scaling, one-hot labels, splits, subsets and noise (shapes, dtypes, seeds, errors)."""

import numpy as np
import pytest

from helpers import preprocessing


def test_flatten_images_shapes_and_errors():
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    flat = preprocessing.flatten_images(images)
    assert flat.shape == (2, 784)
    np.testing.assert_array_equal(flat[1], images[1].ravel())
    assert preprocessing.flatten_images(np.zeros((3, 32, 32, 3))).shape == (3, 3072)
    with pytest.raises(ValueError, match="batch of images"):
        preprocessing.flatten_images(np.zeros(5))


def test_scale_pixels_range_and_dtype():
    x = np.array([[0, 128, 255]], dtype=np.uint8)
    scaled = preprocessing.scale_pixels(x)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [[0.0, 128 / 255, 1.0]], rtol=1e-6)
    assert x[0, 2] == 255  # input untouched


def test_train_validation_split_is_a_seeded_partition():
    x = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    (xt, yt), (xv, yv) = preprocessing.train_validation_split(x, y, 0.2, seed=1)
    assert len(xv) == 10 and len(xt) == 40
    assert sorted(np.concatenate([yt, yv]).tolist()) == list(range(50))
    np.testing.assert_array_equal(xt[:, 0] // 2, yt)  # x and y stay paired
    (xt2, _), _ = preprocessing.train_validation_split(x, y, 0.2, seed=1)
    np.testing.assert_array_equal(xt, xt2)
    with pytest.raises(ValueError, match="between 0 and 1"):
        preprocessing.train_validation_split(x, y, 1.0)
    with pytest.raises(ValueError, match="differ in length"):
        preprocessing.train_validation_split(x, y[:10])


def test_take_subset():
    x, y = np.arange(20), np.arange(20) * 10
    xs, ys = preprocessing.take_subset(x, y, 5, seed=0)
    assert len(xs) == 5 and np.all(ys == xs * 10) and np.all(np.diff(xs) > 0)
    assert preprocessing.take_subset(x, y, None)[0] is x
    assert len(preprocessing.take_subset(x, y, 100)[0]) == 20
    with pytest.raises(ValueError, match="positive"):
        preprocessing.take_subset(x, y, 0)


def test_add_gaussian_noise_clips_and_is_seeded():
    images = np.full((4, 8, 8), 0.5, dtype=np.float32)
    noisy = preprocessing.add_gaussian_noise(images, 0.5, seed=3)
    assert noisy.shape == images.shape and noisy.dtype == np.float32
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0 and not np.allclose(noisy, images)
    np.testing.assert_array_equal(noisy, preprocessing.add_gaussian_noise(images, 0.5, seed=3))
    unclipped = preprocessing.add_gaussian_noise(images, 5.0, seed=3, clip=None)
    assert unclipped.min() < 0.0 and unclipped.max() > 1.0
    assert np.all(images == 0.5)
