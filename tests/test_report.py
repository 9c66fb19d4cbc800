"""helpers.report: metrics recorded with or without the runner, and the output folder."""

import json

import numpy as np
import pytest

from helpers import report


def test_record_metrics_without_runner(monkeypatch, capsys):
    monkeypatch.delenv(report.METRICS_ENV, raising=False)
    got = report.record_metrics(test_accuracy=np.float32(0.98765432), epochs=np.int64(3), label="x", ok=True)
    assert got == {"test_accuracy": pytest.approx(0.987654, abs=1e-6), "epochs": 3, "label": "x", "ok": True}
    assert isinstance(got["epochs"], int)
    assert capsys.readouterr().out.startswith("Recorded: test_accuracy=0.987654")


def test_record_metrics_merges_into_runner_file(tmp_path, monkeypatch, capsys):
    target = tmp_path / "sub" / "metrics.json"
    monkeypatch.setenv(report.METRICS_ENV, str(target))
    report.record_metrics(a=1)
    merged = report.record_metrics(b=2.5, a=3)
    assert capsys.readouterr().out.splitlines()[-1] == "Recorded: b=2.5, a=3"  # what a run without the runner prints
    assert merged == {"a": 3, "b": 2.5}
    assert json.loads(target.read_text()) == {"a": 3, "b": 2.5}
    with pytest.raises(TypeError, match="scalars"):
        report.record_metrics(bad=[1, 2])


def test_output_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(report.OUTPUT_ENV, str(tmp_path / "out"))
    assert report.output_dir() == tmp_path / "out" and (tmp_path / "out").is_dir()
    monkeypatch.delenv(report.OUTPUT_ENV)
    monkeypatch.setattr(report, "_temporary_output", None)
    first = report.output_dir()
    assert first.is_dir() and first.name.startswith("dlfb-") and report.output_dir() == first
