"""The website's own text: facts read from the notebooks, the README and run_times.json, and the pages written
from them (no Sphinx, no browser: tests/test_course_website.py builds and reads the site)."""

import json
from pathlib import Path

import pytest

from helpers.course import presets, website, website_pages
from helpers.course.cli import build_parser
from helpers.course.runner import discover_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = discover_notebooks(ROOT / "notebooks")
README_TABLE = ("## The notebooks\n\n| # | Notebook | Mirrors the tutorial | Data | Default run (2 CPU cores) |\n"
                "|---|---|---|---|---|\n| 03 | [Keras basics](notebooks/03_keras_basics.ipynb) | Deep learning using "
                "Keras – The Basics | Boston housing | 20 s |\n\n## Next section\n")


def test_every_course_notebook_gives_its_index_facts():
    facts = website_pages.course_facts(NOTEBOOKS, ROOT / "README.md", ROOT / "notebooks" / "run_times.json")
    assert [f.stem for f in facts] == [nb.stem for nb in NOTEBOOKS]
    for f in facts:
        assert f.title and "·" not in f.title and f.tutorial and f.data
        assert f.learn.startswith("- "), f"{f.stem}: the 'What you will learn' list should be bullets"


def test_title_and_learn_list_come_from_the_first_cell():
    text = "# 03 · Keras basics\n\nIntro.\n\n**What you will learn**\n\n- one;\n- two,\n  wrapped.\n\n**Run time:** 1 s\n"
    assert website_pages.title_of(text, "03_keras_basics") == "Keras basics"
    assert website_pages.learn_list(text, "03_keras_basics") == "- one;\n- two,\n  wrapped."
    with pytest.raises(website_pages.SiteError, match="What you will learn"):
        website_pages.learn_list("# 03 · Keras basics\n", "03_keras_basics")


def test_readme_table_rows_and_a_missing_table(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README_TABLE, encoding="utf-8")
    rows = website_pages.readme_rows(readme)
    assert rows["03_keras_basics"]["Data"] == "Boston housing"
    readme.write_text("# No table here\n", encoding="utf-8")
    with pytest.raises(website_pages.SiteError, match="Mirrors the tutorial"):
        website_pages.readme_rows(readme)


def test_run_times_are_shown_only_when_recorded(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README_TABLE, encoding="utf-8")
    notebook = ROOT / "notebooks" / "03_keras_basics.ipynb"
    facts = website_pages.course_facts([notebook], readme, tmp_path / "run_times.json")
    assert facts[0].run_time is None and "Default run" not in website_pages.index_page(facts, "T")
    (tmp_path / "run_times.json").write_text(json.dumps({"measured": "x", "seconds": {notebook.stem: 343}}))
    facts = website_pages.course_facts([notebook], readme, tmp_path / "run_times.json")
    page = website_pages.index_page(facts, "T", "note")
    assert facts[0].run_time == "5.7 min" and "| 5.7 min |" in page and "note" in page
    assert "```{toctree}" in page and "03_keras_basics" in page


def test_run_box_holds_the_runner_and_papermill_commands_of_every_preset():
    box = website_pages.run_box("03_keras_basics", "originals/03_keras_basics.ipynb")
    assert "python -m helpers run 03 " in box and "python -m helpers run 03 --preset tutorial" in box
    assert presets.papermill_command("03_keras_basics", "tutorial") in box
    assert "{download}`03_keras_basics.ipynb <originals/03_keras_basics.ipynb>`" in box
    assert box.startswith(":::{admonition} Run it yourself") and box.rstrip().endswith(":::")


def test_the_run_box_is_inserted_after_the_first_cell():
    text = (ROOT / "notebooks" / "03_keras_basics.ipynb").read_text(encoding="utf-8")
    cells = json.loads(website.with_run_box(text, "03_keras_basics"))["cells"]
    assert cells[0] == json.loads(text)["cells"][0]
    assert cells[1]["source"].startswith(":::{admonition} Run it yourself")


def test_site_is_a_runner_subcommand():
    args = build_parser().parse_args(["site", "--output", "somewhere"])
    assert args.command == "site" and args.output == Path("somewhere")


def test_publish_refuses_to_replace_a_folder_that_is_not_a_site(tmp_path):
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "index.html").write_text("<html></html>")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(website_pages.SiteError, match="not a site"):
        website.publish(tmp_path / "html", tmp_path / "mine")
    website.publish(tmp_path / "html", tmp_path / "new")
    assert (tmp_path / "new" / "index.html").is_file()


def test_each_self_check_on_the_site_says_its_buttons_need_the_notebook():
    import json

    from helpers.course import website

    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Title"},
                          {"cell_type": "code", "metadata": {}, "source": 'exercises.quiz("08")', "outputs": []}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    cells = json.loads(website.with_run_box(json.dumps(notebook), "08_denoising_autoencoder"))["cells"]
    assert [c.get("id") for c in cells[:2]] == [None, "run-it-yourself"]
    assert "do not answer" in cells[2]["source"] and 'exercises.answer("08", 1' in cells[2]["source"]
    assert cells[3]["source"] == 'exercises.quiz("08")'


def test_empty_header_cells_become_data_cells():
    from helpers.course.website_pages import accessible_tables

    html = ('<thead><tr><th class="head"><p></p></th><th class="head"><p>tutorial</p></th><th>\n</th>'
            '<th colspan="3" halign="left">same place</th><th></th></tr></thead><tbody><tr><th>0</th><td></td></tr>')
    assert accessible_tables(html) == ('<thead><tr><td class="head"></td><th class="head"><p>tutorial</p></th><td></td>'
                                       '<th colspan="3" halign="left">same place</th><td></td></tr></thead>'
                                       '<tbody><tr><th>0</th><td></td></tr>')
