"""What ``python -m helpers progress`` reads and reports, shared by the command and the process checking a notebook.

The command (:mod:`helpers.course.progress`) finds the ``exercises.check("NN.K", name)`` calls of a notebook here,
starts a child process that runs the notebook's exercise cells and checks (:mod:`helpers.exercises.cell_runner`),
and reads back one :class:`Result` per exercise, JSON lines in a file, which :func:`report` turns into the table.
Nothing here imports Keras, so the command's own process never does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nbformat

from helpers.exercises.core import ERROR, NOT_ATTEMPTED, NOT_YET, PASSED

EXERCISE_TAG = "exercise"
CHECK_CALL = re.compile(r"""exercises\.check\(\s*["'](?P<id>\d\d\.\d+)["']\s*,\s*(?P<name>[A-Za-z_]\w*)\s*\)""")
#: The child's first line: the title of each exercise it is about to check, ``{"titles": {"05.2": "...", ...}}``.
TITLES = "titles"
#: The child's last line: it finished (``{"done": true}``).
DONE = {"done": True}


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
    """``(exercise id, function name)`` of every ``exercises.check(...)`` call in the notebook's code cells."""
    return [(m["id"], m["name"]) for c in notebook.cells if c.cell_type == "code"
            for m in CHECK_CALL.finditer(c.source)]


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
