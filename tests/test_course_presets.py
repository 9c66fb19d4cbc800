"""Tests for helpers.course.presets and the runner's ``--preset``: every preset fits its notebook, and the
runner applies a preset the way the README says (preset < params file < -p; unknown names refused)."""

import json
from pathlib import Path

import pytest

from helpers import handoff
from helpers.course import cli, presets, runner
from helpers.course.presets import Preset

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
FIXTURES = Path(__file__).parent / "fixtures"
COURSE = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def test_presets_name_only_course_notebooks():
    assert set(presets.PRESETS) == {nb.stem for nb in COURSE}


@pytest.mark.parametrize("notebook", COURSE, ids=lambda p: p.stem)
def test_every_notebook_has_a_tutorial_preset(notebook):
    assert "tutorial" in presets.presets_for(notebook.stem), f"{notebook.stem} has no 'tutorial' preset"


@pytest.mark.parametrize("notebook", COURSE, ids=lambda p: p.stem)
def test_every_preset_value_is_one_the_parameters_cell_allows(notebook):
    """A preset only names values; the notebook's parameters cell declares what each parameter takes (type, range,
    choices, None). Every value of every preset, grids included, must fit that declaration: the runner's check."""
    declared = {p.name: p.declaration for p in runner.notebook_parameters(notebook)}
    for name, preset in presets.presets_for(notebook.stem).items():
        assert preset.description.strip(), f"{notebook.stem} preset {name} has no description"
        for key, value in [*preset.parameters.items(), *((k, v) for k, vs in preset.grid.items() for v in vs)]:
            assert key in declared, f"{notebook.stem} preset {name}: {key} is not a parameter of the notebook"
            assert declared[key].problem(value) is None, f"{notebook.stem} preset {name}: {declared[key].problem(value)}"
            runner.check_values(notebook, {key: value})


@pytest.mark.parametrize("notebook", COURSE, ids=lambda p: p.stem)
def test_first_cell_lists_the_tutorial_preset(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    first = "".join(next(c for c in cells if c["cell_type"] == "markdown")["source"])
    assert "--preset tutorial" in first, f"{notebook.stem}: the first cell does not show the tutorial preset"
    for name in presets.presets_for(notebook.stem).get("tutorial", Preset("")).parameters:
        assert name in first, f"{notebook.stem}: the first cell does not list the tutorial preset's {name}"


def test_get_preset_names_valid_ones():
    with pytest.raises(KeyError, match="no preset 'nope'"):
        presets.get_preset("05_mlp_image_classification", "nope")


# --------------------------------------------------------------------------- the runner's --preset


@pytest.fixture
def fixture_presets(monkeypatch):
    table = {"01_metrics": {
        "double": Preset("scale 4, with a label", parameters={"SCALE": 4, "LABEL": "preset"}),
        "sweep": Preset("two scales", parameters={"LABEL": "swept"}, grid={"SCALE": [1, 5]}),
        "broken": Preset("names a parameter the notebook lacks", parameters={"NOPE": 1}),
    }}
    monkeypatch.setattr(presets, "PRESETS", table)
    return table


def plan(*argv):
    args = cli.build_parser().parse_args(runner.normalize_param_argv(
        ["run", "--notebooks-dir", str(FIXTURES), *argv]))
    return runner.plan_executions(args)


def test_preset_parameters_are_the_base_and_p_overrides(fixture_presets):
    (execution,) = plan("01", "--preset", "double", "-p", "LABEL", "mine")
    assert execution.parameters == {"SCALE": 4, "LABEL": "mine"}
    assert execution.stem == "01_metrics__double"
    _, rows = runner.summary_rows([execution])
    assert rows[0]["parameters"].startswith("preset=double ")


def test_preset_grid_expands_and_cli_grid_wins(fixture_presets):
    assert [e.parameters["SCALE"] for e in plan("01", "--preset", "sweep")] == [1, 5]
    assert [e.parameters["SCALE"] for e in plan("01", "--preset", "sweep", "--grid", "SCALE=2,3,4")] == [2, 3, 4]
    assert [e.parameters["SCALE"] for e in plan("01", "--preset", "sweep", "-p", "SCALE", "7")] == [7]


def test_unknown_preset_is_a_usage_error_listing_presets(fixture_presets):
    with pytest.raises(runner.UsageError, match="no preset 'tutorial'.*broken, double, sweep"):
        plan("01", "--preset", "tutorial")
    with pytest.raises(runner.UsageError, match="no preset"):
        plan("02", "--preset", "double")  # the other fixture has none


def test_preset_with_unknown_parameter_is_refused(fixture_presets):
    with pytest.raises(runner.UsageError, match="unknown parameter.*NOPE"):
        plan("01", "--preset", "broken")


@pytest.mark.slow
def test_preset_runs_end_to_end(fixture_presets, tmp_path):
    out = tmp_path / "out"
    assert cli.main(["run", "01", "--notebooks-dir", str(FIXTURES), "--preset", "double",
                        "--output", str(out)]) == 0
    metrics = handoff.read(out / "01_metrics__double.handoff.jsonl").metrics
    assert metrics["score"] == 40 and metrics["label"] == "preset"


def test_list_shows_presets_with_their_command(fixture_presets, capsys):
    assert cli.main(["list", "--notebooks-dir", str(FIXTURES)]) == 0
    out = capsys.readouterr().out
    assert "preset double: scale 4, with a label" in out
    assert "SCALE=4 LABEL=preset" in out and "python -m helpers run 01 --preset double" in out
    assert "SCALE=1,5" in out


def test_readme_papermill_command_is_the_tutorial_preset_of_03():
    readme = (NOTEBOOKS.parent / "README.md").read_text(encoding="utf-8")
    expected = "../.venv/bin/" + presets.papermill_command("03_keras_basics", "tutorial", "/tmp/03_tutorial.ipynb")
    assert expected in readme, "README's papermill example differs from the preset: copy it from 'python -m helpers list'"


def test_papermill_command_spells_values_as_papermill_reads_them(monkeypatch):
    monkeypatch.setattr(presets, "PRESETS", {"05_x": {"t": Preset("d", parameters={
        "FLAG": False, "N": None, "RATE": 0.001, "NAMES": ["a", "b"]})}, "05_g": {"g": Preset("d", grid={"A": [1, 2]})}})
    assert presets.papermill_command("05_x", "t") == (
        "papermill 05_x.ipynb 05_x_t.ipynb -p FLAG False -p N None -p RATE 0.001 -y '{\"NAMES\": [\"a\", \"b\"]}'")
    with pytest.raises(ValueError, match="is a grid"):
        presets.papermill_command("05_g", "g")


@pytest.mark.slow
def test_varied_run_reports_a_missed_threshold_and_keeps_its_metrics(tmp_path, monkeypatch):
    import csv

    import nbformat

    folder = tmp_path / "nbs"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("SCORE = 10\nMIN_SCORE = 8", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("from helpers import checks, report\n"
                                          "checks.expect_at_least(SCORE, MIN_SCORE, 'score')\n"
                                          "report.record_metrics(score=SCORE)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, folder / "01_scores.ipynb")
    monkeypatch.setattr(presets, "PRESETS", {"01_scores": {
        "low": Preset("a preset whose own threshold is missed", parameters={"SCORE": 5, "MIN_SCORE": 8})}})

    def run(name, *argv):
        out = tmp_path / name
        status = cli.main(["run", "--notebooks-dir", str(folder), "--output", str(out), *argv])
        return status, next(csv.DictReader(open(out / "summary.csv")))

    status, row = run("defaults")
    assert status == 0 and row["status"] == "ok"
    status, row = run("varied", "-p", "SCORE", "5")
    assert status == 1 and row["status"] == "below expectation" and row["score"] == "5"
    assert "score = 5.0000, expected at least 8" in row["error"]
    status, row = run("preset", "--preset", "low")  # a preset's thresholds are its own: a miss fails the run
    assert status == 1 and row["status"] == "failed" and "ExpectationError" in row["error"]
    # ... and keeps what it measured: the check recorded its value before comparing (record_metrics never ran)
    assert row["score"] == "5.0"


def test_resume_does_not_rerun_a_finished_below_expectation(tmp_path, monkeypatch):
    from helpers.course import run_record

    path = tmp_path / "05_x.run.json"
    for status, kept in (("ok", True), ("below expectation", True), ("failed", False), ("running", False)):
        run_record.write_record(path, {"key": "k", "status": status})
        assert bool(run_record.finished(path, "k")) is kept, status
    assert run_record.finished(path, "other key") is None


def test_thresholds_fit_only_the_defaults_or_the_preset():
    preset = Preset("p", parameters={"EPOCHS": 20}, grid={"RATE": [0.1, 0.2]})
    assert runner.thresholds_fit({}, Preset(""))
    assert runner.thresholds_fit({"EPOCHS": 20, "RATE": 0.2}, preset)
    assert not runner.thresholds_fit({"EPOCHS": 3}, preset)
    assert not runner.thresholds_fit({"EPOCHS": 20, "SEED": 1}, preset)
    assert not runner.thresholds_fit({"EPOCHS": 1}, Preset(""))
