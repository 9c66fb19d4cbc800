"""The generated modules of helpers/taught/ are what the notebooks' ``#| export`` cells say today."""

import shutil
from pathlib import Path

import pytest

from helpers.taught import export

REPO = Path(__file__).resolve().parents[1]


def _generated(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.py"))
            if export.is_generated(path)}


def test_committed_modules_are_fresh(tmp_path):
    # the same layout as the repository, so the header's relative path to the notebook is the same
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for notebook in (REPO / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, notebooks / notebook.name)
    export.export_notebooks(notebooks, tmp_path / "helpers" / "taught")
    fresh = _generated(tmp_path / "helpers" / "taught")
    committed = _generated(REPO / "helpers" / "taught")
    stale = sorted(name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name))
    assert not stale, (f"helpers/taught/ is stale ({', '.join(stale)} differ from the notebooks' #| export cells): "
                       f"run `{export.REGENERATE}` and commit the result.")


def test_every_generated_module_names_its_notebook_and_says_do_not_edit():
    modules = _generated(REPO / "helpers" / "taught")
    assert modules, "no generated module in helpers/taught/"
    for name, text in modules.items():
        first = text.splitlines()[0]
        assert first.startswith(export.GENERATED_MARK) and "notebooks/" in first and first.rstrip(".").endswith(".ipynb"), \
            f"{name}: header {first!r}"


def test_an_exported_cell_that_runs_code_is_refused(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    cells = [new_code_cell("#| default_exp toy\n#| export\nimport numpy as np\n\ndef double(x):\n    return 2 * x\n"),
             new_code_cell("#| export\nprint(double(np.ones(2)))")]
    nbformat.write(new_notebook(cells=cells), notebooks / "99_toy.ipynb")
    with pytest.raises(export.ExportError, match=r"toy.py, line \d+: .*print\(double"):
        export.export_notebooks(notebooks, tmp_path / "taught")


def test_exporting_again_removes_modules_no_notebook_writes_any_more(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    notebooks, taught = tmp_path / "notebooks", tmp_path / "taught"
    notebooks.mkdir()
    taught.mkdir()
    (taught / "old.py").write_text(export.GENERATED_MARK + " File to edit: gone.ipynb.\n")
    (taught / "hand_written.py").write_text('"""not generated"""\n')
    nbformat.write(new_notebook(cells=[new_code_cell("#| default_exp toy\n#| export\nLIMIT = 3\n")]),
                   notebooks / "99_toy.ipynb")
    written = export.export_notebooks(notebooks, taught)
    assert [path.name for path in written] == ["toy.py"]
    assert sorted(path.name for path in taught.glob("*.py")) == ["hand_written.py", "toy.py"]
    assert "LIMIT = 3" in (taught / "toy.py").read_text()
