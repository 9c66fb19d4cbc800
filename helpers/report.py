"""What a notebook hands back to the course runner: its metrics, its training histories, and files in its own
output folder.

All of it goes through :mod:`helpers.handoff`, the one runner-notebook contract: the runner names the execution's
handoff file in ``$DLFB_HANDOFF_FILE``; :func:`record_metrics` and :func:`record_history` append to it, and
:func:`output_dir` is the folder the runner asked for in it.

Run by hand (JupyterLab, nbval), nothing is handed back: :func:`record_metrics` only prints, :func:`record_history`
does nothing, and :func:`output_dir` gives a fresh temporary folder, so nothing lands beside the notebooks.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from helpers import handoff

_temporary_output: Path | None = None


def _plain(value):
    """Convert NumPy / TensorFlow scalars to JSON-friendly Python values."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, (int, str, bool)) or value is None:
        return value
    raise TypeError(f"Metrics must be scalars (numbers, strings, booleans); got {type(value).__name__}.")


def record_metrics(**values) -> dict:
    """Record named scalar metrics for the runner's summary table, and print them.

    Example: ``record_metrics(test_accuracy=0.981, epochs=20)``. Prints the given metrics only, so a
    notebook's output is the same whether the runner executes it or not. Returns all metrics recorded
    so far in this run (when the runner executes the notebook) or the given ones.
    """
    metrics = {name: _plain(v) for name, v in values.items()}
    print("Recorded: " + ", ".join(f"{k}={v}" for k, v in metrics.items()))
    if handoff.append("metrics", values=metrics):
        metrics = handoff.read(handoff.active()).metrics
    return metrics


def record_history(model: str, history: dict[str, list[float]]) -> bool:
    """Hand one training's per-epoch ``history`` (``{metric: [value per epoch]}``) of ``model`` to the runner,
    which overlays the curves of a batch's executions (:mod:`helpers.course.batch_report`).

    :class:`helpers.training.EpochLine` calls it at the end of each training. A second training of a model with
    the same name is stored as ``name#2``, and so on. Returns whether it was handed over (False when run by hand
    or for an empty history).
    """
    if not history:
        return False
    return handoff.append("history", model=str(model),
                          history={name: [_plain(v) for v in values] for name, values in history.items()})


def output_dir() -> Path:
    """Return the folder this run may write files to.

    The folder the runner asked for in the execution's handoff file (``<stem>_files/`` beside the executed
    notebook), else one temporary folder for this Python session.
    """
    global _temporary_output
    target = handoff.request().files_dir
    if target:
        path = Path(target)
        path.mkdir(parents=True, exist_ok=True)
        return path
    if _temporary_output is None:
        _temporary_output = Path(tempfile.mkdtemp(prefix="dlfb-"))
    return _temporary_output
