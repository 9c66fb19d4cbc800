"""Run times from one place: the course runner's measured summary.

``python -m helpers record-times runs/<folder>`` reads ``summary.csv`` of a run of the course with
default parameters (``python -m helpers run``), stores each notebook's wall time (kernel start
included) in ``notebooks/run_times.json``, and rewrites from it the README's run-time column and total
and the ``**Run time:**`` paragraph of each notebook's first cell. ``tests/test_course_run_times.py`` fails when
the README or a notebook disagrees with ``run_times.json``, so no timing is ever typed by hand.
"""

from __future__ import annotations

import csv
import datetime as _dt
import argparse
import json
import platform
import re
from pathlib import Path

from helpers.course.paths import NOTEBOOKS_DIR, README
from helpers.course.run_record import Status
from helpers.course.runner.planning import UsageError

TIMES_FILE = NOTEBOOKS_DIR / "run_times.json"
RUN_TIME_PARAGRAPH = re.compile(r"\*\*Run time[:.]\*\*.*?(?=\n\s*\n|\Z)", re.S)
README_TOTAL = re.compile(r"(<!-- run-time-total -->).*?(<!-- /run-time-total -->)", re.S)


def format_duration(seconds: float) -> str:
    """``14.2`` -> ``"14 s"``, ``343`` -> ``"5.7 min"`` (minutes from 90 s on)."""
    return f"{round(seconds)} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def read_summary(run_dir: Path) -> dict[str, float]:
    """Wall times of the default executions in ``run_dir/summary.csv``: ``{stem: seconds}``.

    Only rows that finished ``ok`` with no parameters and no preset count: a timing of another
    configuration would not describe the default run.
    """
    path = Path(run_dir) / "summary.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: pass the output folder of 'python -m helpers run'.")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    times = {row["notebook"]: float(row["wall_time_s"]) for row in rows
             if row["status"] == Status.OK and not row["parameters"].strip()}
    if not times:
        raise ValueError(f"{path} holds no default execution that finished ok (parameters must be empty).")
    return times


def notebook_sentence(seconds: float, measured: str) -> str:
    """The ``**Run time:**`` paragraph of a notebook's first cell."""
    return (f"**Run time:** {format_duration(seconds)} with the default parameters on 2 CPU cores, kernel start included "
            f"(measured by the course runner, {measured}; the README lists every notebook).")


def readme_total(seconds: dict[str, float], measured: str) -> str:
    """The README's sentence with the course's total (between the run-time-total markers)."""
    return (f"<!-- run-time-total -->{format_duration(sum(seconds.values()))} for the whole course "
            f"({measured})<!-- /run-time-total -->")


def apply_to_notebook(path: Path, seconds: float, measured: str) -> bool:
    """Rewrite the ``**Run time:**`` paragraph of the first markdown cell; return whether it changed."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "markdown")
    text = "".join(cell["source"])
    if not RUN_TIME_PARAGRAPH.search(text):
        raise ValueError(f"{path.name}: its first cell has no '**Run time:**' paragraph to update.")
    new = RUN_TIME_PARAGRAPH.sub(lambda _: notebook_sentence(seconds, measured), text, count=1)
    if new == text:
        return False
    cell["source"] = new.splitlines(keepends=True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def apply_to_readme(text: str, seconds: dict[str, float], measured: str) -> str:
    """Return the README with its table's last column and the total taken from ``seconds``."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        match = re.match(r"\| (\d\d) \| \[.*?\]\(notebooks/(\d\d_\w+)\.ipynb\)", line)
        if match and match.group(2) in seconds:
            cells = line.rstrip("\n").rstrip("|").split("|")
            cells[-1] = f" {format_duration(seconds[match.group(2)])} "
            lines[i] = "|".join(cells) + "|\n"
    text = "".join(lines)
    if not README_TOTAL.search(text):
        raise ValueError("README.md has no <!-- run-time-total --> markers to update.")
    return README_TOTAL.sub(lambda _: readme_total(seconds, measured), text)


def course_timings(run_dir: Path, notebooks_dir: Path = NOTEBOOKS_DIR) -> dict[str, float]:
    """The run's default timings (rounded to 0.1 s), after checking it has one for every course notebook."""
    seconds = {stem: round(value, 1) for stem, value in read_summary(run_dir).items()}
    expected = {p.stem for p in Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")}
    missing = sorted(expected - set(seconds))
    if missing:
        raise ValueError(f"the run has no default timing of {', '.join(missing)}: run the whole course with "
                         "'python -m helpers run' (no -p, no --preset) and pass its folder.")
    return seconds


def record(run_dir: Path, notebooks_dir: Path = NOTEBOOKS_DIR, readme: Path = README,
           times_file: Path = TIMES_FILE) -> dict[str, float]:
    """Store the run's default timings and rewrite the README and the notebooks from them."""
    seconds = course_timings(run_dir, notebooks_dir)
    measured = f"{_dt.date.today():%Y-%m-%d}, {platform.machine()} CPU"
    times_file.write_text(json.dumps({"measured": measured, "seconds": dict(sorted(seconds.items()))},
                                     indent=2) + "\n", encoding="utf-8")
    for stem, value in seconds.items():
        apply_to_notebook(Path(notebooks_dir) / f"{stem}.ipynb", value, measured)
    readme.write_text(apply_to_readme(readme.read_text(encoding="utf-8"), seconds, measured), encoding="utf-8")
    return seconds


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register the ``record-times`` sub-command (see :mod:`helpers.course.cli`)."""
    times = sub.add_parser("record-times", help="store a default run's wall times and update README and notebooks",
                           description="Read RUN_DIR/summary.csv of 'python -m helpers run' (all notebooks, defaults), "
                                       "store the wall times in notebooks/run_times.json and rewrite the README's "
                                       "run-time column and each notebook's '**Run time:**' line from them.")
    times.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="output folder of a default course run")
    times.set_defaults(handler=command_record_times)


def command_record_times(args: argparse.Namespace) -> int:
    """Store a default run's timings and rewrite the README and the notebooks' run-time lines."""
    try:
        seconds = record(args.run_dir)
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    for stem, value in seconds.items():
        print(f"{stem:<36} {format_duration(value)}")
    print(f"{'total':<36} {format_duration(sum(seconds.values()))}  (written to {TIMES_FILE.name}, "
          "README.md and the notebooks' first cells)")
    return 0
