"""Store a run's executed notebooks as the course's committed notebooks, written the way JupyterLab writes them.

The committed notebooks are the runner's executed copies of a default run, so their outputs, their run
times and the README come from one measured run::

    python -m helpers run --output runs/release          # all notebooks, default parameters
    python -m helpers store runs/release                 # copy them into notebooks/, then record the times

:func:`as_jupyterlab_writes` makes a notebook open *unmodified* in JupyterLab: the kernel's display name
as ``ipykernel`` installs it, and whole-number floats written as integers (JupyterLab rewrites ``10.0``
in widget state as ``10``), so opening and saving a notebook makes no git diff. Papermill's paths
are made relative, so no path of the machine that ran them is stored.

The widgets' saved state (``metadata.widgets``) is not stored in the notebooks but beside the website's
configuration, in ``docs/widget_state/<stem>.json``, which the site puts back into its pages
(:mod:`helpers.course.website`). Measured in JupyterLab 4.6 with jupyterlab_widgets set to save widget state
(``python -m helpers.course.jupyterlab_settings``, so that a notebook a learner ran and saved reopens with live
controls): a notebook that holds saved widget state is marked modified as soon as it opens, one without
opens clean. A stored notebook is untrusted, so its widget cells show their PNG and plain line either way.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from helpers.course import run_times
from helpers.course.paths import NOTEBOOKS_DIR, REPO_ROOT
from helpers.course.runner.planning import UsageError

KERNEL_DISPLAY_NAME = "Python 3 (ipykernel)"
WIDGET_STATE_DIR = REPO_ROOT / "docs" / "widget_state"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


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


def split_widget_state(text: str) -> tuple[str, dict | None]:
    """The notebook JSON ``text`` without ``metadata.widgets``, and that widget state (None if it had none)."""
    notebook = json.loads(text)
    state = notebook.get("metadata", {}).pop("widgets", None)
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", state


def with_widget_state(text: str, stem: str, state_dir: Path = WIDGET_STATE_DIR) -> str:
    """The notebook JSON ``text`` with the widget state stored for ``stem`` put back (unchanged if none)."""
    path = Path(state_dir) / f"{stem}.json"
    if not path.is_file():
        return text
    notebook = json.loads(text)
    notebook.setdefault("metadata", {})["widgets"] = json.loads(path.read_text(encoding="utf-8"))
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def store(run_dir: Path, notebooks_dir: Path = NOTEBOOKS_DIR,
          state_dir: Path = WIDGET_STATE_DIR) -> list[str]:
    """Copy the default executions of ``run_dir`` over the course notebooks, then record the run times.

    Only executions with no parameters and no preset that finished ok are stored, and only when every
    course notebook has one (a partial or varied run would mix configurations). Widget state goes to
    ``state_dir`` (see the module docstring).
    """
    run_times.course_timings(run_dir, notebooks_dir)  # refuses a partial or varied run before anything is copied
    stems = sorted(p.stem for p in Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb"))
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    for stem in stems:
        executed = Path(run_dir) / f"{stem}.ipynb"
        text, state = split_widget_state(as_jupyterlab_writes(executed.read_text(encoding="utf-8")))
        (Path(notebooks_dir) / executed.name).write_text(text, encoding="utf-8")
        state_file = Path(state_dir) / f"{stem}.json"
        if state:
            state_file.write_text(json.dumps(state, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        else:
            state_file.unlink(missing_ok=True)
    run_times.record(run_dir, notebooks_dir)
    return stems


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register the ``store`` sub-command (see :mod:`helpers.course.cli`)."""
    stored = sub.add_parser("store", help="store a default run's executed notebooks as the course's notebooks",
                            description="Copy the executed notebooks of RUN_DIR (a default run of every notebook) over "
                                        "notebooks/, written as JupyterLab writes them, then record their run times "
                                        "(as record-times does).")
    stored.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="output folder of a default course run")
    stored.set_defaults(handler=command_store)


def command_store(args: argparse.Namespace) -> int:
    """Store a default run's executed notebooks as the course's notebooks, then record the run times."""
    try:
        stems = store(args.run_dir)
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    print(f"stored {len(stems)} notebooks from {args.run_dir} into notebooks/ and recorded their run times")
    return 0
