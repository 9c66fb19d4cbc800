"""Tests for helpers.course.batch_report and the histories that helpers.training.EpochLine hands back for it."""

import csv
import re

import nbformat
import numpy as np
import pytest

from helpers import handoff, training
from helpers.course import batch_report, cli, runner


def test_epoch_line_stores_history_only_under_the_runner(tmp_path, monkeypatch, capsys):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)], name="tiny")
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32")
    monkeypatch.delenv(handoff.HANDOFF_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[training.EpochLine()])
    assert not list(tmp_path.iterdir())  # by hand: nothing written
    target = handoff.start(tmp_path / "run.handoff.jsonl", tmp_path / "run_files", report_missed=False)
    monkeypatch.setenv(handoff.HANDOFF_ENV, str(target))
    model.fit(x, y, epochs=3, verbose=0, validation_data=(x, y), callbacks=[training.EpochLine()])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[training.EpochLine()])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[training.EpochLine(record=False)])  # asked not to
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.handoff.jsonl"]  # no other file, no folder
    stored = handoff.read(target).histories
    assert list(stored) == ["tiny", "tiny#2"]
    assert len(stored["tiny"]["val_loss"]) == 3 and len(stored["tiny#2"]["loss"]) == 1
    assert len(capsys.readouterr().out.splitlines()) == 7  # still one printed line per epoch


@pytest.mark.slow
def test_batch_report_overlays_curves_and_plots_metrics_against_the_grid(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("RATE = 0.5", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "from helpers.report import record_history, record_metrics\n"
            "curve = [1.0 * RATE ** k for k in range(1, 5)]\n"
            "record_history('net', {'loss': curve, 'val_loss': [v + 0.1 for v in curve]})\n"
            "record_metrics(final_val_loss=curve[-1] + 0.1)"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, folder / "01_curves.ipynb")
    out = tmp_path / "out"
    assert cli.main(["run", "--notebooks-dir", str(folder), "--grid", "RATE=0.3,0.6,0.9", "--output", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert "![curves_net](curves_net.png)" in report
    assert "![final_val_loss_vs_RATE](final_val_loss_vs_RATE.png)" in report
    assert (out / "curves_net.png").stat().st_size > 1000 and (out / "final_val_loss_vs_RATE.png").exists()
    assert "## Slowest cells" in report and re.search(r"In \[\d\]: from helpers.report import record_history", report)
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert [float(r["final_val_loss"]) for r in rows] == sorted(float(r["final_val_loss"]) for r in rows)


def test_varied_parameters_are_per_notebook(tmp_path):
    a = runner.Execution(tmp_path / "01_a.ipynb", {"X": 1, "Y": 2})
    b = runner.Execution(tmp_path / "01_a.ipynb", {"X": 2, "Y": 2})
    c = runner.Execution(tmp_path / "02_b.ipynb", {"Y": 3})
    assert batch_report.varied_parameters([a, b, c]) == ["X"]
