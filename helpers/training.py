"""Seeding and a quiet training log.

Keras's default progress bar prints hundreds of lines into a notebook; :class:`EpochLine` prints
exactly one line per epoch instead. Use it with ``verbose=0``::

    model.fit(x, y, epochs=5, verbose=0, callbacks=[EpochLine()])

When the course runner executes the notebook (it sets ``DLFB_OUTPUT_DIR``), :class:`EpochLine` also
appends each training's history to ``histories.json`` in that folder, so a batch of executions can
be compared curve by curve (:mod:`helpers.course.batch_report`). Run by hand, it writes nothing.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import keras

from helpers.report import HISTORIES_FILE


def seed_everything(seed: int, deterministic_ops: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``) so reruns agree.

    With ``deterministic_ops`` TensorFlow also picks deterministic kernels, so two runs on the same
    machine give the same numbers (on a GPU this can cost speed).
    """
    keras.utils.set_random_seed(int(seed))
    if deterministic_ops:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


class EpochLine(keras.callbacks.Callback):
    """Print one line per epoch: epoch number, every logged metric, and the epoch's time.

    Args:
        every: print every ``every``-th epoch (and the last), for long runs.
    """

    def __init__(self, every: int = 1):
        super().__init__()
        self.every = max(1, int(every))
        self._start = 0.0
        self._history: dict[str, list[float]] = {}

    def on_train_begin(self, logs=None):
        self._history = {}

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_train_end(self, logs=None):
        save_history(getattr(self.model, "name", "model"), self._history)

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            if name != "learning_rate":
                self._history.setdefault(name, []).append(round(float(value), 6))
        total = self.params.get("epochs", 0)
        if (epoch + 1) % self.every and epoch + 1 != total:
            return
        width = len(str(total))
        metrics = "  ".join(f"{name} {float(value):.4f}" for name, value in (logs or {}).items()
                            if name != "learning_rate")
        print(f"epoch {epoch + 1:>{width}}/{total}  {metrics}  ({time.perf_counter() - self._start:.1f} s)")


def save_history(name: str, history: dict[str, list[float]]) -> Path | None:
    """Append one training's per-epoch ``history`` under ``name`` to ``$DLFB_OUTPUT_DIR/histories.json``.

    Does nothing (returns None) unless the course runner set ``DLFB_OUTPUT_DIR``. A second training of a
    model with the same name is stored as ``name#2``, and so on.
    """
    from helpers.report import OUTPUT_ENV

    folder = os.environ.get(OUTPUT_ENV)
    if not folder or not history:
        return None
    path = Path(folder) / HISTORIES_FILE
    stored = json.loads(path.read_text()) if path.exists() else {}
    key, n = name, 1
    while key in stored:
        n += 1
        key = f"{name}#{n}"
    stored[key] = history
    path.write_text(json.dumps(stored))
    return path
