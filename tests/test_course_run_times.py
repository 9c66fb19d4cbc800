"""Tests for helpers.course.run_times: timings are read from the runner's summary and written to the README
and the notebooks from one file, and what is committed agrees with that file."""

import csv
import json
import re
from pathlib import Path

import pytest

from helpers.course import run_times

ROOT = Path(__file__).resolve().parents[1]


def write_summary(folder: Path, rows):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "summary.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["notebook", "parameters", "status", "wall_time_s", "error"])
        writer.writeheader()
        for notebook, parameters, status, seconds in rows:
            writer.writerow({"notebook": notebook, "parameters": parameters, "status": status,
                             "wall_time_s": seconds, "error": ""})


@pytest.mark.parametrize("seconds, text", [(14.2, "14 s"), (89.4, "89 s"), (90, "1.5 min"), (343.0, "5.7 min")])
def test_format_duration(seconds, text):
    assert run_times.format_duration(seconds) == text


def test_read_summary_keeps_only_default_runs_that_finished(tmp_path):
    write_summary(tmp_path, [("01_a", "", "ok", 10.0), ("02_b", "EPOCHS=1", "ok", 3.0),
                             ("03_c", "", "failed", 5.0), ("04_d", "preset=tutorial", "ok", 99.0)])
    assert run_times.read_summary(tmp_path) == {"01_a": 10.0}


def test_read_summary_errors_name_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="output folder of 'python -m helpers run'"):
        run_times.read_summary(tmp_path)
    write_summary(tmp_path, [("01_a", "EPOCHS=1", "ok", 1.0)])
    with pytest.raises(ValueError, match="no default execution"):
        run_times.read_summary(tmp_path)


def test_record_rewrites_readme_and_notebooks(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for stem in ("01_first", "02_second"):
        nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": [
            "# Title\n", "\n", "**Run time:** about 3 minutes, typed by hand\n", "(old detail)\n", "\n", "More text.\n"]}],
              "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (notebooks / f"{stem}.ipynb").write_text(json.dumps(nb))
    readme = tmp_path / "README.md"
    readme.write_text("| 01 | [First](notebooks/01_first.ipynb) | x | 9 s |\n"
                      "| 02 | [Second](notebooks/02_second.ipynb) | y | 9 s |\n"
                      "Total: <!-- run-time-total -->old<!-- /run-time-total -->.\n")
    write_summary(tmp_path / "run", [("01_first", "", "ok", 12.34), ("02_second", "", "ok", 100.0)])
    run_times.record(tmp_path / "run", notebooks, readme, tmp_path / "times.json")
    text = readme.read_text()
    assert "| 12 s |" in text and "| 1.7 min |" in text and "1.9 min for the whole course" in text
    first = "".join(json.loads((notebooks / "01_first.ipynb").read_text())["cells"][0]["source"])
    assert "**Run time:** 12 s with the default parameters" in first
    assert "typed by hand" not in first and "old detail" not in first and first.endswith("More text.\n")
    assert json.loads((tmp_path / "times.json").read_text())["seconds"] == {"01_first": 12.3, "02_second": 100.0}


def test_record_refuses_a_run_that_misses_a_notebook(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "01_first.ipynb").write_text("{}")
    (notebooks / "02_second.ipynb").write_text("{}")
    write_summary(tmp_path / "run", [("01_first", "", "ok", 1.0)])
    with pytest.raises(ValueError, match="no default timing of 02_second"):
        run_times.record(tmp_path / "run", notebooks, tmp_path / "README.md", tmp_path / "t.json")


def test_committed_readme_and_notebooks_agree_with_run_times_json():
    record = json.loads(run_times.TIMES_FILE.read_text(encoding="utf-8"))
    seconds = record["seconds"]
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(seconds) == notebooks
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == run_times.apply_to_readme(readme, seconds, record["measured"]), \
        "README run times differ from notebooks/run_times.json: run python -m helpers record-times"
    for stem in notebooks:
        cells = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))["cells"]
        first = "".join(next(c for c in cells if c["cell_type"] == "markdown")["source"])
        found = re.findall(run_times.RUN_TIME_PARAGRAPH, first)
        assert found == [run_times.notebook_sentence(seconds[stem], record["measured"])], stem
