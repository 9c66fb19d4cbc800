"""Preprocessing used across the notebooks: flatten, scale, split, subsample, add noise.

One-hot labels come from Keras itself: ``keras.utils.to_categorical(labels, num_classes)``.

All functions take and return NumPy arrays and never modify their input.
"""

from __future__ import annotations

import numpy as np


def flatten_images(images: np.ndarray) -> np.ndarray:
    """Turn ``(n, h, w[, c])`` images into ``(n, h*w*c)`` vectors (e.g. MNIST 28x28 -> 784)."""
    images = np.asarray(images)
    if images.ndim < 2:
        raise ValueError(f"Expected a batch of images shaped (n, height, width[, channels]); got shape {images.shape}.")
    return images.reshape(len(images), -1)


def scale_pixels(images: np.ndarray, max_value: float = 255.0) -> np.ndarray:
    """Convert pixel values in ``0..max_value`` to float32 in ``[0, 1]``."""
    return np.asarray(images, dtype=np.float32) / np.float32(max_value)


def train_validation_split(x: np.ndarray, y: np.ndarray, validation_fraction: float = 0.2, seed: int = 0):
    """Shuffle ``(x, y)`` with ``seed`` and split off a validation part.

    Returns:
        ``(x_train, y_train), (x_val, y_val)``; the validation part holds
        ``round(len(x) * validation_fraction)`` samples.
    """
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be between 0 and 1 (exclusive); got {validation_fraction}.")
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} vs {len(y)}.")
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(len(x) * validation_fraction))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def take_subset(x: np.ndarray, y: np.ndarray, n: int | None, seed: int = 0):
    """Return a random subset of ``n`` samples (``None`` or ``n >= len(x)`` keeps everything, in order).

    Used to keep default runs short on a laptop; set ``n=None`` for the tutorial-scale run.
    """
    if n is None or n >= len(x):
        return x, y
    if n <= 0:
        raise ValueError(f"Subset size must be positive or None; got {n}.")
    idx = np.sort(np.random.default_rng(seed).choice(len(x), size=n, replace=False))
    return x[idx], y[idx]


def add_gaussian_noise(images: np.ndarray, noise_factor: float = 0.5, seed: int = 0,
                       clip: tuple[float, float] | None = (0.0, 1.0)) -> np.ndarray:
    """Add ``noise_factor * N(0, 1)`` noise to float images, then clip to ``clip`` (``None``: no clipping).

    Returns:
        float32 array, same shape as ``images``.
    """
    images = np.asarray(images, dtype=np.float32)
    noise = np.random.default_rng(seed).standard_normal(images.shape).astype(np.float32)
    noisy = images + np.float32(noise_factor) * noise
    return np.clip(noisy, *clip) if clip is not None else noisy
