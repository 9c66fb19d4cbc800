"""``python -m helpers progress``: which exercises pass in the learner's copies of the notebooks.

For each notebook, the code cells tagged ``exercise`` (the cells the learner edits) are run, in order, in a
fresh namespace that already holds ``np`` and ``keras``; then each ``check.exercise("NN.K", name)`` call
found in the notebook is evaluated on the function the cells defined. Nothing else of the notebook runs,
so this takes seconds, not the notebook's run time; the notebook file is only read.

Each notebook is checked in a child process of its own, with an overall time limit (``--timeout``, default
300 s): a notebook whose code hangs where no check's own time limit reaches (a C call that never returns) or ends
its process (``os._exit``, a crash) is reported, with the exercises it left unchecked, and the others still run.
Inside the child each exercise cell and each check has its own time limit, and ``sys.exit()``, ``exit()`` or
``KeyboardInterrupt`` in the learner's code is reported as that exercise's error.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import nbformat

from helpers.exercises.core import (ERROR, NOT_ATTEMPTED, NOT_YET, PASSED, Feedback, learner_exception,
                                    stopping_exception)
from helpers.exercises.isolation import OutOfTime, bounded, run_with_time_limit

EXERCISE_TAG = "exercise"
#: Seconds one exercise cell may run (it only defines functions: far more than it needs).
CELL_TIME_LIMIT = 30.0
#: Seconds one notebook's child process may take in all: starting Python and Keras, its cells, its checks.
NOTEBOOK_TIMEOUT = 300.0
CHECK_CALL = re.compile(r"""check\.exercise\(\s*["'](?P<id>\d\d\.\d+)["']\s*,\s*(?P<name>[A-Za-z_]\w*)\s*\)""")


@dataclass
class Result:
    notebook: str
    exercise_id: str
    title: str
    status: str
    detail: str


def exercise_cells(notebook: nbformat.NotebookNode) -> list[str]:
    """Sources of the code cells tagged ``exercise``."""
    return [c.source for c in notebook.cells
            if c.cell_type == "code" and EXERCISE_TAG in c.get("metadata", {}).get("tags", [])]


def check_calls(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """``(exercise id, function name)`` of every ``check.exercise(...)`` call in the notebook's code cells."""
    return [(m["id"], m["name"]) for c in notebook.cells if c.cell_type == "code"
            for m in CHECK_CALL.finditer(c.source)]


def run_cells(sources: list[str], label: str, time_limit: float = CELL_TIME_LIMIT) -> tuple[dict, str | None]:
    """Run the exercise cells in a namespace with ``np`` and ``keras``; the first error, in plain words, or None.

    Each cell runs under ``time_limit`` seconds; ``sys.exit()``/``exit()`` and ``KeyboardInterrupt`` in a cell are
    its error like any exception, and end no more than the cells that follow it.
    """
    import keras
    import numpy as np

    namespace: dict = {"np": np, "keras": keras, "__name__": "__exercise__"}
    for index, source in enumerate(sources, 1):
        try:
            code = compile(source, f"<{label}, exercise cell {index}>", "exec")
        except SyntaxError as exc:
            return namespace, (f"exercise cell {index} has a syntax error on its line {exc.lineno}: "
                               f"{bounded(str(exc.msg), 200)}")
        except ValueError as exc:  # a null byte in the source
            return namespace, f"exercise cell {index} cannot be compiled: {bounded(str(exc), 200)}"
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                # the learner's own code from their own notebook, stopped after time_limit seconds
                run_with_time_limit(lambda: exec(code, namespace), time_limit)
        except NotImplementedError:
            continue
        except OutOfTime:
            return namespace, (f"exercise cell {index} did not finish within {time_limit:g} s, so it was stopped: "
                               "a cell that defines a function runs in an instant; look for a loop at its top level")
        except Exception as exc:
            return namespace, f"exercise cell {index} raised {learner_exception(exc)}"
        except BaseException as exc:  # sys.exit(), exit(), KeyboardInterrupt: this cell's error, not the command's end
            return namespace, stopping_exception(f"exercise cell {index}", exc)[0]
    return namespace, None


def notebook_progress(path: Path) -> list[Result]:
    """The status of each exercise in the notebook at ``path``, checked in this process."""
    return list(iter_notebook_progress(path))


def iter_notebook_progress(path: Path) -> Iterator[Result]:
    """:func:`notebook_progress` one exercise at a time, each result as soon as it is known."""
    from helpers import exercises

    notebook = nbformat.read(path, as_version=4)
    stem = path.stem[:2]
    calls = check_calls(notebook)
    if not calls:
        return
    namespace, cell_error = run_cells(exercise_cells(notebook), path.name)
    for exercise_id, name in calls:
        ex = exercises.get(exercise_id)
        if name not in namespace:
            status, detail = (ERROR, cell_error) if cell_error else (NOT_ATTEMPTED, f"`{name}` is not defined")
            yield Result(stem, exercise_id, ex.title, status, detail)
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            feedback: Feedback = exercises.evaluate_answer(exercise_id, namespace[name])
        detail = {PASSED: f"{len(feedback.right)} tests passed",
                  NOT_ATTEMPTED: "the stub is still there (raise NotImplementedError)"}.get(feedback.status,
                                                                                            feedback.problem)
        yield Result(stem, exercise_id, ex.title, feedback.status, detail)


# --- one child process per notebook ------------------------------------------------------------------------
_CHILD = "import sys; from helpers.exercises.progress import child_main; child_main(sys.argv[1:])"
_DONE = {"done": True}


def child_main(argv: list[str]) -> None:
    """In the child process: check the notebook ``argv[0]``, one JSON line per exercise into the file ``argv[1]``.

    A last line ``{"done": true}`` says the child finished; it then leaves at once (``os._exit``), so that a thread
    the learner's code left running cannot keep it alive.
    """
    import helpers

    path, out = Path(argv[0]), Path(argv[1])
    helpers.setup(figure_style=False)
    with open(out, "a", encoding="utf-8") as stream:
        for result in iter_notebook_progress(path):
            stream.write(json.dumps(asdict(result)) + "\n")
            stream.flush()
        stream.write(json.dumps(_DONE) + "\n")
        stream.flush()
    sys.stdout.flush()
    os._exit(0)


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
    from helpers import exercises

    calls_of = {}
    for path in paths:
        calls_of[path] = check_calls(nbformat.read(path, as_version=4))
    waiting = [p for p in paths if calls_of[p]]
    running: list[_Child] = []
    results: dict[Path, list[Result]] = {p: [] for p in paths}
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
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
                    results[child.path] = _collect(child, exercises, timeout if timed_out else None)
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


def _collect(child: _Child, exercises, timed_out_after: float | None) -> list[Result]:
    """The child's reported results, and an error for each exercise it did not report, saying why."""
    reported: dict[str, Result] = {}
    done = False
    for line in child.results_file.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
            if data == _DONE:
                done = True
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
    if len(reported) < len(child.calls):
        import helpers

        helpers.setup(figure_style=False)  # the titles below import the checks, which may import Keras: quietly
    results = []
    stem = child.path.stem[:2]
    for exercise_id, _ in child.calls:
        if exercise_id in reported:
            results.append(reported[exercise_id])
        elif not done or timed_out_after is not None:
            results.append(Result(stem, exercise_id, exercises.get(exercise_id).title, ERROR, why))
    return results


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


SYMBOL = {PASSED: "✓", NOT_ATTEMPTED: "·", NOT_YET: "✗", ERROR: "!"}


def report(results: list[Result]) -> str:
    """A table, one exercise per line, and a count per status."""
    lines = []
    width = max(len(r.title) for r in results)
    for r in results:
        detail = r.detail if len(r.detail) <= 90 else r.detail[:89] + "…"
        lines.append(f"{SYMBOL[r.status]} {r.exercise_id:<6} {r.title:<{width}}  {r.status:<14} {detail}")
    counts = {s: sum(r.status == s for r in results) for s in (PASSED, NOT_YET, ERROR, NOT_ATTEMPTED)}
    lines.append("")
    lines.append(f"{counts[PASSED]} of {len(results)} exercises pass; {counts[NOT_YET]} not right yet, "
                 f"{counts[ERROR]} raise an error, {counts[NOT_ATTEMPTED]} not attempted.")
    return "\n".join(lines)


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``progress`` on the runner's parser."""
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
    from helpers.course.runner.planning import select_notebooks

    notebooks = select_notebooks(args.notebooks, Path(args.notebooks_dir))
    results = isolated_progress([Path(p) for p in notebooks], timeout=getattr(args, "timeout", NOTEBOOK_TIMEOUT),
                                jobs=getattr(args, "jobs", 1))
    if not results:
        print("No exercises found in " + ", ".join(Path(p).name for p in notebooks))
        return 0
    print(report(results))
    return 0
