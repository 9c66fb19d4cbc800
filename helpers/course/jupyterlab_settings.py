"""JupyterLab settings this course needs, installed into the Python environment (not the user's home).

JupyterLab does not save widget state by default (``@jupyter-widgets/jupyterlab-manager:plugin``,
``saveState: false``): a notebook run and saved in JupyterLab then reopens with "Error displaying widget:
model not found" in place of every widget. :func:`install` writes :data:`OVERRIDES` to
``<JupyterLab app dir>/settings/overrides.d/dlfb-helpers.json`` (the app dir is
``{sys.prefix}/share/jupyter/lab`` unless ``JUPYTERLAB_DIR`` says otherwise), the place where JupyterLab
reads a package's default overrides; a learner's own settings still win. Importing this module changes nothing;
run ``python -m helpers.course.jupyterlab_settings`` once after installing the requirements (``.ci/run`` does).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OVERRIDES = {
    # Save the widgets' state in the notebook on save, so they display again after reopening.
    "@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True},
}
FILE_NAME = "dlfb-helpers.json"


def app_settings_dir() -> Path:
    """JupyterLab's application settings folder of this Python environment."""
    try:
        from jupyterlab.commands import get_app_dir
    except ImportError:  # JupyterLab not installed: where it would look once it is
        return Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
    return Path(get_app_dir()) / "settings"


def install(settings_dir: str | Path | None = None) -> Path:
    """Write :data:`OVERRIDES` into ``settings_dir/overrides.d`` (default: :func:`app_settings_dir`); returns
    the file written. Other packages' files in ``overrides.d`` are left alone."""
    folder = Path(settings_dir) if settings_dir is not None else app_settings_dir()
    target = folder / "overrides.d" / FILE_NAME
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(OVERRIDES, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise OSError(f"Could not write JupyterLab's settings overrides to {target} ({error}). Install into an "
                      "environment you can write to (a virtual environment), or pass settings_dir.") from error
    return target


def installed(settings_dir: str | Path | None = None) -> bool:
    """Whether :func:`install` has written the current :data:`OVERRIDES` there."""
    folder = Path(settings_dir) if settings_dir is not None else app_settings_dir()
    target = folder / "overrides.d" / FILE_NAME
    try:
        return json.loads(target.read_text(encoding="utf-8")) == OVERRIDES
    except (OSError, ValueError):
        return False


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.course.jupyterlab_settings [SETTINGS_DIR]``: install the overrides and say where."""
    args = sys.argv[1:] if argv is None else argv
    target = install(args[0] if args else None)
    print(f"JupyterLab will save widget state in notebooks: {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
