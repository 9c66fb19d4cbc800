"""``python -m helpers site``: the course as a static website, built from the stored, executed notebooks.

Nothing is executed. The notebooks are staged into ``build/site/src`` (each with a "Run it yourself" box after its
first cell, and the untouched original beside it for download), with an ``index.md`` written by
:mod:`helpers.course.website_pages`; Sphinx renders them with myst-nb and sphinx-book-theme, configured by ``docs/conf.py``,
into ``build/site/html``, which is then copied to ``site/`` (myst-nb writes image files beside its output folder,
so Sphinx's own folder stays under ``build/``). Open ``site/index.html``, or serve it with
``python -m http.server -d site``. Sphinx's cache in ``build/site`` makes a second build faster.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from helpers.course.paths import README, REPO_ROOT
from helpers.course.runner.planning import UsageError, discover_notebooks
from helpers.course.store import with_widget_state
from helpers.course.website_pages import SiteError, course_facts, index_page, run_box

CONF_DIR = REPO_ROOT / "docs"
DEFAULT_OUTPUT = REPO_ROOT / "site"
DEFAULT_WORK_DIR = REPO_ROOT / "build" / "site"
ORIGINALS = "originals"  # staged copies offered for download (excluded from the pages by docs/conf.py)
TITLE = "Deep Learning for Beginners, executed"
TIMES_NOTE = ("Default run: the wall time of `python -m helpers run` with the default parameters on 2 CPU cores, "
              "kernel start included (stored in `notebooks/run_times.json`).")


def write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless the file already holds it (keeps Sphinx's incremental build)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def with_run_box(notebook_text: str, stem: str) -> str:
    """The notebook's JSON with a "Run it yourself" markdown cell inserted after its first cell."""
    notebook = json.loads(notebook_text)
    box = {"cell_type": "markdown", "id": "run-it-yourself", "metadata": {},
           "source": run_box(stem, f"{ORIGINALS}/{stem}.ipynb")}
    notebook["cells"].insert(1, box)
    for i in reversed(range(len(notebook["cells"]))):  # a page has no kernel: say so above each self-check
        cell = notebook["cells"][i]
        if cell["cell_type"] == "code" and "exercises.quiz(" in "".join(cell["source"]):
            notebook["cells"].insert(i, {"cell_type": "markdown", "id": f"site-quiz-note-{i}", "metadata": {},
                                         "source": SELF_CHECK_NOTE.format(nn=stem[:2])})
    return json.dumps(notebook, indent=1, ensure_ascii=False)


#: Shown on the site above each self-check: its buttons are the saved controls, with no Python behind them.
SELF_CHECK_NOTE = (":::{{note}}\nOn this page the self-check's buttons do not answer: they need the notebook's "
                   "Python. Open the notebook in JupyterLab and run the cell below, or answer in code, e.g. "
                   "`exercises.answer(\"{nn}\", 1, \"b\")` (notebook, question, your answer).\n:::\n")


def stage(notebooks: list[Path], src: Path, readme: Path, times_file: Path) -> None:
    """Write the Sphinx sources: index.md, one page per notebook, the originals for download."""
    facts = course_facts(notebooks, readme, times_file)
    wanted = {"index.md"}
    write_if_changed(src / "index.md", index_page(facts, TITLE, TIMES_NOTE))
    for path in notebooks:
        text = path.read_text(encoding="utf-8")
        write_if_changed(src / ORIGINALS / path.name, text)
        write_if_changed(src / path.name, with_run_box(with_widget_state(text, path.stem), path.stem))
        wanted |= {path.name, f"{ORIGINALS}/{path.name}"}
    for old in [*src.glob("*.ipynb"), *src.glob(f"{ORIGINALS}/*.ipynb")]:  # notebooks renamed or removed since
        if old.relative_to(src).as_posix() not in wanted:
            old.unlink()


def run_sphinx(src: Path, html: Path, doctrees: Path, jobs: int) -> int:
    """Run Sphinx's HTML builder; returns its exit status."""
    try:
        from sphinx.cmd.build import build_main
    except ImportError:
        raise SiteError("Sphinx is not installed: pip install -r requirements.txt (it pins sphinx, myst-nb and "
                        "sphinx-book-theme)") from None
    return build_main(["-b", "html", "-q", "-j", str(jobs), "-c", str(CONF_DIR), "-d", str(doctrees),
                       str(src), str(html)])


def publish(html: Path, output: Path) -> None:
    """Replace ``output`` by a copy of Sphinx's HTML folder."""
    if output.exists():
        if not (output / "index.html").is_file() and any(output.iterdir()):
            raise SiteError(f"{output} exists and is not a site built here (no index.html): choose another --output "
                            "or remove it")
        shutil.rmtree(output)
    shutil.copytree(html, output, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees"))


def build_site(notebooks: list[Path], output: Path = DEFAULT_OUTPUT, work_dir: Path = DEFAULT_WORK_DIR,
               readme: Path = README, times_file: Path | None = None, jobs: int = 1) -> Path:
    """Build the website of ``notebooks`` into ``output``; returns the path of its index.html."""
    if not notebooks:
        raise SiteError("no notebooks to put on the site (expected notebooks/NN_*.ipynb)")
    times_file = times_file or Path(notebooks[0]).parent / "run_times.json"
    work_dir, output = Path(work_dir).resolve(), Path(output).resolve()
    stage([Path(p) for p in notebooks], work_dir / "src", readme, times_file)
    status = run_sphinx(work_dir / "src", work_dir / "html", work_dir / "doctrees", jobs)
    if status != 0:
        raise SiteError(f"Sphinx failed (exit status {status}); its messages above name the page and the problem")
    publish(work_dir / "html", output)
    return output / "index.html"


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register the ``site`` sub-command (see :mod:`helpers.course.cli`)."""
    site = sub.add_parser("site", parents=[common], help="build the course website from the stored notebooks",
                          description=__doc__.split("\n\n", 1)[1])
    site.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, metavar="DIR",
                      help="folder to write the site into (replaced; default: %(default)s)")
    site.add_argument("--jobs", type=int, default=1, metavar="N", help="Sphinx processes (default: %(default)s)")
    site.set_defaults(handler=command_site)


def command_site(args: argparse.Namespace) -> int:
    """Build the site; print where it is and how to open it."""
    start = time.perf_counter()
    try:
        index = build_site(discover_notebooks(Path(args.notebooks_dir)), args.output, jobs=args.jobs)
    except SiteError as exc:
        raise UsageError(str(exc)) from None
    print(f"Site written to {index.parent} in {time.perf_counter() - start:.0f} s. Open {index}, or serve it: "
          f"python -m http.server -d {index.parent}", file=sys.stdout)
    return 0
