"""What a notebook hands back to the course runner: its metrics, and files in its own output folder.

The runner (``python -m helpers run``) sets two environment variables before it executes a notebook:

``DLFB_METRICS_FILE``
    JSON file next to the executed notebook; :func:`record_metrics` merges values into it.
``DLFB_OUTPUT_DIR``
    the folder where that run may write files (saved models, figures); see :func:`output_dir`.

Run by hand (JupyterLab, nbval), a notebook writes no metrics file, and :func:`output_dir` gives a
fresh temporary folder, so nothing lands beside the notebooks.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

METRICS_ENV = "DLFB_METRICS_FILE"
OUTPUT_ENV = "DLFB_OUTPUT_DIR"
HISTORIES_FILE = "histories.json"  # training histories in the output folder (helpers.training.EpochLine)

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
    so far in this run (when the runner set ``DLFB_METRICS_FILE``) or the given ones.
    """
    metrics = {name: _plain(v) for name, v in values.items()}
    print("Recorded: " + ", ".join(f"{k}={v}" for k, v in metrics.items()))
    target = os.environ.get(METRICS_ENV)
    if target:
        path = Path(target)
        merged = json.loads(path.read_text()) if path.exists() else {}
        merged.update(metrics)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(merged, indent=2))
        metrics = merged
    return metrics


def output_dir() -> Path:
    """Return the folder this run may write files to.

    ``$DLFB_OUTPUT_DIR`` when the runner set it, else one temporary folder for this Python session.
    """
    global _temporary_output
    target = os.environ.get(OUTPUT_ENV)
    if target:
        path = Path(target)
        path.mkdir(parents=True, exist_ok=True)
        return path
    if _temporary_output is None:
        _temporary_output = Path(tempfile.mkdtemp(prefix="dlfb-"))
    return _temporary_output
