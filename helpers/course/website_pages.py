"""What the course website says beyond the notebooks: the index's table of contents and each page's
"Run it yourself" box, as MyST Markdown (rendered by Sphinx in :mod:`helpers.course.website`).

The facts come from where the course already keeps them, never typed twice:

- title and "What you will learn": the notebook's first cell (``# NN · Title`` and the bullet list after
  ``**What you will learn**``);
- the tutorial it mirrors and its data: the README's table under ``## The notebooks``
  (columns ``Notebook``, ``Mirrors the tutorial``, ``Data``);
- the default run time: ``notebooks/run_times.json`` (``python -m helpers record-times``), left out when absent;
- the commands: :mod:`helpers.course.presets` (``PRESETS`` and ``papermill_command``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from helpers.course import presets
from helpers.course.run_times import format_duration

TITLE_RE = re.compile(r"^#\s+(?:(\d+)\s*·\s*)?(.+?)\s*$", re.M)
LEARN_MARKER = "**What you will learn**"
README_SECTION = "## The notebooks"
README_LINK_RE = re.compile(r"\[[^\]]*\]\((?:[^)]*/)?([^/)]+)\.ipynb\)")


class SiteError(Exception):
    """A problem that stops the site build; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class NotebookFacts:
    """One row of the site's table of contents."""

    stem: str
    number: str
    title: str
    tutorial: str
    data: str
    learn: str  # MyST bullet list
    run_time: str | None  # e.g. "45 s"; None without notebooks/run_times.json


def first_cell_text(notebook: dict, stem: str) -> str:
    """The source of the notebook's first markdown cell."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell["source"]
            return source if isinstance(source, str) else "".join(source)
    raise SiteError(f"{stem}.ipynb has no markdown cell: its first cell must hold '# NN · Title' and the "
                    f"'{LEARN_MARKER}' list the site's index shows.")


def title_of(text: str, stem: str) -> str:
    """``# 03 · Keras basics`` -> ``Keras basics``."""
    match = TITLE_RE.search(text)
    if not match:
        raise SiteError(f"{stem}.ipynb: its first cell has no '# NN · Title' heading; add one (the site's index and "
                        "navigation use it).")
    return match.group(2)


def learn_list(text: str, stem: str) -> str:
    """The bullet list that follows ``**What you will learn**`` in the first cell (Markdown, as written)."""
    _, marker, rest = text.partition(LEARN_MARKER)
    if not marker:
        raise SiteError(f"{stem}.ipynb: its first cell has no '{LEARN_MARKER}' list; add one (the site's index shows "
                        "it).")
    block = re.split(r"\n[ \t]*\n", rest.strip("\n").lstrip(), maxsplit=1)[0]
    if not block.lstrip().startswith(("-", "*")):
        raise SiteError(f"{stem}.ipynb: '{LEARN_MARKER}' must be followed by a bullet list ('- ...' lines).")
    return block.strip()


def readme_rows(readme: Path) -> dict[str, dict[str, str]]:
    """The README's notebook table: ``{stem: {column: text}}``."""
    text = Path(readme).read_text(encoding="utf-8")
    _, found, section = text.partition(README_SECTION)
    lines = [line.strip() for line in section.splitlines()] if found else []
    table = []
    for line in lines:
        if line.startswith("|"):
            table.append([cell.strip() for cell in line.strip("|").split("|")])
        elif table:
            break
    needed = ("Notebook", "Mirrors the tutorial", "Data")
    if len(table) < 3 or not all(name in table[0] for name in needed):
        raise SiteError(f"{readme} has no table under '{README_SECTION}' with the columns {', '.join(needed)}: "
                        "the site's index takes each notebook's tutorial and data from it.")
    header, rows = table[0], table[2:]
    result = {}
    for cells in rows:
        row = dict(zip(header, cells))
        link = README_LINK_RE.search(row.get("Notebook", ""))
        if link:
            result[link.group(1)] = row
    return result


def run_times(times_file: Path) -> dict[str, str]:
    """``{stem: "45 s"}`` from ``notebooks/run_times.json``; empty when the file does not exist yet."""
    if not Path(times_file).is_file():
        return {}
    try:
        seconds = json.loads(Path(times_file).read_text(encoding="utf-8"))["seconds"]
    except (ValueError, KeyError) as exc:
        raise SiteError(f"{times_file} is not a run-times record ({exc!r}); rewrite it with "
                        "'python -m helpers record-times runs/<folder>'.") from None
    return {stem: format_duration(value) for stem, value in seconds.items()}


def course_facts(notebooks: list[Path], readme: Path, times_file: Path) -> list[NotebookFacts]:
    """Everything the index says about each notebook, in the given order."""
    rows, times, facts = readme_rows(readme), run_times(times_file), []
    for path in map(Path, notebooks):
        stem = path.stem
        text = first_cell_text(json.loads(path.read_text(encoding="utf-8")), stem)
        row = rows.get(stem)
        if row is None:
            raise SiteError(f"{readme}'s table under '{README_SECTION}' has no row linking {stem}.ipynb; add one "
                            "(the site's index takes the tutorial and the data from it).")
        facts.append(NotebookFacts(stem=stem, number=stem.split("_", 1)[0], title=title_of(text, stem),
                                   tutorial=row["Mirrors the tutorial"], data=row["Data"],
                                   learn=learn_list(text, stem), run_time=times.get(stem)))
    return facts


def table_cell(text: str) -> str:
    """Text for one cell of a Markdown table."""
    return text.replace("|", "\\|").replace("\n", " ")


def index_page(facts: list[NotebookFacts], title: str, times_note: str | None = None) -> str:
    """The site's front page: a table of contents, what each notebook teaches, and the (hidden) toctree."""
    with_times = any(f.run_time for f in facts)
    columns = ["#", "Notebook", "Mirrors the tutorial", "Data"] + ["Default run (2 CPU cores)"] * with_times
    lines = [f"# {title}", "",
             "LearnOpenCV's tutorial series *Deep Learning for Beginners* as eleven executed Jupyter notebooks for "
             "today's Keras 3, shown here with their stored outputs (nothing is re-run to build this site). Each page "
             "ends its first section with a **Run it yourself** box: the notebook to download and the commands that "
             "run it, with its presets.", "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for f in facts:
        cells = [f.number, f"[{table_cell(f.title)}]({f.stem}.ipynb)", table_cell(f.tutorial), table_cell(f.data)]
        cells += [f.run_time or "–"] * with_times
        lines.append("| " + " | ".join(cells) + " |")
    if with_times and times_note:
        lines += ["", times_note]
    lines += ["", "## What you will learn", ""]
    for f in facts:
        lines += [f"### {f.number} · [{f.title}]({f.stem}.ipynb)", "",
                  f"*Mirrors:* {f.tutorial} · *Data:* {f.data}" + (f" · *Default run:* {f.run_time}" if f.run_time
                                                                       else ""), "", f.learn, ""]
    lines += ["```{toctree}", ":hidden:", ":caption: Notebooks", "", *(f.stem for f in facts), "```", ""]
    return "\n".join(lines)


def commented(lines: list[tuple[str, str]]) -> list[str]:
    """Shell lines with their comments aligned: ``[(command, comment)]`` -> text lines."""
    width = max(len(command) for command, comment in lines if comment) if any(c for _, c in lines) else 0
    return [f"{command:<{width}}   # {comment}" if comment else command for command, comment in lines]


def run_box(stem: str, download_path: str) -> str:
    """The "Run it yourself" admonition of one notebook page (MyST Markdown)."""
    number = stem.split("_", 1)[0]
    runner = [(f"python -m helpers run {number}", "the defaults")]
    papermill = [(f"papermill {stem}.ipynb {stem}_out.ipynb", "the defaults")]
    described = []
    for name, preset in presets.presets_for(stem).items():
        runner.append((f"python -m helpers run {number} --preset {name}", f"preset {name}"))
        if preset.grid:
            papermill.append((f"# preset {name} is a grid: run it with the course runner", ""))
        elif preset.parameters:
            papermill.append((presets.papermill_command(stem, name), ""))
        described.append(f"- **{name}**: {preset.description}")
    runner, papermill = commented(runner), commented(papermill)
    lines = [":::{admonition} Run it yourself", ":class: tip run-it-yourself", "",
             f"Download the notebook as stored, outputs included: {{download}}`{stem}.ipynb <{download_path}>`. "
             f"Open it with `jupyter lab {stem}.ipynb`, or run it from a clone of the course (set-up: the "
             f"README's two commands).", "",
             "With the course runner, from the repository root (it checks parameter names before running, and "
             "writes the executed copy and its metrics under `runs/`):", "",
             "```bash", *runner, "```", "",
             "With papermill, from `notebooks/`:", "", "```bash", *papermill, "```", ""]
    if described:
        lines += ["Presets (`python -m helpers list` shows every parameter and preset):", "", *described, ""]
    lines += [":::", ""]
    return "\n".join(lines)


#: A header cell with nothing in it: ``<th>`` with only white space or empty paragraphs inside.
EMPTY_HEADER_RE = re.compile(r"<th(\s[^>]*)?>(?:\s|<p>\s*</p>)*</th>")


def accessible_tables(html: str) -> str:
    """``html`` with every empty table header cell written as an empty data cell (``<td>``).

    Tables on the pages leave header cells empty: the corner of a Markdown table whose first column names the rows
    (``| | tutorial | preset |``), and pandas's HTML of a DataFrame with a named index (the corner, and a second
    header row holding only the index's name). A header cell with no text gives a screen reader no header to
    announce for its column or row (axe-core's empty-table-header); a data cell is what such a corner is.
    """
    return EMPTY_HEADER_RE.sub(lambda m: f"<td{m.group(1) or ''}></td>", html)
