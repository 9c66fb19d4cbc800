"""Pytest set-up for the whole repository: the test tiers.

``pytest`` runs everything: the helper tests (tests/) and every course notebook cell (notebooks/, through nbval).
``pytest -m "not slow"`` is the contributor's loop: the tests marked ``slow`` (pyproject.toml says what counts) are
left out. The notebooks cannot carry a decorator, so each cell nbval collects from a notebook is marked here.
The helper tests' own set-up (Keras home, no network, the markers CI requires) is tests/conftest.py.
"""

import pytest


def pytest_collection_modifyitems(config, items):
    """Mark every notebook cell (an nbval item, collected from an ``.ipynb`` file) ``slow``."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
