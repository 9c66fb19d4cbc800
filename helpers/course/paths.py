"""Where the course's files are: the repository's folders, found from this file (one definition for the tooling)."""

from __future__ import annotations

from pathlib import Path

#: The repository: the folder holding ``helpers/``, ``notebooks/``, ``README.md`` and ``docs/``.
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The course's notebooks, ``NN_name.ipynb``.
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
#: The README, whose run-time column :mod:`helpers.course.run_times` rewrites.
README = REPO_ROOT / "README.md"
