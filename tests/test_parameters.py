"""helpers.parameters: the grammar of a parameters cell, the course's cells written in it, and the check a notebook
makes of itself (helpers.check_parameters) from IPython's input history."""

import json
import logging
from pathlib import Path

import nbformat
import pytest

import helpers
from helpers import parameters
from helpers.parameters import DeclarationError, Range, check_parameters, find_declaration, parse

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))

EXAMPLE = '''# Parameters (papermill can change any of these: -p NAME VALUE)
EPOCHS: int = 20                # passes over the training data [at least 1]
RATE: float = 0.001             # the optimizer's step size [above 0]
DROPOUT: float = 0.5            # share of units dropped [0 to below 1]
SHARE: float = 0.1              # held out [above 0 to below 1]
TOP: int = 5                    # labels shown [1 to 1000]
SHIFT: int = 4                  # pixels [at most 13]
GAP: float = 0.1                # anything finite, negative included
ACTIVATION: str = "relu"        # hidden-layer activation ["relu", "tanh" or "sigmoid"]
FLIP: str = "horizontal"        # flips [None, "horizontal" or "vertical"]
TRAIN_SAMPLES: int = None       # training images; None: all of them [at least 1 or None]
TEST_SAMPLES: int = 2000        # test images [at least 1 or None]
DATA_DIR: str = None            # a folder; None: the course's data
MODELS: list[str] = ["vgg16"]   # models compared ["vgg16", "resnet50", "mobilenet"]
RATES: list[float] = [0.001, 0.05]  # learning rates (clipped to [0, 1] first) [above 0]
SHOW: bool = True               # a switch
'''


@pytest.fixture(scope="module")
def example():
    return parse(EXAMPLE)


# --------------------------------------------------------------------------- the grammar


def test_types_defaults_and_help(example):
    assert list(example) == ["EPOCHS", "RATE", "DROPOUT", "SHARE", "TOP", "SHIFT", "GAP", "ACTIVATION", "FLIP",
                             "TRAIN_SAMPLES", "TEST_SAMPLES", "DATA_DIR", "MODELS", "RATES", "SHOW"]
    assert [(d.type, d.default) for d in example.values()][:3] == [("int", 20), ("float", 0.001), ("float", 0.5)]
    assert example["MODELS"].type == "list[str]" and example["MODELS"].item_type == "str"
    assert example["EPOCHS"].help == "passes over the training data [at least 1]"  # papermill's help: the comment
    assert example["EPOCHS"].line == 2 and example["EPOCHS"].annotated


@pytest.mark.parametrize("name, expected", [
    ("EPOCHS", Range(1)), ("RATE", Range(0, low_open=True)), ("DROPOUT", Range(0, 1, high_open=True)),
    ("SHARE", Range(0, 1, low_open=True, high_open=True)), ("TOP", Range(1, 1000)), ("SHIFT", Range(high=13)),
    ("GAP", None), ("TRAIN_SAMPLES", Range(1)), ("RATES", Range(0, low_open=True)),
])
def test_ranges(example, name, expected):
    assert example[name].range == expected


def test_choices_and_none(example):
    assert example["ACTIVATION"].choices == ("relu", "tanh", "sigmoid")
    assert example["MODELS"].choices == ("vgg16", "resnet50", "mobilenet")  # commas alone work too
    assert example["FLIP"].choices == (None, "horizontal", "vertical") and example["FLIP"].none_allowed
    assert [name for name, d in example.items() if d.none_allowed] == ["FLIP", "TRAIN_SAMPLES", "TEST_SAMPLES",
                                                                        "DATA_DIR"]  # a None default allows None


def test_only_the_last_bracket_of_the_comment_is_the_rule(example):
    assert example["RATES"].range == Range(0, low_open=True)  # "[0, 1]" inside the meaning is text


def test_range_membership_and_wording():
    assert 1 in Range(0, 1) and 1 not in Range(0, 1, high_open=True) and 0 not in Range(0, low_open=True)
    assert float("nan") not in Range() and float("inf") not in Range(0) and 10**400 in Range(1)
    assert str(Range(1)) == "a number >= 1" and str(Range(0, 1, high_open=True)) == "a number in [0, 1)"
    assert str(Range(0, 4294967295)) == "a number in [0, 4294967295]" and str(Range(high=0.5)) == "a number <= 0.5"
    assert str(Range()) == "any finite number"


def test_an_assignment_without_a_type_takes_its_default_s_and_code_is_no_parameter():
    declared = parse("import os\nA = 3  # three [at least 1]\nB = C = [1, 2.5]\nD = 2 ** 8\nfor i in []:\n    E = 1\n")
    assert [(d.name, d.type, d.annotated) for d in declared.values()] == [
        ("A", "int", False), ("B", "list[float]", False), ("C", "list[float]", False), ("D", None, False)]
    assert declared["A"].range == Range(1) and declared["D"].problem("anything") is None  # an expression: any value


@pytest.mark.parametrize("source, message", [
    ("X: tuple = (1, 2)", "line 1 (X): unknown type 'tuple'; use one of int, float, str, bool"),
    ("X: int = 1  # [1 to]", "cannot read [1 to] at the end of its comment"),
    ("X: int = 1  # [1 or or 2]", "cannot read [1 or or 2]"),
    ('X: str = "a"  # [at least 1]', "[at least 1] is a range of numbers, but X is str"),
    ('X: int = 1  # ["a" or "b"]', "the choice 'a' is not an int"),
    ("\nX = None  # nothing yet", "line 2 (X): a default of None says nothing about the values X takes: give it a "
                                  "type, e.g. X: int = None"),
    ("X: int = (", "the parameters cell is not Python"),
])
def test_grammar_errors_name_the_line_and_the_fix(source, message):
    with pytest.raises(DeclarationError) as caught:
        parse(source)
    assert message in str(caught.value)


# --------------------------------------------------------------------------- what a value may be


@pytest.mark.parametrize("name, value, message", [
    ("EPOCHS", -5, "EPOCHS=-5 is out of range: EPOCHS takes a number >= 1 (its default: 20); give a value inside "
                   "that range"),
    ("EPOCHS", 2.0, "EPOCHS=2.0 is a float, but EPOCHS takes an int >= 1 (its default: 20); give a value of that type"),
    ("EPOCHS", True, "EPOCHS=True is a bool, but EPOCHS takes an int >= 1"),
    ("EPOCHS", None, "EPOCHS=None is not a setting of this parameter: EPOCHS takes an int >= 1 (its default: 20)"),
    ("RATE", float("nan"), "RATE=nan is not a finite number: RATE takes a number > 0"),
    ("GAP", float("-inf"), "GAP=-inf is not a finite number: GAP takes any finite number"),
    ("DROPOUT", 1, "DROPOUT=1 is out of range: DROPOUT takes a number in [0, 1)"),
    ("ACTIVATION", "swish", "ACTIVATION='swish' is not one of the valid choices: relu, tanh, sigmoid"),
    ("ACTIVATION", 1, 'ACTIVATION=1 is an int, but ACTIVATION takes one of "relu", "tanh" or "sigmoid"'),
    ("TRAIN_SAMPLES", "abc", "TRAIN_SAMPLES='abc' is a str, but TRAIN_SAMPLES takes None or an int >= 1"),
    ("TRAIN_SAMPLES", 0, "TRAIN_SAMPLES=0 is out of range"),
    ("MODELS", "vgg16", "MODELS='vgg16' is a str, but MODELS takes a list, each one of"),
    ("MODELS", ["vgg16", "vgg61"], "MODELS holds 'vgg61', which is not one of the valid choices: vgg16, resnet50"),
    ("MODELS", ["vgg16", 3], "MODELS holds 3, which is an int, but MODELS takes a list"),
    ("RATES", [0.001, -1], "RATES holds -1, which is out of range: RATES takes a number > 0"),
    ("RATES", [float("inf")], "RATES holds inf, which is not a finite number"),
    ("SHOW", 1, "SHOW=1 is an int, but SHOW takes a bool (its default: True)"),
    pytest.param("EPOCHS", 10**5000, None, id="EPOCHS-huge"),
    pytest.param("SHIFT", 10**5000, "SHIFT=<an integer of about 5001 digits> is out of range", id="SHIFT-huge"),
])
def test_problem_names_the_parameter_the_value_what_it_takes_and_the_fix(example, name, value, message):
    problem = example[name].problem(value)
    assert problem == message if message is None else message in problem
    if message is not None:
        with pytest.raises(ValueError, match="give a value|valid choices"):
            example[name].check(value)


@pytest.mark.parametrize("name, value", [("RATE", 1), ("DROPOUT", 0), ("FLIP", None), ("TEST_SAMPLES", None),
                                         ("DATA_DIR", "/data"), ("MODELS", []), ("RATES", [1, 0.5]), ("GAP", -3)])
def test_allowed_values_pass(example, name, value):
    assert example[name].problem(value) is None


# --------------------------------------------------------------------------- the course's parameters cells


def parameters_cell(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "".join(next(c for c in cells if "parameters" in c["metadata"].get("tags", []))["source"])


def setup_cell(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    index = next(i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", []))
    return "".join(cells[index + 1]["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_parameter_has_a_type_and_its_default_is_allowed(path):
    declared = parse(parameters_cell(path))
    assert declared, f"{path.name}: no parameters"
    assert [name for name, d in declared.items() if not d.annotated] == [], f"{path.name}: parameters without a type"
    for declaration in declared.values():
        assert declaration.problem(declaration.default) is None, f"{path.name}: {declaration.name}'s default"
        assert "=" not in declaration.help, f"{path.name}: {declaration.name}: papermill skips a comment with '='"
    seeds = declared["SEED"]
    assert seeds.range == Range(0, 2**32 - 1), f"{path.name}: SEED takes NumPy's seeds"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_sees_every_type_and_help(path, caplog):
    from papermill.inspection import inspect_notebook

    with caplog.at_level(logging.WARNING, logger="papermill"):
        seen = inspect_notebook(str(path))
    assert not [r.getMessage() for r in caplog.records if "Unable to parse" in r.getMessage()]
    declared = parse(parameters_cell(path))
    assert list(seen) == list(declared)
    for name, declaration in declared.items():
        assert seen[name]["inferred_type_name"] == declaration.type
        assert seen[name]["help"] == declaration.help


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_setup_cell_checks_its_parameters_in_one_call(path):
    source = setup_cell(path)
    assert source.count("helpers.check_parameters(globals())") == 1, f"{path.name}: the setup cell's one call"
    assert source.count("raise ValueError") <= 2, f"{path.name}: only checks that relate two parameters stay here"


# --------------------------------------------------------------------------- a notebook checks itself


def test_find_declaration_takes_the_latest_cell_with_types():
    history = ["", "X: int = 1  # first", "import helpers", "X: int = 2  # edited and run again [at least 1]",
               "# Parameters\nX = 0\n", "print(X)", "def f(:"]
    assert find_declaration(history) == history[3]  # papermill's injected cell (no types) is passed over
    assert find_declaration(["print(1)", "x = 1"]) is None


def test_check_parameters_reads_the_history_and_names_the_bad_value():
    namespace = {"In": ["", EXAMPLE, "# Parameters\nEPOCHS = 0\n", "helpers.check_parameters(globals())"]}
    exec(EXAMPLE, namespace)
    namespace["EPOCHS"] = 0  # what papermill's injected cell did
    with pytest.raises(ValueError, match=r"EPOCHS=0 is out of range: EPOCHS takes a number >= 1 \(its default: 20\)"):
        check_parameters(namespace)
    namespace["EPOCHS"] = 3
    values = check_parameters(namespace)
    assert values["EPOCHS"] == 3 and list(values) == list(parse(EXAMPLE))


def test_a_list_given_as_text_becomes_the_list():
    """Papermill's -p passes a list as text: 'a,b', '[a, b]' or '["a", "b"]' (notebook 09's exercises use it)."""
    namespace = {}
    exec(EXAMPLE, namespace)
    for text in ("vgg16,resnet50", "[vgg16, resnet50]", '["vgg16", "resnet50"]'):
        namespace["MODELS"], namespace["RATES"] = text, "[0.1, 1]"
        check_parameters(namespace, declaration=EXAMPLE)
        assert namespace["MODELS"] == ["vgg16", "resnet50"] and namespace["RATES"] == [0.1, 1.0]
    namespace["MODELS"] = "vgg16,vgg61"
    with pytest.raises(ValueError, match="MODELS holds 'vgg61', which is not one of the valid choices"):
        check_parameters(namespace, declaration=EXAMPLE)
    namespace["MODELS"], namespace["RATES"] = [], "0.1,fast"
    with pytest.raises(ValueError, match="RATES='0.1,fast' is text that is not a list of float values"):
        check_parameters(namespace, declaration=EXAMPLE)


def test_without_history_or_parameters_cell_the_error_says_what_to_do():
    with pytest.raises(ValueError, match="IPython's input history .In., which this namespace lacks"):
        check_parameters({"X": 1})
    with pytest.raises(ValueError, match="No parameters cell has run yet"):
        check_parameters({"In": ["", "import helpers", "helpers.check_parameters(globals())"]})
    with pytest.raises(ValueError, match="EPOCHS is declared in the parameters cell but has no value here"):
        check_parameters({}, declaration=EXAMPLE)


def test_in_ipython_the_history_holds_the_cell_as_last_run():
    """The kernel's own history (what Jupyter and papermill run through), not a hand-made list."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.reset()
        assert shell.run_cell("EPOCHS: int = 20  # passes [at least 1]", store_history=True).success
        assert shell.run_cell("print('another cell')", store_history=True).success
        assert shell.run_cell("import helpers\nhelpers.check_parameters(globals())", store_history=True).success
        assert shell.run_cell("EPOCHS: int = 0  # passes [at least 1]", store_history=True).success  # edited, run
        result = shell.run_cell("helpers.check_parameters(globals())", store_history=True)
        assert "EPOCHS=0 is out of range" in str(result.error_in_exec)
    finally:
        shell.reset()
        InteractiveShell.clear_instance()


def test_check_parameters_is_the_package_s():
    assert helpers.check_parameters is parameters.check_parameters


@pytest.mark.slow
def test_a_notebook_copied_alone_checks_itself_under_papermill(tmp_path):
    """A real kernel, a folder holding nothing but the notebook: the check needs neither the runner nor a path."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('EPOCHS: int = 3  # passes [at least 1]\nNAMES: list[str] = ["a"]  # names '
                                          '["a", "b" or "c"]', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import helpers\nhelpers.check_parameters(globals())\nprint(NAMES)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder = tmp_path / "alone"
    folder.mkdir()
    nbformat.write(nb, folder / "toy.ipynb")
    run = papermill.execute_notebook(str(folder / "toy.ipynb"), str(tmp_path / "ok.ipynb"), cwd=str(folder),
                                     parameters={"NAMES": "b,c"}, progress_bar=False, kernel_name="python3")
    assert "['b', 'c']" in run.cells[-1].outputs[0]["text"]
    with pytest.raises(PapermillExecutionError, match="EPOCHS=0 is out of range: EPOCHS takes a number >= 1"):
        papermill.execute_notebook(str(folder / "toy.ipynb"), str(tmp_path / "bad.ipynb"), cwd=str(folder),
                                   parameters={"EPOCHS": 0}, progress_bar=False, kernel_name="python3")


def test_check_parameters_without_history_reads_the_notebook_in_the_working_folder(tmp_path, monkeypatch):
    """nbval runs cells with store_history=False: In holds no cell, but the parameters cell has run (its names are in
    __annotations__) and the kernel works in the notebook's folder, whose parameters-tagged cell declares them."""
    cell = 'EPOCHS: int = 3  # passes [at least 1]\nNAME: str = "a"  # which ["a" or "b"]\n'
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print('another notebook')"),
        nbformat.v4.new_code_cell(cell, metadata={"tags": ["parameters"]})])
    nbformat.write(notebook, tmp_path / "01_demo.ipynb")
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("OTHER: int = 1", metadata={"tags": ["parameters"]})])
    nbformat.write(other, tmp_path / "00_other.ipynb")
    (tmp_path / "02_broken.ipynb").write_text("{not json", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    namespace = {"In": [""], "__annotations__": {"EPOCHS": int, "NAME": str}, "EPOCHS": 3, "NAME": "a"}
    assert parameters.check_parameters(namespace) == {"EPOCHS": 3, "NAME": "a"}
    with pytest.raises(ValueError, match="NAME"):
        parameters.check_parameters({**namespace, "NAME": "c"})
    with pytest.raises(ValueError, match="No parameters cell has run yet"):
        parameters.check_parameters({"In": [""], "__annotations__": {"ELSE": int}, "ELSE": 1})
