"""Tests for helpers.convolution and the loops of helpers.taught.cnn: the worked examples of notebook 06 and the size/parameter arithmetic."""

import numpy as np
import pytest

from helpers import convolution as conv
from helpers.taught import cnn  # the cross-correlation and pooling loops, exported from notebook 06

# LearnOpenCV tutorial, section 2.1: 5x5 input, 3x3 vertical-edge kernel, top-left value 6.
TUTORIAL_IMAGE = [[7, 2, 3, 3, 8], [4, 5, 3, 8, 4], [3, 3, 2, 8, 4], [2, 8, 7, 2, 7], [5, 4, 4, 5, 4]]
TUTORIAL_KERNEL = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
# IBM talk, "Convolution Operation": 3x3 input, 2x2 kernel.
IBM_IMAGE = [[80, 0, 50], [70, 20, 10], [0, 40, 0]]
IBM_KERNEL = [[0, 1], [0.5, -1]]


def test_tutorial_example_cross_correlation():
    out = cnn.cross_correlate2d(TUTORIAL_IMAGE, TUTORIAL_KERNEL)
    assert out.shape == (3, 3)
    assert out[0, 0] == 6
    np.testing.assert_array_equal(out, [[6, -9, -8], [-3, -2, -3], [-3, 0, -2]])


def test_true_convolution_flips_the_kernel():
    np.testing.assert_array_equal(cnn.convolve2d(TUTORIAL_IMAGE, TUTORIAL_KERNEL),
                                  -cnn.cross_correlate2d(TUTORIAL_IMAGE, TUTORIAL_KERNEL))
    np.testing.assert_array_equal(cnn.flip_kernel(IBM_KERNEL), [[-1, 0.5], [1, 0]])


def test_ibm_example_both_operations():
    np.testing.assert_allclose(cnn.convolve2d(IBM_IMAGE, IBM_KERNEL), [[-10, 45], [-60, 25]])
    np.testing.assert_allclose(cnn.cross_correlate2d(IBM_IMAGE, IBM_KERNEL), [[15, 50], [-20, 30]])


def test_symmetric_kernel_gives_same_result():
    kernel = np.ones((3, 3))
    np.testing.assert_array_equal(cnn.convolve2d(TUTORIAL_IMAGE, kernel), cnn.cross_correlate2d(TUTORIAL_IMAGE, kernel))


def test_cross_correlation_matches_keras_conv2d():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    image, kernel = rng.normal(size=(7, 7)), rng.normal(size=(3, 3))
    layer = keras.layers.Conv2D(1, 3, strides=2, padding="valid", use_bias=False)
    layer.build((None, 7, 7, 1))
    layer.set_weights([kernel[:, :, None, None]])
    got = np.asarray(layer(image[None, :, :, None].astype("float32")))[0, :, :, 0]
    np.testing.assert_allclose(got, cnn.cross_correlate2d(image, kernel, stride=2), atol=1e-4)


def test_padding_and_stride():
    out = cnn.cross_correlate2d(np.ones((5, 5)), np.ones((3, 3)), padding=1)
    assert out.shape == (5, 5)
    assert out[0, 0] == 4 and out[2, 2] == 9
    assert cnn.cross_correlate2d(np.ones((7, 7)), np.ones((3, 3)), stride=2).shape == (3, 3)


def test_max_pool():
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])
    np.testing.assert_array_equal(cnn.max_pool2d(x), [[6, 8], [3, 4]])
    assert cnn.max_pool2d(np.zeros((13, 13))).shape == (6, 6)  # like Keras: the last row/column is dropped
    assert cnn.max_pool2d(np.arange(9).reshape(3, 3), pool_size=2, stride=1).tolist() == [[4, 5], [7, 8]]


@pytest.mark.parametrize("w, f, s, p, expected", [
    (100, 5, 1, 2, 100),   # IBM: 100x100x3 input, 10 filters 5x5x3, stride 1, pad 2 -> 100x100x10
    (32, 3, 1, 0, 30),     # tutorial: 32x32x3 with 3x3x3 -> 30x30
    (32, 3, 1, 1, 32),     # zero padding 1 keeps 32
    (30, 2, 2, 0, 15),     # 2x2 max pooling, stride 2
    (100, 1, 1, 3, 106),   # IBM: zero padding 3 on 100x100 -> 106x106
])
def test_conv_output_size(w, f, s, p, expected):
    assert conv.conv_output_size(w, f, s, p) == expected


def test_conv_output_size_errors():
    with pytest.raises(conv.ConvolutionSizeError, match="not.*whole number") as info:
        conv.conv_output_size(32, 4, 3)
    assert "Paddings that fit" in str(info.value)
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv.conv_output_size(3, 5)
    with pytest.raises(ValueError, match="stride must be an integer"):
        conv.conv_output_size(32, 3, 0)
    with pytest.raises(ValueError, match="input_size must be an integer"):
        conv.conv_output_size(32.0, 3)
    assert conv.conv_output_size(13, 2, 2, allow_remainder=True) == 6


def test_same_padding():
    assert conv.same_padding(3) == 1 and conv.same_padding(5) == 2
    assert conv.conv_output_size(100, 5, 1, conv.same_padding(5)) == 100
    with pytest.raises(ValueError, match="odd"):
        conv.same_padding(4)


def test_parameter_counts():
    assert conv.dense_parameter_count((100, 100, 3), 1000) == 30_000_000
    assert conv.dense_parameter_count((100, 100), 1000) == 10_000_000
    assert conv.locally_connected_parameter_count(5, 1, 1000) == 25_000
    assert conv.locally_connected_parameter_count(5, 3, 1000) == 75_000
    assert conv.weights_per_filter(5, 3) == 76
    assert conv.weights_per_filter(3, 3, bias=False) * 32 == 864
    assert conv.conv2d_parameter_count(3, 3, 32) == 896
    assert conv.conv2d_parameter_count(3, 32, 64) == 18_496
    assert conv.dense_parameter_count((256,), 512, bias=True) == 131_584  # a Keras Dense(512) on 256 inputs


def test_bad_shapes_are_explained():
    with pytest.raises(ValueError, match="must be 2-D matri"):
        cnn.cross_correlate2d(np.zeros((2, 5, 5)), np.ones((3, 3)))


def test_format_matrix():
    assert conv.format_matrix([[6, -9], [0.5, -0.0]]) == "   6   -9\n0.50    0"


def test_shift_images_moves_without_wrapping():
    images = np.arange(2 * 4 * 4).reshape(2, 4, 4) + 1
    down_right = conv.shift_images(images, 1, 2)
    assert down_right.shape == images.shape and down_right.dtype == images.dtype
    np.testing.assert_array_equal(down_right[:, 1:, 2:], images[:, :3, :2])
    assert (down_right[:, 0, :] == 0).all() and (down_right[:, :, :2] == 0).all()
    up_left = conv.shift_images(images[..., None], -1, -1)[..., 0]
    np.testing.assert_array_equal(up_left[:, :3, :3], images[:, 1:, 1:])
    np.testing.assert_array_equal(conv.shift_images(images, 0, 0), images)
    with pytest.raises(ValueError, match="whole pixels"):
        conv.shift_images(images, 4, 0)
    with pytest.raises(ValueError, match="n, height, width"):
        conv.shift_images(images[0], 1, 1)


def test_accuracy_vs_shift_of_a_position_classifier():
    # "class" = is the single bright pixel in the left half? Shifting right by 2 moves column 1 to the right half.
    images = np.zeros((4, 6, 6))
    for i, col in enumerate([0, 1, 3, 4]):
        images[i, 2, col] = 1
    labels = np.array([1, 1, 0, 0])

    def predict(x):
        left = x[:, :, :3].sum((1, 2)) > 0
        return np.stack([~left, left], axis=1).astype(float)

    acc = conv.accuracy_vs_shift(predict, images, labels, max_shift=2, directions=((0, 1),))
    np.testing.assert_allclose(acc, [1.0, 1.0, 0.75])
    with pytest.raises(ValueError, match="max_shift"):
        conv.accuracy_vs_shift(predict, images, labels, max_shift=-1)
