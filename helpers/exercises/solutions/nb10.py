"""Solutions to notebook 10's exercises."""

import numpy as np


def find_errors(probabilities, labels):
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels)
    if labels.ndim == 2:                            # one-hot rows (the tutorial's labels) -> class indices
        labels = labels.argmax(axis=1)
    predicted = probabilities.argmax(axis=1)        # the most probable class of each sample
    return np.flatnonzero(predicted != labels)      # positions where prediction and label differ


def pool_features(feature_maps, pooling):
    feature_maps = np.asarray(feature_maps)
    if pooling == "avg":
        return feature_maps.mean(axis=(1, 2))       # average over height and width: (n, channels)
    if pooling == "flatten":
        return feature_maps.reshape(len(feature_maps), -1)   # one long vector per sample, (h, w, c) order
    raise ValueError(f"pooling must be 'avg' or 'flatten', got {pooling!r}")


def head_parameters(feature_map_shape, pooling, hidden_units, n_classes):
    height, width, channels = feature_map_shape
    inputs = channels if pooling == "avg" else height * width * channels   # what the first Dense layer sees
    hidden = inputs * hidden_units + hidden_units    # Dense(hidden_units): weights and biases
    output = hidden_units * n_classes + n_classes    # Dense(n_classes, softmax); pooling and Dropout have none
    return hidden + output
