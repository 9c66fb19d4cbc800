"""Running one execution: a notebook with papermill (status, wall time, what it handed back, record), its
record read back for ``--resume``, and the share of the cores a worker process pins its kernels to.

How a batch of executions runs (in order, in worker processes, on Dask) is :mod:`helpers.course.runner.executors`'s.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from helpers import handoff  # the runner-notebook contract: one module, one environment variable, one file
from helpers.course import run_record
from helpers.course.run_record import Status
from helpers.course.runner.planning import Execution, notebook_parameters


def quiet_papermill() -> None:
    """Silence papermill's INFO logging (it would print one line per cell)."""
    logging.getLogger("papermill").setLevel(logging.WARNING)


def kernel_options() -> dict[str, Any]:
    """Extra papermill/nbclient options: encrypt kernel traffic where supported.

    Recent ipykernel warns on stderr for every unencrypted TCP kernel; asking jupyter_client to
    provision CurveZMQ keys (``transport_encryption="auto"``) both secures and silences it.
    """
    # Heavy (ZeroMQ, the kernel machinery), needed only when a notebook runs: not loaded by `list` or a usage error.
    import zmq
    from jupyter_client.manager import KernelManager
    from traitlets.config import Config

    if not KernelManager.class_traits().get("transport_encryption") or not zmq.has("curve"):
        return {}
    return {"config": Config({"KernelManager": {"transport_encryption": "auto"}})}


def describe_error(exc: BaseException) -> str:
    """The failing cell, the error type and its whole message (a loader's error ends with the fix)."""
    if hasattr(exc, "exec_count") and hasattr(exc, "ename"):
        message = str(exc.evalue or "").strip()
        return f"cell In [{exc.exec_count}]: {exc.ename}" + (f": {message}" if message else "")
    if is_timeout(exc):
        preview = str(exc).split("Here is a preview of the cell contents:", 1)
        cell = preview[1].strip().strip("-").strip().splitlines()[:2] if len(preview) == 2 else []
        return "timed out in the cell starting: " + " / ".join(cell) if cell else f"timed out: {exc}".strip()
    return f"{type(exc).__name__}: {exc}".strip()


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` is nbclient's cell timeout (papermill's ``execution_timeout``)."""
    return type(exc).__name__ == "CellTimeoutError" or isinstance(exc, TimeoutError)


def run_execution(execution: Execution, output_dir: Path, kernel: str, timeout: float | None = None,
                  cwd: Path | None = None) -> None:
    """Execute one notebook with papermill, filling in status, wall time, error, metrics and card.

    Status (:class:`~helpers.course.run_record.Status`): ``ok``, ``below expectation`` (it ran, but with parameters
    its thresholds were not set for it missed one: see :func:`helpers.course.runner.planning.thresholds_fit`),
    ``failed``, ``timed out`` (a cell ran longer than ``timeout`` seconds) or ``interrupted`` (Ctrl-C; the partial
    executed notebook is kept and the interrupt is re-raised; or the kernel itself was interrupted, as a Dask
    worker does when the batch is stopped).

    What the notebook hands back comes through one file, ``<stem>.handoff.jsonl`` (:mod:`helpers.handoff`), named to
    the kernel in ``$DLFB_HANDOFF_FILE``; files it writes go to ``<stem>_files/`` (removed again when empty).
    """
    import papermill  # heavy (nbclient, its engines): loaded only when a notebook runs

    executed = output_dir / f"{execution.stem}.ipynb"
    record_file = run_record.record_path(output_dir, execution.stem)
    execution.card = run_record.card(execution.parameters,
                                     {p.name: p.default for p in notebook_parameters(execution.notebook)})
    save_record(execution, record_file, Status.RUNNING)
    files_dir = output_dir / f"{execution.stem}_files"
    shutil.rmtree(files_dir, ignore_errors=True)
    files_dir.mkdir()
    handoff_file = handoff.start(handoff.handoff_path(output_dir, execution.stem), files_dir,
                                 report_missed=not execution.strict)
    saved = os.environ.get(handoff.HANDOFF_ENV)
    os.environ[handoff.HANDOFF_ENV] = str(handoff_file)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(execution.notebook), str(executed), parameters=execution.parameters,
            kernel_name=kernel, cwd=str(cwd or execution.notebook.parent), progress_bar=False, log_output=False,
            execution_timeout=timeout, **kernel_options(),
        )
        execution.status = Status.OK
    except KeyboardInterrupt:
        execution.status = Status.INTERRUPTED
        execution.error = "interrupted by the user (Ctrl-C); partial notebook kept"
        raise
    except Exception as exc:  # noqa: BLE001 - every failure is reported, the run goes on
        if getattr(exc, "ename", None) == "KeyboardInterrupt":  # the kernel was interrupted (a Dask batch's Ctrl-C)
            execution.status = Status.INTERRUPTED
            execution.error = f"interrupted in cell In [{getattr(exc, 'exec_count', '?')}]; partial notebook kept"
        else:
            execution.status = Status.TIMED_OUT if is_timeout(exc) else Status.FAILED
            execution.error = describe_error(exc)
    finally:
        execution.wall_time = time.perf_counter() - start
        if saved is None:
            os.environ.pop(handoff.HANDOFF_ENV, None)
        else:
            os.environ[handoff.HANDOFF_ENV] = saved
        take_handoff(execution, handoff.read(handoff_file))
        save_record(execution, record_file, execution.status)
        add_card_to_notebook(executed, execution.card)
    if not any(files_dir.iterdir()):
        files_dir.rmdir()


def take_handoff(execution: Execution, handed: handoff.Handoff) -> None:
    """Put what the notebook handed back on ``execution``: its metrics, its data sources on the card, and a
    missed threshold (report mode) as ``below expectation``.

    An execution that stopped early (failed, timed out, interrupted) did not reach its last cells, which record
    the metrics: it keeps what its threshold checks measured so far.
    """
    execution.metrics = dict(handed.metrics)
    if execution.status in (Status.FAILED, Status.TIMED_OUT, Status.INTERRUPTED):
        for what, value in handed.checked.items():
            execution.metrics.setdefault(what, value)
    execution.card["data_sources"] = handed.sources
    if execution.status == Status.OK and handed.missed:
        execution.status, execution.error = Status.BELOW_EXPECTATION, " | ".join(handed.missed)


def save_record(execution: Execution, path: Path, status: Status) -> None:
    """Write the execution's ``.run.json`` (see :mod:`helpers.course.run_record`)."""
    run_record.write_record(path, {
        "key": execution.key, "notebook": execution.notebook.stem, "preset": execution.preset,
        "parameters": execution.parameters, "grid": execution.grid, "status": status,
        "wall_time_s": None if execution.wall_time is None else round(execution.wall_time, 1),
        "error": execution.error, "metrics": execution.metrics, "card": execution.card})


def add_card_to_notebook(path: Path, card: dict[str, Any]) -> None:
    """Store the reproducibility card in the executed notebook's metadata (``metadata.dlfb``)."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # no executed copy (the kernel never started): the .run.json still has the card
    notebook.setdefault("metadata", {})["dlfb"] = card
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def resume_from_record(execution: Execution, output_dir: Path) -> bool:
    """Fill ``execution`` from its record when that finished ok under the same key; return whether it did."""
    record = run_record.finished(run_record.record_path(output_dir, execution.stem), execution.key)
    if record is None:
        return False
    fill_from_record(execution, record)
    execution.resumed = True
    return True


def fill_from_record(execution: Execution, record: dict[str, Any]) -> None:
    """Copy an execution's outcome from its ``.run.json`` (a record left 'running' was interrupted)."""
    execution.status = Status.of(record.get("status", Status.PENDING))
    execution.wall_time, execution.error = record.get("wall_time_s"), record.get("error", "")
    execution.metrics, execution.card = record.get("metrics") or {}, record.get("card") or {}


def core_shares(jobs: int) -> list[list[int]]:
    """Split this process's CPU cores into ``jobs`` disjoint shares (at least one core each)."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    jobs = max(1, min(jobs, len(cores)))
    return [cores[i::jobs] for i in range(jobs)]


def pin_to_cores(cores: list[int]) -> None:
    """Pin this process (and so the kernels it starts) to ``cores`` and size the kernels' thread pools
    to them, so N workers on N cores do not oversubscribe.

    Every thread of the process is pinned: on Linux an affinity belongs to a thread, and a Dask worker
    runs its task (which starts the kernel) in a thread other than the one that would call this.
    """
    if hasattr(os, "sched_setaffinity"):
        try:
            threads = [int(tid) for tid in os.listdir("/proc/self/task")]
        except OSError:
            threads = [0]
        for tid in threads or [0]:
            try:
                os.sched_setaffinity(tid, cores)
            except OSError:  # a thread that ended meanwhile
                pass
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                 "TF_NUM_INTEROP_THREADS"):
        os.environ[name] = str(len(cores))
