"""Solutions to notebook 02's exercises."""

import numpy as np


def meets_minimum(installed, minimum):
    a = [int(part) for part in installed.split(".")]
    b = [int(part) for part in minimum.split(".")]
    size = max(len(a), len(b))
    a += [0] * (size - len(a))  # 2.21 is 2.21.0
    b += [0] * (size - len(b))
    return a >= b  # lists compare part by part, from the left, as numbers


def clipped_binary_crossentropy(y_true, p, epsilon):
    p = np.clip(p, epsilon, 1 - epsilon)  # a probability of exactly 0 or 1 would make log(0) = -inf
    return -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))


def matmul_gflops(n, k, m, seconds):
    operations = 2 * n * k * m  # n * m results, each k multiplications and k additions
    return operations / seconds / 1e9
