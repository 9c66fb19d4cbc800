"""``python -m helpers progress``: which exercises pass in the learner's copies of the notebooks.

For each notebook, the code cells tagged ``exercise`` (the cells the learner edits) are run, in order, in a
fresh namespace that already holds ``np`` and ``keras``; then each ``check.exercise("NN.K", name)`` call
found in the notebook is evaluated on the function the cells defined. Nothing else of the notebook runs,
so this takes seconds, not the notebook's run time; the notebook file is only read.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.exercises.core import ERROR, NOT_ATTEMPTED, NOT_YET, PASSED, Feedback, learner_exception

EXERCISE_TAG = "exercise"
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


def run_cells(sources: list[str], label: str) -> tuple[dict, str | None]:
    """Run the exercise cells in a namespace with ``np`` and ``keras``; the first error, in plain words, or None."""
    import keras
    import numpy as np

    namespace: dict = {"np": np, "keras": keras, "__name__": "__exercise__"}
    for index, source in enumerate(sources, 1):
        try:
            code = compile(source, f"<{label}, exercise cell {index}>", "exec")
            with contextlib.redirect_stdout(io.StringIO()):
                exec(code, namespace)  # the learner's own code from their own notebook
        except NotImplementedError:
            continue
        except SyntaxError as exc:
            return namespace, f"exercise cell {index} has a syntax error on its line {exc.lineno}: {exc.msg}"
        except Exception as exc:
            return namespace, f"exercise cell {index} raised {learner_exception(exc)}"
    return namespace, None


def notebook_progress(path: Path) -> list[Result]:
    """The status of each exercise in the notebook at ``path``."""
    from helpers import exercises

    notebook = nbformat.read(path, as_version=4)
    stem = path.stem[:2]
    calls = check_calls(notebook)
    if not calls:
        return []
    namespace, cell_error = run_cells(exercise_cells(notebook), path.name)
    results = []
    for exercise_id, name in calls:
        ex = exercises.get(exercise_id)
        if name not in namespace:
            status, detail = (ERROR, cell_error) if cell_error else (NOT_ATTEMPTED, f"`{name}` is not defined")
            results.append(Result(stem, exercise_id, ex.title, status, detail))
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            feedback: Feedback = exercises.evaluate_answer(exercise_id, namespace[name])
        detail = {PASSED: f"{len(feedback.right)} tests passed",
                  NOT_ATTEMPTED: "the stub is still there (raise NotImplementedError)"}.get(feedback.status,
                                                                                            feedback.problem)
        results.append(Result(stem, exercise_id, ex.title, feedback.status, detail))
    return results


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


def command_progress(args: argparse.Namespace) -> int:
    """Print the progress table; exit status 0 (progress is information, not a test)."""
    from helpers.runner.planning import select_notebooks

    import helpers

    helpers.setup(figure_style=False)
    notebooks = select_notebooks(args.notebooks, Path(args.notebooks_dir))
    results = [r for path in notebooks for r in notebook_progress(Path(path))]
    if not results:
        print("No exercises found in " + ", ".join(Path(p).name for p in notebooks))
        return 0
    print(report(results))
    return 0
