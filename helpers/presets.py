"""Named experiment presets: the tutorials' own configurations as data the runner executes.

``python -m helpers run 05 --preset tutorial`` runs notebook 05 with the parameters of its
``tutorial`` preset; ``python -m helpers list`` shows every notebook's presets. A preset is a set of
parameter values for one notebook. It carries the thresholds its run must meet (they are parameters
of the notebook too), so a tutorial-scale run asserts the tutorial's own figure minus a stated margin
instead of a threshold tuned to the short default. ``tests/test_presets.py`` checks every name
against the notebook's ``parameters`` cell and every value against the default's type.

Each notebook's first cell lists its ``tutorial`` preset beside the figures the tutorial reported;
``measured`` records what the preset gave when it was run for this course (machine, data, numbers),
so the notebook's reproduction table and this file agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    """One named configuration of one notebook.

    ``parameters`` maps parameter names of the notebook's ``parameters`` cell to values (thresholds
    included); ``grid`` (optional) maps names to lists of values, run as a cartesian product;
    ``tutorial_figures`` is what the tutorial (or seed) reported for this configuration; ``measured``
    what this course measured when it ran the preset (with where and on which data).
    """

    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    tutorial_figures: str = ""
    measured: str = ""


# One entry per notebook stem; each notebook's presets by name. Keep values to plain Python
# (int, float, bool, str, None, lists): they are handed to papermill as they are.
PRESETS: dict[str, dict[str, Preset]] = {
    "01_neural_networks_30000_feet": {},
    "02_installing_the_frameworks": {},
    "03_keras_basics": {},
    "04_feedforward_networks": {},
    "05_mlp_image_classification": {},
    "06_convolutional_networks": {},
    "07_activation_functions": {},
    "08_denoising_autoencoder": {},
    "09_pretrained_imagenet_models": {},
    "10_transfer_learning": {},
    "11_fine_tuning": {},
}


def presets_for(stem: str) -> dict[str, Preset]:
    """Return the presets of the notebook ``stem`` (``{}`` when it has none)."""
    return PRESETS.get(stem, {})


def get_preset(stem: str, name: str) -> Preset:
    """Return preset ``name`` of notebook ``stem``; ``KeyError`` with the valid names otherwise."""
    available = presets_for(stem)
    if name not in available:
        valid = ", ".join(sorted(available)) or "none"
        raise KeyError(f"notebook {stem} has no preset {name!r}; its presets: {valid} "
                       f"(python -m helpers list shows them all)")
    return available[name]
