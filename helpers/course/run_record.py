"""What the course runner keeps on disk for each execution: its key, its outcome, its reproducibility card.

Beside each executed notebook ``<stem>.ipynb`` the runner writes ``<stem>.run.json``::

    {"key": "...", "notebook": "05_mlp_image_classification", "preset": null, "parameters": {...},
     "status": "ok", "wall_time_s": 61.2, "error": "", "metrics": {...}, "card": {...}}

The **key** identifies an execution: the notebook's content, its parameters and the versions of the packages
that compute the result. ``python -m helpers run --resume`` skips an execution whose record says ``ok`` under
the same key, and runs again what failed, was interrupted, or changed. The **card** says how to get the
result again: package versions, the device, the seed, the parameters, and where each dataset came from
(``data_sources``: online, Keras cache, mirror or package, with the sha256 of every file read; recorded inside
the kernel by the loaders, see :func:`helpers.sources.record_use`). The card is also stored in the executed
notebook's metadata under ``dlfb``.
"""

from __future__ import annotations

import enum
import hashlib
import json
import platform
import shutil
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

RECORD_SUFFIX = ".run.json"
VERSIONED_PACKAGES = ("tensorflow", "keras", "numpy", "papermill")


class Status(str, enum.Enum):
    """What happened to an execution. A ``str``: records, summaries and comparisons see the plain text."""

    PENDING = "pending"                        # planned, not run (yet)
    RUNNING = "running"                        # on disk while it runs; read back later: it was interrupted
    OK = "ok"                                  # ran to its end, every threshold met
    BELOW_EXPECTATION = "below expectation"    # ran to its end; a threshold set for other parameters was missed
    FAILED = "failed"                          # a cell raised, or the worker running it was lost
    TIMED_OUT = "timed out"                    # a cell ran longer than --timeout
    INTERRUPTED = "interrupted"                # Ctrl-C (or the kernel was interrupted); partial notebook kept
    SKIPPED = "skipped"                        # never started: the batch was stopped first

    __str__ = str.__str__        # "ok", not "Status.OK", in f-strings, CSV and printed summaries
    __format__ = str.__format__

    @classmethod
    def of(cls, text: Any) -> "Status":
        """The status a record's text names; one left ``running`` was interrupted, an unknown one is ``failed``."""
        try:
            status = cls(text)
        except ValueError:
            return cls.FAILED
        return cls.INTERRUPTED if status is cls.RUNNING else status


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Python's and the result-relevant packages' versions (read from metadata: nothing is imported)."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@lru_cache(maxsize=1)
def device() -> str:
    """The CPU model (and NVIDIA GPUs, when ``nvidia-smi`` lists any) of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpus = ""
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                                 text=True, timeout=10).stdout
            gpus = ", ".join(line.strip() for line in out.splitlines() if line.strip())
        except (OSError, subprocess.SubprocessError):
            gpus = ""
    return f"{cpu}; GPU: {gpus}" if gpus else f"{cpu}; no GPU"


def execution_key(notebook: Path, parameters: dict[str, Any], preset: str | None) -> str:
    """sha256 of the notebook's bytes, the parameters, the preset name and the package versions."""
    content = hashlib.sha256(Path(notebook).read_bytes()).hexdigest()
    payload = json.dumps({"notebook": content, "parameters": parameters, "preset": preset,
                          "versions": package_versions()}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def card(parameters: dict[str, Any], defaults: dict[str, str]) -> dict[str, Any]:
    """The reproducibility card of one execution: versions, device, seed and every parameter it ran with.

    ``defaults`` are the notebook's parameters-cell defaults (source text); the card lists the values
    in effect, so a reader knows the whole configuration, not only what was overridden.
    """
    effective = {**defaults, **{k: json.dumps(v) if not isinstance(v, str) else repr(v) for k, v in parameters.items()}}
    return {"versions": package_versions(), "device": device(), "seed": effective.get("SEED", "not a parameter"),
            "parameters": effective}


def record_path(output_dir: Path, stem: str) -> Path:
    """``<output_dir>/<stem>.run.json``."""
    return Path(output_dir) / f"{stem}{RECORD_SUFFIX}"


def write_record(path: Path, record: dict[str, Any]) -> None:
    """Write ``record`` atomically (a crash leaves the old record or the new one, never half of one)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=1, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


#: Statuses of an execution that ran to its end; ``--resume`` does not run these again.
FINISHED = (Status.OK, Status.BELOW_EXPECTATION)


def read_record(path: Path) -> dict[str, Any] | None:
    """The record at ``path``, or None when there is none or it cannot be read."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def finished(path: Path, key: str) -> dict[str, Any] | None:
    """The record at ``path`` if it ran to its end under ``key`` (so it need not run again), else None.

    Ran to its end: ``ok``, or ``below expectation`` (a varied run that missed a threshold set for other
    parameters: running it again would measure the same).
    """
    record = read_record(path)
    if record and record.get("status") in FINISHED and record.get("key") == key:
        return record
    return None


def data_sources_text(card: dict[str, Any]) -> str:
    """One line for a summary row: ``MNIST: package + mirror; images/cats_vs_dogs: mirror``."""
    return "; ".join(f"{d.get('dataset')}: {d.get('source')}" for d in card.get("data_sources") or [])


def data_sources_lines(cards: list[dict[str, Any]]) -> list[str]:
    """Markdown lines naming each distinct data source of ``cards`` once, with its files' sha256."""
    lines, seen = [], set()
    for card in cards:
        for source in card.get("data_sources") or []:
            key = json.dumps(source, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            files = [f"`{f['path']}` ({f['bytes']:,} bytes, sha256 `{f['sha256']}`)" for f in source.get("files", [])]
            folder = source.get("folder")
            if folder:
                files.append(f"`{folder['path']}/` ({folder['files']:,} files, sha256 over them `{folder['sha256']}`)")
            lines.append(f"- {source.get('dataset')}: {source.get('source')}" + (": " + ", ".join(files) if files else ""))
    return lines
