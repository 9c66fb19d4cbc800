"""Every course notebook's parameters cell is readable by papermill and by the course runner alike.

Papermill's own parser skips an assignment whose comment contains '=' (and then only warns that a
passed parameter is "unknown"), so this guards what teachers rely on for batch runs.
"""

import logging
from pathlib import Path

import pytest
from papermill.iorw import load_notebook_node
from papermill.translators import PythonTranslator
from papermill.utils import find_first_tagged_cell_index

from helpers.course import runner

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_eleven_ordered_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{n:02d}" for n in range(1, 12)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_parses_completely(path, caplog):
    nb = load_notebook_node(str(path))  # as papermill reads it: a cell without tags gets an empty list
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected exactly one cell tagged 'parameters'"
    cell = nb.cells[find_first_tagged_cell_index(nb, "parameters")]
    with caplog.at_level(logging.WARNING, logger="papermill"):
        papermill_names = [p.name for p in PythonTranslator.inspect(cell)]
    assert not [r.getMessage() for r in caplog.records if "Unable to parse" in r.getMessage()]
    runner_names = [p.name for p in runner.notebook_parameters(path)]
    assert papermill_names == runner_names
    assert "SEED" in runner_names, f"{path.name}: every notebook is seeded through a SEED parameter"
