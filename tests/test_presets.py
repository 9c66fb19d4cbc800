"""Tests for helpers.course.presets and the runner's ``--preset``: every preset fits its notebook, and the
runner applies a preset the way the README says (preset < params file < -p; unknown names refused)."""

import ast
import json
from pathlib import Path

import pytest

from helpers.course import cli, presets, runner
from helpers.course.presets import Preset

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
FIXTURES = Path(__file__).parent / "fixtures"
COURSE = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def default_values(notebook: Path) -> dict:
    """The parameters cell's defaults of ``notebook``, evaluated as Python literals."""
    return {p.name: ast.literal_eval(p.default) for p in runner.notebook_parameters(notebook)}


def test_presets_name_only_course_notebooks():
    assert set(presets.PRESETS) == {nb.stem for nb in COURSE}


@pytest.mark.parametrize("notebook", COURSE, ids=lambda p: p.stem)
def test_every_notebook_has_a_tutorial_preset(notebook):
    assert "tutorial" in presets.presets_for(notebook.stem), f"{notebook.stem} has no 'tutorial' preset"


@pytest.mark.parametrize("notebook", COURSE, ids=lambda p: p.stem)
def test_preset_values_are_parameters_of_the_right_type(notebook):
    defaults = default_values(notebook)
    for name, preset in presets.presets_for(notebook.stem).items():
        assert preset.description.strip(), f"{notebook.stem} preset {name} has no description"
        for key, value in [*preset.parameters.items(), *((k, v) for k, vs in preset.grid.items() for v in vs)]:
            assert key in defaults, f"{notebook.stem} preset {name}: {key} is not a parameter of the notebook"
            runner.check_value_types(notebook, {key: value})  # the runner's own check (type, None, choices)


def test_none_default_types_name_exactly_the_none_defaults():
    found = {nb.stem: {k for k, v in default_values(nb).items() if v is None} for nb in COURSE}
    assert {stem: names for stem, names in found.items() if names} == {
        stem: set(types) for stem, types in presets.NONE_DEFAULT_TYPES.items()}


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


def test_preset_runs_end_to_end(fixture_presets, tmp_path):
    out = tmp_path / "out"
    assert cli.main(["run", "01", "--notebooks-dir", str(FIXTURES), "--preset", "double",
                        "--output", str(out)]) == 0
    metrics = json.loads((out / "01_metrics__double.metrics.json").read_text())
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


# --------------------------------------------------------------------------- valid choices

# Where each notebook validates a parameter with a fixed set: (file, the set's expression in that file's code).
# "setup" is the notebook's code cell after its parameters cell; a dict's keys are its choices.
CHOICE_SOURCES = {
    ("03_keras_basics", "OPTIMIZER"): ("setup", "OPTIMIZER_NAMES"),
    ("03_keras_basics", "COMPARE_OPTIMIZERS"): ("setup", "OPTIMIZER_NAMES"),
    ("04_feedforward_networks", "HIDDEN_ACTIVATION"): ("setup", "mlp.ACTIVATIONS"),
    ("04_feedforward_networks", "PG_ACTIVATION"): ("setup", "mlp.ACTIVATIONS"),
    ("04_feedforward_networks", "PG_DATASET"): ("setup", "playground.DATASETS"),
    ("05_mlp_image_classification", "DATASET"): ("setup", "LOADERS"),
    ("05_mlp_image_classification", "ACTIVATION"): ("setup", "mlp.ACTIVATIONS"),
    ("05_mlp_image_classification", "OPTIMIZER"): ("setup", "OPTIMIZERS"),
    ("05_mlp_image_classification", "BOOK_OPTIMIZER"): ("setup", "OPTIMIZERS"),
    ("06_convolutional_networks", "MNIST_VARIANT"): ("setup", "cnn.MNIST_CNN_VARIANTS"),
    ("06_convolutional_networks", "AUGMENT_FLIP"): ("setup", '(None, "horizontal", "vertical", "horizontal_and_vertical")'),
    ("07_activation_functions", "XOR_OPTIMIZER"): ("setup", "XOR_OPTIMIZERS"),
    ("07_activation_functions", "ACTIVATIONS"): ("helpers/activations.py", "ACTIVATION_NAMES"),
    ("07_activation_functions", "DYING_ACTIVATION"): ("helpers/activations.py", "ACTIVATION_NAMES"),
    ("07_activation_functions", "ACTIVATION"): ("helpers/activations.py", "ACTIVATION_NAMES"),
    ("08_denoising_autoencoder", "DATASET"): ("setup", "LOADERS"),
    ("08_denoising_autoencoder", "ACTIVATION"): ("setup", "autoencoder.ACTIVATIONS"),
    ("09_pretrained_imagenet_models", "MODELS"): ("setup", "imagenet.MODEL_NAMES"),
    ("09_pretrained_imagenet_models", "STEP_BY_STEP_MODEL"): ("setup", "imagenet.MODEL_NAMES"),
    ("09_pretrained_imagenet_models", "ARCHITECTURES"): ("setup", "model_zoo.ARCHITECTURES"),
    ("10_transfer_learning", "BAD_IMAGES"): ("helpers/transfer.py", '("fail", "skip")'),
    ("10_transfer_learning", "BACKBONE"): ("setup", "imagenet.MODEL_NAMES"),
    ("10_transfer_learning", "POOLING"): ("setup", '("avg", "flatten")'),
    ("11_fine_tuning", "BAD_IMAGES"): ("helpers/transfer.py", '("fail", "skip")'),
    ("11_fine_tuning", "BACKBONE"): ("setup", "imagenet.MODEL_NAMES"),
    ("11_fine_tuning", "POOLING"): ("setup", '("avg", "flatten")'),
    ("11_fine_tuning", "OPTIMIZER"): ("setup", '("sgd", "rmsprop")'),
    ("11_fine_tuning", "EXPERIMENT"): ("setup", '("all", "frozen", "last_block", "augmented")'),
}


def setup_cell(notebook: Path) -> str:
    """Source of the code cell that follows the parameters cell (where each notebook validates its parameters)."""
    cells = [c for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    index = next(i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", []))
    return "".join(cells[index + 1]["source"])


def evaluate_choice_set(source: str, expression: str) -> tuple:
    """The values of ``expression`` in ``source``: a literal, a helpers module's constant (``mlp.ACTIVATIONS``)
    or a name assigned in ``source`` (for a dict, its keys)."""
    import importlib

    try:
        return tuple(ast.literal_eval(expression))
    except ValueError:
        pass
    if "." in expression:
        module, name = expression.split(".")
        for package in ("helpers", "helpers.models"):
            try:
                return tuple(getattr(importlib.import_module(f"{package}.{module}"), name))
            except ModuleNotFoundError:
                continue
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == expression for t in node.targets):
            if isinstance(node.value, ast.Dict):
                return tuple(ast.literal_eval(k) for k in node.value.keys)
            return tuple(ast.literal_eval(node.value))
    raise AssertionError(f"cannot evaluate {expression} from its source")


def test_every_declared_choice_set_is_where_the_notebook_checks_it():
    declared = {(stem, name) for stem, names in presets.CHOICES.items() for name in names}
    assert declared == set(CHOICE_SOURCES), "presets.CHOICES and CHOICE_SOURCES list different parameters"


@pytest.mark.parametrize("stem, name", sorted(CHOICE_SOURCES), ids="-".join)
def test_declared_choices_are_the_set_the_notebook_validates(stem, name):
    notebook = NOTEBOOKS / f"{stem}.ipynb"
    where, expression = CHOICE_SOURCES[(stem, name)]
    source = setup_cell(notebook) if where == "setup" else (NOTEBOOKS.parent / where).read_text(encoding="utf-8")
    assert expression in source, f"{stem}: {where} no longer validates {name} with {expression}"
    if where == "setup" and expression.startswith("("):  # a literal set: checked right there
        assert f"{name} not in {expression}" in source, f"{stem}: {name} is not checked against {expression}"
    assert set(presets.CHOICES[stem][name]) == set(evaluate_choice_set(source, expression)), (
        f"{stem}: presets.CHOICES[{name!r}] differs from the notebook's {expression}")
    assert name in default_values(notebook)
    default = default_values(notebook)[name]
    for value in default if isinstance(default, list) else [default]:
        assert value in presets.CHOICES[stem][name], f"{stem}: the default {name}={value!r} is not a declared choice"


@pytest.mark.parametrize("notebook", COURSE, ids=lambda p: p.stem)
def test_a_parameter_checked_with_not_in_has_declared_choices(notebook):
    """A setup cell's ``if NAME not in ...`` on a string parameter means a fixed set: it must be in CHOICES."""
    names = set(default_values(notebook))
    checked = set()
    for node in ast.walk(ast.parse(setup_cell(notebook))):
        if isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.NotIn) and isinstance(node.left, ast.Name):
            if node.left.id in names and isinstance(default_values(notebook)[node.left.id], str):
                checked.add(node.left.id)
    assert checked <= set(presets.choices_for(notebook.stem)), (
        f"{notebook.stem}: {sorted(checked - set(presets.choices_for(notebook.stem)))} validated in the notebook "
        "without a declared set in presets.CHOICES")


@pytest.mark.parametrize("notebook", COURSE, ids=lambda p: p.stem)
def test_presets_use_valid_choices(notebook):
    for name, preset in presets.presets_for(notebook.stem).items():
        values = {**preset.parameters}
        runner.check_choices(notebook, values)
        for key, grid_values in preset.grid.items():
            for value in grid_values:
                runner.check_choices(notebook, {key: value})


# --------------------------------------------------------------------------- valid ranges


def is_number_valued(notebook: Path, name: str, default) -> bool:
    """An int or float default, a list holding numbers, or None declared to take an int or a float."""
    if default is None:
        return presets.NONE_DEFAULT_TYPES.get(notebook.stem, {}).get(name) in (int, float)
    values = default if isinstance(default, list) else [default]
    return any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


@pytest.mark.parametrize("notebook", COURSE, ids=lambda p: p.stem)
def test_every_number_valued_parameter_has_a_range_holding_its_default(notebook):
    """Each number a notebook takes has a declared range (its notebook's entry or a rule by name), and the
    default lies inside it: the runner's check (the same one it applies to -p, --grid, files and presets)."""
    defaults = default_values(notebook)
    missing = [name for name, default in defaults.items()
               if is_number_valued(notebook, name, default) and presets.range_for(notebook.stem, name) is None]
    assert not missing, f"{notebook.stem}: no range in presets.RANGES for {missing}"
    runner.check_ranges(notebook, {name: default for name, default in defaults.items() if default is not None})


def test_every_notebook_range_entry_names_a_parameter_of_its_notebook():
    for stem, entries in presets.RANGES.items():
        if stem == "*":
            continue
        defaults = default_values(NOTEBOOKS / f"{stem}.ipynb")
        for name in entries:
            assert name in defaults, f"presets.RANGES[{stem!r}] names {name}, which {stem} does not have"
            assert is_number_valued(NOTEBOOKS / f"{stem}.ipynb", name, defaults[name]), f"{stem}: {name} is no number"


def test_every_rule_is_used_by_some_notebook():
    names = [(nb.stem, name) for nb in COURSE for name in default_values(nb)]
    for pattern in presets.RANGES["*"]:
        assert any(presets.range_for(stem, name) is presets.RANGES["*"][pattern] and
                   name not in presets.RANGES.get(stem, {}) for stem, name in names), f"rule {pattern} matches nothing"


def test_range_membership_and_wording():
    assert 0.5 in presets.FRACTION and 0 in presets.FRACTION and 1 in presets.FRACTION and 1.01 not in presets.FRACTION
    assert 1 not in presets.BELOW_1 and 0 in presets.BELOW_1 and 0 not in presets.POSITIVE
    assert float("nan") not in presets.ANY_NUMBER and float("inf") not in presets.AT_LEAST_0
    assert -1e300 in presets.ANY_NUMBER and 10**30 in presets.AT_LEAST_1
    assert str(presets.AT_LEAST_1) == "a number >= 1" and str(presets.BELOW_1) == "a number in [0, 1)"
    assert str(presets.INSIDE_0_1) == "a number in (0, 1)" and str(presets.ANY_NUMBER) == "any finite number"
    assert presets.range_for("05_mlp_image_classification", "HIDDEN_LAYERS") is presets.AT_LEAST_0  # the entry wins
    assert presets.range_for("05_mlp_image_classification", "HIDDEN_UNITS") is presets.AT_LEAST_1  # the rule
    assert presets.range_for("01_metrics", "SCALE") is None  # no entry, no rule: finite only
