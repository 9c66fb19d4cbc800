"""The layers of helpers/ (pyproject.toml's import-linter contracts) and no import hidden in a function to dodge a cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_lint_imports_keeps_every_layer_contract():
    """helpers.course never imports Keras/TensorFlow; only helpers.__main__ imports it; no module of the teaching
    library imports the exercises; no import cycle between sibling modules (`lint-imports`, as .ci/run runs it)."""
    done = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                           "sys.exit(lint_imports_command())"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def function_local_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of each import statement inside a function of the file at ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    found += [(inner.lineno, alias.name) for alias in inner.names]
                elif isinstance(inner, ast.ImportFrom):
                    found.append((inner.lineno, "." * inner.level + (inner.module or "")))
    return found


def test_the_tooling_imports_its_own_modules_at_the_top():
    """A function-local import of a helpers module is how a cycle is hidden; the tooling has none (its local
    imports are of heavy or optional libraries only: papermill, Dask, matplotlib, Sphinx...)."""
    hidden = [f"{path.relative_to(ROOT)}:{line} imports {module}"
              for path in sorted((ROOT / "helpers" / "course").rglob("*.py"))
              for line, module in function_local_imports(path)
              if module == "helpers" or module.startswith(("helpers.", "."))]
    assert not hidden, "move these imports to the top of their module (a cycle they dodge must go): " + "; ".join(hidden)


#: Function-local imports of helpers modules in the teaching library that are lazy on purpose, with the reason. A
#: cycle is never a reason: lint-imports would report it once the import moved to the top.
LAZY_ON_PURPOSE = {
    "helpers/__init__.py": "import helpers stays free of TensorFlow and matplotlib until setup() is called",
    "helpers/playground.py": "the data and plot helpers stay NumPy-only; Keras only when a run is made",
    "helpers/exercises/solutions/nb06.py": "a solution shown to learners is one self-contained function",
}


def test_the_teaching_library_imports_its_own_modules_at_the_top():
    """The same rule for helpers/ outside the tooling, except the lazy imports listed in LAZY_ON_PURPOSE."""
    hidden = [f"{path.relative_to(ROOT)}:{line} imports {module}"
              for path in sorted((ROOT / "helpers").rglob("*.py"))
              if "course" not in path.relative_to(ROOT).parts
              and path.relative_to(ROOT).as_posix() not in LAZY_ON_PURPOSE
              for line, module in function_local_imports(path)
              if module == "helpers" or module.startswith(("helpers.", "."))]
    assert not hidden, "move these imports to the top of their module, or list them in LAZY_ON_PURPOSE with the " \
                       "reason: " + "; ".join(hidden)
    for name in LAZY_ON_PURPOSE:
        assert (ROOT / name).is_file(), f"LAZY_ON_PURPOSE names {name}, which does not exist"


def test_function_local_imports_are_found(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("import os\n\ndef f():\n    from helpers.course import presets\n    import numpy\n", encoding="utf-8")
    assert function_local_imports(path) == [(4, "helpers.course"), (5, "numpy")]
