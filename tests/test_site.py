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
    assert len(pages) == len(notebooks) + 1 >= 12
    problems = {}
    with site_browser.serve(site) as base, site_browser.chromium() as driver:
        links = site_browser.LinkChecker(base)
        for page, widgets in pages.items():
            found = site_browser.check_page(driver, base + page, links, expect_widgets=widgets)
            if found:
                problems[page] = found
        for page in ("index.html", "04_feedforward_networks.html"):  # the same pages opened as files
            found = site_browser.check_page(driver, (site / page).as_uri(), links, expect_widgets=pages[page])
            if found:
                problems[f"file://{page}"] = found
        hits = site_browser.search_results(driver, base, "dropout")
        driver.get(base + "index.html")
        site_browser.full_page_screenshot(driver, tmp_path / "index.png")
        driver.get(base + "04_feedforward_networks.html")
        site_browser.full_page_screenshot(driver, tmp_path / "04_feedforward_networks.png")
    assert not problems, json.dumps(problems, indent=1)
    assert any("05_mlp_image_classification.html" in hit for hit in hits), f"search for 'dropout' found {hits}"
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
