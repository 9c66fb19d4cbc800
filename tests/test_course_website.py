"""The course website (``python -m helpers site``) read in headless Chromium, page by page.

Marked ``browser``: it needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). Without
them the tests are skipped, except in CI (``CI`` set), where they fail with the install command.
"""

import collections
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import site_browser
from helpers.course import store, website
from helpers.course.runner import discover_notebooks

# Sphinx 9 announces API changes for version 11 in myst-parser and sphinx-book-theme: not this course's to fix.
pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "site"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def require_browser() -> None:
    if site_browser.find_browser() is None:
        message = f"Chromium and chromedriver not found; {site_browser.INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def require_axe() -> str:
    """The text of axe-core's ``axe.min.js`` (the audit injects it into each page; nothing comes from a CDN)."""
    path = site_browser.find_axe()
    if path is None:
        message = f"axe-core not found; {site_browser.AXE_INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path.read_text(encoding="utf-8")


def explorer_figure_without_alt(notebook: Path) -> bool:
    """Whether ``notebook``'s saved widget state holds its explorer's figure as a bare PNG, which the widget manager
    shows as an ``<img>`` with no alternative text: state saved before helpers.widget_display gave the figure its
    ``alt`` (an HTML ``<img alt>``). Re-executing the notebook replaces it."""
    state = store.WIDGET_STATE_DIR / f"{notebook.stem}.json"
    if not state.exists():
        return False
    models = json.loads(state.read_text(encoding="utf-8")).get(WIDGET_STATE, {}).get("state", {}).values()
    return any("image/png" in output.get("data", {}) for model in models if model.get("model_name") == "OutputModel"
               for output in model.get("state", {}).get("outputs", []))


def shows_saved_widgets(notebook: Path) -> bool:
    """Whether a stored output of ``notebook`` displays a widget whose state was saved (the site puts it back)."""
    data = json.loads(store.with_widget_state(notebook.read_text(encoding="utf-8"), notebook.stem))
    state = data.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    return any(output.get("data", {}).get(WIDGET_VIEW, {}).get("model_id") in state
               for cell in data["cells"] for output in cell.get("outputs", []))


def shows_explorer(notebook: Path) -> bool:
    """Whether ``notebook``'s saved widget state holds an interactive explorer (``ipywidgets.interactive``)."""
    state = store.WIDGET_STATE_DIR / f"{notebook.stem}.json"
    return state.exists() and "widget-interact" in state.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def course_site(tmp_path_factory):
    require_browser()
    out = tmp_path_factory.mktemp("site")
    notebooks = discover_notebooks(ROOT / "notebooks")
    website.build_site(notebooks, out / "site", work_dir=out / "work")
    return out / "site", notebooks


def test_every_page_reads_well_in_chromium(course_site, tmp_path):
    site, notebooks = course_site
    pages = {"index.html": False} | {f"{nb.stem}.html": shows_saved_widgets(nb) for nb in notebooks}
    explorers = {f"{nb.stem}.html" for nb in notebooks if shows_explorer(nb)}
    assert len(pages) == len(notebooks) + 1 >= 12
    assert {page[:2] for page in explorers} == {"01", "04", "07"}, explorers
    problems = {}
    with site_browser.serve(site) as base, site_browser.chromium() as driver:
        links = site_browser.LinkChecker(base, site.as_uri() + "/")
        for page, widgets in pages.items():
            found = site_browser.check_page(driver, base + page, links, expect_widgets=widgets,
                                            expect_explorer=page in explorers)
            if found:
                problems[page] = found
        for page in pages:  # every page again, opened as a file (file://), its links checked as files
            found = site_browser.check_page(driver, (site / page).as_uri(), links, expect_widgets=pages[page],
                                            expect_explorer=page in explorers)
            if found:
                problems[f"file://{page}"] = found
        hits = site_browser.search_results(driver, base, "dropout")
        file_hits = site_browser.search_results(driver, site.as_uri() + "/", "dropout")
        driver.get(base + "index.html")
        site_browser.full_page_screenshot(driver, tmp_path / "index.png")
        driver.get(base + "04_feedforward_networks.html")
        site_browser.full_page_screenshot(driver, tmp_path / "04_feedforward_networks.png")
    assert not problems, json.dumps(problems, indent=1)
    assert any("05_mlp_image_classification.html" in hit for hit in hits), f"search for 'dropout' found {hits}"
    assert any("05_mlp_image_classification.html" in hit for hit in file_hits), f"from file://: {file_hits}"
    assert (tmp_path / "index.png").stat().st_size > 10_000
    print(f"screenshots in {tmp_path}")


def test_every_page_passes_the_accessibility_audit(course_site):
    """axe-core (from npm, pinned in tests/site_browser.py) on every page of the site: no "serious" or "critical"
    violation. Nothing is excluded: the theme's own parts pass too (docs/_templates/search-button-field.html).

    One allowance, which ends by itself: an explorer figure with no alternative text inside a widget's output, on a
    page whose stored widget state predates the fix in helpers.widget_display (see explorer_figure_without_alt);
    it is reported as a warning until the notebook is re-executed, then fails like anything else.
    test_a_fresh_explorer_passes_the_audit checks what re-execution stores.
    """
    axe = require_axe()
    site, notebooks = course_site
    pages = sorted(page.name for page in site.glob("*.html"))
    assert {"index.html", "search.html"} | {f"{nb.stem}.html" for nb in notebooks} <= set(pages), pages
    stale = {f"{nb.stem}.html" for nb in notebooks if explorer_figure_without_alt(nb)}
    problems, until_rerun, counts = {}, {}, collections.Counter()
    with site_browser.serve(site) as base, site_browser.chromium() as driver:
        for page in pages:
            driver.get(base + page)
            site_browser.settle(driver)
            audit = site_browser.axe_audit(driver, axe)
            assert "error" not in audit and audit["version"] == site_browser.AXE_VERSION, (page, audit)
            for violation in audit["violations"]:
                counts[f"{violation['id']} ({violation['impact']})"] += len(violation["nodes"])
            for rule, node in site_browser.failing(audit):
                line = site_browser.describe(rule, node)
                if rule == "image-alt" and node["in_widget_output"] and page in stale:
                    until_rerun.setdefault(page, []).append(line)
                else:
                    problems.setdefault(page, []).append(line)
    print(f"axe-core {site_browser.AXE_VERSION}, {len(pages)} pages, all violations by rule (impact): "
          f"{dict(sorted(counts.items()))}")
    assert not problems, json.dumps(problems, indent=1)
    if until_rerun:
        warnings.warn(f"explorer figures without alternative text in widget state stored before the fix, until "
                      f"the notebooks are re-executed: {json.dumps(until_rerun)}")


def test_a_fresh_explorer_passes_the_audit(tmp_path):
    """An explorer as re-executing 01, 04 and 07 stores it (helpers.widget_display.show_interactive, its state saved),
    on a page of its own: no serious or critical axe-core violation, the figure has its alternative text and every
    slider handle is named by its label."""
    require_browser()
    axe = require_axe()
    notebook = tmp_path / "01_an_explorer.ipynb"
    subprocess.run([sys.executable, str(FIXTURES / "make_explorer_notebook.py"), str(notebook)], check=True,
                   cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, timeout=300)
    readme = tmp_path / "README.md"
    readme.write_text("## The notebooks\n\n| # | Notebook | Mirrors the tutorial | Data |\n|---|---|---|---|\n"
                      "| 01 | [An explorer](notebooks/01_an_explorer.ipynb) | A tutorial | none |\n", encoding="utf-8")
    index = website.build_site([notebook], tmp_path / "site", work_dir=tmp_path / "work", readme=readme)
    with site_browser.serve(index.parent) as base, site_browser.chromium() as driver:
        problems = site_browser.check_page(driver, base + "01_an_explorer.html", site_browser.LinkChecker(base),
                                           expect_widgets=True, expect_explorer=True)
        audit = site_browser.axe_audit(driver, axe)
        found = driver.execute_script("""
            const named = h => (document.getElementById(h.getAttribute('aria-labelledby') || '') || {}).textContent;
            return {alts: Array.from(document.querySelectorAll('.widget-output img')).map(i => i.alt),
                    sliders: Array.from(document.querySelectorAll('.widget-slider [role="slider"]')).map(named)};""")
    assert problems == [], problems
    assert [site_browser.describe(*item) for item in site_browser.failing(audit)] == []
    assert found == {"alts": ["Test explorer: the figure for the default setting (rate = 0.1, hidden_units = 4, "
                              "kind = line)."], "sliders": ["rate", "hidden_units"]}, found


def test_every_notebook_page_has_navigation_download_and_run_box(course_site):
    site, notebooks = course_site
    index = (site / "index.html").read_text(encoding="utf-8")
    for i, notebook in enumerate(notebooks):
        html = (site / f"{notebook.stem}.html").read_text(encoding="utf-8")
        assert f'href="{notebook.stem}.html"' in index, f"the index does not link {notebook.stem}"
        text = re.sub(r"<[^>]+>", "", html)  # code is highlighted: one <span> per token
        assert "Run it yourself" in text and f"python -m helpers run {notebook.stem[:2]}" in text
        assert f"{notebook.stem}.ipynb" in html and "_downloads/" in html, f"{notebook.stem}: no download link"
        if i + 1 < len(notebooks):
            assert f'rel="next" title="' in html and f'href="{notebooks[i + 1].stem}.html"' in html
        assert 'rel="prev"' in html
    external = {page.name: url for page in site.glob("*.html")
                for url in site_browser.resource_urls(page.read_text(encoding="utf-8"))
                if url.startswith(("http:", "https:", "//"))}
    assert not external, f"pages load files from other hosts (the site must work offline): {external}"


def test_exercises_show_solutions_collapsed_and_the_self_check(course_site):
    """Each notebook page: every exercise's solution inside a closed <details>, and the self-check's controls."""
    from helpers import exercises

    site, notebooks = course_site
    ids = list(exercises.all_exercises())
    with site_browser.serve(site) as base, site_browser.chromium() as driver:
        for notebook in notebooks:
            nn = notebook.stem[:2]
            driver.get(f"{base}{notebook.stem}.html")
            site_browser.settle(driver)
            found = driver.execute_script("""
                return Array.from(document.querySelectorAll('details')).map(d => ({
                    open: d.open, summary: d.querySelector('summary').textContent,
                    code: d.querySelector('pre') ? d.querySelector('pre').textContent : '',
                    visible: d.querySelector('pre') ? d.querySelector('pre').checkVisibility() : false}));""")
            solutions = [d for d in found if "one solution to exercise" in d["summary"]]
            wanted = [i for i in ids if i.startswith(nn + ".")]
            assert [d["summary"].split("exercise ")[1].split(" ")[0] for d in solutions] == wanted, (notebook.stem, found)
            for d, exercise_id in zip(solutions, wanted):
                assert not d["open"] and not d["visible"], f"{exercise_id}: the solution is not collapsed"
                assert f"def {exercises.get(exercise_id).function_name}(" in d["code"], exercise_id
            checks = driver.execute_script(
                "return Array.from(document.querySelectorAll('.jupyter-widgets button'))"
                ".filter(b => b.textContent.trim() === 'Check').length;")
            assert checks == len(exercises.questions(nn)), f"{notebook.stem}: {checks} self-check buttons"


def test_a_broken_page_fails_the_check(tmp_path):
    """A notebook with a missing image and a dead link: the browser check reports both."""
    require_browser()
    readme = tmp_path / "README.md"
    readme.write_text("## The notebooks\n\n| # | Notebook | Mirrors the tutorial | Data |\n|---|---|---|---|\n"
                      "| 01 | [Broken](notebooks/01_broken_page.ipynb) | A tutorial | none |\n", encoding="utf-8")
    index = website.build_site([FIXTURES / "01_broken_page.ipynb"], tmp_path / "site", work_dir=tmp_path / "work",
                               readme=readme)
    with site_browser.serve(index.parent) as base, site_browser.chromium() as driver:
        links = site_browser.LinkChecker(base)
        problems = site_browser.check_page(driver, base + "01_broken_page.html", links)
        fine = site_browser.check_page(driver, base + "index.html", links)
    assert any(p.startswith("image not loaded") and "missing-figure.png" in p for p in problems), problems
    assert any(p.startswith("dead link") and "no-such-page.html" in p for p in problems), problems
    assert any(p.startswith("dead link") and "no-such-section" in p for p in problems), problems
    assert fine == [], fine
