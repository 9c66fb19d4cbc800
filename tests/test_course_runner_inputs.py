"""The runner's inputs, attacked: every case builds its payload here and must end in a usage error (exit status 2,
a bounded message that names the problem and the fix) before any output folder is created or anything runs, in
bounded time and memory. Then a fuzz test of params files: a few hundred mutated YAML documents, each a usage
error or a valid plan, never a traceback.

The command-line cases run on toy notebooks written into ``tmp_path`` (their only code is ``pass``), so a case the
runner wrongly accepts runs nothing of the course; the range and speed cases plan the course notebooks in-process
(reading their parameters cells; nothing runs).
"""

import os
import random
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from helpers.course import cli as course_cli
from helpers.course import presets, runner
from helpers.course.runner import UsageError, planning

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "notebooks"
TOY_PARAMETERS = ('PHOTO: str = "cat"  # a photo name or path\n'
                  "LAYERS: list[int] = [8, 4]  # units of each hidden layer [at least 1]\n"
                  "EPOCHS: int = 3  # training epochs [at least 1]\n"
                  "BATCH_SIZE: int = 16  # batch size [at least 1]\n"
                  "LEARNING_RATE: float = 0.01  # the optimizer's learning rate [above 0]\n"
                  "DROPOUT: float = 0.5  # dropout rate [0 to below 1]\n"
                  "MIN_ACCURACY: float = 0.9  # asserted [0 to 1]\n"
                  "USE_BONUS: bool = False  # a switch\n")


def write_toy_notebooks(folder: Path, *names: str) -> Path:
    """Toy notebooks (a parameters cell, then ``pass``) named ``names`` in ``folder``."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(TOY_PARAMETERS, metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell("pass")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


@pytest.fixture
def toy(tmp_path):
    """(notebooks folder, output folder that must stay absent)."""
    return write_toy_notebooks(tmp_path / "nbs", "01_toy", "02_other"), tmp_path / "out"


def cli(toy, *argv, capsys):
    """Run ``python -m helpers run`` in-process on the toy notebooks; (exit status, stderr, seconds, peak MB)."""
    nbs, out = toy
    course_cli.build_parser()  # imports the sub-commands' modules and YAML: one-off work, not the case's
    runner.parse_value("1")
    tracemalloc.start()
    start = time.perf_counter()
    try:
        status = course_cli.main(["run", "--notebooks-dir", str(nbs), "--output", str(out), *argv])
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    captured = capsys.readouterr()
    return status, captured.err, seconds, peak


def refused(toy, *argv, capsys, message, seconds=10.0, megabytes=50.0):
    """Assert the command line is a usage error saying ``message`` (every fragment), bounded, nothing written."""
    status, err, took, peak = cli(toy, *argv, capsys=capsys)
    assert status == 2, err
    fragments = [message] if isinstance(message, str) else message
    for fragment in fragments:
        assert fragment in err, err[:2000]
    assert "Traceback" not in err
    assert len(err) < planning.MAX_MESSAGE_CHARS + 200, f"{len(err):,} characters of error"
    assert took < seconds, f"{took:.1f} s"
    assert peak < megabytes, f"{peak:.0f} MB"
    assert not toy[1].exists(), "the output folder was created"
    return err


def params_file(tmp_path, text: str, name="params.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def billion_laughs(levels=9, width=9, key="LAYERS") -> str:
    """The classic: each anchor a list of ``width`` aliases of the previous one (9 levels: 9**9 leaves)."""
    lines = [f"l0: &l0 [{', '.join(['1'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    lines.append(f"{key}: *l{levels - 1}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- YAML anchors and aliases


def test_billion_laughs_params_file_is_refused_at_load_time(toy, tmp_path, capsys):
    text = billion_laughs()
    assert len(text) < 600
    err = refused(toy, "--params-file", params_file(tmp_path, text), capsys=capsys, seconds=2.0, megabytes=20,
                  message=["line 1", "anchors and aliases", "write each value out in full"])
    assert len(err) < 500


def test_billion_laughs_inside_a_list_parameter_is_refused(toy, tmp_path, capsys):
    """Under a list parameter's own value (no stray top-level keys): accepted and expanded later, before."""
    inner = "[&a [1, 1, 1, 1, 1, 1, 1, 1, 1], &b [*a, *a, *a, *a, *a, *a, *a, *a, *a], " \
            "&c [*b, *b, *b, *b, *b, *b, *b, *b, *b], &d [*c, *c, *c, *c, *c, *c, *c, *c, *c], " \
            "&e [*d, *d, *d, *d, *d, *d, *d, *d, *d], &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]]"
    refused(toy, "01_toy", "--params-file", params_file(tmp_path, f"01_toy:\n  LAYERS: {inner}\n"), capsys=capsys,
            seconds=2.0, megabytes=20, message=["line 2", "anchors and aliases"])


def test_self_referencing_alias_is_refused_before_the_output_folder_exists(toy, tmp_path, capsys):
    refused(toy, "01_toy", "--params-file", params_file(tmp_path, "01_toy:\n  LAYERS: &a [8, *a]\n"), capsys=capsys,
            message="anchors and aliases")


def test_a_plain_alias_and_a_merge_key_are_refused_too(toy, tmp_path, capsys):
    text = "EPOCHS: &n 4\n01_toy:\n  BATCH_SIZE: *n\n"
    refused(toy, "01_toy", "--params-file", params_file(tmp_path, text), capsys=capsys, message="anchors and aliases")
    text = "base: &base {EPOCHS: 4}\n01_toy:\n  <<: *base\n"
    refused(toy, "01_toy", "--params-file", params_file(tmp_path, text), capsys=capsys, message="anchors and aliases")


def test_quoted_ampersand_and_star_are_text(toy, tmp_path):
    plan = runner.plan_executions(course_cli.build_parser().parse_args(
        ["run", "01_toy", "--notebooks-dir", str(toy[0]),
         "--params-file", params_file(tmp_path, "PHOTO: '&a *b'\n")]))
    assert plan[0].parameters == {"PHOTO": "&a *b"}


def test_recursive_grid_alias_is_a_usage_error(toy, capsys):
    refused(toy, "01_toy", "--grid", "LAYERS=&a [8, *a],[4]", capsys=capsys, message="anchors and aliases")
    refused(toy, "01_toy", "-p", "LAYERS", "&a [*a]", capsys=capsys, message="anchors and aliases")


@pytest.mark.slow
def test_explicit_tags_and_deep_nesting_are_refused(toy, tmp_path, capsys):
    refused(toy, "--params-file", params_file(tmp_path, "PHOTO: !!binary aGVsbG8=\n"), capsys=capsys,
            message=["line 1", "YAML tags", "write a plain value"])
    refused(toy, "--params-file", params_file(tmp_path, "PHOTO: !!python/object:os.system {}\n"), capsys=capsys,
            message="YAML tags")
    deep = "LAYERS: " + "[" * 5000 + "]" * 5000 + "\n"
    refused(toy, "--params-file", params_file(tmp_path, deep), capsys=capsys, seconds=2.0,
            message=f"nested more than {planning.MAX_YAML_DEPTH} deep")


@pytest.mark.slow
def test_every_message_that_quotes_a_value_is_bounded(toy, tmp_path, capsys):
    long_text = "x" * 90_000
    err = refused(toy, "01_toy", "--params-file", params_file(tmp_path, f"EPOCHS: '{long_text}'\n"), capsys=capsys,
                  message=["EPOCHS='xxx", "is a str, but EPOCHS takes an int >= 1 (its default: 3)"])
    assert len(err) < 600
    big_list = "[" + ", ".join(["1"] * 20_000) + "]"
    err = refused(toy, "01_toy", "--params-file", params_file(tmp_path, f"PHOTO: {big_list}\n"), capsys=capsys,
                  message="PHOTO=[1, 1, 1")
    assert len(err) < 600
    keys = "".join(f"{'K' * 500}{i}: 1\n" for i in range(150))
    err = refused(toy, "01_toy", "--params-file", params_file(tmp_path, keys), capsys=capsys,
                  message=["no selected notebook has the parameter(s)", "and 140 more"])
    assert len(err) < 1500
    err = refused(toy, "01_toy", "-p", f"{'N' * 5000}=1", capsys=capsys, message="unknown parameter(s) NNN")
    assert len(err) < 1500


def test_shown_cuts_any_value():
    assert len(planning.shown("y" * 10**6)) < 100
    assert planning.shown(10**5000) == "<an integer of about 5001 digits>"
    nested = [[[[[1] * 1000] * 1000]]]
    assert len(planning.shown(nested)) < 100
    assert planning.shown(True) == "True" and planning.shown(0.5) == "0.5" and planning.shown("a") == "'a'"


# --------------------------------------------------------------------------- huge numbers, odd files


def test_a_5000_digit_integer_is_a_usage_error_everywhere(toy, tmp_path, capsys):
    digits = "7" * 5000
    message = "an integer of 5,000 digits"
    refused(toy, "01_toy", "-p", f"EPOCHS={digits}", capsys=capsys, message=message)
    refused(toy, "01_toy", "--grid", f"EPOCHS=1,{digits}", capsys=capsys, message=message)
    refused(toy, "01_toy", "--params-file", params_file(tmp_path, f"EPOCHS: {digits}\n"), capsys=capsys,
            message=["line 1", message])
    refused(toy, "01_toy", "--params-file", params_file(tmp_path, f"01_toy: {{LAYERS: [8, -{digits}]}}\n"),
            capsys=capsys, message=message)


def test_a_long_run_of_digits_takes_linear_time():
    """The old float pattern backtracked quadratically: 20,000 digits took 3 s, 100,000 over a minute."""
    start = time.perf_counter()
    assert planning.FLOAT_RE.fullmatch("1" * 200_000) is None
    assert planning.FLOAT_RE.fullmatch("1" * 200_000 + "x") is None
    assert time.perf_counter() - start < 0.5
    assert planning.FLOAT_RE.fullmatch("1.5e-3") and planning.FLOAT_RE.fullmatch(".5E+2")


def test_params_file_that_is_not_a_regular_file_is_refused(toy, tmp_path, capsys):
    refused(toy, "--params-file", "/dev/zero", capsys=capsys, seconds=2.0, message="is a device, not a regular file")
    refused(toy, "--params-file", str(tmp_path), capsys=capsys, message="is a folder, not a regular file")
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    refused(toy, "--params-file", str(link), capsys=capsys, message="is a device, not a regular file")
    refused(toy, "--params-file", str(tmp_path / "missing.yaml"), capsys=capsys,
            message="cannot read --params-file")


@pytest.mark.slow
def test_params_file_fifo_does_not_hang(toy, tmp_path):
    fifo = tmp_path / "params.yaml"
    os.mkfifo(fifo)
    nbs, out = toy
    result = subprocess.run([sys.executable, "-m", "helpers", "run", "--notebooks-dir", str(nbs), "--output",
                             str(out), "--params-file", str(fifo)], capture_output=True, text=True, timeout=60,
                            cwd=REPO)
    assert result.returncode == 2, result.stderr
    assert "is a FIFO, not a regular file" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_params_file_too_large_or_not_text_is_refused(toy, tmp_path, capsys):
    limit = planning.MAX_PARAMS_FILE_BYTES
    big = "# padding\n" * (limit // 10 + 1) + "EPOCHS: 1\n"
    refused(toy, "--params-file", params_file(tmp_path, big), capsys=capsys, seconds=2.0,
            message=f"larger than {limit:,} bytes")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"EPOCHS: 1\n\xff\xfe\x00garbage")
    refused(toy, "--params-file", str(binary), capsys=capsys, message=["is not UTF-8 text", "save it as UTF-8"])


@pytest.mark.slow
def test_densest_params_file_under_the_limit_reads_in_bounded_time(toy, tmp_path, capsys):
    """What the size limit is for: the pure-Python YAML reader's time grows with the values in the file."""
    count = planning.MAX_PARAMS_FILE_BYTES // 2 - 20
    dense = "01_toy:\n  LAYERS: [" + ",".join(["1"] * count) + "]\n"
    assert len(dense) <= planning.MAX_PARAMS_FILE_BYTES
    args = course_cli.build_parser().parse_args(["run", "01_toy", "--notebooks-dir", str(toy[0]),
                                             "--params-file", params_file(tmp_path, dense)])
    start = time.perf_counter()
    plan = runner.plan_executions(args)
    assert len(plan[0].parameters["LAYERS"]) == count
    assert time.perf_counter() - start < 15  # about 2 s on one idle core


def test_too_much_command_line_text_is_refused(toy, capsys):
    values = ",".join(["1"] * 60_000)
    refused(toy, "01_toy", "--grid", f"EPOCHS={values}", "-p", f"PHOTO={'x' * 90_000}", capsys=capsys,
            seconds=2.0, message="characters of values")


# --------------------------------------------------------------------------- the output folder


def test_output_folder_of_the_source_notebooks_is_refused(toy, capsys):
    nbs, _ = toy
    before = {p.name: p.read_bytes() for p in nbs.iterdir()}
    for output in (nbs, nbs / "sub", nbs / "sub" / "deeper"):
        status, err, _, _ = cli((nbs, output), "--overwrite", capsys=capsys)
        assert status == 2 and "the folder of the source notebook" in err, err
        assert f"choose an --output folder outside {nbs.resolve()}" in err
    assert not (nbs / "sub").exists()
    assert {p.name: p.read_bytes() for p in nbs.iterdir()} == before


def test_output_reached_through_links_is_refused(toy, tmp_path, capsys):
    nbs, _ = toy
    link = tmp_path / "linked-out"
    link.symlink_to(nbs, target_is_directory=True)
    status, err, _, _ = cli((nbs, link), "--overwrite", capsys=capsys)
    assert status == 2 and "is the folder of the source notebook" in err
    # a notebook that is a link: the folder it points into is refused as well
    real = write_toy_notebooks(tmp_path / "real", "05_real")
    links = tmp_path / "links"
    links.mkdir()
    (links / "05_real.ipynb").symlink_to(real / "05_real.ipynb")
    status, err, _, _ = cli((links, real), "--overwrite", capsys=capsys)
    assert status == 2 and f"({real.resolve()})" in err
    # an executed copy's file that is the source itself (a hard link) is refused
    out = tmp_path / "hard"
    out.mkdir()
    os.link(nbs / "01_toy.ipynb", out / "01_toy.ipynb")
    status, err, _, _ = cli((nbs, out), "01_toy", "--overwrite", capsys=capsys)
    assert status == 2 and "is the source notebook" in err


def test_default_output_folder_inside_the_notebooks_folder_is_refused(toy, monkeypatch, capsys):
    nbs, _ = toy
    monkeypatch.chdir(nbs)
    assert course_cli.main(["run", "--notebooks-dir", str(nbs)]) == 2
    assert "the default output folder" in capsys.readouterr().err
    assert not (nbs / "runs").exists()


def test_an_output_folder_beside_the_notebooks_is_fine(toy):
    nbs, out = toy
    executions = runner.plan_executions(course_cli.build_parser().parse_args(["run", "--notebooks-dir", str(nbs)]))
    runner.check_output_folder(str(out), executions)
    runner.check_output_folder(str(nbs.parent), executions)  # the folder above: copies go beside nbs/, not in it


# --------------------------------------------------------------------------- an option taken as a value


@pytest.mark.parametrize("value", ["--overwrite", "--over", "--output=elsewhere", "--resume", "-h", "--"])
def test_an_option_of_the_runner_is_not_taken_as_a_value(toy, capsys, value):
    refused(toy, "01_toy", "-p", "PHOTO", value, "--overwrite", capsys=capsys,
            message=[f"{value} is an option of the runner", f"-p PHOTO={value}", f"-p PHOTO \"'{value}'\""])


def test_quoted_option_text_is_a_value(toy):
    nbs, _ = toy
    for argv in (["-p", "PHOTO=--overwrite"], ["-p", "PHOTO", "'--overwrite'"], ["--param", "PHOTO=--overwrite"]):
        args = course_cli.build_parser().parse_args(runner.normalize_param_argv(
            ["run", "01_toy", "--notebooks-dir", str(nbs), *argv], course_cli.build_parser().run_options))
        assert runner.plan_executions(args)[0].parameters == {"PHOTO": "--overwrite"}


def test_a_negative_number_is_a_value_not_an_option():
    options = course_cli.build_parser().run_options
    assert runner.normalize_param_argv(["run", "-p", "SEED", "-1"], options) == ["run", "-p", "SEED=-1"]
    assert not runner.is_option("-1", options) and not runner.is_option("-x", options)
    assert runner.is_option("--max-exec", options) and runner.is_option("--param", options)


# --------------------------------------------------------------------------- ranges


def plan_course(*argv):
    return runner.plan_executions(course_cli.build_parser().parse_args(runner.normalize_param_argv(["run", *argv])))


@pytest.mark.parametrize("argv, message", [
    (["05", "-p", "LEARNING_RATE=nan"], "LEARNING_RATE=nan is not a finite number: LEARNING_RATE takes a number > 0"),
    (["05", "-p", "LEARNING_RATE", "inf"], "LEARNING_RATE=inf is not a finite number"),
    (["05", "-p", "LEARNING_RATE", "1e999"], "LEARNING_RATE=inf is not a finite number"),
    (["05", "-p", "LEARNING_RATE", "0"], "LEARNING_RATE=0 is out of range: LEARNING_RATE takes a number > 0 "
                                         "(its default: 0.001)"),
    (["05", "-p", "EPOCHS=-5"], "EPOCHS=-5 is out of range: EPOCHS takes a number >= 1 (its default: 20)"),
    (["05", "-p", "BATCH_SIZE=0"], "BATCH_SIZE=0 is out of range: BATCH_SIZE takes a number >= 1"),
    (["05", "-p", "DROPOUT_RATE=1"], "DROPOUT_RATE=1 is out of range: DROPOUT_RATE takes a number in [0, 1)"),
    (["05", "-p", "LL_VALIDATION_FRACTION=1.5"], "takes a number in (0, 1)"),
    (["05", "-p", "MIN_TEST_ACCURACY=1.2"], "MIN_TEST_ACCURACY=1.2 is out of range: MIN_TEST_ACCURACY takes a "
                                            "number in [0, 1]"),
    (["05", "-p", "TRAIN_SAMPLES=0"], "TRAIN_SAMPLES=0 is out of range"),
    (["05", "-p", "SEED=-1"], "SEED=-1 is out of range: SEED takes a number in [0, 4294967295]"),
    (["05", "--grid", "EPOCHS=1,0"], "EPOCHS=0 is out of range"),
    (["05", "--grid", "LEARNING_RATE=0.1,.nan"], "LEARNING_RATE=nan is not a finite number"),
    (["07", "-p", "DYING_LEARNING_RATES=[0.001, -1]"], "DYING_LEARNING_RATES holds -1, which is out of range"),
    (["07", "-p", "DYING_LEARNING_RATES=[0.001, .inf]"], "DYING_LEARNING_RATES holds inf, which is not a finite"),
    (["06", "-p", "SHIFT_MAX_PIXELS=14"], "SHIFT_MAX_PIXELS takes a number in [1, 13]"),
    (["04", "-p", "REG_LABEL_NOISE=0.6"], "REG_LABEL_NOISE takes a number in [0, 0.5]"),
    (["06", "-p", "MIN_UNAUGMENTED_GAP=-inf"], "MIN_UNAUGMENTED_GAP=-inf is not a finite number: "
                                               "MIN_UNAUGMENTED_GAP takes any finite number"),
])
def test_values_outside_their_range_are_refused(argv, message):
    with pytest.raises(UsageError) as caught:
        plan_course(*argv)
    assert message in str(caught.value)
    assert str(caught.value).endswith("give a value inside that range")


def test_ranges_apply_to_params_files_and_presets_too(tmp_path, monkeypatch):
    path = params_file(tmp_path, "LEARNING_RATE: .nan\n")
    with pytest.raises(UsageError, match="LEARNING_RATE=nan is not a finite number"):
        plan_course("05", "--params-file", path)
    path = params_file(tmp_path, "05_mlp_image_classification: {EPOCHS: -5}\n")
    with pytest.raises(UsageError, match="EPOCHS=-5 is out of range"):
        plan_course("05", "--params-file", path)
    monkeypatch.setattr(presets, "PRESETS", {"05_mlp_image_classification": {
        "bad": presets.Preset("a preset out of range", grid={"BATCH_SIZE": [32, 0]})}})
    with pytest.raises(UsageError, match="BATCH_SIZE=0 is out of range"):
        plan_course("05", "--preset", "bad")


def test_values_inside_their_range_pass():
    plan = plan_course("05", "-p", "LEARNING_RATE=1e-4", "-p", "EPOCHS=1", "-p", "DROPOUT_RATE=0",
                       "-p", "HIDDEN_LAYERS=0", "-p", "MAX_DROPOUT_RISE_RATIO=0.01", "-p", "SEED=4294967295")
    assert plan[0].parameters["HIDDEN_LAYERS"] == 0


def test_range_out_of_bounds_on_the_command_line_writes_nothing(toy, capsys):
    refused(toy, "01_toy", "-p", "EPOCHS=-5", capsys=capsys, message="EPOCHS=-5 is out of range: EPOCHS takes "
                                                                     "a number >= 1 (its default: 3)")
    refused(toy, "01_toy", "-p", "LEARNING_RATE=nan", capsys=capsys, message="is not a finite number")


# --------------------------------------------------------------------------- work per key and per value


def test_notebooks_are_parsed_once_per_content(tmp_path, monkeypatch):
    folder = write_toy_notebooks(tmp_path / "nbs", "01_toy")
    reads = []
    original = planning._read_notebook_parameters
    monkeypatch.setattr(planning, "_read_notebook_parameters", lambda path: reads.append(path) or original(path))
    grid = ",".join(str(n) for n in range(1, 501))
    plan = runner.plan_executions(course_cli.build_parser().parse_args(
        ["run", "--notebooks-dir", str(folder), "--grid", f"EPOCHS={grid}", "-p", "PHOTO=dog"]))
    assert len(plan) == 500 and len(reads) <= 1
    notebook = folder / "01_toy.ipynb"
    notebook.write_text(notebook.read_text().replace("EPOCHS: int = 3", "EPOCHS: int = 4"))
    os.utime(notebook, ns=(time.time_ns(), time.time_ns() + 10**9))  # a new modification time, as an edit makes
    assert [p.default for p in runner.notebook_parameters(notebook) if p.name == "EPOCHS"] == ["4"]


def test_100_unknown_keys_are_answered_quickly(tmp_path):
    keys = "".join(f"UNKNOWN_{i}: 1\n" for i in range(100))
    start = time.perf_counter()
    with pytest.raises(UsageError, match="UNKNOWN_0 .defined in no notebook.*and 90 more"):
        plan_course("--params-file", params_file(tmp_path, keys))
    assert time.perf_counter() - start < 3.0  # 18 s before: every notebook parsed again per key


def test_a_10000_value_grid_is_capped_and_the_cap_can_be_raised():
    values = ",".join(str(n) for n in range(1, 10_001))
    start = time.perf_counter()
    with pytest.raises(UsageError, match="has 10,000 values, more executions than the cap of 1,000: .* "
                                         "--max-executions 10000"):
        plan_course("05", "--grid", f"EPOCHS={values}")
    assert time.perf_counter() - start < 1.0
    start = time.perf_counter()
    plan = plan_course("05", "--grid", f"EPOCHS={values}", "--max-executions", "10000")
    assert len(plan) == 10_000 and plan[-1].parameters == {"EPOCHS": 10_000}
    assert time.perf_counter() - start < 10.0  # 122 s before (2 busy cores); 0.5 s after


def test_a_product_grid_is_counted_not_expanded():
    values = ",".join(str(n) for n in range(1, 101))
    start = time.perf_counter()
    with pytest.raises(UsageError) as caught:
        plan_course("05", "--grid", f"EPOCHS={values}", "--grid", f"SEED={values}", "--grid", f"BATCH_SIZE={values}",
                    "--grid", f"HIDDEN_UNITS={values}", "--grid", f"BOOK_UNITS={values}")
    assert time.perf_counter() - start < 1.0
    assert "this batch would run 10,000,000,000 executions (05_mlp_image_classification: 10,000,000,000 = 100 " \
           "values of EPOCHS x 100 values of SEED" in str(caught.value)
    assert "raise the cap with --max-executions 10000000000" in str(caught.value)


def test_the_cap_counts_every_notebook_and_preset_grid(toy, monkeypatch, capsys):
    refused(toy, "--grid", "EPOCHS=1,2,3", "--max-executions", "5", capsys=capsys,
            message="this batch would run 6 executions (01_toy: 3 = 3 values of EPOCHS; 02_other: 3")
    monkeypatch.setattr(presets, "PRESETS", {"01_toy": {"big": presets.Preset("a grid", grid={"EPOCHS": [1, 2]})},
                                             "02_other": {"big": presets.Preset("a grid", grid={"EPOCHS": [1, 2]})}})
    refused(toy, "--preset", "big", "--grid", "BATCH_SIZE=8,16", "--max-executions", "7", capsys=capsys,
            message="this batch would run 8 executions")
    with pytest.raises(SystemExit) as exited:  # argparse's own usage error
        cli(toy, "--max-executions", "0", capsys=capsys)
    assert exited.value.code == 2 and "expected a whole number of at least 1" in capsys.readouterr().err


def test_a_long_grid_value_gives_a_bounded_unique_file_name(toy):
    long_a, long_b = "a" * 300 + "1", "a" * 300 + "2"
    plan = runner.plan_executions(course_cli.build_parser().parse_args(
        ["run", "01_toy", "--notebooks-dir", str(toy[0]), "--grid", f"PHOTO={long_a},{long_b}"]))
    stems = [e.stem for e in plan]
    assert len(set(stems)) == 2 and all(len(s) <= planning.MAX_STEM_CHARS for s in stems)
    assert stems[0].startswith("01_toy__PHOTO=aaaa")


# --------------------------------------------------------------------------- fuzzing params files


NAMES = ["PHOTO", "LAYERS", "EPOCHS", "BATCH_SIZE", "LEARNING_RATE", "DROPOUT", "MIN_ACCURACY", "USE_BONUS",
         "UNKNOWN", "01_toy", "02_other", "03_none", "x" * 300, "", "null", "1", "<<", "? a"]
SCALARS = ["0", "-1", "3", "16", "0.5", "1e-3", "1e999", "-1e999", ".nan", ".inf", "-.inf", "nan", "inf", "true",
           "false", "no", "yes", "on", "010", "0x1F", "0o17", "1:30", "1_000", "._", "+.5", "~", "null", "None",
           "2020-01-01", "2020-13-45", "12:30:45", "'quoted'", '"dq \\u263a"', '"bad escape \\q"', "&a 1", "*a",
           "!!int x", "!!float x", "!!str 3", "!!binary x", "!custom 1", "! 1", "|\n  block", ">\n  folded",
           "[]", "{}", "[1, [2, [3, [4]]]]", "{a: 1}", "'", '"', "%YAML 1.2", "---", "...", "- 1", ": x",
           "\t1", "\x00", "\x07", "é", "\U0001F600", "9" * 30, "-" + "9" * 25, "1" * 200 + ".5",
           "0." + "0" * 400 + "1", "1e-400", "@x", "`x", "=", "--overwrite"]


def random_value(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth < 12 and roll < 0.25:
        return "[" + ", ".join(random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))) + "]"
    if depth < 12 and roll < 0.35:
        return "{" + ", ".join(f"{rng.choice(NAMES[:8])}: {random_value(rng, depth + 1)}"
                               for _ in range(rng.randint(0, 3))) + "}"
    if roll < 0.4:
        return rng.choice(["&a ", "&b ", "", "", ""]) + rng.choice(SCALARS) if rng.random() < 0.7 else "*a"
    if roll < 0.5:
        return str(rng.randint(-10**6, 10**6) * 10 ** rng.randint(0, 30))
    if roll < 0.55:
        return repr(rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-300, 300))
    return rng.choice(SCALARS)


def random_document(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(0, 6)):
        key = rng.choice(NAMES) if rng.random() < 0.3 else rng.choice(NAMES[:10])
        if key in ("01_toy", "02_other", "03_none") and rng.random() < 0.7:
            lines.append(f"{key}:")
            lines += [f"  {rng.choice(NAMES[:9])}: {random_value(rng)}" for _ in range(rng.randint(0, 4))]
        else:
            lines.append(f"{key}: {random_value(rng)}")
    text = "\n".join(lines) + "\n"
    for _ in range(rng.choice([0, 0, 0, 1, 3])):  # byte-level mutations: delete, duplicate, insert, swap
        if not text:
            break
        i, j = sorted(rng.randrange(len(text) + 1) for _ in range(2))
        op = rng.randrange(4)
        if op == 0:
            text = text[:i] + text[j:]
        elif op == 1:
            text = text[:j] + text[i:j] * rng.randint(1, 20) + text[j:]
        elif op == 2:
            text = text[:i] + rng.choice("[]{}&*!:-,'\"#|>%@`\n\t ") + text[i:]
        else:
            text = text[:i] + text[j:] + text[i:j]
    if rng.random() < 0.05:  # now and then, a billion-laughs shape or a deep one
        text = rng.choice([billion_laughs(levels=rng.randint(2, 9), key=rng.choice(NAMES[:3])),
                           "LAYERS: " + "[" * rng.randint(1, 3000) + "1" + "]" * rng.randint(0, 3000) + "\n"])
    return text[:planning.MAX_PARAMS_FILE_BYTES]


@pytest.mark.slow
def test_fuzzed_params_files_end_in_a_usage_error_or_a_plan(tmp_path):
    """400 seeded documents, planned in-process: each a :class:`UsageError` with a bounded message or a list of
    executions whose values have the defaults' types and lie in their ranges; never another exception."""
    nbs = write_toy_notebooks(tmp_path / "nbs", "01_toy", "02_other")
    path = tmp_path / "fuzz.yaml"
    rng = random.Random(20261201)
    outcomes = {"plan": 0, "usage error": 0}
    start = time.perf_counter()
    for case in range(400):
        text = random_document(rng)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        args = course_cli.build_parser().parse_args(["run", "--notebooks-dir", str(nbs), "--params-file", str(path)])
        began = time.perf_counter()
        try:
            plan = runner.plan_executions(args)
        except UsageError as exc:
            outcomes["usage error"] += 1
            assert len(str(exc)) < planning.MAX_MESSAGE_CHARS, f"case {case}: {len(str(exc)):,} characters"
        except Exception as exc:  # noqa: BLE001 - the point of the test
            pytest.fail(f"case {case}: {type(exc).__name__}: {str(exc)[:300]}\n--- document:\n{text[:1000]!r}")
        else:
            outcomes["plan"] += 1
            for execution in plan:
                runner.check_values(execution.notebook, execution.parameters)  # again: nothing slipped through
        assert time.perf_counter() - began < 5.0, f"case {case} took {time.perf_counter() - began:.1f} s"
    print(outcomes)
    assert outcomes["plan"] >= 20 and outcomes["usage error"] >= 100, outcomes
    assert time.perf_counter() - start < 60


@pytest.mark.slow
def test_fuzzed_params_files_through_the_command_line(tmp_path):
    """A handful of the documents through ``python -m helpers run`` in a child process: exit status 2 and no
    traceback (``--kernel`` names no kernel, so a valid plan stops there too, before any output folder)."""
    nbs = write_toy_notebooks(tmp_path / "nbs", "01_toy")
    rng = random.Random(7)
    texts = [random_document(rng), billion_laughs(), "LAYERS: &a [8, *a]\n", "EPOCHS: 4\n"]
    for i, text in enumerate(texts):
        path = params_file(tmp_path, text, f"case{i}.yaml")
        out = tmp_path / f"out{i}"
        result = subprocess.run([sys.executable, "-m", "helpers", "run", "--notebooks-dir", str(nbs), "--output",
                                 str(out), "--params-file", path, "--kernel", "no-such-kernel"],
                                capture_output=True, text=True, timeout=60, cwd=REPO)
        assert result.returncode == 2, (text, result.stderr[-2000:])
        assert "Traceback" not in result.stderr and len(result.stderr) < planning.MAX_MESSAGE_CHARS + 200
        assert not out.exists()
