"""Solutions to notebook 07's exercises."""

import numpy as np


def leaky_relu(x, alpha):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * x)   # x itself on the right, a small slope alpha on the left


def leaky_relu_derivative(x, alpha):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, alpha)     # the slope of each straight piece


def sigmoid_derivative(x):
    s = 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))
    return s * (1.0 - s)                   # sigma'(x) = sigma(x) (1 - sigma(x))
