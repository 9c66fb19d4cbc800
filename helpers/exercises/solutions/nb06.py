"""Solutions to notebook 06's exercises."""

import numpy as np


def conv_output_size(input_size, filter_size, stride=1, padding=0):
    # the padded input is input_size + 2 * padding wide; the filter fits once, then once more every `stride` pixels
    return (input_size - filter_size + 2 * padding) // stride + 1


def conv2d_parameter_count(kernel_size, in_channels, filters):
    weights_per_filter = kernel_size * kernel_size * in_channels   # a filter spans every input channel
    return filters * (weights_per_filter + 1)                       # + one bias per filter


def cross_correlate(image, kernel):
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    kh, kw = kernel.shape
    out_h, out_w = image.shape[0] - kh + 1, image.shape[1] - kw + 1   # 'valid': the kernel stays inside
    out = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)   # the kernel as it is, not flipped
    return out
