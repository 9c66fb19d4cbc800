"""Tests for the data-source records of the reproducibility card (helpers.sources.record_use, files_sha256)."""

import hashlib
import json

from helpers import handoff, sources


def test_nothing_is_recorded_without_the_runner(tmp_path, monkeypatch):
    monkeypatch.delenv(handoff.HANDOFF_ENV, raising=False)
    cache_file = tmp_path / sources.HASH_CACHE_NAME
    monkeypatch.setattr(sources, "_hash_cache_file", lambda: cache_file)
    data = tmp_path / "data.bin"
    data.write_bytes(b"x")
    sources.record_use("toy", "mirror", files=[data])
    assert not cache_file.exists()


def test_record_use_lists_each_file_with_its_sha256(tmp_path, monkeypatch):
    record = handoff.start(tmp_path / "run.handoff.jsonl", tmp_path / "run_files", report_missed=False)
    monkeypatch.setenv(handoff.HANDOFF_ENV, str(record))
    monkeypatch.setattr(sources, "_hash_cache_file", lambda: tmp_path / sources.HASH_CACHE_NAME)
    data = tmp_path / "data.bin"
    data.write_bytes(b"hello")
    folder = tmp_path / "images" / "cats"
    folder.mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"a")
    sources.record_use("toy", "mirror", "a detail", files=[data])
    sources.record_use("toy", "mirror", "a detail", files=[data])  # the same use twice: listed once
    sources.record_use("images/cats", "mirror", folder=folder.parent)
    entries = handoff.read(record).sources
    assert len(entries) == 2
    assert entries[0]["files"] == [{"path": str(data), "bytes": 5, "sha256": hashlib.sha256(b"hello").hexdigest()}]
    assert entries[0]["source"] == "mirror" and entries[0]["detail"] == "a detail"
    assert entries[1]["folder"]["files"] == 1 and len(entries[1]["folder"]["sha256"]) == 64


def test_sha256_is_cached_by_path_size_and_mtime(tmp_path, monkeypatch):
    cache_file = tmp_path / sources.HASH_CACHE_NAME  # (Keras, once imported, keeps the cache folder it started with)
    monkeypatch.setattr(sources, "_hash_cache_file", lambda: cache_file)
    data = tmp_path / "big.bin"
    data.write_bytes(b"abc")
    assert sources.files_sha256([data])[0] == hashlib.sha256(b"abc").hexdigest()
    cache = json.loads(cache_file.read_text())
    cache[str(data.resolve())]["sha256"] = "from the cache"
    cache_file.write_text(json.dumps(cache))
    assert sources.files_sha256([data])[0] == "from the cache"  # not read again
    data.write_bytes(b"abcd")  # another size: hashed again
    assert sources.files_sha256([data])[0] == hashlib.sha256(b"abcd").hexdigest()


def test_importing_helpers_sets_no_sources_variable():
    import os
    import subprocess
    import sys

    code = "import os, helpers, helpers.sources, helpers.data; print(os.environ.get('DLFB_HANDOFF_FILE'))"
    env = {k: v for k, v in os.environ.items() if k != "DLFB_HANDOFF_FILE"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout.strip()
    assert out == "None"
