"""The arithmetic of convolutional layers, in plain NumPy, for the worked examples of notebook 06.

Everything here is small and exact on purpose: the functions reproduce the numbers of the seeds
(the LearnOpenCV CNN tutorial and the IBM talk) so that a learner can check them by hand. The loops the notebook teaches (cross-correlation,
convolution, max pooling) are on its page and exported to :mod:`helpers.taught.cnn`.

- :func:`conv_output_size`   ``(W - F + 2P) / S + 1``, with a clear error when the sizes do not fit
- :func:`same_padding`       the padding ``P`` that keeps the output as large as the input (stride 1)
- :func:`dense_parameter_count`, :func:`locally_connected_parameter_count`,
  :func:`weights_per_filter`, :func:`conv2d_parameter_count`
                             parameter counts of fully connected, locally connected and convolutional layers
- :func:`shift_images`       move images by whole pixels, filling with zeros (the tutorial's off-centre digits)
- :func:`accuracy_vs_shift`  a classifier's accuracy on test images shifted by 0..N pixels
"""

from __future__ import annotations

import numpy as np


class ConvolutionSizeError(ValueError):
    """The input, filter, stride and padding sizes do not give a whole number of output positions."""


# --------------------------------------------------------------------------------------- sizes
def conv_output_size(input_size: int, filter_size: int, stride: int = 1, padding: int = 0,
                     allow_remainder: bool = False) -> int:
    """Spatial output size of a convolution or pooling layer: ``(W - F + 2P) / S + 1``.

    Args:
        input_size: ``W``, the input's width (or height) in pixels.
        filter_size: ``F``, the filter's (kernel's) width.
        stride: ``S``, how many pixels the filter moves per step.
        padding: ``P``, zeros added on *each* side.
        allow_remainder: round down instead of raising when ``S`` does not divide ``W - F + 2P``;
            Keras does this ("valid" padding drops the last rows/columns), e.g. pooling 13 -> 6.

    Returns:
        The output width as an ``int``, e.g. ``conv_output_size(100, 5, 1, 2) == 100``.

    Raises:
        ConvolutionSizeError: a size is not a positive integer (padding may be 0), the filter is larger
            than the padded input, or ``(W - F + 2P)`` is not divisible by ``S`` (the filter would not
            fit the input evenly); the message suggests paddings that do fit.
    """
    for name, value, minimum in (("input_size", input_size, 1), ("filter_size", filter_size, 1),
                                 ("stride", stride, 1), ("padding", padding, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ConvolutionSizeError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    span = input_size - filter_size + 2 * padding
    if span < 0:
        raise ConvolutionSizeError(
            f"The {filter_size}x{filter_size} filter is larger than the padded input "
            f"({input_size} + 2*{padding} = {input_size + 2 * padding} pixels). Use a smaller filter or more padding.")
    if span % stride and not allow_remainder:
        fits = [p for p in range(0, filter_size + stride) if (input_size - filter_size + 2 * p) % stride == 0][:3]
        raise ConvolutionSizeError(
            f"(W - F + 2P) / S = ({input_size} - {filter_size} + 2*{padding}) / {stride} = {span}/{stride} is not "
            f"a whole number: a {filter_size}x{filter_size} filter with stride {stride} does not fit a "
            f"{input_size}-pixel input evenly. Paddings that fit: {fits}; or change the stride "
            f"(Keras would silently drop the last {span % stride} row(s)/column(s)).")
    return span // stride + 1


def same_padding(filter_size: int) -> int:
    """Padding ``P`` that keeps the output as wide as the input at stride 1: ``(F - 1) / 2``.

    Raises:
        ConvolutionSizeError: for an even ``filter_size`` (no symmetric padding keeps the size).
    """
    if filter_size < 1 or filter_size % 2 == 0:
        raise ConvolutionSizeError(
            f"filter_size={filter_size}: 'same' padding needs an odd filter size (1, 3, 5, ...) to pad both sides equally.")
    return (filter_size - 1) // 2


# ---------------------------------------------------------------------------------- parameters
def dense_parameter_count(input_shape: tuple[int, ...], units: int, bias: bool = False) -> int:
    """Weights of a fully connected layer on an image: every unit sees every input value.

    ``dense_parameter_count((100, 100, 3), 1000) == 30_000_000`` (the IBM talk counts weights only;
    pass ``bias=True`` to add one bias per unit, as a Keras ``Dense`` layer has: ``dense_parameter_count((256,), 512,
    bias=True) == 131_584``).
    """
    inputs = int(np.prod(input_shape))
    return inputs * units + (units if bias else 0)


def locally_connected_parameter_count(filter_size: int, channels: int, units: int, bias: bool = False) -> int:
    """Weights when each hidden unit sees only an ``F x F`` patch (through all ``channels``), no sharing.

    ``locally_connected_parameter_count(5, 3, 1000) == 75_000`` (IBM talk: 5x5x3 = 75 per unit).
    """
    return (filter_size * filter_size * channels + (1 if bias else 0)) * units


def weights_per_filter(filter_size: int, input_depth: int, bias: bool = True) -> int:
    """Parameters of one convolution filter: ``F x F x D_in`` weights ``+ 1`` bias (IBM talk)."""
    return filter_size * filter_size * input_depth + (1 if bias else 0)


def conv2d_parameter_count(filter_size: int, input_depth: int, filters: int, bias: bool = True) -> int:
    """Parameters of a ``Conv2D`` layer: ``filters x (F x F x D_in + 1)``, whatever the image size.

    ``conv2d_parameter_count(3, 3, 32) == 896`` (first layer of the tutorial's CIFAR-10 network).
    """
    return filters * weights_per_filter(filter_size, input_depth, bias)


# ------------------------------------------------------------------------------- 2-D operations
def format_matrix(matrix, decimals: int = 2) -> str:
    """A matrix as aligned text, integers without decimals (for checked notebook outputs)."""
    matrix = np.asarray(matrix, dtype=float)
    rounded = np.round(matrix, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    cells = [[(f"{v:.0f}" if float(v).is_integer() else f"{v:.{decimals}f}") for v in row] for row in rounded]
    width = max(len(c) for row in cells for c in row)
    return "\n".join(" ".join(c.rjust(width) for c in row) for row in cells)


# ---------------------------------------------------------------------------------- translation
def shift_images(images, dy: int, dx: int) -> np.ndarray:
    """Move every image ``dy`` pixels down and ``dx`` pixels right (negative: up / left).

    Pixels pushed over the border are lost, the uncovered strip is filled with zeros (the background
    of MNIST digits); nothing wraps around, unlike ``np.roll``.

    Args:
        images: array ``(n, height, width)`` or ``(n, height, width, channels)``.
        dy, dx: whole-pixel shifts, each smaller than the image's height / width.

    Returns:
        array of the same shape and dtype.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"images must be (n, height, width) or (n, height, width, channels); got {images.shape}.")
    height, width = images.shape[1:3]
    if int(dy) != dy or int(dx) != dx or abs(dy) >= height or abs(dx) >= width:
        raise ValueError(f"dy={dy!r}, dx={dx!r} must be whole pixels smaller than the image ({height}x{width}).")
    dy, dx = int(dy), int(dx)
    out = np.zeros_like(images)
    src_y, dst_y = (slice(0, height - dy), slice(dy, height)) if dy >= 0 else (slice(-dy, height), slice(0, height + dy))
    src_x, dst_x = (slice(0, width - dx), slice(dx, width)) if dx >= 0 else (slice(-dx, width), slice(0, width + dx))
    out[:, dst_y, dst_x] = images[:, src_y, src_x]
    return out


#: The four directions of :func:`accuracy_vs_shift`: down, up, right, left (``(dy, dx)`` per pixel).
SHIFT_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def accuracy_vs_shift(predict, images, labels, max_shift: int, directions=SHIFT_DIRECTIONS) -> np.ndarray:
    """Accuracy of a classifier on test images moved by 0, 1, ..., ``max_shift`` pixels.

    For each shift ``s`` the images are moved ``s`` pixels in each of ``directions`` (default: down,
    up, right, left) and the accuracies are averaged over the directions.

    Args:
        predict: function mapping images ``(n, height, width[, channels])`` to class scores ``(n, classes)``
            (e.g. ``lambda x: model.predict(x, verbose=0)``; reshape inside it for a dense network).
        images: test images, shaped as ``predict`` expects them before any reshaping.
        labels: integer labels ``(n,)``.
        max_shift: largest shift in pixels (>= 0).
        directions: unit steps ``(dy, dx)``.

    Returns:
        float array ``(max_shift + 1,)``: accuracy at shift 0, 1, ..., ``max_shift``.
    """
    labels = np.asarray(labels).reshape(-1)
    if isinstance(max_shift, bool) or int(max_shift) != max_shift or max_shift < 0:
        raise ValueError(f"max_shift must be a whole number of pixels >= 0; got {max_shift!r}.")
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels.")
    accuracies = []
    for s in range(int(max_shift) + 1):
        moves = [(0, 0)] if s == 0 else [(s * uy, s * ux) for uy, ux in directions]
        hits = [np.mean(np.asarray(predict(shift_images(images, dy, dx))).argmax(-1) == labels) for dy, dx in moves]
        accuracies.append(float(np.mean(hits)))
    return np.array(accuracies)
