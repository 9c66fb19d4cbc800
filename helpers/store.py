"""Store a run's executed notebooks as the course's committed notebooks, written the way JupyterLab writes them.

The committed notebooks are the runner's executed copies of a default run, so their outputs, their run
times and the README come from one measured run::

    python -m helpers run --output runs/release          # all notebooks, default parameters
    python -m helpers store runs/release                 # copy them into notebooks/, then record the times

:func:`as_jupyterlab_writes` makes a notebook open *unmodified* in JupyterLab: the kernel's display name
as ``ipykernel`` installs it, and whole-number floats written as integers (JupyterLab rewrites ``10.0``
in widget state as ``10``), so opening and saving a notebook makes no git diff. Papermill's paths
are made relative, so no path of the machine that ran them is stored.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_times

KERNEL_DISPLAY_NAME = "Python 3 (ipykernel)"


def _number(text: str):
    """JSON number as JavaScript's JSON.stringify writes it back: whole numbers without ``.0``."""
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 1e21 else value


def as_jupyterlab_writes(text: str) -> str:
    """The notebook JSON ``text`` as JupyterLab would save it (see the module docstring)."""
    notebook = json.loads(text, parse_float=_number)
    kernelspec = notebook.setdefault("metadata", {}).setdefault("kernelspec", {})
    kernelspec.update({"name": "python3", "display_name": KERNEL_DISPLAY_NAME, "language": "python"})
    papermill = notebook["metadata"].get("papermill")
    if isinstance(papermill, dict):
        for key in ("input_path", "output_path"):
            if papermill.get(key):
                papermill[key] = Path(papermill[key]).name
        papermill["environment_variables"] = {}
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def store(run_dir: Path, notebooks_dir: Path = run_times.REPO_ROOT / "notebooks") -> list[str]:
    """Copy the default executions of ``run_dir`` over the course notebooks, then record the run times.

    Only executions with no parameters and no preset that finished ok are stored, and only when every
    course notebook has one (a partial or varied run would mix configurations).
    """
    run_times.course_timings(run_dir, notebooks_dir)  # refuses a partial or varied run before anything is copied
    stems = sorted(p.stem for p in Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb"))
    for stem in stems:
        executed = Path(run_dir) / f"{stem}.ipynb"
        (Path(notebooks_dir) / executed.name).write_text(
            as_jupyterlab_writes(executed.read_text(encoding="utf-8")), encoding="utf-8")
    run_times.record(run_dir, notebooks_dir)
    return stems
