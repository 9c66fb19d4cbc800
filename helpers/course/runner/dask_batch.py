"""Run a batch of notebook executions on Dask distributed: a LocalCluster here, or a cluster's scheduler.

``python -m helpers run ... --scheduler tcp://HOST:8786`` sends each execution to the workers of that
scheduler; ``--scheduler local --jobs N`` starts a ``dask.distributed.LocalCluster`` of N single-threaded
workers on this machine, so one code path serves a laptop and a lab. Each worker executes the notebook in a
temporary folder (the notebook's bytes travel with the task, so workers need no shared disk) and sends back
every file the execution wrote: the executed notebook, its handoff file, its record and its ``_files/`` folder.
The client writes them into the output folder, exactly where a local run would have.

Workers need the course installed, as for any run (the README's install command, in the same Python
version); start them by hand (``dask scheduler`` on one machine, ``dask worker tcp://HOST:8786`` on each
other), over SSH (``dask-ssh``) or on Slurm/PBS (``dask-jobqueue``). Start them with one thread each
(``--nthreads 1``) and without the statistical profiler (``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``),
as the LocalCluster here is: a task only waits on its kernel, and the profiler's sampling competes with that
kernel for its core. The workers of one machine share its cores (each kernel pinned to its share).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
import uuid
from pathlib import Path

import psutil

from helpers.course.run_record import Status
from helpers.course.runner.execution import core_shares, pin_to_cores, quiet_papermill, run_execution
from helpers.course.runner.executors import Executor, Outcome
from helpers.course.runner.planning import DEFAULT_NOTEBOOKS_DIR, Execution, UsageError

CONNECT_TIMEOUT_S = 10
STOP_POLL_S = 1.0    # how often a running task looks at the batch's stop event
KERNEL_GRACE_S = 15  # after the interrupt, how long a kernel may take to stop before it is killed
STOP_GRACE_S = 60    # after Ctrl-C, how long the client waits for the workers' partial notebooks


def connect(scheduler: str, jobs: int):
    """A ``distributed.Client`` for ``scheduler`` ("local": a LocalCluster of ``jobs`` workers); a UsageError
    (exit status 2, before anything runs) when the scheduler cannot be reached."""
    try:
        from distributed import Client, LocalCluster  # heavy and optional (--scheduler only)
    except ImportError:
        raise UsageError("--scheduler needs Dask distributed: pip install -r requirements.txt") from None
    if scheduler == "local":
        import dask

        # Each task waits on a kernel; the worker's statistical profiler, sampling the waiting thread's deep
        # stack every 10 ms on the core the kernel is pinned to, cost about 1.5 s per execution of 05 (7 %).
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
        client.wait_for_workers(max(1, jobs))  # every worker known before the cores are shared out
        # The terminal's Ctrl-C then reaches this client only, which stops the workers' kernels itself (as it
        # stops a remote cluster's) and so gets their partial notebooks back; the workers still end with it.
        client.run(_leave_terminal_group)
        return client
    if not scheduler.startswith(("tcp://", "tls://")):
        raise UsageError(f"--scheduler {scheduler!r}: give 'local' or an address such as tcp://HOST:8786")
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}); start it with "
                         "'dask scheduler' and workers with 'dask worker ADDRESS', or use --scheduler local") from None


def _leave_terminal_group() -> None:
    """Run on a LocalCluster worker: start its own session, out of the terminal's process group."""
    try:
        os.setsid()
    except OSError:  # already a session leader
        pass


def worker_placement(client) -> dict[str, tuple[int, int]]:
    """Worker address -> (its index among the workers of its host, how many workers that host has).

    Computed once on the client from the scheduler's full list of workers, and sent with every task:
    a worker's own view of its peers is the list at the time it registered, so the first worker of a
    LocalCluster saw only itself, kept every core and shared one with the second worker's kernel.
    """
    workers = client.scheduler_info().get("workers", {})
    by_host: dict[str, list[tuple[str, str]]] = {}
    for address, info in workers.items():
        by_host.setdefault(info.get("host", address), []).append((str(info.get("name")), address))
    placement = {}
    for peers in by_host.values():
        for index, (_, address) in enumerate(sorted(peers)):
            placement[address] = (index, len(peers))
    return placement


def _pin_worker(placement: dict[str, tuple[int, int]]) -> None:
    """Give this worker process its share of its machine's cores (its kernels inherit the affinity and use
    that many threads), so N workers on N cores do not oversubscribe."""
    try:
        from distributed import get_worker  # optional: present on a Dask worker

        index, count = placement[get_worker().address]
    except (ImportError, ValueError, KeyError):
        return  # a worker that joined after the batch was planned keeps every core
    shares = core_shares(count)  # fewer cores than workers: each worker keeps them all, as before
    pin_to_cores(shares[index] if len(shares) == count else [core for share in shares for core in share])


def interrupt_kernels(grace_s: float = KERNEL_GRACE_S) -> int:
    """Interrupt every kernel this worker process started (its running cell raises KeyboardInterrupt, papermill
    saves the partial notebook and shuts the kernel down); kill one still alive after ``grace_s``. Returns how
    many kernels there were."""
    kernels = [child for child in psutil.Process().children()
               if any("ipykernel" in part for part in _cmdline(child))]
    for kernel in kernels:
        try:
            kernel.send_signal(signal.SIGINT)
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(kernels, timeout=grace_s)
    for kernel in alive:  # a cell that ignores interrupts
        try:
            kernel.kill()
        except psutil.Error:
            pass
    return len(kernels)


def _cmdline(process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _watch_for_stop(stop, finished: threading.Event) -> None:
    """Worker thread beside a running task: when the client sets the batch's stop event (its Ctrl-C),
    interrupt this worker's kernel."""
    while not finished.wait(STOP_POLL_S):
        try:
            if stop.is_set():
                interrupt_kernels()
                return
        except Exception:  # noqa: BLE001 - the client or scheduler went away: the cluster's shutdown ends the kernel
            return


def execute_remotely(execution: Execution, notebook_bytes: bytes, kernel: str, timeout: float | None,
                     placement: dict[str, tuple[int, int]] | None = None, stop_name: str | None = None):
    """The task a worker runs: execute the notebook in a temporary folder, return (execution, files).

    While it runs, a thread watches the batch's stop event (``stop_name``): set, it interrupts the kernel,
    and the task returns the partial notebook with status 'interrupted'. A task that starts after the event
    was set returns at once, not run (its status stays 'pending': the summary says 'skipped').
    """
    stop = None
    if stop_name:
        from distributed import Event  # optional: only on a Dask worker

        stop = Event(stop_name)
        if stop.is_set():
            return execution, {}
    _pin_worker(placement or {})
    quiet_papermill()
    work = Path(tempfile.mkdtemp(prefix="dlfb-dask-"))
    finished = threading.Event()
    if stop is not None:
        threading.Thread(target=_watch_for_stop, args=(stop, finished), daemon=True).start()
    try:
        source = work / "notebook" / execution.notebook.name
        source.parent.mkdir()
        source.write_bytes(notebook_bytes)
        out = work / "out"
        out.mkdir()
        original = execution.notebook
        execution.notebook = source
        # The notebooks' relative paths (../requirements.txt) resolve in the worker's installed course.
        cwd = DEFAULT_NOTEBOOKS_DIR if DEFAULT_NOTEBOOKS_DIR.is_dir() else source.parent
        run_execution(execution, out, kernel, timeout, cwd=cwd)
        execution.notebook = original
        files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        return execution, files
    finally:
        finished.set()
        shutil.rmtree(work, ignore_errors=True)


class DaskExecutor(Executor):
    """``--scheduler``: each execution a task on the Dask ``client``'s workers (see :func:`connect`); what a worker
    sends back is written into ``output_dir``, where a local run would have written it. :meth:`close` closes the
    client (and a LocalCluster behind it).

    Ctrl-C sets the batch's stop event: every worker interrupts its running kernel and sends back the partial
    notebook ('interrupted', as a local run keeps it), executions not started yet are 'skipped'. :meth:`stop`
    waits up to :data:`STOP_GRACE_S` for that; a second Ctrl-C leaves at once (running rows then say the partial
    notebook stayed on the worker).
    """

    lost = "Dask task failed"

    def __init__(self, client, output_dir: Path, kernel: str, timeout: float | None):
        self.client, self.output_dir, self.kernel, self.timeout = client, output_dir, kernel, timeout
        self.stop_event = None
        self.stopped = False
        self.running: dict = {}  # future -> execution, until its outcome is handed back

    def results(self, todo, started):
        from distributed import Event, as_completed  # heavy and optional (--scheduler only)

        placement = worker_placement(self.client)
        self.stop_event = Event(f"dlfb-stop-{uuid.uuid4().hex}", client=self.client)
        self.running = {self.client.submit(execute_remotely, e, e.notebook.read_bytes(), self.kernel, self.timeout,
                                           placement, self.stop_event.name, key=f"dlfb-{e.stem}-{e.key[:12]}",
                                           pure=False): e for e in todo}
        for future in as_completed(list(self.running)):
            yield self._collect(future)

    def _collect(self, future) -> tuple[Execution, Outcome]:
        """The execution of a finished task and its outcome; the files its worker sent back written out."""
        execution = self.running.pop(future)
        try:
            done, files = future.result()
            for name, data in files.items():
                target = self.output_dir / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        except Exception as exc:  # noqa: BLE001 - a lost worker: reported, the rest go on
            return execution, exc
        return execution, done

    def stop(self, note):
        from distributed import as_completed  # heavy and optional (--scheduler only)

        self.stopped = True
        if self.stop_event is None:
            return
        self.stop_event.set()
        note("Ctrl-C: stopping the notebooks on the workers and fetching their partial notebooks "
             "(Ctrl-C again to leave now)")
        try:
            for future in as_completed(list(self.running), timeout=STOP_GRACE_S):
                yield self._collect(future)
        except (KeyboardInterrupt, TimeoutError):
            pass

    def close(self):
        if self.running:
            self.client.cancel(list(self.running))
        if self.stopped:
            for execution in self.running.values():  # still on a worker when the client stopped waiting
                if execution.status == Status.PENDING:
                    execution.status = Status.INTERRUPTED
                    execution.error = ("interrupted by the user (Ctrl-C) while on a Dask worker; the worker's "
                                       "partial notebook stays on the worker (--resume runs it again)")
        cluster = getattr(self.client, "cluster", None)
        self.client.close()
        if cluster is not None:
            cluster.close()
