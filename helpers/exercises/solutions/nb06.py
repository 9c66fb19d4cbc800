"""Solutions to notebook 06's exercises."""

import numpy as np


def conv_output_size(input_size, filter_size, stride=1, padding=0):
    # the padded input is input_size + 2 * padding wide; the filter fits once, then once more every `stride` pixels
    return (input_size - filter_size + 2 * padding) // stride + 1


def conv2d_parameter_count(kernel_size, in_channels, filters):
    weights_per_filter = kernel_size * kernel_size * in_channels   # a filter spans every input channel
    return filters * (weights_per_filter + 1)                       # + one bias per filter


def conv2d_layer(image, kernels, bias):
    from helpers.taught.cnn import cross_correlate2d   # the page's loop (section 2), exported from notebook 06

    image, kernels = np.asarray(image, dtype=float), np.asarray(kernels, dtype=float)
    maps = []
    for f in range(kernels.shape[3]):                   # one output map per filter
        total = sum(cross_correlate2d(image[:, :, c], kernels[:, :, c, f]) for c in range(image.shape[2]))
        maps.append(total + bias[f])                    # a filter spans every input channel, plus its one bias
    return np.stack(maps, axis=-1)                      # channels last, like Keras: (H_out, W_out, filters)
