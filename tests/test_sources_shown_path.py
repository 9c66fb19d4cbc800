"""helpers.sources.shown_path: printed paths carry no folder of the machine that ran the notebook."""
from pathlib import Path

from helpers import sources


def test_mirror_and_home_paths_are_shown_relative(monkeypatch, tmp_path):
    monkeypatch.setenv(sources.MIRROR_ENV, str(tmp_path))
    assert sources.shown_path(tmp_path / "images" / "photos") == "$DLFB_MIRROR/images/photos"
    assert sources.shown_path(tmp_path) == "$DLFB_MIRROR"
    assert sources.shown_path(Path.home() / ".keras" / "keras.json") == "~/.keras/keras.json"


def test_other_paths_are_unchanged(monkeypatch):
    monkeypatch.delenv(sources.MIRROR_ENV, raising=False)
    assert sources.shown_path("/opt/somewhere/file.txt") == "/opt/somewhere/file.txt"
