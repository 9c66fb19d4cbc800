"""Planning a batch: find the notebooks, read their parameters cells, parse and validate values, presets and
grids, and turn a command line into a list of executions (nothing runs and nothing is written here, except
the output folder that :func:`prepare_output_dir` creates).
"""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
DEFAULT_KERNEL = "python3"
NOTEBOOK_RE = re.compile(r"^(\d+)_\w+\.ipynb$")
PARAM_FLAGS = ("-p", "--param")
FLOAT_RE = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


class UsageError(Exception):
    """A problem with the command line; reported as one message with exit status 2."""


@dataclass(frozen=True)
class Parameter:
    """One assignment in a notebook's ``parameters`` cell."""

    name: str
    default: str  # source text of the default value
    help: str = ""  # trailing comment, if any


@dataclass
class Execution:
    """One planned (and later finished) notebook execution."""

    notebook: Path
    parameters: dict[str, Any]
    grid: dict[str, Any] = field(default_factory=dict)
    status: str = "pending"
    wall_time: float | None = None
    error: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None  # the --preset the parameters came from
    strict: bool = True  # False: parameters the thresholds were not set for; a missed threshold is reported
    resumed: bool = False  # True when --resume took the result from an earlier run's record
    card: dict[str, Any] = field(default_factory=dict)  # versions, device, seed, parameters (helpers.run_record)

    @property
    def key(self) -> str:
        """What identifies this execution for --resume (notebook content, parameters, preset, versions)."""
        from helpers import run_record

        return run_record.execution_key(self.notebook, self.parameters, self.preset)

    @property
    def stem(self) -> str:
        """File stem of the executed copy, e.g. ``05_mlp__ACTIVATION=tanh__EPOCHS=3`` or ``05_mlp__tutorial``."""
        stem = self.notebook.stem if self.preset is None else f"{self.notebook.stem}__{safe_filename_part(self.preset)}"
        return execution_stem(stem, self.grid)


# --------------------------------------------------------------------------- notebooks


def discover_notebooks(notebooks_dir: Path) -> list[Path]:
    """Return the ``NN_*.ipynb`` notebooks of ``notebooks_dir``, sorted by file name."""
    notebooks_dir = Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        raise UsageError(f"notebooks folder not found: {notebooks_dir} (use --notebooks-dir)")
    return sorted(p for p in notebooks_dir.iterdir() if NOTEBOOK_RE.match(p.name))


def resolve_notebook(name: str, available: list[Path]) -> Path:
    """Resolve ``name`` (stem ``03_keras_basics``, number ``03``/``3``, file name or path) to a notebook."""
    candidates = [name, Path(name).name, Path(name).stem]
    for notebook in available:
        if notebook.stem in candidates or notebook.name in candidates:
            return notebook
    if name.isdigit():
        matches = [nb for nb in available if int(NOTEBOOK_RE.match(nb.name).group(1)) == int(name)]
        if len(matches) == 1:
            return matches[0]
    path = Path(name)
    if path.suffix == ".ipynb" and path.is_file():
        return path.resolve()
    valid = ", ".join(nb.stem for nb in available) or "(none found)"
    raise UsageError(f"unknown notebook {name!r}; valid notebooks: {valid}")


def select_notebooks(names: list[str], notebooks_dir: Path) -> list[Path]:
    """Return the notebooks to run: all of ``notebooks_dir`` when ``names`` is empty."""
    available = discover_notebooks(notebooks_dir)
    if not names:
        if not available:
            raise UsageError(f"no NN_*.ipynb notebooks in {notebooks_dir}")
        return available
    return [resolve_notebook(name, available) for name in names]


def notebook_parameters(notebook: Path) -> list[Parameter]:
    """Parse the cell tagged ``parameters`` of ``notebook`` (empty list when it has none)."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    for cell in cells:
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            return parse_parameters_source(source, notebook)
    return []


def parse_parameters_source(source: str, where: Any = "parameters cell") -> list[Parameter]:
    """Return the top-level ``NAME = value`` assignments of a parameters cell's source."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise UsageError(f"cannot parse the parameters cell of {where}: {exc}") from None
    lines = source.splitlines()
    params = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        default = ast.get_source_segment(source, node.value) or ""
        rest = lines[node.end_lineno - 1][node.end_col_offset:]
        comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
        params += [Parameter(t.id, default, comment) for t in targets if isinstance(t, ast.Name)]
    return params


# --------------------------------------------------------------------------- parameters


YAML11_SURPRISES = (
    (re.compile(r"(?i)(yes|no|on|off|y|n)"), "YAML 1.1 reads it as a boolean: write true or false (or quote a string)"),
    (re.compile(r"[-+]?0[0-7_]+"), "YAML 1.1 reads a leading 0 as octal (010 is 8): drop the leading zero"),
    (re.compile(r"[-+]?\d+(:[0-5]?\d)+(\.\d*)?"), "YAML 1.1 reads 1:30 as 90 (base 60): quote it for text"),
)


AMBIGUOUS_TAG = "tag:dlfb,2026:yaml11-ambiguous"


def strict_yaml_loader():
    """A safe YAML loader with YAML 1.2's scalars: only true/false are booleans and integers are
    decimal, so ``no``, ``010`` and ``1:30`` stay text (and then fail the type check with a message)."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        pass

    StrictLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers
                if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    StrictLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                       list("tTfF"))
    StrictLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"),
                                       list("-+0123456789"))
    # An unquoted value that YAML 1.1 would read as something else is refused, saying how to write it.
    alternatives = [pattern.pattern.replace("(?i)(", "(?i:") for pattern, _ in YAML11_SURPRISES]
    ambiguous = re.compile("^(?:" + "|".join(alternatives) + ")$")
    for first in set("yYnNoO-+0123456789"):
        StrictLoader.yaml_implicit_resolvers.setdefault(first, []).insert(0, (AMBIGUOUS_TAG, ambiguous))

    def refuse(loader, node):
        text = loader.construct_scalar(node)
        why = next(why for pattern, why in YAML11_SURPRISES if pattern.fullmatch(text))
        raise UsageError(f"value {text!r} (line {node.start_mark.line + 1}) is ambiguous: {why}")

    StrictLoader.add_constructor(AMBIGUOUS_TAG, refuse)
    return StrictLoader


def parse_value(text: str) -> Any:
    """Parse a command-line value as a YAML scalar: ``3`` -> 3, ``0.5`` and ``1e-3`` -> float,
    ``true`` -> True, ``None``/``null`` -> None, ``[64, 32]`` -> list; anything else stays a string.

    Values that YAML 1.1 would silently turn into something else (``no`` -> False, ``010`` -> 8,
    ``1:30`` -> 90) are refused with a message that says how to write them.
    """
    import yaml

    stripped = text.strip()
    if stripped in ("None", "null", "~"):
        return None
    if FLOAT_RE.fullmatch(stripped):  # YAML 1.1 reads 1e-3 as a string
        return float(stripped)
    for pattern, why in YAML11_SURPRISES:
        if pattern.fullmatch(stripped):
            raise UsageError(f"value {stripped!r} is ambiguous: {why}")
    try:
        value = yaml.load(stripped, Loader=strict_yaml_loader())
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (bool, int, float, str, list, dict)) else text


def normalize_param_argv(argv: list[str]) -> list[str]:
    """Rewrite ``-p NAME VALUE`` as ``-p NAME=VALUE`` so argparse sees one token per ``-p``."""
    out, i = [], 0
    while i < len(argv):
        token = argv[i]
        out.append(token)
        if token in PARAM_FLAGS and i + 2 < len(argv) and "=" not in argv[i + 1]:
            out.append(f"{argv[i + 1]}={argv[i + 2]}")
            i += 3
            continue
        i += 1
    return out


def split_assignment(text: str, option: str) -> tuple[str, str]:
    """Split ``NAME=VALUE`` into its parts; reject a missing ``=`` or an invalid name."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise UsageError(f"{option} expects NAME=VALUE (or -p NAME VALUE), got {text!r}")
    return name, value


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """Parse repeated ``-p NAME=VALUE`` arguments into a dict (the last one wins)."""
    params = {}
    for pair in pairs:
        name, value = split_assignment(pair, "-p")
        params[name] = parse_value(value)
    return params


def split_grid_values(text: str) -> list[str]:
    """Split ``v1,v2,...`` on commas that are not inside brackets (so ``[1,2],[3]`` gives two values)."""
    values, depth, current = [], 0, ""
    for char in text:
        depth += (char in "[{(") - (char in "]})")
        if char == "," and depth == 0:
            values.append(current)
            current = ""
        else:
            current += char
    return values + [current]


def parse_grid(specs: list[str]) -> dict[str, list[Any]]:
    """Parse repeated ``--grid NAME=v1,v2`` arguments into ``{NAME: [v1, v2]}`` (command-line order)."""
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        name, values = split_assignment(spec, "--grid")
        if name in grid:
            raise UsageError(f"--grid {name} given twice; list all values once: --grid {name}=v1,v2")
        parsed = [parse_value(v.strip()) for v in split_grid_values(values) if v.strip()]
        if not parsed:
            raise UsageError(f"--grid {name} has no values; use --grid {name}=v1,v2,...")
        grid[name] = parsed
    return grid


def expand_grid(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Cartesian product of a grid: ``{a: [1, 2], b: [x]}`` -> ``[{a: 1, b: x}, {a: 2, b: x}]``."""
    names = list(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def format_value(value: Any) -> str:
    """Compact text for a parameter or metric value (floats to 4 significant digits)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def safe_filename_part(text: str) -> str:
    """Replace characters that are unsafe in file names with ``-``."""
    return re.sub(r"[^A-Za-z0-9._+=-]+", "-", text).strip("-.") or "_"


def execution_stem(stem: str, grid_values: dict[str, Any]) -> str:
    """Name of an executed copy: ``05_mlp`` + ``{ACTIVATION: tanh}`` -> ``05_mlp__ACTIVATION=tanh``."""
    parts = [safe_filename_part(f"{name}={format_value(value)}") for name, value in grid_values.items()]
    return "__".join([stem, *parts])


def coerce_yaml_float(value: Any) -> Any:
    """Turn strings like ``1e-3`` (a string for YAML 1.1) into floats; leave other values alone."""
    return float(value) if isinstance(value, str) and FLOAT_RE.fullmatch(value.strip()) else value


def load_params_file(path: Path | None, stems: set[str]) -> tuple[dict[str, Any], dict[str, dict]]:
    """Read a YAML parameters file -> (parameters for every notebook, {stem: parameters})."""
    if path is None:
        return {}, {}
    import yaml

    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=strict_yaml_loader()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read --params-file {path}: {exc}") from None
    except UsageError as exc:  # a YAML 1.1 surprise
        raise UsageError(f"--params-file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"--params-file {path} must hold a mapping of NAME: value")
    common, per_notebook = {}, {}
    for key, value in data.items():
        key = str(key)
        if NOTEBOOK_RE.match(key + ".ipynb"):
            if key not in stems:
                raise UsageError(f"--params-file section {key!r} names no notebook; valid: {', '.join(sorted(stems))}")
            if not isinstance(value, dict):
                raise UsageError(f"--params-file section {key!r} must be a mapping of NAME: value")
            per_notebook[key] = {str(k): coerce_yaml_float(v) for k, v in value.items()}
        else:
            common[key] = coerce_yaml_float(value)
    return common, per_notebook


def _a(noun: str) -> str:
    """``"an int"``, ``"a float"``."""
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def same_kind(value: Any, default: Any) -> bool:
    """Whether ``value`` has the type of ``default``: an int fits a float, and a bool never passes for a
    number. (None is handled by :func:`check_value_types`.)"""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def check_value_types(notebook: Path, values: dict[str, Any]) -> None:
    """Reject values whose type differs from the default in the notebook's ``parameters`` cell.

    None is accepted where the default is None, or where the parameter's comment says what None means
    (``# ... None: all 10,000``). A parameter whose default is None takes None or a value of the type
    :data:`helpers.presets.NONE_DEFAULT_TYPES` gives it.
    """
    from helpers import presets

    params = {p.name: p for p in notebook_parameters(notebook)}
    typed = presets.NONE_DEFAULT_TYPES.get(notebook.stem, {})
    for name, value in values.items():
        try:
            default = ast.literal_eval(params[name].default)
        except (KeyError, ValueError, SyntaxError):
            continue  # a default that is an expression: nothing to compare with
        if value is None:
            if default is not None and "None" not in (params[name].help or ""):
                raise UsageError(f"{notebook.stem}: {name}=None is not a setting of this parameter (its default is "
                                 f"{params[name].default} and its comment gives None no meaning); give "
                                 f"{_a(type(default).__name__)}")
            continue
        if default is None:
            wanted = typed.get(name)
            if wanted is not None and not same_kind(value, wanted()):
                raise UsageError(f"{notebook.stem}: {name}={value!r} is {_a(type(value).__name__)}, but {name} takes "
                                 f"None or {_a(wanted.__name__)} ({params[name].help})")
            continue
        if not same_kind(value, default):
            raise UsageError(f"{notebook.stem}: {name}={value!r} is {_a(type(value).__name__)}, but its default "
                             f"{params[name].default} is {_a(type(default).__name__)}; give a value of that type")
    check_choices(notebook, values)


def check_choices(notebook: Path, values: dict[str, Any]) -> None:
    """Reject a value outside the fixed set of choices a notebook has for that parameter
    (:data:`helpers.presets.CHOICES`); for a list-valued parameter, every element must be a choice."""
    from helpers import presets

    choices = presets.choices_for(notebook.stem)
    for name, value in values.items():
        if name not in choices:
            continue
        valid = choices[name]
        given = value if isinstance(value, list) else [value]
        wrong = [v for v in given if not any(v == c and type(v) is type(c) for c in valid)]
        if wrong:
            shown = ", ".join("None" if c is None else str(c) for c in valid)
            what = f"{name} holds {wrong[0]!r}, which" if isinstance(value, list) else f"{name}={value!r}"
            raise UsageError(f"{notebook.stem}: {what} is not one of the valid choices: {shown}")


def check_parameters(notebook: Path, names: list[str]) -> None:
    """Reject parameter ``names`` that the notebook's ``parameters`` cell does not define."""
    valid = [p.name for p in notebook_parameters(notebook)]
    unknown = [name for name in names if name not in valid]
    if unknown:
        listing = ", ".join(valid) if valid else "none (it has no cell tagged 'parameters')"
        raise UsageError(f"unknown parameter(s) {', '.join(unknown)} for {notebook.stem}; valid parameters: {listing}")


def plan_executions(args: argparse.Namespace) -> list[Execution]:
    """Validate the command line and return every execution to run (nothing is written)."""
    notebooks = select_notebooks(args.notebooks, Path(args.notebooks_dir))
    cli_params = parse_params(args.param)
    grid = parse_grid(args.grid)
    clash = sorted(set(grid) & set(cli_params))
    if clash:
        raise UsageError(f"parameter(s) {', '.join(clash)} given with both -p and --grid")
    stems = {nb.stem for nb in discover_notebooks(Path(args.notebooks_dir))} | {nb.stem for nb in notebooks}
    common, per_notebook = load_params_file(args.params_file, stems)
    check_common_keys(common, notebooks, Path(args.notebooks_dir), args.params_file)
    executions = []
    for notebook in notebooks:
        preset = load_preset(notebook.stem, args.preset)
        preset_grid = {k: v for k, v in preset.grid.items() if k not in grid and k not in cli_params}
        notebook_grid = {**preset_grid, **grid}
        defined = {p.name for p in notebook_parameters(notebook)}
        shared = {k: v for k, v in common.items() if k in defined}  # a file's top level: where the name exists
        base = {**preset.parameters, **shared, **per_notebook.get(notebook.stem, {}), **cli_params}
        base = {k: v for k, v in base.items() if k not in notebook_grid}
        check_parameters(notebook, [*base, *notebook_grid])
        check_value_types(notebook, base)
        for name, values in notebook_grid.items():
            for value in values:
                check_value_types(notebook, {name: value})
        for combo in expand_grid(notebook_grid):
            parameters = {**base, **combo}
            executions.append(Execution(notebook, parameters, combo, preset=args.preset,
                                        strict=thresholds_fit(parameters, preset)))
    check_unique_stems(executions)
    return executions


def check_common_keys(common: dict[str, Any], notebooks: list[Path], notebooks_dir: Path, path: Path | None) -> None:
    """Reject top-level keys of a params file that no selected notebook defines, saying where each one exists."""
    unused = [key for key in common
              if not any(key in {p.name for p in notebook_parameters(nb)} for nb in notebooks)]
    if not unused:
        return
    problems = []
    for key in unused:
        where = [nb.stem for nb in discover_notebooks(notebooks_dir) if key in {p.name for p in notebook_parameters(nb)}]
        problems.append(f"{key} (defined in {', '.join(where)})" if where else f"{key} (defined in no notebook)")
    raise UsageError(f"--params-file {path}: no selected notebook has the parameter(s) {'; '.join(problems)}; "
                     "select a notebook that has it, or remove the key")


def thresholds_fit(parameters: dict[str, Any], preset) -> bool:
    """Whether the notebook's thresholds were set for these parameters: none given beyond what the preset
    (or, with no preset, the defaults) brings. Otherwise a missed threshold is reported as 'below
    expectation' instead of failing the run (see :mod:`helpers.checks`)."""
    own = {**preset.parameters}
    for name, value in parameters.items():
        in_grid = any(value == v for v in preset.grid.get(name, []))
        if not in_grid and (name not in own or own[name] != value):
            return False
    return True


def load_preset(stem: str, name: str | None):
    """Return the preset ``name`` of notebook ``stem`` (an empty one when ``name`` is None)."""
    from helpers import presets

    if name is None:
        return presets.Preset(description="defaults")
    try:
        return presets.get_preset(stem, name)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None


def check_unique_stems(executions: list[Execution]) -> None:
    """Reject plans where two executions would write the same output file."""
    seen: dict[str, Execution] = {}
    for execution in executions:
        if execution.stem in seen:
            raise UsageError(f"two executions would both write {execution.stem}.ipynb; "
                             "list each notebook and grid value once")
        seen[execution.stem] = execution


def check_kernel(kernel: str) -> None:
    """Reject a Jupyter kernel name that is not installed, listing the installed ones."""
    from jupyter_client.kernelspec import KernelSpecManager

    installed = sorted(KernelSpecManager().find_kernel_specs())
    if kernel not in installed:
        raise UsageError(f"unknown kernel {kernel!r}; installed kernels: {', '.join(installed) or 'none'}")


def prepare_output_dir(output: str | None, overwrite: bool) -> Path:
    """Create and return the output folder; refuse a non-empty one unless ``overwrite`` (or --resume)."""
    if output is None:
        base = Path.cwd() / "runs" / _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path, suffix = base, 1
        while path.exists():
            suffix += 1
            path = base.with_name(f"{base.name}_{suffix}")
    else:
        path = Path(output)
        if path.exists() and not path.is_dir():
            raise UsageError(f"--output {path} exists and is not a folder")
        if path.is_dir() and any(path.iterdir()) and not overwrite:
            raise UsageError(f"output folder {path} is not empty; choose another --output, add --resume to skip "
                             "what already finished there, or --overwrite to run everything again")
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()  # absolute: the kernels run in the notebooks' folder, and read these paths there
