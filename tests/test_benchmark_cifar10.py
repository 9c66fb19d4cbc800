"""Tests for benchmarks/cifar10_tutorial.py: the NumPy augmentation used for the GPU run of notebook 06's
tutorial-scale training, and the recorded result that notebook 06 and the README quote."""

import importlib.util
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("cifar10_tutorial", ROOT / "benchmarks" / "cifar10_tutorial.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_shift_and_flip_is_a_flipped_shifted_crop_with_edge_fill():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, size=(64, 8, 8, 3), dtype=np.uint8)
    out = bench.shift_and_flip(images, np.random.default_rng(1), max_shift=2)
    assert out.shape == images.shape and out.dtype == images.dtype
    for original, augmented in zip(images, out):
        candidates = []
        for flipped in (original, original[:, ::-1]):
            padded = np.pad(flipped, ((2, 2), (2, 2), (0, 0)), mode="edge")
            candidates += [padded[dy:dy + 8, dx:dx + 8] for dy in range(5) for dx in range(5)]
        assert any((augmented == c).all() for c in candidates)
    assert not (out == images).all()


def test_shift_and_flip_without_shift_only_flips_about_half():
    images = np.arange(200 * 4 * 4).reshape(200, 4, 4, 1)
    out = bench.shift_and_flip(images, np.random.default_rng(0), max_shift=0)
    flipped = np.array([(o == i[:, ::-1]).all() and not (o == i).all() for o, i in zip(out, images)])
    assert 70 < flipped.sum() < 130


def test_recorded_gpu_run_shows_the_tutorials_two_findings():
    record = json.loads((ROOT / "benchmarks" / "results" / "cifar10_tutorial_h100.json").read_text())
    plain, augmented = record["runs"]["plain"], record["runs"]["augmented"]
    assert record["train_images"] == 50000 and record["epochs"] == 100
    assert plain["parameters"] == augmented["parameters"] == 276138
    # Without augmentation the validation loss ends well above its minimum (overfitting) ...
    assert plain["history"]["val_loss"][-1] - min(plain["history"]["val_loss"]) > 0.0
    assert plain["history"]["accuracy"][-1] - plain["history"]["val_accuracy"][-1] > 0.03
    # ... with augmentation validation accuracy ends above training accuracy, and the test accuracy is higher.
    assert augmented["history"]["val_accuracy"][-1] > augmented["history"]["accuracy"][-1]
    assert augmented["test_accuracy"] > plain["test_accuracy"]
