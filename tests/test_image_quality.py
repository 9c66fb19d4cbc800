"""Tests for helpers.image_quality: PSNR and the pixel-wise binary cross-entropy notebook 08 asserts."""

import numpy as np
import pytest

from helpers import image_quality as iq


def test_psnr_known_values():
    clean = np.zeros((2, 4, 4))
    other = clean.copy()
    other[0] += 0.1          # MSE 0.01 -> 20 dB
    other[1] += 0.5          # MSE 0.25 -> 6.0206 dB
    np.testing.assert_allclose(iq.psnr(clean, other), [20.0, 10 * np.log10(4)], atol=1e-9)
    assert iq.psnr(clean, clean)[0] == np.inf
    assert iq.psnr(clean * 255, other * 255, data_range=255)[0] == pytest.approx(20.0)
    with pytest.raises(ValueError, match="differ in shape"):
        iq.psnr(clean, clean[:1])
    with pytest.raises(ValueError, match="data_range"):
        iq.psnr(clean, other, data_range=0)
    with pytest.raises(ValueError, match="batch of images"):
        iq.psnr(np.zeros(3), np.zeros(3))


def test_binary_crossentropy_matches_keras():
    import keras

    rng = np.random.default_rng(0)
    t = rng.random((3, 5, 5, 1)).astype(np.float32)
    p = np.clip(rng.random((3, 5, 5, 1)).astype(np.float32), 0, 1)
    p[0, 0, 0, 0] = 0.0  # clipping path
    expected = float(np.mean(keras.losses.binary_crossentropy(t, p)))
    assert iq.binary_crossentropy(t, p) == pytest.approx(expected, rel=1e-4)
    assert iq.binary_crossentropy(t, t) < iq.binary_crossentropy(t, 1 - t)
