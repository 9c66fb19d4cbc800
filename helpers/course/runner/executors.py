"""How a batch runs: one loop for every mode (:func:`run_batch`), and an :class:`Executor` per mode that only
starts the executions and awaits them.

:func:`run_batch` does, once for every mode,

- **resume**: an execution whose record in the output folder finished ok under the same key is filled from it,
  not run again (``--resume``);
- **progress**: one tqdm bar on stderr, "notebooks", one step per execution (resumed ones counted as done);
- **outcomes**: what an executor hands back is copied onto the planned :class:`Execution` (:data:`OUTCOME_FIELDS`);
  an exception instead of an outcome (a worker process or Dask task lost) makes it ``failed``;
- **failures**: every execution that ends other than ``ok`` is printed as it ends (``FAILED 02_fails: cell In [3]:
  ValueError: ...``);
- **interruption**: on Ctrl-C the executor stops what runs and hands back what still comes back (settled as
  above); then the KeyboardInterrupt goes on to the command, which writes the summary (exit status 130).

The modes (``python -m helpers run``): :class:`SequentialExecutor` (one at a time, in this process),
:class:`ProcessPoolExecutor` (``--jobs N``: worker processes, each pinned to its share of the cores) and
:class:`helpers.course.runner.dask_batch.DaskExecutor` (``--scheduler``).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import sys
from pathlib import Path
from typing import Callable, Iterator, Union

from helpers.course import run_record
from helpers.course.run_record import Status
from helpers.course.runner.execution import (core_shares, describe_error, fill_from_record, pin_to_cores,
                                             quiet_papermill, resume_from_record, run_execution)
from helpers.course.runner.planning import Execution

#: What an executor hands back for an execution: the finished execution (a copy, or the same object), or the
#: exception that lost it.
Outcome = Union[Execution, BaseException]
#: The attributes of a finished execution copied onto the planned one.
OUTCOME_FIELDS = ("status", "wall_time", "error", "metrics", "card")


class Executor:
    """How a batch's executions are started and awaited; everything else is :func:`run_batch`'s.

    A mode overrides :meth:`results` (and :meth:`stop`, :meth:`close` where it has something to stop or close).
    """

    #: The error of an execution whose outcome never came back: ``"<lost>: <the exception>"``.
    lost = "failed"

    def results(self, todo: list[Execution], started: Callable[[Execution], None]) -> Iterator[tuple[Execution, Outcome]]:
        """Start the executions of ``todo`` and yield each with its outcome as it ends (in any order).

        ``started(execution)`` may be called when one starts (the progress bar shows its name). A Ctrl-C while
        waiting raises KeyboardInterrupt out of the iteration; :meth:`stop` follows.
        """
        raise NotImplementedError

    def stop(self, note: Callable[[str], None]) -> Iterator[tuple[Execution, Outcome]]:
        """After Ctrl-C: stop what still runs and yield what still comes back. ``note(text)`` prints a line
        under the progress bar. Nothing to stop by default."""
        return iter(())

    def close(self) -> None:
        """Release what the executor holds (worker processes, a cluster); called once at the end, always."""


def run_batch(executions: list[Execution], output_dir: Path, executor: Executor, resume: bool = False) -> None:
    """Run ``executions`` with ``executor`` into ``output_dir``: resume, progress bar, outcomes, failures printed
    as they happen, Ctrl-C (re-raised after the executor has stopped; see the module's docstring).

    With ``resume``, an execution whose record in ``output_dir`` finished ok under the same key is not run again.
    """
    from tqdm.auto import tqdm  # with ipywidgets where installed: loaded only when a batch runs

    todo = [e for e in executions if not (resume and resume_from_record(e, output_dir))]
    with tqdm(total=len(executions), initial=len(executions) - len(todo), desc="notebooks", unit="run",
              file=sys.stderr) as bar:

        def settle(execution: Execution, outcome: Outcome) -> None:
            if isinstance(outcome, BaseException):
                execution.status, execution.error = Status.FAILED, f"{executor.lost}: {describe_error(outcome)}"
            elif outcome is not execution:
                for name in OUTCOME_FIELDS:
                    setattr(execution, name, getattr(outcome, name))
            if execution.status not in (Status.OK, Status.PENDING):  # pending: stopped before it started
                bar.write(f"{execution.status.upper()} {execution.stem}: {execution.error}", file=sys.stderr)
            bar.update(1)

        try:
            for execution, outcome in executor.results(todo, lambda e: bar.set_postfix_str(e.stem)):
                settle(execution, outcome)
        except KeyboardInterrupt:
            try:
                for execution, outcome in executor.stop(lambda text: bar.write(text, file=sys.stderr)):
                    settle(execution, outcome)
            except KeyboardInterrupt:
                pass  # a second Ctrl-C: leave now
            raise
        finally:
            executor.close()


class SequentialExecutor(Executor):
    """One execution at a time, in this process (``--jobs 1``, the default)."""

    def __init__(self, output_dir: Path, kernel: str, timeout: float | None = None):
        self.output_dir, self.kernel, self.timeout = output_dir, kernel, timeout
        self.current: Execution | None = None

    def results(self, todo, started):
        quiet_papermill()
        for execution in todo:
            self.current = execution
            started(execution)
            run_execution(execution, self.output_dir, self.kernel, self.timeout)  # Ctrl-C: marked, re-raised
            self.current = None
            yield execution, execution

    def stop(self, note):
        """The execution Ctrl-C stopped was marked 'interrupted' (its partial notebook kept) by run_execution."""
        if self.current is not None and self.current.status == Status.INTERRUPTED:
            yield self.current, self.current


def _init_worker(shares) -> None:
    """Process-pool initializer: take one share of the cores and pin this worker to it."""
    pin_to_cores(shares.get())
    quiet_papermill()


def _run_in_worker(execution: Execution, output_dir: Path, kernel: str, timeout: float | None) -> Execution:
    run_execution(execution, output_dir, kernel, timeout)
    return execution


class ProcessPoolExecutor(Executor):
    """``--jobs N``: N worker processes, each pinned to its share of the cores (its kernels inherit the pinning).

    Ctrl-C reaches every worker too (the terminal's process group): each marks its execution 'interrupted' on
    disk. :meth:`stop` waits for them and reads the outcomes back from the records, so the summary says what
    really happened to each.
    """

    lost = "worker process failed"

    def __init__(self, output_dir: Path, kernel: str, timeout: float | None, jobs: int):
        self.output_dir, self.kernel, self.timeout, self.jobs = output_dir, kernel, timeout, jobs
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.manager = None
        self.running: dict[concurrent.futures.Future, Execution] = {}

    def results(self, todo, started):
        shares = core_shares(self.jobs)
        context = multiprocessing.get_context("spawn")
        self.manager = context.Manager()
        queue = self.manager.Queue()
        for share in shares:
            queue.put(share)
        self.pool = concurrent.futures.ProcessPoolExecutor(max_workers=len(shares), mp_context=context,
                                                           initializer=_init_worker, initargs=(queue,))
        self.running = {self.pool.submit(_run_in_worker, e, self.output_dir, self.kernel, self.timeout): e
                        for e in todo}
        for future in concurrent.futures.as_completed(list(self.running)):
            execution = self.running.pop(future)
            try:
                outcome: Outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker that died: reported, the rest go on
                outcome = exc
            yield execution, outcome

    def stop(self, note):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        for execution in list(self.running.values()):
            record = run_record.read_record(run_record.record_path(self.output_dir, execution.stem))
            if record and record.get("key") == execution.key:  # it started: its worker wrote what became of it
                fill_from_record(execution, record)
                yield execution, execution
        self.running = {}

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        if self.manager is not None:
            self.manager.shutdown()
