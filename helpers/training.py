"""Seeding and a quiet training log.

Keras's default progress bar prints hundreds of lines into a notebook; :class:`EpochLine` prints
exactly one line per epoch instead. Use it with ``verbose=0``::

    model.fit(x, y, epochs=5, verbose=0, callbacks=[EpochLine()])
"""

from __future__ import annotations

import time

import keras


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

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        total = self.params.get("epochs", 0)
        if (epoch + 1) % self.every and epoch + 1 != total:
            return
        width = len(str(total))
        metrics = "  ".join(f"{name} {float(value):.4f}" for name, value in (logs or {}).items()
                            if name != "learning_rate")
        print(f"epoch {epoch + 1:>{width}}/{total}  {metrics}  ({time.perf_counter() - self._start:.1f} s)")
