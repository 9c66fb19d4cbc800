"""helpers.report: metrics recorded with or without the runner, and the output folder."""

import json

import numpy as np
import pytest

from helpers import handoff, report


def test_record_metrics_without_runner(monkeypatch, capsys):
    monkeypatch.delenv(handoff.HANDOFF_ENV, raising=False)
    got = report.record_metrics(test_accuracy=np.float32(0.98765432), epochs=np.int64(3), label="x", ok=True)
    assert got == {"test_accuracy": pytest.approx(0.987654, abs=1e-6), "epochs": 3, "label": "x", "ok": True}
    assert isinstance(got["epochs"], int)
    assert capsys.readouterr().out.startswith("Recorded: test_accuracy=0.987654")


def test_record_metrics_merges_into_runner_file(tmp_path, monkeypatch, capsys):
    target = handoff.start(tmp_path / "run.handoff.jsonl", tmp_path / "run_files", report_missed=False)
    monkeypatch.setenv(handoff.HANDOFF_ENV, str(target))
    report.record_metrics(a=1)
    merged = report.record_metrics(b=2.5, a=3)
    assert capsys.readouterr().out.splitlines()[-1] == "Recorded: b=2.5, a=3"  # what a run without the runner prints
    assert merged == {"a": 3, "b": 2.5}
    assert handoff.read(target).metrics == {"a": 3, "b": 2.5}
    assert [json.loads(line)["kind"] for line in target.read_text().splitlines()] == ["request", "metrics", "metrics"]
    with pytest.raises(TypeError, match="scalars"):
        report.record_metrics(bad=[1, 2])


def test_record_history_only_under_the_runner(tmp_path, monkeypatch):
    monkeypatch.delenv(handoff.HANDOFF_ENV, raising=False)
    assert report.record_history("net", {"loss": [1.0]}) is False  # by hand: nothing handed over
    target = handoff.start(tmp_path / "run.handoff.jsonl", tmp_path / "run_files", report_missed=False)
    monkeypatch.setenv(handoff.HANDOFF_ENV, str(target))
    assert report.record_history("net", {"loss": [np.float32(0.5), 0.25]}) is True
    assert report.record_history("net", {}) is False  # an empty history is not handed over
    assert handoff.read(target).histories == {"net": {"loss": [0.5, 0.25]}}


def test_output_dir(tmp_path, monkeypatch):
    target = handoff.start(tmp_path / "run.handoff.jsonl", tmp_path / "out", report_missed=False)
    monkeypatch.setenv(handoff.HANDOFF_ENV, str(target))
    assert report.output_dir() == tmp_path / "out" and (tmp_path / "out").is_dir()
    monkeypatch.delenv(handoff.HANDOFF_ENV)
    monkeypatch.setattr(report, "_temporary_output", None)
    first = report.output_dir()
    assert first.is_dir() and first.name.startswith("dlfb-") and report.output_dir() == first
