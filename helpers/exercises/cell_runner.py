"""The child process of ``python -m helpers progress``: a notebook's exercise cells run, then its checks.

The cells tagged ``exercise`` (the cells the learner edits) are run, in order, in a fresh namespace that already
holds ``np`` and ``keras``; then each ``exercises.check("NN.K", name)`` call found in the notebook is evaluated on
the function the cells defined. Nothing else of the notebook runs; the notebook file is only read. Each exercise
cell and each check has its own time limit, and ``sys.exit()``, ``exit()`` or ``KeyboardInterrupt`` in the
learner's code is reported as that exercise's error. The command that starts this process, one per notebook, with
an overall time limit, is :mod:`helpers.course.progress`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

import nbformat
import numpy as np

import helpers
from helpers import exercises
from helpers.exercises.core import ERROR, NOT_ATTEMPTED, PASSED, Feedback, learner_exception, stopping_exception
from helpers.exercises.isolation import OutOfTime, bounded, run_with_time_limit
from helpers.exercises.progress import DONE, TITLES, Result, check_calls, exercise_cells

#: Seconds one exercise cell may run (it only defines functions: far more than it needs).
CELL_TIME_LIMIT = 30.0


def run_cells(sources: list[str], label: str, time_limit: float = CELL_TIME_LIMIT) -> tuple[dict, str | None]:
    """Run the exercise cells in a namespace with ``np`` and ``keras``; the first error, in plain words, or None.

    Each cell runs under ``time_limit`` seconds; ``sys.exit()``/``exit()`` and ``KeyboardInterrupt`` in a cell are
    its error like any exception, and end no more than the cells that follow it.
    """
    import keras  # heavy (TensorFlow): loaded when cells run, after the child's helpers.setup() has quieted it

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


def iter_notebook_progress(path: Path, notebook: nbformat.NotebookNode | None = None) -> Iterator[Result]:
    """The status of each exercise in the notebook at ``path`` (``notebook``: that file, already read), checked in
    this process, one exercise at a time (each result as soon as it is known)."""
    if notebook is None:
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


def child_main(argv: list[str]) -> None:
    """In the child process: check the notebook ``argv[0]``, one JSON line per exercise into the file ``argv[1]``.

    A first line holds the exercises' titles (so that the command can name an exercise the child never reached
    without loading the checks, and Keras, itself); a last line ``{"done": true}`` says the child finished; it then leaves at once (``os._exit``), so that a thread
    the learner's code left running cannot keep it alive.
    """
    path, out = Path(argv[0]), Path(argv[1])
    helpers.setup(figure_style=False)
    notebook = nbformat.read(path, as_version=4)
    titles = {exercise_id: exercises.get(exercise_id).title for exercise_id, _ in check_calls(notebook)}
    with open(out, "a", encoding="utf-8") as stream:
        stream.write(json.dumps({TITLES: titles}) + "\n")
        stream.flush()
        for result in iter_notebook_progress(path, notebook):
            stream.write(json.dumps(asdict(result)) + "\n")
            stream.flush()
        stream.write(json.dumps(DONE) + "\n")
        stream.flush()
    sys.stdout.flush()
    os._exit(0)
