"""Shared pytest set-up for the helper tests."""

import pytest

# The fixture notebooks are inputs to the runner's tests, not course notebooks: nbval must not collect them.
collect_ignore_glob = ["fixtures/*"]


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache for one test: Keras reads $KERAS_HOME only when imported, so its
    remembered folder is swapped too (helpers.sources.keras_cache_dir follows Keras)."""
    import keras.src.backend.config as keras_config

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path))
    return tmp_path
