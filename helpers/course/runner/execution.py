"""Running executions: one notebook with papermill (status, wall time, metrics, record), a batch in order,
or in worker processes pinned to their share of the cores.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from helpers.checks import CHECKED_ENV, REPORT_ENV
from helpers.course import run_record
from helpers.report import METRICS_ENV, OUTPUT_ENV as OUTPUT_DIR_ENV  # the runner-notebook contract: one home
from helpers.sources import SOURCES_FILE_ENV
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


def read_metrics(path: Path) -> dict[str, Any]:
    """Return the metrics a notebook recorded in ``path`` ({} when none or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_checked(path: Path) -> dict[str, Any]:
    """The values a notebook's threshold checks received, in order (see :data:`helpers.checks.CHECKED_ENV`)."""
    checked = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    for line in lines:
        try:
            entry = json.loads(line)
            checked[str(entry["what"])] = entry["value"]
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by an interrupt
    return checked


def read_sources(path: Path) -> list[dict[str, Any]]:
    """The data sources a notebook's loaders recorded in ``path`` (see :func:`helpers.sources.record_use`)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []


def run_execution(execution: Execution, output_dir: Path, kernel: str, timeout: float | None = None,
                  cwd: Path | None = None) -> None:
    """Execute one notebook with papermill, filling in status, wall time, error and metrics.

    Status: ``ok``, ``below expectation`` (it ran, but with parameters its thresholds were not set for it
    missed one: see :func:`helpers.course.runner.planning.thresholds_fit`), ``failed``, ``timed out`` (a cell ran
    longer than ``timeout`` seconds) or
    ``interrupted`` (Ctrl-C; the partial executed notebook is kept and the interrupt is re-raised; or the
    kernel itself was interrupted, as a Dask worker does when the batch is stopped).
    """
    import papermill  # heavy (nbclient, its engines): loaded only when a notebook runs

    executed = output_dir / f"{execution.stem}.ipynb"
    metrics_file = output_dir / f"{execution.stem}.metrics.json"
    record_file = run_record.record_path(output_dir, execution.stem)
    execution.card = run_record.card(execution.parameters,
                                     {p.name: p.default for p in notebook_parameters(execution.notebook)})
    save_record(execution, record_file, "running")
    files_dir = output_dir / f"{execution.stem}_files"
    metrics_file.unlink(missing_ok=True)
    shutil.rmtree(files_dir, ignore_errors=True)
    files_dir.mkdir()
    expectations_file = output_dir / f"{execution.stem}.expectations.txt"
    expectations_file.unlink(missing_ok=True)
    sources_file = output_dir / f"{execution.stem}.sources.json"
    sources_file.unlink(missing_ok=True)
    checked_file = output_dir / f"{execution.stem}.checked.jsonl"
    checked_file.unlink(missing_ok=True)
    saved = {key: os.environ.get(key)
             for key in (METRICS_ENV, OUTPUT_DIR_ENV, REPORT_ENV, SOURCES_FILE_ENV, CHECKED_ENV)}
    os.environ[METRICS_ENV], os.environ[OUTPUT_DIR_ENV] = str(metrics_file), str(files_dir)
    os.environ[SOURCES_FILE_ENV], os.environ[CHECKED_ENV] = str(sources_file), str(checked_file)
    if execution.strict:
        os.environ.pop(REPORT_ENV, None)
    else:
        os.environ[REPORT_ENV] = str(expectations_file)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(execution.notebook), str(executed), parameters=execution.parameters,
            kernel_name=kernel, cwd=str(cwd or execution.notebook.parent), progress_bar=False, log_output=False,
            execution_timeout=timeout, **kernel_options(),
        )
        execution.status = "ok"
    except KeyboardInterrupt:
        execution.status, execution.error = "interrupted", "interrupted by the user (Ctrl-C); partial notebook kept"
        raise
    except Exception as exc:  # noqa: BLE001 - every failure is reported, the run goes on
        if getattr(exc, "ename", None) == "KeyboardInterrupt":  # the kernel was interrupted (a Dask batch's Ctrl-C)
            execution.status = "interrupted"
            execution.error = f"interrupted in cell In [{getattr(exc, 'exec_count', '?')}]; partial notebook kept"
        else:
            execution.status = "timed out" if is_timeout(exc) else "failed"
            execution.error = describe_error(exc)
    finally:
        execution.wall_time = time.perf_counter() - start
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
        execution.metrics = read_metrics(metrics_file)
        if execution.status in ("failed", "timed out", "interrupted"):
            # it stopped before its last cells recorded their metrics: keep what its checks measured so far
            for what, value in read_checked(checked_file).items():
                execution.metrics.setdefault(what, value)
        execution.card["data_sources"] = read_sources(sources_file)
        if expectations_file.exists():
            missed = [line for line in expectations_file.read_text(encoding="utf-8").splitlines() if line]
            if execution.status == "ok" and missed:
                execution.status, execution.error = "below expectation", " | ".join(missed)
        save_record(execution, record_file, execution.status)
        add_card_to_notebook(executed, execution.card)
        for scratch in (checked_file, sources_file, expectations_file):  # now in the record: not left behind
            scratch.unlink(missing_ok=True)
    if not any(files_dir.iterdir()):
        files_dir.rmdir()


def save_record(execution: Execution, path: Path, status: str) -> None:
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
    status = record.get("status", "pending")
    execution.status = "interrupted" if status == "running" else status
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


def _init_worker(shares) -> None:
    """Process-pool initializer: take one share of the cores and pin this worker to it."""
    pin_to_cores(shares.get())
    quiet_papermill()


def _run_in_worker(execution: Execution, output_dir: Path, kernel: str, timeout: float | None) -> Execution:
    run_execution(execution, output_dir, kernel, timeout)
    return execution


def refresh_from_record(execution: Execution, output_dir: Path) -> None:
    """Take an execution's outcome from its record on disk (what a worker process wrote), if it has one."""
    record = run_record.read_record(run_record.record_path(output_dir, execution.stem))
    if record and record.get("key") == execution.key:
        fill_from_record(execution, record)


def run_parallel(executions: list[Execution], output_dir: Path, kernel: str, timeout: float | None,
                 jobs: int, resume: bool = False) -> None:
    """Run the executions in ``jobs`` worker processes, each pinned to its share of the cores.

    Ctrl-C stops every worker (each marks its execution 'interrupted' on disk); the outcomes are then
    read back from the records, so the summary says what really happened to each.
    """
    from tqdm.auto import tqdm  # with ipywidgets where installed: loaded only when a batch runs

    todo = [e for e in executions if not (resume and resume_from_record(e, output_dir))]
    shares = core_shares(jobs)
    context = multiprocessing.get_context("spawn")
    queue = context.Manager().Queue()
    for share in shares:
        queue.put(share)
    pool = ProcessPoolExecutor(max_workers=len(shares), mp_context=context, initializer=_init_worker,
                               initargs=(queue,))
    with tqdm(total=len(executions), initial=len(executions) - len(todo), desc="notebooks", unit="run",
              file=sys.stderr) as bar:
        try:
            futures = {pool.submit(_run_in_worker, e, output_dir, kernel, timeout): e for e in todo}
            for future in as_completed(futures):
                execution = futures[future]
                try:
                    done = future.result()
                    execution.__dict__.update(done.__dict__)
                except Exception as exc:  # noqa: BLE001 - a worker that died: reported, the rest go on
                    execution.status, execution.error = "failed", f"worker process failed: {describe_error(exc)}"
                if execution.status != "ok":
                    bar.write(f"{execution.status.upper()} {execution.stem}: {execution.error}", file=sys.stderr)
                bar.update(1)
        except KeyboardInterrupt:
            pool.shutdown(wait=True, cancel_futures=True)
            for execution in todo:
                refresh_from_record(execution, output_dir)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def run_all(executions: list[Execution], output_dir: Path, kernel: str, timeout: float | None = None,
            resume: bool = False) -> None:
    """Run every execution in order under a tqdm progress bar; report failures as they happen.

    With ``resume``, an execution whose record in ``output_dir`` finished ok under the same key is not run again.
    """
    from tqdm.auto import tqdm  # with ipywidgets where installed: loaded only when a batch runs

    quiet_papermill()
    with tqdm(total=len(executions), desc="notebooks", unit="run", file=sys.stderr) as bar:
        for execution in executions:
            bar.set_postfix_str(execution.stem)
            if resume and resume_from_record(execution, output_dir):
                bar.update(1)
                continue
            run_execution(execution, output_dir, kernel, timeout)
            if execution.status != "ok":
                bar.write(f"{execution.status.upper()} {execution.stem}: {execution.error}", file=sys.stderr)
            bar.update(1)
