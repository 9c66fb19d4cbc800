"""``python -m helpers progress``: which exercises pass in the learner's copies of the notebooks.

For each notebook, the code cells tagged ``exercise`` (the cells the learner edits) are run, in order, in a
fresh namespace that already holds ``np`` and ``keras``; then each ``exercises.check("NN.K", name)`` call
found in the notebook is evaluated on the function the cells defined. Nothing else of the notebook runs,
so this takes seconds, not the notebook's run time; the notebook file is only read.

Each notebook is checked in a child process of its own, with an overall time limit (``--timeout``, default
300 s): a notebook whose code hangs where no check's own time limit reaches (a C call that never returns) or ends
its process (``os._exit``, a crash) is reported, with the exercises it left unchecked, and the others still run.
Inside the child each exercise cell and each check has its own time limit, and ``sys.exit()``, ``exit()`` or
``KeyboardInterrupt`` in the learner's code is reported as that exercise's error.
"""

# This module is the command and its child processes' manager (course tooling: it never imports Keras); what a
# child runs is helpers.exercises.cell_runner, started by name, and what both sides share is helpers.exercises.progress.
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.course.paths import REPO_ROOT
from helpers.course.runner.planning import select_notebooks
from helpers.exercises.core import ERROR
from helpers.exercises.isolation import bounded
from helpers.exercises.progress import DONE, TITLES, Result, check_calls, report

#: Seconds one notebook's child process may take in all: starting Python and Keras, its cells, its checks.
NOTEBOOK_TIMEOUT = 300.0
_CHILD = "import sys; from helpers.exercises.cell_runner import child_main; child_main(sys.argv[1:])"


@dataclass
class _Child:
    """A notebook being checked in a child process: what it must report, where, and until when."""

    path: Path
    calls: list[tuple[str, str]]
    results_file: Path
    process: subprocess.Popen
    deadline: float


def isolated_progress(paths: list[Path], timeout: float = NOTEBOOK_TIMEOUT, jobs: int = 1) -> list[Result]:
    """The results of every notebook in ``paths``, each checked by a child process given ``timeout`` seconds.

    Up to ``jobs`` children run at a time. A child that runs out of time is stopped (with every process it
    started); the exercises it had not reported are errors that say so, as are those of a child that ended early.
    """
    calls_of = {}
    for path in paths:
        calls_of[path] = check_calls(nbformat.read(path, as_version=4))
    waiting = [p for p in paths if calls_of[p]]
    running: list[_Child] = []
    results: dict[Path, list[Result]] = {p: [] for p in paths}
    env = dict(os.environ)
    root = str(REPO_ROOT)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with tempfile.TemporaryDirectory(prefix="progress-") as tmp:
        try:
            while waiting or running:
                while waiting and len(running) < max(jobs, 1):
                    path = waiting.pop(0)
                    out = Path(tmp) / f"{paths.index(path)}-{path.stem}.jsonl"
                    out.touch()
                    with open(out.with_suffix(".log"), "ab") as log:
                        process = subprocess.Popen([sys.executable, "-c", _CHILD, str(path), str(out)],
                                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                                   start_new_session=True)
                    running.append(_Child(path, calls_of[path], out, process, time.monotonic() + timeout))
                time.sleep(0.05)
                for child in list(running):
                    returncode = child.process.poll()
                    timed_out = returncode is None and time.monotonic() > child.deadline
                    if returncode is None and not timed_out:
                        continue
                    _stop(child.process)
                    running.remove(child)
                    results[child.path] = _collect(child, timeout if timed_out else None)
        finally:
            for child in running:
                _stop(child.process)
    return [r for path in paths for r in results[path]]


def _stop(process: subprocess.Popen) -> None:
    """Kill the child's whole process group (what the learner's code started too) and reap the child."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _collect(child: _Child, timed_out_after: float | None) -> list[Result]:
    """The child's reported results, and an error for each exercise it did not report, saying why."""
    reported: dict[str, Result] = {}
    titles: dict[str, str] = {}
    done = False
    for line in child.results_file.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
            if data == DONE:
                done = True
            elif isinstance(data, dict) and set(data) == {TITLES}:
                titles = dict(data[TITLES])
            else:
                result = Result(**data)
                reported[result.exercise_id] = result
        except (ValueError, TypeError):
            continue
    if timed_out_after is not None:
        why = (f"not checked: the notebook did not finish within {timed_out_after:g} s (its exercise cells and checks "
               "together), so it was stopped; --timeout sets the limit")
    else:
        code = child.process.returncode
        how = (f"killed by signal {_signal_name(-code)}" if code is not None and code < 0 else f"exit status {code}")
        why = (f"not checked: the process checking this notebook ended early ({how}): os._exit() in your code, a "
               "crash, or running out of memory does this")
    results = []
    stem = child.path.stem[:2]
    for exercise_id, name in child.calls:
        if exercise_id in reported:
            results.append(reported[exercise_id])
        elif not done or timed_out_after is not None:  # a child that ended before its titles line: the function name
            results.append(Result(stem, exercise_id, titles.get(exercise_id, name), ERROR, why))
    return results


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register the ``progress`` sub-command (see :mod:`helpers.course.cli`)."""
    progress = sub.add_parser("progress", parents=[common], help="which exercises pass in your copies of the notebooks",
                              description=__doc__.split("\n\n", 1)[1])
    progress.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                          help="stem (05_mlp_image_classification), number (05 or 5) or path; default: all")
    progress.add_argument("--timeout", type=_positive_seconds, default=NOTEBOOK_TIMEOUT, metavar="SECONDS",
                          help="seconds each notebook's exercises may take in all, in their own process "
                               "(default: %(default)g)")
    progress.add_argument("--jobs", type=_positive_count, default=min(4, os.cpu_count() or 1), metavar="N",
                          help="notebooks checked at the same time, each in its own process (default: %(default)s, "
                               "up to 4, one per CPU core)")
    progress.set_defaults(handler=command_progress)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {bounded(text, 40)!r}")
    return value


def _positive_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 64, got {bounded(text, 40)!r}")
    return int(text)


def command_progress(args: argparse.Namespace) -> int:
    """Print the progress table; exit status 0 (progress is information, not a test)."""
    notebooks = select_notebooks(args.notebooks, Path(args.notebooks_dir))
    results = isolated_progress([Path(p) for p in notebooks], timeout=getattr(args, "timeout", NOTEBOOK_TIMEOUT),
                                jobs=getattr(args, "jobs", 1))
    if not results:
        print("No exercises found in " + ", ".join(Path(p).name for p in notebooks))
        return 0
    print(report(results))
    return 0
