"""The course website (``python -m helpers site``) read in headless Chromium, page by page.

Marked ``browser``: it needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). Without
them the tests are skipped, except in CI (``CI`` set), where they fail with the install command.
"""

import json
import os
import re
from pathlib import Path

import pytest

import site_browser
from helpers import store, website
from helpers.runner import discover_notebooks

# Sphinx 9 announces API changes for version 11 in myst-parser and sphinx-book-theme: not this course's to fix.
pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")]
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
