"""What a notebook hands back to the course runner: one record file per execution, ``<stem>.handoff.jsonl``.

The one contract between the runner (``python -m helpers run``) and a notebook's kernel, imported by both sides
(pure Python: no Keras, no NumPy). Before it executes a notebook the runner

1. writes the file's first line, the *request*: the folder where the run may write files (``files_dir``) and
   whether a missed threshold is reported instead of raised (``report_missed``), see :func:`start`;
2. names the file in the one environment variable :data:`HANDOFF_ENV` (``DLFB_HANDOFF_FILE``), which the
   papermill kernel inherits.

Everything the notebook hands back is then appended to that file, one JSON object a line, by :func:`append`
(through :mod:`helpers.report`, :mod:`helpers.checks` and :mod:`helpers.sources`)::

    {"kind": "metrics", "values": {"test_accuracy": 0.98}}       helpers.report.record_metrics
    {"kind": "history", "model": "mlp", "history": {...}}         helpers.report.record_history (EpochLine)
    {"kind": "checked", "what": "test accuracy", "value": 0.98}   helpers.checks, before each comparison
    {"kind": "missed", "message": "test accuracy = 0.5, ..."}     helpers.checks, a missed threshold reported
    {"kind": "source", "entry": {"dataset": "MNIST", ...}}        helpers.sources.record_use

Lines are only ever appended, so a kernel interrupted while writing loses at most its last line. :func:`read`
folds the lines into one :class:`Handoff`; the runner reads it once, after the notebook ends.

Run by hand (JupyterLab, nbval) the variable is unset: :func:`active` is None and :func:`append` does nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The one environment variable of the runner-notebook contract: the path of the execution's handoff file.
HANDOFF_ENV = "DLFB_HANDOFF_FILE"
#: ``<output folder>/<stem>.handoff.jsonl``, beside the executed notebook and its ``.run.json``.
HANDOFF_SUFFIX = ".handoff.jsonl"
#: The kinds of line a notebook may append (the request is the runner's first line).
KINDS = ("metrics", "history", "checked", "missed", "source")


@dataclass
class Handoff:
    """What one execution handed back, folded from its handoff file's lines.

    Attributes:
        files_dir: the folder the run may write files to ("" when the file has no request line).
        report_missed: whether a missed threshold is reported (True) or raised (False).
        metrics: name -> scalar, every :func:`helpers.report.record_metrics` call merged in order.
        histories: model name -> {metric: per-epoch values}; a second training of the same name is ``name#2``.
        checked: what -> value, every value a threshold check received (the last one of each name).
        missed: the messages of the thresholds missed in report mode, in order.
        sources: the data sources the loaders used, each once, in order.
    """

    files_dir: str = ""
    report_missed: bool = False
    metrics: dict[str, Any] = field(default_factory=dict)
    histories: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    checked: dict[str, Any] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)


def handoff_path(output_dir: str | Path, stem: str) -> Path:
    """``<output_dir>/<stem>.handoff.jsonl``: the handoff file of the execution whose executed copy is ``<stem>.ipynb``."""
    return Path(output_dir) / f"{stem}{HANDOFF_SUFFIX}"


def start(path: str | Path, files_dir: str | Path, report_missed: bool) -> Path:
    """Runner side: begin ``path`` afresh with the request line (absolute ``files_dir``, ``report_missed``).

    The caller then sets ``os.environ[HANDOFF_ENV] = str(path)`` for the kernel it starts.
    """
    path = Path(path).absolute()
    request = {"kind": "request", "files_dir": str(Path(files_dir).absolute()), "report_missed": bool(report_missed)}
    path.write_text(json.dumps(request) + "\n", encoding="utf-8")
    return path


def active() -> Path | None:
    """Notebook side: the handoff file the runner named in ``$DLFB_HANDOFF_FILE``, or None (run by hand)."""
    value = os.environ.get(HANDOFF_ENV, "").strip()
    return Path(value) if value else None


def request() -> Handoff:
    """Notebook side: the runner's request (``files_dir``, ``report_missed``); an empty :class:`Handoff` by hand."""
    path = active()
    if path is None:
        return Handoff()
    try:
        with open(path, encoding="utf-8") as handle:
            first = json.loads(handle.readline() or "{}")
    except (OSError, ValueError):
        return Handoff()
    if not isinstance(first, dict) or first.get("kind") != "request":
        return Handoff()
    return Handoff(files_dir=str(first.get("files_dir") or ""), report_missed=bool(first.get("report_missed")))


def append(kind: str, **fields: Any) -> bool:
    """Notebook side: append one line ``{"kind": kind, **fields}`` to the active handoff file.

    Returns whether it was written (False when run by hand). ``fields`` must be JSON values.

    Raises:
        ValueError: ``kind`` is not one of :data:`KINDS`.
    """
    if kind not in KINDS:
        raise ValueError(f"handoff kind {kind!r} is not one of {', '.join(KINDS)}; add it to helpers.handoff.KINDS "
                         "and to read() first")
    path = active()
    if path is None:
        return False
    line = json.dumps({"kind": kind, **fields})  # serialised before the file is opened: no half line on an error
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return True


def read(path: str | Path) -> Handoff:
    """Runner side (and :func:`helpers.report.record_metrics`): fold the lines of ``path`` into a :class:`Handoff`.

    A missing file gives an empty Handoff; a line that is not a JSON object (cut short by an interrupt) is skipped.
    """
    handoff = Handoff()
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return handoff
    for text in lines:
        try:
            line = json.loads(text)
        except ValueError:
            continue  # a line cut short by an interrupt
        if isinstance(line, dict):
            _fold(handoff, line)
    return handoff


def _fold(handoff: Handoff, line: dict[str, Any]) -> None:
    """Add one line's content to ``handoff`` (unknown kinds and malformed lines are ignored)."""
    kind = line.get("kind")
    if kind == "request":
        handoff.files_dir, handoff.report_missed = str(line.get("files_dir") or ""), bool(line.get("report_missed"))
    elif kind == "metrics" and isinstance(line.get("values"), dict):
        handoff.metrics.update(line["values"])
    elif kind == "history" and isinstance(line.get("history"), dict):
        name = str(line.get("model") or "model")
        key, n = name, 1
        while key in handoff.histories:
            n += 1
            key = f"{name}#{n}"
        handoff.histories[key] = line["history"]
    elif kind == "checked" and "what" in line:
        handoff.checked[str(line["what"])] = line.get("value")
    elif kind == "missed" and line.get("message"):
        handoff.missed.append(str(line["message"]))
    elif kind == "source" and isinstance(line.get("entry"), dict) and line["entry"] not in handoff.sources:
        handoff.sources.append(line["entry"])
