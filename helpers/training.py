"""A quiet training log (seed with Keras's own ``keras.utils.set_random_seed``).

Keras's default progress bar prints hundreds of lines into a notebook; :class:`EpochLine` prints
exactly one line per epoch instead. Use it with ``verbose=0``::

    model.fit(x, y, epochs=5, verbose=0, callbacks=[EpochLine()])

At the end of each training :class:`EpochLine` hands the per-epoch history to the course runner with
:func:`helpers.report.record_history` (the runner's one channel, :mod:`helpers.handoff`), so a batch of
executions can be compared curve by curve (:mod:`helpers.course.batch_report`); ``EpochLine(record=False)``
does not. Run by hand, nothing is handed over and no file is written.
"""

from __future__ import annotations

import time

import keras

from helpers import report


class EpochLine(keras.callbacks.Callback):
    """Print one line per epoch: epoch number, every logged metric, and the epoch's time.

    Args:
        every: print every ``every``-th epoch (and the last), for long runs.
        record: at the end of training, hand the history to the course runner
            (:func:`helpers.report.record_history`; nothing happens when the notebook runs by hand).
    """

    def __init__(self, every: int = 1, record: bool = True):
        super().__init__()
        self.every = max(1, int(every))
        self.record = bool(record)
        self._start = 0.0
        self._history: dict[str, list[float]] = {}

    def on_train_begin(self, logs=None):
        self._history = {}

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_train_end(self, logs=None):
        if self.record:
            report.record_history(getattr(self.model, "name", "model"), self._history)

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

