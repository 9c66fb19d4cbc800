"""Tests for helpers.course.store: committed notebooks are a run's executed copies, written as JupyterLab writes them."""

import json
from pathlib import Path

import pytest

from helpers.course import store

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_as_jupyterlab_writes_normalises_display_name_numbers_and_paths():
    text = json.dumps({"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "papermill": {"input_path": "/home/someone/course/notebooks/01_x.ipynb", "output_path": "/tmp/out/01_x.ipynb",
                      "environment_variables": {"SECRET": "1"}},
        "widgets": {"state": {"value": 10.0, "step": 0.5, "small": 1e-07, "big": 3.0e5}}}})
    out = store.as_jupyterlab_writes(text)
    data = json.loads(out)
    assert data["metadata"]["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
    assert data["metadata"]["papermill"]["input_path"] == "01_x.ipynb"
    assert data["metadata"]["papermill"]["environment_variables"] == {}
    assert '"value": 10,' in out and '"step": 0.5' in out and '"big": 300000' in out
    assert out.endswith("}\n") and store.as_jupyterlab_writes(out) == out  # idempotent


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_open_unmodified_in_jupyterlab(notebook):
    text = notebook.read_text(encoding="utf-8")
    assert store.as_jupyterlab_writes(text) == text, (
        f"{notebook.name} is not written as JupyterLab writes it: store it with 'python -m helpers store RUN_DIR'")


def test_store_refuses_a_run_without_every_notebook(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.csv").write_text("notebook,parameters,status,wall_time_s,error\n01_a,,ok,1.0,\n")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for stem in ("01_a", "02_b"):
        (notebooks / f"{stem}.ipynb").write_text("{}")
    with pytest.raises(ValueError, match="of 02_b"):
        store.store(run, notebooks)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_widget_state_is_kept_beside_not_in_the_notebooks(notebook):
    """JupyterLab saving widget state marks a notebook holding state modified on open: the state lives in docs/."""
    data = json.loads(notebook.read_text(encoding="utf-8"))
    assert "widgets" not in data["metadata"], f"{notebook.name} holds widget state: store it with 'python -m helpers store'"
    shown = {o["data"][store.WIDGET_VIEW]["model_id"] for c in data["cells"] for o in c.get("outputs", [])
             if store.WIDGET_VIEW in o.get("data", {})}
    if shown:
        state = json.loads((store.WIDGET_STATE_DIR / f"{notebook.stem}.json").read_text(encoding="utf-8"))
        saved = state["application/vnd.jupyter.widget-state+json"]["state"]
        assert shown <= set(saved), f"{notebook.name}: widget outputs without saved state in docs/widget_state"


def test_store_moves_widget_state_beside_and_the_site_puts_it_back(tmp_path):
    state = {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {"model_name": "ButtonModel"}}}}
    text = json.dumps({"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {"widgets": state}})
    stripped, found = store.split_widget_state(text)
    assert found == state and "widgets" not in json.loads(stripped)["metadata"]
    (tmp_path / "01_x.json").write_text(json.dumps(found))
    assert json.loads(store.with_widget_state(stripped, "01_x", tmp_path))["metadata"]["widgets"] == state
    assert store.with_widget_state(stripped, "02_y", tmp_path) == stripped
