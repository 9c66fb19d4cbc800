"""A notebook opened alone: copied into an empty folder, run in a fresh virtual environment that holds only a kernel
(what a hosted notebook service gives) and what the notebook's own first cell installs, to the end, by papermill.

The first cell installs the course's package with pip; ``DLFB_PACKAGE`` points it at this checkout (a regular,
non-editable install: the package without the repository's ``data/`` folder), and pip's constraints pin the versions
``requirements.txt`` tests. The data then comes as on a learner's machine: no mirror, an empty Keras cache, the sample
photos and datasets downloaded through the stand-in internet (tests/standin_internet.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import sources
from helpers.course import presets

pytestmark = [pytest.mark.standalone, pytest.mark.mirror, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "09_pretrained_imagenet_models"  # photos, ImageNet weights from pip packages, the class index


def _constraints(tmp_path: Path) -> str:
    """PIP_CONSTRAINT: this course's exact pins, plus any constraint file pip is configured with on this machine."""
    pins = [line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    ours = tmp_path / "constraints.txt"
    ours.write_text("\n".join(p for p in pins if p and not p.startswith("-")) + "\n")
    files = [str(ours)]
    configured = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.constraint"],
                                capture_output=True, text=True).stdout.strip()
    if configured and Path(configured).is_file():
        files.append(configured)
    return " ".join(files)


def test_notebook_opened_alone_installs_the_course_and_runs(standin, tmp_path):
    import papermill

    folder = tmp_path / "downloads"
    folder.mkdir()
    notebook = folder / f"{NOTEBOOK}.ipynb"
    shutil.copyfile(REPO / "notebooks" / notebook.name, notebook)

    env = {k: v for k, v in os.environ.items() if k not in (sources.MIRROR_ENV, "PYTHONPATH")}
    env.update(standin.env())
    # pip reaches the package index directly, not through the stand-in (which answers only the course's data URLs).
    env["NO_PROXY"] = env["no_proxy"] = "pypi.org,files.pythonhosted.org"
    env.update(PIP_CONSTRAINT=_constraints(tmp_path), DLFB_PACKAGE=str(REPO), KERAS_HOME=str(tmp_path / "keras"),
               MPLBACKEND="Agg", PIP_DISABLE_PIP_VERSION_CHECK="1")

    venv = tmp_path / "fresh-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The kernel, and nothing else: what a hosted notebook service provides.
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "ipykernel"], check=True, env=env, timeout=600)
    found = subprocess.run([str(python), "-c", "import importlib.util; print(importlib.util.find_spec('helpers'))"],
                           capture_output=True, text=True, env=env, cwd=folder)
    assert found.stdout.strip() == "None", "the fresh environment must not see the course's package before cell 1"

    kernels = tmp_path / "jupyter" / "kernels" / "fresh"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh venv", "language": "python"}))
    env["JUPYTER_PATH"] = str(tmp_path / "jupyter")

    parameters = dict(presets.get_preset(NOTEBOOK, "quick").parameters)
    saved = os.environ.copy()
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits the environment of the process that starts it
    try:
        papermill.execute_notebook(str(notebook), str(folder / "executed.ipynb"), parameters=parameters,
                                   kernel_name="fresh", cwd=str(folder), progress_bar=False,
                                   execution_timeout=1200)
    finally:
        os.environ.clear()
        os.environ.update(saved)

    import nbformat

    executed = nbformat.read(folder / "executed.ipynb", 4)
    text = "\n".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "from their public origins" in text  # the photos came from their URLs, not from a clone's data/
    photo_urls = [r.url for r in __import__("helpers.data", fromlist=["PHOTOS"]).PHOTOS.values()]
    assert set(photo_urls) <= set(standin.served)
    installed = subprocess.run([str(python), "-c", "import helpers, keras; print(helpers.__file__, keras.__version__)"],
                               capture_output=True, text=True, env=env, cwd=folder).stdout
    assert "site-packages" in installed and str(REPO) not in installed.split()[0]  # installed, not the checkout
    assert sorted(os.listdir(folder)) == sorted(["executed.ipynb", f"{NOTEBOOK}.ipynb"])  # nothing else written beside it
