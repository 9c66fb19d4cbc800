"""Solutions to notebook 01's exercises."""

import numpy as np


def softmax(scores):
    scores = np.asarray(scores, dtype=float)
    # subtracting each row's largest score changes nothing but keeps exp from overflowing
    shifted = scores - scores.max(axis=-1, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=-1, keepdims=True)


def sum_of_squared_errors(expected, output):
    errors = np.asarray(expected, dtype=float) - np.asarray(output, dtype=float)
    return float(np.sum(errors ** 2))


def cost_slope(w, x, y):
    # cost(w) = sum((w x - y)^2); chain rule on each term: 2 (w x - y) * x
    return float(np.sum(2 * (w * x - y) * x))
