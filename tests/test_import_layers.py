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


def test_function_local_imports_are_found(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("import os\n\ndef f():\n    from helpers.course import presets\n    import numpy\n", encoding="utf-8")
    assert function_local_imports(path) == [(4, "helpers.course"), (5, "numpy")]
