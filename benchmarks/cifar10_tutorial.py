"""Notebook 06's CIFAR-10 experiments at the tutorial's scale, outside the notebook, on any Keras 3 backend.

The tutorial trains its network (``create_model`` of notebook 06, exported to ``helpers.taught.cnn``, 276,138 parameters) on all
50,000 CIFAR-10 training images for 100 epochs with RMSprop: once at batch size 256 without augmentation,
once at batch size 200 with random horizontal flips and shifts of up to 10 % (3 pixels; done in NumPy
here, see :func:`fit_augmented`), each validated on the 10,000 test images after every epoch.
That is about 2.5 hours per run on 2 CPU cores, so ``--preset tutorial`` of notebook 06 is for a GPU.
This script runs exactly those two trainings with the same builders where TensorFlow may not be
installed (``KERAS_BACKEND=jax`` on a GPU machine), and writes what it measured:

    python benchmarks/cifar10_tutorial.py --archive $DLFB_MIRROR/datasets/cifar10-jpg.tar.gz --output OUT

``OUT/cifar10_tutorial.json`` holds every epoch's loss and accuracy (training and validation), the final
test accuracy, wall times, the device and the package versions; ``OUT/cifar10_tutorial.png`` the curves.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np


def run(archive: Path, output: Path, epochs: int, seed: int, train_samples: int | None) -> dict:
    import keras

    from helpers.data import decode_cifar10_jpeg_archive
    from helpers.taught.cnn import create_model

    (x_train, y_train), (x_test, y_test) = decode_cifar10_jpeg_archive(archive)
    if train_samples:
        x_train, y_train = x_train[:train_samples], y_train[:train_samples]
    x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
    y_train_1h, y_test_1h = keras.utils.to_categorical(y_train, 10), keras.utils.to_categorical(y_test, 10)
    results = {
        "what": "notebook 06, CIFAR-10 network of the tutorial, tutorial settings",
        "backend": keras.backend.backend(), "keras": keras.__version__, "numpy": np.__version__,
        "python": platform.python_version(), "device": device_name(),
        "train_images": int(len(x_train)), "test_images": int(len(x_test)), "epochs": epochs, "seed": seed,
        "data": "the mirror's CIFAR-10 JPEG archive (all 60,000 images)", "runs": {},
    }
    for name, batch_size, augmented in (("plain", 256, False), ("augmented", 200, True)):
        keras.utils.set_random_seed(seed)
        model = create_model()
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.001), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        start = time.perf_counter()
        if augmented:
            history = fit_augmented(model, x_train, y_train_1h, batch_size, epochs, (x_test, y_test_1h), seed)
        else:
            history = model.fit(x_train, y_train_1h, batch_size=batch_size, epochs=epochs, verbose=2,
                                validation_data=(x_test, y_test_1h)).history
        seconds = time.perf_counter() - start
        test_loss, test_accuracy = model.evaluate(x_test, y_test_1h, verbose=0)
        results["runs"][name] = {
            "batch_size": batch_size,
            "augmentation": "NumPy: random horizontal flip, shifts of up to 3 px (0.1), edge fill" if augmented else None,
            "parameters": int(model.count_params()), "wall_time_s": round(seconds, 1),
            "test_loss": round(float(test_loss), 4), "test_accuracy": round(float(test_accuracy), 4),
            "history": {k: [round(float(v), 4) for v in vs] for k, vs in history.items()},
        }
        print(f"{name}: test accuracy {test_accuracy:.4f}, {seconds:.0f} s", flush=True)
    output.mkdir(parents=True, exist_ok=True)
    (output / "cifar10_tutorial.json").write_text(json.dumps(results, indent=1) + "\n")
    plot(results, output / "cifar10_tutorial.png")
    return results


def shift_and_flip(images: np.ndarray, rng: np.random.Generator, max_shift: int = 3) -> np.ndarray:
    """A new random copy of ``images`` (n, h, w, c): each flipped left-right with probability 1/2 and
    shifted by up to ``max_shift`` pixels in each direction, the border filled with the nearest pixel
    (what ``ImageDataGenerator(horizontal_flip=True, width_shift_range=0.1, height_shift_range=0.1)``
    did, in whole pixels)."""
    n, h, w, _ = images.shape
    out = np.where(rng.random(n)[:, None, None, None] < 0.5, images[:, :, ::-1], images)
    padded = np.pad(out, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)), mode="edge")
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, n))
    rows = dy[:, None] + np.arange(h)[None, :]
    cols = dx[:, None] + np.arange(w)[None, :]
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def fit_augmented(model, x, y, batch_size, epochs, validation_data, seed) -> dict:
    """Train with a freshly augmented copy of the training set every epoch.

    Keras's RandomFlip/RandomTranslation layers (what notebook 06 uses) ran at 200 ms per batch on the
    JAX backend here against 3 ms without them, so the GPU run augments in NumPy, outside the model.
    """
    rng = np.random.default_rng(seed)
    history: dict[str, list] = {}
    for epoch in range(epochs):
        print(f"Epoch {epoch + 1}/{epochs}", flush=True)
        h = model.fit(shift_and_flip(x, rng), y, batch_size=batch_size, epochs=1, verbose=2,
                      validation_data=validation_data).history
        for key, values in h.items():
            history.setdefault(key, []).extend(values)
    return history


def device_name() -> str:
    """The accelerator the backend runs on, else the CPU."""
    try:
        import jax

        return str(jax.devices()[0].device_kind)
    except Exception:  # noqa: BLE001 - any backend without jax
        return platform.processor() or platform.machine()


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for name, style in (("plain", "-"), ("augmented", "--")):
            h = results["runs"][name]["history"]
            ax.plot(range(1, len(h[metric]) + 1), h[metric], "r" + style, label=f"training ({name})")
            ax.plot(range(1, len(h[metric]) + 1), h["val_" + metric], "b" + style, label=f"validation ({name})")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path, required=True, help="the mirror's datasets/cifar10-jpg.tar.gz")
    parser.add_argument("--output", type=Path, required=True, help="folder for the JSON and the figure")
    parser.add_argument("--epochs", type=int, default=100, help="the tutorial: 100")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--train-samples", type=int, default=None, help="default: all 50,000 (a smoke test may use fewer)")
    args = parser.parse_args()
    if not args.archive.is_file():
        parser.error(f"--archive {args.archive} not found: pass the mirror's datasets/cifar10-jpg.tar.gz")
    run(args.archive, args.output, args.epochs, args.seed, args.train_samples)


if __name__ == "__main__":
    main()
