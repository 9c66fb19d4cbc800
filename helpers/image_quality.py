"""Image-quality numbers for notebook 08's denoiser: PSNR per image and the pixel-wise binary cross-entropy.

- :func:`psnr`: peak signal-to-noise ratio in dB, one value per image (higher is better);
- :func:`binary_crossentropy`: the loss of a "reconstruction" against clean images, computed as Keras does
  (the baseline of handing back the noisy image unchanged).

The networks themselves are written on notebook 08's page and exported to :mod:`helpers.taught.autoencoder`.
"""

from __future__ import annotations

import numpy as np


def _pair(reference, other, what: str):
    reference = np.asarray(reference, dtype=np.float64)
    other = np.asarray(other, dtype=np.float64)
    if reference.shape != other.shape:
        raise ValueError(f"{what}: the two image arrays differ in shape: {reference.shape} vs {other.shape}.")
    if reference.ndim < 2:
        raise ValueError(f"{what}: expected a batch of images (n, height, width[, channels]); got shape {reference.shape}.")
    return reference, other


def psnr(reference, other, data_range: float = 1.0) -> np.ndarray:
    """Peak signal-to-noise ratio per image, in dB: ``10 log10(data_range² / MSE)``.

    Args:
        reference: clean images ``(n, h, w[, c])``, float in ``[0, data_range]``.
        other: images to compare (noisy or reconstructed), same shape.
        data_range: largest possible pixel value (1.0 for images scaled to ``[0, 1]``, 255 for uint8).

    Returns:
        float64 array ``(n,)``; ``inf`` for an image identical to its reference. Higher is better:
        +6 dB is half the root-mean-square error.
    """
    if data_range <= 0:
        raise ValueError(f"data_range must be positive (1.0 for [0, 1] images, 255 for uint8); got {data_range}.")
    reference, other = _pair(reference, other, "psnr")
    mse = ((reference - other) ** 2).reshape(len(reference), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range ** 2 / mse)


def binary_crossentropy(targets, predictions, epsilon: float = 1e-7) -> float:
    """Mean binary cross-entropy over all pixels, clipping predictions to ``[epsilon, 1 - epsilon]`` like Keras.

    Used for the baseline "return the noisy input unchanged": its loss against the clean images.
    """
    targets, predictions = _pair(targets, predictions, "binary_crossentropy")
    p = np.clip(predictions, epsilon, 1.0 - epsilon)
    return float(np.mean(-(targets * np.log(p) + (1.0 - targets) * np.log(1.0 - p))))
