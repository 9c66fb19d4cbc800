"""helpers.handoff: the one runner-notebook contract (one environment variable, one file per execution)."""

import json
import os
import subprocess
import sys

import pytest

from helpers import handoff


@pytest.fixture
def handoff_file(tmp_path, monkeypatch):
    """A handoff file started as the runner starts it, named in $DLFB_HANDOFF_FILE."""
    path = handoff.start(tmp_path / "05_mlp.handoff.jsonl", tmp_path / "05_mlp_files", report_missed=True)
    monkeypatch.setenv(handoff.HANDOFF_ENV, str(path))
    return path


def test_by_hand_nothing_is_handed_over_and_nothing_written(tmp_path, monkeypatch):
    monkeypatch.delenv(handoff.HANDOFF_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert handoff.active() is None
    assert handoff.append("metrics", values={"a": 1}) is False
    assert handoff.request() == handoff.Handoff()  # no folder, misses raised
    assert not list(tmp_path.iterdir())


def test_the_path_beside_the_executed_notebook(tmp_path):
    assert handoff.handoff_path(tmp_path, "05_mlp__EPOCHS=3") == tmp_path / "05_mlp__EPOCHS=3.handoff.jsonl"


def test_the_runner_request_is_the_first_line_with_absolute_paths(tmp_path, monkeypatch, handoff_file):
    monkeypatch.chdir(tmp_path)
    relative = handoff.start("out.handoff.jsonl", "out_files", report_missed=False)
    assert relative.is_absolute()
    assert json.loads(relative.read_text()) == {"kind": "request", "files_dir": str(tmp_path / "out_files"),
                                                "report_missed": False}
    request = handoff.request()  # the active file's
    assert request.files_dir == str(tmp_path / "05_mlp_files") and request.report_missed is True


def test_every_kind_is_folded_by_the_one_reader(handoff_file):
    source = {"dataset": "MNIST", "source": "mirror", "detail": "", "files": []}
    assert handoff.append("metrics", values={"a": 1, "b": 2})
    handoff.append("metrics", values={"a": 3})
    handoff.append("history", model="mlp", history={"loss": [1.0, 0.5]})
    handoff.append("history", model="mlp", history={"loss": [0.4]})
    handoff.append("checked", what="test accuracy", value=0.9)
    handoff.append("checked", what="test accuracy", value=0.95)
    handoff.append("missed", message="test accuracy = 0.95, expected at least 0.97.")
    handoff.append("source", entry=source)
    handoff.append("source", entry=source)  # the same use twice: listed once
    got = handoff.read(handoff_file)
    assert got.metrics == {"a": 3, "b": 2}
    assert got.histories == {"mlp": {"loss": [1.0, 0.5]}, "mlp#2": {"loss": [0.4]}}
    assert got.checked == {"test accuracy": 0.95}
    assert got.missed == ["test accuracy = 0.95, expected at least 0.97."]
    assert got.sources == [source]
    assert got.report_missed is True and got.files_dir.endswith("05_mlp_files")


def test_a_line_cut_short_by_an_interrupt_is_skipped(handoff_file):
    handoff.append("metrics", values={"a": 1})
    with open(handoff_file, "a", encoding="utf-8") as handle:
        handle.write('{"kind": "metrics", "values": {"b"')  # the kernel stopped mid-write
    assert handoff.read(handoff_file).metrics == {"a": 1}
    assert handoff.read(handoff_file.with_name("missing.handoff.jsonl")) == handoff.Handoff()


def test_an_unknown_kind_is_refused_naming_the_known_ones(handoff_file):
    with pytest.raises(ValueError, match="'metric' is not one of metrics, history"):
        handoff.append("metric", values={"a": 1})
    with pytest.raises(TypeError):  # not JSON: nothing, not half a line, is written
        handoff.append("metrics", values={"a": object()})
    assert len(handoff_file.read_text().splitlines()) == 1


def test_the_module_is_pure_python_and_sets_no_variable():
    code = ("import os, sys, helpers.handoff, helpers.report, helpers.checks, helpers.sources; "
            "print(os.environ.get('DLFB_HANDOFF_FILE'), 'keras' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != handoff.HANDOFF_ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout.strip()
    assert out == "None False"
