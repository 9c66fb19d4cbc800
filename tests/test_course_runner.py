"""Tests for helpers.course.runner (``python -m helpers run/list``) using the notebooks in tests/fixtures.

01_metrics.ipynb has parameters SCALE=2, LABEL="demo", USE_BONUS=False and records the metrics
score (= 10 * SCALE + bonus), label, ratio and cwd_name; 02_fails.ipynb raises ValueError(MESSAGE)
in cell In [3].
"""

import contextlib
import csv
import io
import json
import os
import re
from pathlib import Path

import pytest

from helpers import handoff
from helpers.course import cli, runner
from helpers.course.runner import Execution, UsageError

FIXTURES = Path(__file__).parent / "fixtures"
METRICS_NB = FIXTURES / "01_metrics.ipynb"
FAILS_NB = FIXTURES / "02_fails.ipynb"


def run_cli(*args):
    """Call ``python -m helpers`` in-process on the fixture notebooks; return the exit status."""
    command, *rest = args
    return cli.main([command, "--notebooks-dir", str(FIXTURES), *rest])


def fixture_files():
    """Every file under tests/fixtures (to prove the runner writes nothing there)."""
    return sorted(p.relative_to(FIXTURES) for p in FIXTURES.rglob("*"))


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("text, expected", [
    ("3", 3), ("-2", -2), ("0.5", 0.5), ("1e-3", 0.001), ("2.5E+2", 250.0), ("true", True),
    ("False", False), ("None", None), ("null", None), ("relu", "relu"), ("hello world", "hello world"),
    ("[64, 32]", [64, 32]), ("", ""), ("'007'", "007"), ("2020-01-01", "2020-01-01"),
])
def test_parse_value_reads_yaml_scalars(text, expected):
    value = runner.parse_value(text)
    assert value == expected
    assert type(value) is type(expected)


def test_normalize_param_argv_joins_name_and_value():
    argv = ["run", "-p", "EPOCHS", "3", "03", "--param", "LABEL", "a b", "-p", "SEED=1", "--grid", "X=1,2"]
    assert runner.normalize_param_argv(argv) == [
        "run", "-p", "EPOCHS=3", "03", "--param", "LABEL=a b", "-p", "SEED=1", "--grid", "X=1,2"]


def test_parse_params_both_forms_last_wins():
    args = cli.build_parser().parse_args(
        runner.normalize_param_argv(["run", "-p", "EPOCHS", "3", "-p", "RATE=0.5", "-p", "EPOCHS=4", "x"]))
    assert runner.parse_params(args.param) == {"EPOCHS": 4, "RATE": 0.5}
    assert args.notebooks == ["x"]


@pytest.mark.parametrize("bad", ["EPOCHS", "=3", "1X=3"])
def test_parse_params_rejects_malformed(bad):
    with pytest.raises(UsageError, match="NAME=VALUE"):
        runner.parse_params([bad])


def test_parse_grid_and_cartesian_expansion():
    grid = runner.parse_grid(["ACTIVATION=relu,tanh", "EPOCHS=1, 3", "UNITS=[8,4],[16]"])
    assert grid == {"ACTIVATION": ["relu", "tanh"], "EPOCHS": [1, 3], "UNITS": [[8, 4], [16]]}
    combos = runner.expand_grid(grid)
    assert len(combos) == 8
    assert combos[0] == {"ACTIVATION": "relu", "EPOCHS": 1, "UNITS": [8, 4]}
    assert combos[-1] == {"ACTIVATION": "tanh", "EPOCHS": 3, "UNITS": [16]}
    assert runner.expand_grid({}) == [{}]


def test_parse_grid_rejects_empty_and_repeated():
    with pytest.raises(UsageError, match="no values"):
        runner.parse_grid(["EPOCHS="])
    with pytest.raises(UsageError, match="given twice"):
        runner.parse_grid(["EPOCHS=1", "EPOCHS=2"])


def test_execution_stem_is_readable_and_filesystem_safe():
    assert runner.execution_stem("05_mlp", {}) == "05_mlp"
    assert runner.execution_stem("05_mlp", {"activation": "tanh", "epochs": 3}) == \
        "05_mlp__activation=tanh__epochs=3"
    assert runner.execution_stem("05_mlp", {"lr": 0.001, "bn": True}) == "05_mlp__lr=0.001__bn=True"
    stem = runner.execution_stem("05_mlp", {"path": "a/b c:*?", "units": [8, 4]})
    assert stem == "05_mlp__path=a-b-c__units=-8-4"
    assert re.fullmatch(r"[A-Za-z0-9._+=-]+", stem)


def test_params_file_common_and_per_notebook_sections(tmp_path):
    params_file = tmp_path / "params.yaml"
    params_file.write_text("SCALE: 5\nRATE: 1e-3\n01_metrics:\n  LABEL: from-file\n  SCALE: 7\n")
    common, per_notebook = runner.load_params_file(params_file, {"01_metrics", "02_fails"})
    assert common == {"SCALE": 5, "RATE": 0.001}
    assert per_notebook == {"01_metrics": {"LABEL": "from-file", "SCALE": 7}}


def test_params_file_rejects_unknown_notebook_section(tmp_path):
    params_file = tmp_path / "params.yaml"
    params_file.write_text("09_nope:\n  SCALE: 1\n")
    with pytest.raises(UsageError, match="09_nope.*01_metrics, 02_fails"):
        runner.load_params_file(params_file, {"01_metrics", "02_fails"})


# --------------------------------------------------------------------------- notebooks


def test_discover_notebooks_sorted():
    assert [p.name for p in runner.discover_notebooks(FIXTURES)] == ["01_metrics.ipynb", "02_fails.ipynb"]


@pytest.mark.parametrize("name", ["01_metrics", "01", "1", "01_metrics.ipynb", str(METRICS_NB)])
def test_resolve_notebook_by_stem_number_or_path(name):
    assert runner.resolve_notebook(name, runner.discover_notebooks(FIXTURES)) == METRICS_NB


def test_resolve_unknown_notebook_lists_valid_ones():
    with pytest.raises(UsageError, match="unknown notebook '7'; valid notebooks: 01_metrics, 02_fails"):
        runner.resolve_notebook("7", runner.discover_notebooks(FIXTURES))


def test_notebook_parameters_from_parameters_cell():
    params = runner.notebook_parameters(METRICS_NB)
    assert [(p.name, p.default) for p in params] == [("SCALE", "2"), ("LABEL", '"demo"'), ("USE_BONUS", "False")]
    assert params[0].help == "multiplies the score"


def test_parse_parameters_source_handles_annotations_and_ignores_code():
    source = "import os\nA: int = 3  # three\nB = C = [1, 2]\nos.environ['X'] = '1'\nfor i in []:\n    D = 1\n"
    params = runner.parse_parameters_source(source)
    assert [(p.name, p.default, p.help) for p in params] == [
        ("A", "3", "three"), ("B", "[1, 2]", ""), ("C", "[1, 2]", "")]


def test_list_prints_parameters_and_defaults(capsys):
    assert run_cli("list") == 0
    out = capsys.readouterr().out
    assert "01_metrics" in out and "02_fails" in out
    assert re.search(r"SCALE = 2\s+# multiplies the score", out)
    assert 'MESSAGE = "planned failure"' in out


# --------------------------------------------------------------------------- validation before running


def test_plan_applies_precedence_and_grid(tmp_path):
    params_file = tmp_path / "params.yaml"
    params_file.write_text("LABEL: common\nUSE_BONUS: true\n01_metrics:\n  LABEL: section\n")
    args = cli.build_parser().parse_args(runner.normalize_param_argv([
        "run", "01", "--notebooks-dir", str(FIXTURES), "--params-file", str(params_file),
        "-p", "USE_BONUS", "false", "--grid", "SCALE=1,3"]))
    plan = runner.plan_executions(args)
    assert [e.stem for e in plan] == ["01_metrics__SCALE=1", "01_metrics__SCALE=3"]
    assert plan[1].parameters == {"LABEL": "section", "USE_BONUS": False, "SCALE": 3}
    assert plan[1].grid == {"SCALE": 3}


def test_unknown_notebook_rejected_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli("run", "01", "99_missing", "--output", str(out)) == 2
    err = capsys.readouterr().err
    assert "unknown notebook '99_missing'" in err and "01_metrics, 02_fails" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_unknown_parameter_rejected_listing_valid_ones(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli("run", "-p", "SCALE", "3", "--output", str(out)) == 2  # SCALE is unknown to 02_fails
    err = capsys.readouterr().err
    assert "unknown parameter(s) SCALE for 02_fails; valid parameters: MESSAGE" in err
    assert run_cli("run", "01", "--grid", "EPOCHS=1,2", "--output", str(out)) == 2
    assert "valid parameters: SCALE, LABEL, USE_BONUS" in capsys.readouterr().err
    assert not out.exists()


def test_params_file_top_level_keys_apply_where_defined(tmp_path):
    params_file = tmp_path / "params.yaml"
    params_file.write_text("SCALE: 3\nMESSAGE: from the file\n")  # SCALE only in 01, MESSAGE only in 02
    args = cli.build_parser().parse_args(runner.normalize_param_argv([
        "run", "01", "02", "--notebooks-dir", str(FIXTURES), "--params-file", str(params_file)]))
    first, second = runner.plan_executions(args)
    assert first.parameters == {"SCALE": 3} and second.parameters == {"MESSAGE": "from the file"}


def test_params_file_key_no_selected_notebook_defines_is_refused(tmp_path, capsys):
    params_file = tmp_path / "params.yaml"
    params_file.write_text("SCALE: 3\nMESSAGE: hi\nNOPE: 1\n")
    out = tmp_path / "out"
    assert run_cli("run", "01", "--params-file", str(params_file), "--output", str(out)) == 2
    err = capsys.readouterr().err
    assert "no selected notebook has the parameter(s) MESSAGE (defined in 02_fails); NOPE (defined in no notebook)" in err
    assert not out.exists()


def test_value_outside_the_choices_is_refused_listing_them(tmp_path, capsys):
    """The choices are the ones the parameters cell declares at the end of the parameter's comment."""
    folder = write_notebooks(tmp_path / "nbs", 'LABEL: str = "demo"  # a label ["demo" or "other"]', ("01_labels", "pass"))
    out = tmp_path / "out"
    assert cli.main(["run", "01", "--notebooks-dir", str(folder), "-p", "LABEL", "nope", "--output", str(out)]) == 2
    assert "01_labels: LABEL='nope' is not one of the valid choices: demo, other" in capsys.readouterr().err
    assert cli.main(["run", "01", "--notebooks-dir", str(folder), "--grid", "LABEL=demo,Other", "--output", str(out)]) == 2
    assert "LABEL='Other' is not one of the valid choices" in capsys.readouterr().err
    assert not out.exists()
    args = cli.build_parser().parse_args(["run", "01", "--notebooks-dir", str(folder), "--grid", "LABEL=demo,other"])
    assert len(runner.plan_executions(args)) == 2


def test_list_valued_parameter_must_hold_choices_only(tmp_path):
    folder = write_notebooks(tmp_path / "nbs", 'LABELS: list[str] = ["a"]  # labels ["a" or "b"]', ("01_labels", "pass"))
    runner.check_values(folder / "01_labels.ipynb", {"LABELS": ["a", "b"]})
    with pytest.raises(UsageError, match="LABELS holds 'c', which is not one of the valid choices: a, b"):
        runner.check_values(folder / "01_labels.ipynb", {"LABELS": ["a", "c"]})


def test_default_output_not_created_when_validation_fails(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli("run", "01", "-p", "NOPE=1") == 2
    assert run_cli("run", "--kernel", "no-such-kernel") == 2
    assert list(tmp_path.iterdir()) == []


def test_param_in_both_p_and_grid_rejected(tmp_path, capsys):
    assert run_cli("run", "01", "-p", "SCALE=1", "--grid", "SCALE=2,3", "--output", str(tmp_path / "o")) == 2
    assert "both -p and --grid" in capsys.readouterr().err


def test_non_empty_output_refused_without_overwrite(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert run_cli("run", "01", "--output", str(out)) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert runner.prepare_output_dir(str(out), overwrite=True) == out


def test_default_output_is_new_timestamped_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = runner.prepare_output_dir(None, overwrite=False)
    second = runner.prepare_output_dir(None, overwrite=False)
    assert first.parent == second.parent == tmp_path / "runs"
    assert re.fullmatch(r"\d{8}-\d{6}(_\d+)?", first.name)
    assert first != second and first.is_dir() and second.is_dir()


# --------------------------------------------------------------------------- errors and summary


def test_describe_error_names_cell_and_error():
    from papermill.exceptions import PapermillExecutionError

    exc = PapermillExecutionError(4, 3, "raise ValueError", "ValueError", "bad value\nmore", [])
    assert runner.describe_error(exc) == "cell In [3]: ValueError: bad value\nmore"  # the whole message: it ends with the fix
    assert runner.describe_error(RuntimeError("kernel died")) == "RuntimeError: kernel died"


def test_describe_error_of_a_timeout_names_the_cell():
    import nbformat
    from nbclient.exceptions import CellTimeoutError

    cell = nbformat.v4.new_code_cell("import time\ntime.sleep(60)")
    exc = CellTimeoutError.error_from_timeout_and_cell("Cell execution timed out", 2, cell)
    assert runner.is_timeout(exc)
    assert runner.describe_error(exc) == "timed out in the cell starting: import time / time.sleep(60)"


@pytest.mark.parametrize("text, hint", [("no", "boolean"), ("Yes", "boolean"), ("010", "octal"), ("1:30", "base 60")])
def test_parse_value_refuses_yaml11_surprises(text, hint):
    with pytest.raises(UsageError, match=hint):
        runner.parse_value(text)


def test_params_file_reads_yaml12_scalars_and_types_are_checked(tmp_path):
    params_file = tmp_path / "params.yaml"
    params_file.write_text("USE_BONUS: no\n")  # refused as on the command line, saying why and where
    with pytest.raises(UsageError, match=r"params.yaml: value 'no' \(line 1\) is ambiguous: YAML 1.1 reads it as a boolean"):
        runner.plan_executions(cli.build_parser().parse_args(
            ["run", "01", "--notebooks-dir", str(FIXTURES), "--params-file", str(params_file)]))
    params_file.write_text("SCALE: 010\n")
    with pytest.raises(UsageError, match="'010' .line 1. is ambiguous: YAML 1.1 reads a leading 0 as octal"):
        runner.plan_executions(cli.build_parser().parse_args(
            ["run", "01", "--notebooks-dir", str(FIXTURES), "--params-file", str(params_file)]))
    params_file.write_text("SCALE: '010'\n")  # quoted: plainly text, and then of the wrong type
    with pytest.raises(UsageError, match=re.escape("SCALE='010' is a str, but SCALE takes an int (its default: 2)")):
        runner.plan_executions(cli.build_parser().parse_args(
            ["run", "01", "--notebooks-dir", str(FIXTURES), "--params-file", str(params_file)]))


@pytest.mark.parametrize("argv, message", [
    (["-p", "SCALE", "two"], "SCALE='two' is a str, but SCALE takes an int (its default: 2)"),
    (["-p", "USE_BONUS", "1"], "USE_BONUS=1 is an int"),
    (["-p", "SCALE", "None"], "SCALE=None is not a setting of this parameter"),
    (["--grid", "SCALE=1,x"], "SCALE='x' is a str"),
])
def test_values_must_have_the_type_of_the_default(argv, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        runner.plan_executions(cli.build_parser().parse_args(runner.normalize_param_argv(
            ["run", "01", "--notebooks-dir", str(FIXTURES), *argv])))


@pytest.mark.parametrize("argv, message", [
    (["-p", "TRAIN_SAMPLES", "abc"], "TRAIN_SAMPLES='abc' is a str, but TRAIN_SAMPLES takes None or an int"),
    (["-p", "TRAIN_SAMPLES", "[1, 2]"], "TRAIN_SAMPLES=[1, 2] is a list, but TRAIN_SAMPLES takes None or an int"),
    (["-p", "EPOCHS", "None"], "EPOCHS=None is not a setting of this parameter"),
])
def test_none_defaults_have_a_type_and_none_needs_a_meaning(argv, message):
    """05's TRAIN_SAMPLES (default None) takes None or an int; EPOCHS (default 20) gives None no meaning."""
    with pytest.raises(UsageError, match=re.escape(message)):
        runner.plan_executions(cli.build_parser().parse_args(runner.normalize_param_argv(["run", "05", *argv])))
    for ok in (["-p", "TRAIN_SAMPLES", "1000"], ["-p", "TRAIN_SAMPLES", "None"], ["-p", "LL_INIT_STDDEV", "1"]):
        runner.plan_executions(cli.build_parser().parse_args(runner.normalize_param_argv(["run", "05", *ok])))


@pytest.mark.slow
def test_timeout_stops_a_sleeping_notebook(tmp_path):
    import nbformat

    notebook = tmp_path / "nbs" / "01_sleeps.ipynb"
    notebook.parent.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("SECONDS = 30", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import time\ntime.sleep(SECONDS)")]
    nbformat.write(nb, notebook)
    out = tmp_path / "out"
    assert cli.main(["run", "--notebooks-dir", str(notebook.parent), "--timeout", "2", "--output", str(out)]) == 1
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert rows[0]["status"] == "timed out" and "time.sleep(SECONDS)" in rows[0]["error"]
    assert float(rows[0]["wall_time_s"]) < 25
    assert (out / "01_sleeps.ipynb").exists()  # the partial executed notebook is kept


def test_summary_rows_union_of_metrics_and_markdown():
    a = Execution(METRICS_NB, {"SCALE": 1}, {"SCALE": 1}, "ok", 1.234, "", {"acc": 0.91234, "loss": 0.3})
    b = Execution(FAILS_NB, {}, {}, "failed", 2.0, "cell In [3]: ValueError: x|y", {"f1": 0.5})
    columns, rows = runner.summary_rows([a, b])
    assert columns == ["notebook", "parameters", "status", "wall_time_s", "acc", "loss", "f1", "error",
                       "resumed", "seed", "device", "versions", "data"]
    assert rows[0]["parameters"] == "SCALE=1" and rows[0]["wall_time_s"] == 1.2 and rows[0]["f1"] == ""
    table = runner.markdown_table(columns, rows).splitlines()
    assert table[2] == "| 01_metrics | SCALE=1 | ok | 1.2 | 0.9123 | 0.3 |  |  | False |  |  |  |  |"
    assert table[3].endswith("| 0.5 | cell In [3]: ValueError: x\\|y | False |  |  |  |  |")


def test_metric_named_like_a_fixed_column_gets_a_prefix():
    a = Execution(METRICS_NB, {"SCALE": 1}, {"SCALE": 1}, "ok", 1.0, "", {"parameters": 14})
    columns, rows = runner.summary_rows([a])
    assert "metric_parameters" in columns and rows[0]["metric_parameters"] == 14
    assert rows[0]["parameters"] == "SCALE=1"


def test_printed_summary_keeps_metrics_in_one_column():
    a = Execution(METRICS_NB, {}, {}, "ok", 1.04, "", {"acc": 0.91234, "parameters": 14})
    b = Execution(FAILS_NB, {}, {}, "failed", 2.04, "cell In [3]: ValueError: x", {})
    columns, rows = runner.compact_rows([a, b])
    assert columns == ["notebook", "parameters", "status", "wall_time_s", "metrics", "error", "data"]
    table = runner.markdown_table(columns, rows).splitlines()
    assert table[2] == "| 01_metrics |  | ok | 1 | acc=0.9123 parameters=14 |  |  |"
    assert table[3] == "| 02_fails |  | failed | 2 |  | cell In [3]: ValueError: x |  |"


# --------------------------------------------------------------------------- end to end (real kernels)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """Run both fixture notebooks with default parameters; return (status, output folder, stdout, stderr)."""
    out = tmp_path_factory.mktemp("run") / "out"
    before = fixture_files()
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = run_cli("run", "--output", str(out))
    assert fixture_files() == before, "the runner wrote into the notebooks folder"
    return status, out, stdout.getvalue(), stderr.getvalue()


@pytest.mark.slow
def test_end_to_end_reports_failure_and_still_runs_others(default_run):
    status, out, stdout, stderr = default_run
    assert status == 1
    assert "FAILED 02_fails: cell In [3]: ValueError: planned failure" in stderr
    assert "| 02_fails |  | failed |" in stdout
    assert (out / "01_metrics.ipynb").is_file() and (out / "02_fails.ipynb").is_file()
    executed = json.loads((out / "01_metrics.ipynb").read_text())
    assert not executed["metadata"]["papermill"]["exception"]
    failed = json.loads((out / "02_fails.ipynb").read_text())
    assert failed["metadata"]["papermill"]["exception"] is True
    assert "not reached" not in json.dumps(failed["cells"][-1]["outputs"])


@pytest.mark.slow
def test_end_to_end_metrics_files_and_environment(default_run):
    _, out, _, _ = default_run
    handed = handoff.read(out / "01_metrics.handoff.jsonl")  # the one channel back from the notebook
    assert handed.metrics == {"score": 20, "label": "demo", "ratio": 5.0, "cwd_name": "fixtures"}  # cwd = notebook folder
    assert handed.files_dir == str(out.absolute() / "01_metrics_files") and not handed.report_missed
    assert json.loads((out / "01_metrics.run.json").read_text())["metrics"] == handed.metrics
    assert (out / "01_metrics_files" / "score.txt").read_text() == "20"
    assert not (out / "02_fails_files").exists()  # empty output folders are removed
    assert handoff.HANDOFF_ENV not in os.environ  # set for each execution's kernel only
    assert sorted(p.name for p in out.iterdir()) == [
        "01_metrics.handoff.jsonl", "01_metrics.ipynb", "01_metrics.run.json", "01_metrics_files",
        "02_fails.handoff.jsonl", "02_fails.ipynb", "02_fails.run.json", "report.md", "summary.csv", "summary.md"]


@pytest.mark.slow
def test_end_to_end_summary_csv_and_md(default_run):
    _, out, _, _ = default_run
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["notebook"] for r in rows] == ["01_metrics", "02_fails"]
    assert [r["status"] for r in rows] == ["ok", "failed"]
    assert rows[0]["score"] == "20" and rows[0]["ratio"] == "5.0" and rows[1]["score"] == ""
    assert rows[1]["error"] == "cell In [3]: ValueError: planned failure"
    assert all(float(r["wall_time_s"]) > 0 for r in rows)
    md = (out / "summary.md").read_text()
    assert "2 execution(s): 1 ok, 1 failed" in md
    assert "| notebook | parameters | status | wall_time_s | metrics | error |" in md
    assert "| 02_fails |  | failed |" in md and "cell In [3]: ValueError: planned failure |" in md


@pytest.mark.slow
def test_end_to_end_grid_names_and_parameters(tmp_path, capsys):
    out = tmp_path / "grid"
    status = run_cli("run", "1", "--grid", "SCALE=1,3", "-p", "LABEL", "hi there", "--output", str(out))
    assert status == 0
    for scale in (1, 3):
        stem = f"01_metrics__SCALE={scale}"
        assert (out / f"{stem}.ipynb").is_file()
        metrics = handoff.read(out / f"{stem}.handoff.jsonl").metrics
        assert metrics["score"] == 10 * scale and metrics["label"] == "hi there"
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["parameters"] for r in rows] == ["LABEL=hi there SCALE=1", "LABEL=hi there SCALE=3"]
    assert [r["score"] for r in rows] == ["10", "30"]
    assert "| 01_metrics | LABEL=hi there SCALE=3 | ok |" in capsys.readouterr().out


SLEEPS = "import time\ntime.sleep(SECONDS)"


def write_notebooks(folder, parameters: str, *notebooks: tuple[str, str]):
    """Write one notebook per (name, code) into ``folder``: a parameters cell, then the code. Returns the folder."""
    import nbformat

    folder.mkdir()
    for name, code in notebooks:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell(code)]
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def signals_ready(ready: Path, code: str) -> str:
    """``code`` preceded by a line that creates the file ``ready``: once it exists, the kernel is inside the cell."""
    return f"import pathlib\npathlib.Path({str(ready)!r}).touch()\n{code}"


def wait_for_files(process, *paths: Path, timeout: float = 180) -> None:
    """Wait until every file of ``paths`` exists (the notebooks' readiness signals): fail if ``process`` (the batch)
    ends first or the ``timeout`` (seconds) passes."""
    import time

    deadline = time.monotonic() + timeout
    while not all(path.exists() for path in paths):
        missing = [path.name for path in paths if not path.exists()]
        assert process.poll() is None, f"the batch ended (status {process.returncode}) before {missing} appeared"
        assert time.monotonic() < deadline, f"{missing} did not appear within {timeout} s"
        time.sleep(0.1)


@pytest.mark.slow
def test_ctrl_c_marks_the_running_execution_interrupted_and_keeps_the_summary(tmp_path):
    """A real batch interrupted with SIGINT (what Ctrl-C sends): the running notebook is 'interrupted',
    its partial copy is kept, the one not started is 'skipped', and the exit status is 130."""
    import signal
    import subprocess
    import sys

    ready = tmp_path / "02_sleeps.ready"  # written by 02's cell just before it sleeps
    folder = write_notebooks(tmp_path / "nbs", "SECONDS = 1", ("01_quick", "VALUE = 1"),
                             ("02_sleeps", signals_ready(ready, "import time\ntime.sleep(60)")),
                             ("03_never", "VALUE = 3"))
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "helpers", "run", "--notebooks-dir", str(folder),
                                "--output", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_files(process, ready, timeout=120)  # 02's kernel is in its sleeping cell
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    rows = {row["notebook"]: row for row in csv.DictReader(open(out / "summary.csv"))}
    assert rows["01_quick"]["status"] == "ok"
    assert rows["02_sleeps"]["status"] == "interrupted"
    assert rows["03_never"]["status"] == "skipped"
    assert (out / "02_sleeps.ipynb").exists() and not (out / "03_never.ipynb").exists()


@pytest.mark.slow
def test_resume_skips_what_finished_and_reruns_what_failed_or_changed(tmp_path):
    out = tmp_path / "out"
    assert run_cli("run", "01", "02", "--output", str(out)) == 1
    first = {row["notebook"]: row for row in csv.DictReader(open(out / "summary.csv"))}
    assert first["01_metrics"]["status"] == "ok" and first["02_fails"]["status"] == "failed"
    record = json.loads((out / "01_metrics.run.json").read_text())
    assert record["status"] == "ok" and record["card"]["seed"] == "not a parameter"
    assert record["card"]["parameters"]["SCALE"] == "2" and "keras" in record["card"]["versions"]
    executed = json.loads((out / "01_metrics.ipynb").read_text())
    assert executed["metadata"]["dlfb"]["versions"] == record["card"]["versions"]
    stamp = (out / "01_metrics.ipynb").stat().st_mtime_ns

    assert run_cli("run", "01", "02", "--output", str(out)) == 2  # a non-empty folder needs --resume
    assert run_cli("run", "01", "02", "--output", str(out), "--resume") == 1
    again = {row["notebook"]: row for row in csv.DictReader(open(out / "summary.csv"))}
    assert again["01_metrics"]["resumed"] == "True" and again["01_metrics"]["score"] == "20"
    assert again["02_fails"]["resumed"] == "False" and again["02_fails"]["status"] == "failed"  # ran again
    assert (out / "01_metrics.ipynb").stat().st_mtime_ns == stamp
    assert "ok (resumed)" in (out / "summary.md").read_text()

    # other parameters make another key: the notebook runs again
    assert run_cli("run", "01", "-p", "SCALE", "3", "--output", str(out), "--resume") == 0
    row = next(csv.DictReader(open(out / "summary.csv")))
    assert row["resumed"] == "False" and row["score"] == "30"


@pytest.mark.slow
def test_a_resumed_folder_summary_lists_every_execution_on_disk(tmp_path):
    """The summary is rebuilt from the folder's records: what an earlier call ran there stays in the table."""
    out = tmp_path / "out"
    assert run_cli("run", "01", "--output", str(out)) == 0
    assert run_cli("run", "02", "--output", str(out), "--resume") == 1  # only 02 runs now
    rows = {row["notebook"]: row for row in csv.DictReader(open(out / "summary.csv"))}
    assert rows["01_metrics"]["status"] == "ok" and rows["01_metrics"]["score"] == "20"
    assert rows["01_metrics"]["resumed"] == "True" and rows["02_fails"]["status"] == "failed"
    assert "2 execution(s): 1 failed, 1 ok" in (out / "summary.md").read_text()


@pytest.mark.slow
def test_resume_after_a_real_interrupt_reruns_only_the_interrupted(tmp_path):
    import signal
    import subprocess
    import sys

    ready = tmp_path / "02_sleeps.ready"
    folder = write_notebooks(tmp_path / "nbs", "SECONDS = 60", ("01_quick", "VALUE = 1"),
                             ("02_sleeps", signals_ready(ready, SLEEPS)))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "helpers", "run", "--notebooks-dir", str(folder), "--output", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_files(process, ready, timeout=120)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=120)
    assert json.loads((out / "02_sleeps.run.json").read_text())["status"] == "interrupted"
    stamp = (out / "01_quick.ipynb").stat().st_mtime_ns
    # resume: the finished notebook is kept, the interrupted one runs again (now short: SECONDS=60 is its default,
    # so the resumed run is given a timeout to prove it was started again, and it times out)
    done = subprocess.run([*command, "--resume", "--timeout", "3"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    rows = {row["notebook"]: row for row in csv.DictReader(open(out / "summary.csv"))}
    assert rows["01_quick"]["resumed"] == "True" and rows["01_quick"]["status"] == "ok"
    assert rows["02_sleeps"]["resumed"] == "False" and rows["02_sleeps"]["status"] == "timed out"
    assert (out / "01_quick.ipynb").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_ctrl_c_with_jobs_2_then_resume_reruns_only_what_did_not_finish(tmp_path):
    """Ctrl-C as a terminal sends it (SIGINT to the whole process group) during a --jobs 2 batch: the finished
    execution stays ok, the running ones are 'interrupted' with their partial copies; --resume runs only those."""
    import signal
    import subprocess
    import sys

    ready = [tmp_path / "02_sleeps.ready", tmp_path / "03_sleeps.ready"]
    folder = write_notebooks(tmp_path / "nbs", "SECONDS = 60", ("01_quick", "VALUE = 1"),
                             ("02_sleeps", signals_ready(ready[0], SLEEPS)),
                             ("03_sleeps", signals_ready(ready[1], SLEEPS)))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "helpers", "run", "--notebooks-dir", str(folder), "--output", str(out),
               "--jobs", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    wait_for_files(process, *ready)  # both sleepers are in their sleeping cells (03 started once 01 finished)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=180)
    assert process.returncode == 130, err
    rows = {row["notebook"]: row for row in csv.DictReader(open(out / "summary.csv"))}
    assert rows["01_quick"]["status"] == "ok", rows
    assert rows["02_sleeps"]["status"] == rows["03_sleeps"]["status"] == "interrupted", rows
    assert (out / "02_sleeps.ipynb").exists() and (out / "03_sleeps.ipynb").exists()
    stamp = (out / "01_quick.ipynb").stat().st_mtime_ns
    done = subprocess.run([*command, "--resume", "--timeout", "3"], capture_output=True, text=True, timeout=180)
    assert done.returncode == 1, done.stderr
    rows = {row["notebook"]: row for row in csv.DictReader(open(out / "summary.csv"))}
    assert rows["01_quick"]["resumed"] == "True" and rows["01_quick"]["status"] == "ok"
    assert [rows[n]["status"] for n in ("02_sleeps", "03_sleeps")] == ["timed out", "timed out"]  # started again
    assert (out / "01_quick.ipynb").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_ctrl_c_on_a_dask_local_cluster_keeps_partial_notebooks_then_resume_reruns_them(tmp_path):
    """Ctrl-C as a terminal sends it during a batch on a LocalCluster of 2 workers: the workers' kernels are
    interrupted and their partial notebooks come back ('interrupted'), the queued execution is 'skipped',
    no kernel is left behind, and --resume runs only what did not finish."""
    import signal
    import subprocess
    import sys
    import time

    import nbformat
    import psutil

    ready = [tmp_path / "02_sleeps.ready", tmp_path / "03_sleeps.ready"]
    counts = ("import pathlib\nimport sys\nimport time\nfor second in range(SECONDS):\n    print(second)\n"
              f"    if second == 1:  # 0 and 1 are printed\n        sys.stdout.flush()\n"
              f"        pathlib.Path({str(ready[0])!r}).touch()\n    time.sleep(1)")
    folder = write_notebooks(tmp_path / "nbs", "SECONDS = 60", ("01_quick", "VALUE = 1"), ("02_sleeps", counts),
                             ("03_sleeps", signals_ready(ready[1], SLEEPS)), ("04_queued", "VALUE = 4"))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "helpers", "run", "--notebooks-dir", str(folder), "--output", str(out),
               "--scheduler", "local", "--jobs", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    started = time.time()
    wait_for_files(process, *ready)  # 02 has printed 0 and 1, 03 sleeps (01 finished), 04 waits for a free worker
    os.killpg(process.pid, signal.SIGINT)
    stopped = time.time()
    _, err = process.communicate(timeout=180)
    assert process.returncode == 130, err
    assert time.time() - stopped < STOP_GRACE_S_BOUND, "the client waited for the whole sleep"
    rows = {row["notebook"]: row for row in csv.DictReader(open(out / "summary.csv"))}
    assert rows["01_quick"]["status"] == "ok", rows
    assert rows["02_sleeps"]["status"] == rows["03_sleeps"]["status"] == "interrupted", rows
    assert "partial notebook kept" in rows["02_sleeps"]["error"], rows
    assert rows["04_queued"]["status"] == "skipped", rows
    partial = nbformat.read(out / "02_sleeps.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for o in partial.cells[-1].outputs)
    assert printed.startswith("0\n1\n") and "59" not in printed  # it ran, and it was stopped midway
    assert json.loads((out / "03_sleeps.run.json").read_text())["status"] == "interrupted"
    assert not (out / "04_queued.ipynb").exists()
    leftovers = [p for p in psutil.process_iter(["cmdline", "create_time", "ppid"])
                 if "ipykernel" in " ".join(p.info["cmdline"] or []) and p.info["create_time"] > started
                 and p.info["ppid"] != os.getpid()]  # a kernel the batch started that outlived it
    _, alive = psutil.wait_procs(leftovers, timeout=10)  # one still shutting down is given 10 s to exit
    assert not alive, alive

    stamp = (out / "01_quick.ipynb").stat().st_mtime_ns
    done = subprocess.run([*command, "--resume", "--timeout", "3"], capture_output=True, text=True, timeout=180)
    assert done.returncode == 1, done.stderr
    rows = {row["notebook"]: row for row in csv.DictReader(open(out / "summary.csv"))}
    assert rows["01_quick"]["resumed"] == "True" and rows["01_quick"]["status"] == "ok"
    assert [rows[n]["status"] for n in ("02_sleeps", "03_sleeps")] == ["timed out", "timed out"]  # started again
    assert rows["04_queued"]["status"] == "ok" and rows["04_queued"]["resumed"] == "False"
    assert (out / "01_quick.ipynb").stat().st_mtime_ns == stamp


STOP_GRACE_S_BOUND = 45  # seconds: well under the ~58 s the sleepers have left when ready, well over ~3 s measured


def outcome(folder):
    """What a batch's summary says about each execution, minus timings (to compare two ways of running it)."""
    return [(r["notebook"], r["parameters"], r["status"], r.get("score", ""), r["error"])
            for r in csv.DictReader(open(folder / "summary.csv"))]


def run_both_ways(tmp_path, *mode):
    """The fixture batch (01 ok, 02 failing with 'stop here') run sequentially and with the ``mode`` options; the
    second run's output folder, after checking that both exit 1 with the same summary."""
    sequential, other = tmp_path / "seq", tmp_path / "other"
    params = tmp_path / "params.yaml"
    params.write_text("02_fails:\n  MESSAGE: stop here\n")
    common = ["01", "02", "--params-file", str(params)]
    assert run_cli("run", *common, "--output", str(sequential)) == 1
    assert run_cli("run", *common, "--output", str(other), *mode) == 1
    assert outcome(other) == outcome(sequential)
    return other


@pytest.mark.slow
def test_jobs_2_gives_the_same_summary_as_sequential(tmp_path):
    parallel = run_both_ways(tmp_path, "--jobs", "2")
    assert [r["status"] for r in csv.DictReader(open(parallel / "summary.csv"))] == ["ok", "failed"]
    assert "stop here" in open(parallel / "summary.csv").read()


def test_core_shares_split_the_cores_without_overlap():
    shares = runner.core_shares(2)
    flat = [c for share in shares for c in share]
    assert len(flat) == len(set(flat)) and all(shares)
    assert runner.core_shares(10_000) == [[c] for c in flat] or len(runner.core_shares(10_000)) == len(flat)


@pytest.mark.slow
def test_dask_local_cluster_of_2_workers_gives_the_sequential_summary(tmp_path):
    on_dask = run_both_ways(tmp_path, "--scheduler", "local", "--jobs", "2")
    names = sorted(p.name for p in on_dask.iterdir())
    assert {"01_metrics.ipynb", "01_metrics.handoff.jsonl", "01_metrics.run.json", "02_fails.ipynb"} <= set(names)
    assert handoff.read(on_dask / "01_metrics.handoff.jsonl").metrics["score"] == 20
    assert (on_dask / "01_metrics_files" / "score.txt").read_text() == "20"


@pytest.mark.slow
def test_unreachable_scheduler_is_refused_before_anything_runs(tmp_path, capsys):
    import socket

    with socket.socket() as sock:  # a local port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "out"
    assert run_cli("run", "01", "--output", str(out), "--scheduler", f"tcp://127.0.0.1:{port}") == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_relative_output_folder_still_collects_metrics(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the kernel runs in the notebooks' folder: the runner must hand it absolute paths
    assert run_cli("run", "01", "--output", "relative/out") == 0
    row = next(csv.DictReader(open(tmp_path / "relative" / "out" / "summary.csv")))
    assert row["score"] == "20" and (tmp_path / "relative" / "out" / "01_metrics_files" / "score.txt").exists()


def test_the_runner_imports_neither_tensorflow_nor_keras():
    import subprocess
    import sys

    code = ("import sys\nfrom helpers.course import runner, batch_report, run_record, run_times, store\n"
            "from helpers.course.runner import dask_batch\n"
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split() == ["False", "False"]


@pytest.mark.slow
def test_data_sources_recorded_in_the_kernel_reach_card_summary_and_notebook(tmp_path, monkeypatch):
    import nbformat

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    data = tmp_path / "toy.bin"
    data.write_bytes(b"toy data")
    folder = tmp_path / "nbs"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"PATH = {str(data)!r}", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("from helpers import sources\nsources.record_use('Toy', 'mirror', files=[PATH])")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "01_toy.ipynb")
    out = tmp_path / "out"
    assert cli.main(["run", "--notebooks-dir", str(folder), "--output", str(out)]) == 0
    card = json.loads((out / "01_toy.run.json").read_text())["card"]
    (source,) = card["data_sources"]
    assert source["dataset"] == "Toy" and source["source"] == "mirror"
    assert source["files"][0]["sha256"] == __import__("hashlib").sha256(b"toy data").hexdigest()
    assert json.loads((out / "01_toy.ipynb").read_text())["metadata"]["dlfb"]["data_sources"] == card["data_sources"]
    row = next(csv.DictReader(open(out / "summary.csv")))
    assert row["data"] == "Toy: mirror"
    assert source["files"][0]["sha256"] in (out / "summary.md").read_text()


def test_worker_placement_shares_each_host_among_its_workers():
    from helpers.course.runner.dask_batch import worker_placement

    class FakeClient:
        def scheduler_info(self):
            return {"workers": {"tcp://a:1": {"host": "a", "name": 1}, "tcp://a:2": {"host": "a", "name": 0},
                                "tcp://b:1": {"host": "b", "name": "x"}}}

    assert worker_placement(FakeClient()) == {"tcp://a:2": (0, 2), "tcp://a:1": (1, 2), "tcp://b:1": (0, 1)}


def _affinity_after_pinning(placement):
    from helpers.course.runner.dask_batch import _pin_worker

    _pin_worker(placement)
    return sorted(os.sched_getaffinity(0)), os.environ.get("OMP_NUM_THREADS")


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores")
def test_dask_local_workers_are_pinned_to_a_core_each():
    """The first worker of a LocalCluster once kept every core (its own view of its peers was only itself)."""
    from helpers.course.runner.dask_batch import connect, worker_placement

    client = connect("local", 2)
    try:
        placement = worker_placement(client)
        results = {}
        for address in placement:
            results[address] = client.submit(_affinity_after_pinning, placement, workers=[address], pure=False).result()
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    cores = [tuple(cores) for cores, _ in results.values()]
    assert len(cores) == 2 and all(len(c) == 1 for c in cores) and cores[0] != cores[1]
    assert {threads for _, threads in results.values()} == {"1"}
