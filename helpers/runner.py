"""Course runner: execute the course notebooks with papermill and summarise the results.

Command line (see ``python -m helpers --help``)::

    python -m helpers list                                   # notebooks, their parameters and defaults
    python -m helpers run                                    # every notebooks/NN_*.ipynb, in order
    python -m helpers run 03 05_mlp -p EPOCHS 1 -p SEED=7    # chosen notebooks, overridden parameters
    python -m helpers run 05 --grid ACTIVATION=relu,tanh --grid EPOCHS=1,3   # 4 executions
    python -m helpers run --params-file params.yaml --output runs/smoke --overwrite
    python -m helpers run 05 --preset tutorial               # the tutorial's own settings (helpers.presets)

Each execution writes into the output folder (default ``runs/<YYYYmmdd-HHMMSS>`` under the current
directory, which must not exist yet or be empty unless ``--overwrite``):

- ``<executed-stem>.ipynb``          the executed copy (``<stem>`` or ``<stem>__NAME=value__...`` for grids)
- ``<executed-stem>.metrics.json``   metrics the notebook recorded (``helpers.report.record_metrics``)
- ``<executed-stem>_files/``         files the notebook wrote (removed again when it stays empty)
- ``summary.csv`` and ``summary.md`` one row per execution: status, wall time, parameters and metrics

The metric contract: before executing a notebook the runner sets ``DLFB_METRICS_FILE`` and
``DLFB_OUTPUT_DIR`` (to the two paths above) in ``os.environ``; the papermill kernel inherits them.

Parameters file format (YAML)::

    EPOCHS: 1                 # top-level names apply to every notebook that is run
    SEED: 0
    05_mlp:                   # a key naming a notebook stem holds parameters for that notebook only
      ACTIVATION: tanh

Presets (``--preset NAME``, listed by ``python -m helpers list``) are named parameter sets of
:mod:`helpers.presets`, thresholds included; a preset may also define a grid. Every selected notebook
must have the preset.

Precedence, lowest first: preset, file top level, file notebook section, ``-p``; ``--grid`` names may not also
be given with ``-p``. Every parameter must exist in the ``parameters`` cell of each notebook it applies to.

Exit status: 0 all executions succeeded, 1 at least one failed, 2 invalid command line (nothing ran).
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime as _dt
import itertools
import json
import logging
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.report import METRICS_ENV, OUTPUT_ENV as OUTPUT_DIR_ENV  # the runner-notebook contract: one home

REPO_ROOT = Path(__file__).resolve().parents[1]
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


def same_kind(value: Any, default: Any) -> bool:
    """Whether ``value`` fits a parameter whose default is ``default``: the same type, where None fits
    anything (it means "all" or "auto"), an int fits a float, and a bool never passes for a number."""
    if value is None or default is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def check_value_types(notebook: Path, values: dict[str, Any]) -> None:
    """Reject values whose type differs from the default in the notebook's ``parameters`` cell."""
    defaults = {p.name: p.default for p in notebook_parameters(notebook)}
    for name, value in values.items():
        try:
            default = ast.literal_eval(defaults[name])
        except (KeyError, ValueError, SyntaxError):
            continue  # a default that is an expression: nothing to compare with
        if not same_kind(value, default):
            raise UsageError(f"{notebook.stem}: {name}={value!r} is a {type(value).__name__}, but its default "
                             f"{defaults[name]} is a {type(default).__name__}; give a value of that type")


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
    executions = []
    for notebook in notebooks:
        preset = load_preset(notebook.stem, args.preset)
        preset_grid = {k: v for k, v in preset.grid.items() if k not in grid and k not in cli_params}
        notebook_grid = {**preset_grid, **grid}
        base = {**preset.parameters, **common, **per_notebook.get(notebook.stem, {}), **cli_params}
        base = {k: v for k, v in base.items() if k not in notebook_grid}
        check_parameters(notebook, [*base, *notebook_grid])
        check_value_types(notebook, base)
        for name, values in notebook_grid.items():
            for value in values:
                check_value_types(notebook, {name: value})
        for combo in expand_grid(notebook_grid):
            executions.append(Execution(notebook, {**base, **combo}, combo, preset=args.preset))
    check_unique_stems(executions)
    return executions


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
    return path


# --------------------------------------------------------------------------- execution


def quiet_papermill() -> None:
    """Silence papermill's INFO logging (it would print one line per cell)."""
    logging.getLogger("papermill").setLevel(logging.WARNING)


def kernel_options() -> dict[str, Any]:
    """Extra papermill/nbclient options: encrypt kernel traffic where supported.

    Recent ipykernel warns on stderr for every unencrypted TCP kernel; asking jupyter_client to
    provision CurveZMQ keys (``transport_encryption="auto"``) both secures and silences it.
    """
    import zmq
    from jupyter_client.manager import KernelManager
    from traitlets.config import Config

    if not KernelManager.class_traits().get("transport_encryption") or not zmq.has("curve"):
        return {}
    return {"config": Config({"KernelManager": {"transport_encryption": "auto"}})}


def describe_error(exc: BaseException) -> str:
    """The failing cell, the error type and its whole message (a loader's error ends with the fix)."""
    if hasattr(exc, "exec_count") and hasattr(exc, "ename"):
        message = str(exc.evalue or "").strip()
        return f"cell In [{exc.exec_count}]: {exc.ename}" + (f": {message}" if message else "")
    if is_timeout(exc):
        preview = str(exc).split("Here is a preview of the cell contents:", 1)
        cell = preview[1].strip().strip("-").strip().splitlines()[:2] if len(preview) == 2 else []
        return "timed out in the cell starting: " + " / ".join(cell) if cell else f"timed out: {exc}".strip()
    return f"{type(exc).__name__}: {exc}".strip()


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` is nbclient's cell timeout (papermill's ``execution_timeout``)."""
    return type(exc).__name__ == "CellTimeoutError" or isinstance(exc, TimeoutError)


def read_metrics(path: Path) -> dict[str, Any]:
    """Return the metrics a notebook recorded in ``path`` ({} when none or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def run_execution(execution: Execution, output_dir: Path, kernel: str, timeout: float | None = None,
                  cwd: Path | None = None) -> None:
    """Execute one notebook with papermill, filling in status, wall time, error and metrics.

    Status: ``ok``, ``failed``, ``timed out`` (a cell ran longer than ``timeout`` seconds) or
    ``interrupted`` (Ctrl-C; the partial executed notebook is kept and the interrupt is re-raised).
    """
    import papermill

    from helpers import run_record

    executed = output_dir / f"{execution.stem}.ipynb"
    metrics_file = output_dir / f"{execution.stem}.metrics.json"
    record_file = run_record.record_path(output_dir, execution.stem)
    execution.card = run_record.card(execution.parameters,
                                     {p.name: p.default for p in notebook_parameters(execution.notebook)})
    save_record(execution, record_file, "running")
    files_dir = output_dir / f"{execution.stem}_files"
    metrics_file.unlink(missing_ok=True)
    shutil.rmtree(files_dir, ignore_errors=True)
    files_dir.mkdir()
    saved = {key: os.environ.get(key) for key in (METRICS_ENV, OUTPUT_DIR_ENV)}
    os.environ[METRICS_ENV], os.environ[OUTPUT_DIR_ENV] = str(metrics_file), str(files_dir)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(execution.notebook), str(executed), parameters=execution.parameters,
            kernel_name=kernel, cwd=str(cwd or execution.notebook.parent), progress_bar=False, log_output=False,
            execution_timeout=timeout, **kernel_options(),
        )
        execution.status = "ok"
    except KeyboardInterrupt:
        execution.status, execution.error = "interrupted", "interrupted by the user (Ctrl-C); partial notebook kept"
        raise
    except Exception as exc:  # noqa: BLE001 - every failure is reported, the run goes on
        execution.status = "timed out" if is_timeout(exc) else "failed"
        execution.error = describe_error(exc)
    finally:
        execution.wall_time = time.perf_counter() - start
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
        execution.metrics = read_metrics(metrics_file)
        save_record(execution, record_file, execution.status)
        add_card_to_notebook(executed, execution.card)
    if not any(files_dir.iterdir()):
        files_dir.rmdir()


def save_record(execution: Execution, path: Path, status: str) -> None:
    """Write the execution's ``.run.json`` (see :mod:`helpers.run_record`)."""
    from helpers import run_record

    run_record.write_record(path, {
        "key": execution.key, "notebook": execution.notebook.stem, "preset": execution.preset,
        "parameters": execution.parameters, "status": status,
        "wall_time_s": None if execution.wall_time is None else round(execution.wall_time, 1),
        "error": execution.error, "metrics": execution.metrics, "card": execution.card})


def add_card_to_notebook(path: Path, card: dict[str, Any]) -> None:
    """Store the reproducibility card in the executed notebook's metadata (``metadata.dlfb``)."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # no executed copy (the kernel never started): the .run.json still has the card
    notebook.setdefault("metadata", {})["dlfb"] = card
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def resume_from_record(execution: Execution, output_dir: Path) -> bool:
    """Fill ``execution`` from its record when that finished ok under the same key; return whether it did."""
    from helpers import run_record

    record = run_record.finished(run_record.record_path(output_dir, execution.stem), execution.key)
    if record is None:
        return False
    execution.status, execution.wall_time = "ok", record.get("wall_time_s")
    execution.metrics, execution.card, execution.resumed = record.get("metrics") or {}, record.get("card") or {}, True
    return True


def core_shares(jobs: int) -> list[list[int]]:
    """Split this process's CPU cores into ``jobs`` disjoint shares (at least one core each)."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    jobs = max(1, min(jobs, len(cores)))
    return [cores[i::jobs] for i in range(jobs)]


_WORKER_CORES: list[int] = []


def _init_worker(shares) -> None:
    """Process-pool initializer: take one share of the cores, pin this worker (and so its kernels) to it,
    and limit the kernels' thread pools to its size, so N workers on N cores do not oversubscribe."""
    global _WORKER_CORES
    _WORKER_CORES = shares.get()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, _WORKER_CORES)
    threads = str(len(_WORKER_CORES))
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                 "TF_NUM_INTEROP_THREADS"):
        os.environ[name] = threads
    quiet_papermill()


def _run_in_worker(execution: Execution, output_dir: Path, kernel: str, timeout: float | None) -> Execution:
    run_execution(execution, output_dir, kernel, timeout)
    return execution


def refresh_from_record(execution: Execution, output_dir: Path) -> None:
    """Take an execution's outcome from its record on disk (what a worker process wrote), if it has one."""
    from helpers import run_record

    record = run_record.read_record(run_record.record_path(output_dir, execution.stem))
    if not record or record.get("key") != execution.key:
        return
    status = record.get("status", "pending")
    execution.status = "interrupted" if status == "running" else status
    execution.wall_time, execution.error = record.get("wall_time_s"), record.get("error", "")
    execution.metrics, execution.card = record.get("metrics") or {}, record.get("card") or {}


def run_parallel(executions: list[Execution], output_dir: Path, kernel: str, timeout: float | None,
                 jobs: int, resume: bool = False) -> None:
    """Run the executions in ``jobs`` worker processes, each pinned to its share of the cores.

    Ctrl-C stops every worker (each marks its execution 'interrupted' on disk); the outcomes are then
    read back from the records, so the summary says what really happened to each.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    todo = [e for e in executions if not (resume and resume_from_record(e, output_dir))]
    shares = core_shares(jobs)
    context = multiprocessing.get_context("spawn")
    queue = context.Manager().Queue()
    for share in shares:
        queue.put(share)
    pool = ProcessPoolExecutor(max_workers=len(shares), mp_context=context, initializer=_init_worker,
                               initargs=(queue,))
    with tqdm(total=len(executions), initial=len(executions) - len(todo), desc="notebooks", unit="run",
              file=sys.stderr) as bar:
        try:
            futures = {pool.submit(_run_in_worker, e, output_dir, kernel, timeout): e for e in todo}
            for future in as_completed(futures):
                execution = futures[future]
                try:
                    done = future.result()
                    execution.__dict__.update(done.__dict__)
                except Exception as exc:  # noqa: BLE001 - a worker that died: reported, the rest go on
                    execution.status, execution.error = "failed", f"worker process failed: {describe_error(exc)}"
                if execution.status != "ok":
                    bar.write(f"{execution.status.upper()} {execution.stem}: {execution.error}", file=sys.stderr)
                bar.update(1)
        except KeyboardInterrupt:
            pool.shutdown(wait=True, cancel_futures=True)
            for execution in todo:
                refresh_from_record(execution, output_dir)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def run_all(executions: list[Execution], output_dir: Path, kernel: str, timeout: float | None = None,
            resume: bool = False) -> None:
    """Run every execution in order under a tqdm progress bar; report failures as they happen.

    With ``resume``, an execution whose record in ``output_dir`` finished ok under the same key is not run again.
    """
    from tqdm.auto import tqdm

    quiet_papermill()
    with tqdm(total=len(executions), desc="notebooks", unit="run", file=sys.stderr) as bar:
        for execution in executions:
            bar.set_postfix_str(execution.stem)
            if resume and resume_from_record(execution, output_dir):
                bar.update(1)
                continue
            run_execution(execution, output_dir, kernel, timeout)
            if execution.status != "ok":
                bar.write(f"{execution.status.upper()} {execution.stem}: {execution.error}", file=sys.stderr)
            bar.update(1)


# --------------------------------------------------------------------------- summary


FIXED_COLUMNS = ("notebook", "parameters", "status", "wall_time_s", "error", "resumed", "seed", "device", "versions")


def metric_column(name: str) -> str:
    """Column name for a metric; prefixed with ``metric_`` when it would clash with a fixed column."""
    return f"metric_{name}" if name in FIXED_COLUMNS else name


def summary_rows(executions: list[Execution]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows of the CSV summary: notebook, parameters, status, wall time, one column per metric, error."""
    metric_names = list(dict.fromkeys(name for e in executions for name in e.metrics))
    columns = ["notebook", "parameters", "status", "wall_time_s", *map(metric_column, metric_names), "error",
               "resumed", "seed", "device", "versions"]
    rows = []
    for e in executions:
        row = {
            "notebook": e.notebook.stem,
            "parameters": " ".join([f"preset={e.preset}"] * (e.preset is not None)
                                   + [f"{k}={format_value(v)}" for k, v in e.parameters.items()]),
            "status": e.status,
            "wall_time_s": "" if e.wall_time is None else round(e.wall_time, 1),
            "error": e.error,
            "resumed": e.resumed,
            "seed": e.card.get("seed", ""),
            "device": e.card.get("device", ""),
            "versions": " ".join(f"{k}={v}" for k, v in e.card.get("versions", {}).items()),
        }
        row.update({metric_column(name): e.metrics.get(name, "") for name in metric_names})
        rows.append(row)
    return columns, rows


def compact_rows(executions: list[Execution]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows of the printed / markdown summary: all of a notebook's metrics in one column.

    Notebooks record different metrics, so one column per metric would make a wide, mostly empty table.
    """
    columns = ["notebook", "parameters", "status", "wall_time_s", "metrics", "error"]
    _, rows = summary_rows(executions)
    for row, e in zip(rows, executions):
        row["metrics"] = " ".join(f"{k}={format_value(v)}" for k, v in e.metrics.items())
        row["status"] = f"{e.status} (resumed)" if e.resumed else e.status
    return columns, rows


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """Write the summary as CSV (metric values unrounded; lists/dicts as JSON)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in row.items()})


def markdown_table(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """Render rows as a GitHub-flavoured markdown table (values compact, ``|`` escaped)."""
    def cell(value: Any) -> str:
        return format_value(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def write_summary(executions: list[Execution], output_dir: Path, kernel: str) -> str:
    """Write summary.csv and summary.md into ``output_dir``; return the markdown table."""
    write_csv(output_dir / "summary.csv", *summary_rows(executions))
    table = markdown_table(*compact_rows(executions))
    failed = sum(e.status != "ok" for e in executions)
    from helpers import run_record

    versions = ", ".join(f"{k} {v}" for k, v in run_record.package_versions().items())
    header = (f"# Run summary\n\n{len(executions)} execution(s), {failed} failed; kernel `{kernel}`; "
              f"finished {_dt.datetime.now():%Y-%m-%d %H:%M:%S}.\n\nDevice: {run_record.device()}. "
              f"Versions: {versions}. Each execution's parameters, seed and versions are in its `.run.json` "
              "and in its executed notebook's metadata (`dlfb`).\n\n")
    (output_dir / "summary.md").write_text(header + table + "\n", encoding="utf-8")
    from helpers import batch_report

    batch_report.write_report(output_dir, executions, header + table)
    return table


# --------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m helpers`` argument parser with its ``run`` and ``list`` sub-commands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--notebooks-dir", default=str(DEFAULT_NOTEBOOKS_DIR), metavar="DIR",
                        help="folder holding the NN_*.ipynb notebooks (default: %(default)s)")
    parser = argparse.ArgumentParser(
        prog="python -m helpers",
        description="Run the course notebooks with papermill, or list their parameters.",
        epilog="Examples:\n  python -m helpers list\n  python -m helpers run 03 -p EPOCHS 1\n"
               "  python -m helpers run 05_mlp --grid ACTIVATION=relu,tanh\n"
               "Run 'python -m helpers run --help' for all run options.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,list,record-times,site}")
    sub.add_parser("list", parents=[common], help="print the notebooks with their parameters and defaults",
                   description="Print every notebook with the parameters of its 'parameters' cell and their defaults.")
    run_help = __doc__.split("\n\n", 1)[1].replace("``", "").replace("::", ":")
    run = sub.add_parser("run", parents=[common], help="execute notebooks and write a summary",
                         description=run_help, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                     help="stem (03_keras_basics), number (03 or 3) or path; default: all notebooks")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="set a parameter (also: -p NAME VALUE); value parsed as YAML: 3, 0.5, true, text")
    run.add_argument("--params-file", type=Path, metavar="FILE.yaml",
                     help="YAML mapping NAME: value for every notebook, plus optional <stem>: {NAME: value} sections")
    run.add_argument("--preset", metavar="NAME",
                     help="run each notebook with its preset NAME (e.g. tutorial; see 'python -m helpers list')")
    run.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                     help="run every combination of the grid values (repeatable: cartesian product)")
    run.add_argument("--output", metavar="DIR", help="output folder (default: a new runs/<YYYYmmdd-HHMMSS>)")
    run.add_argument("--overwrite", action="store_true", help="allow writing into a non-empty output folder")
    run.add_argument("--jobs", type=int, default=1, metavar="N",
                     help="run N executions at a time, each pinned to its share of the CPU cores (default: 1)")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="run on Dask distributed: 'local' (a LocalCluster of --jobs workers) or tcp://HOST:8786")
    run.add_argument("--resume", action="store_true",
                     help="in a non-empty --output folder, skip executions that finished ok there with the same "
                          "notebook, parameters and package versions; run failed, interrupted or changed ones")
    run.add_argument("--kernel", default=DEFAULT_KERNEL, help="Jupyter kernel name (default: %(default)s)")
    run.add_argument("--timeout", type=positive_seconds, metavar="SECONDS",
                     help="stop a cell that runs longer than this (reported as 'timed out'); default: no limit")
    times = sub.add_parser("record-times", help="store a default run's wall times and update README and notebooks",
                           description="Read RUN_DIR/summary.csv of 'python -m helpers run' (all notebooks, defaults), "
                                       "store the wall times in notebooks/run_times.json and rewrite the README's "
                                       "run-time column and each notebook's '**Run time:**' line from them.")
    times.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="output folder of a default course run")
    from helpers import website  # python -m helpers site: the course website (helpers/website.py)
    website.add_parser(sub, common)
    return parser


def command_record_times(args: argparse.Namespace) -> int:
    """Store a default run's timings and rewrite the README and the notebooks' run-time lines."""
    from helpers import run_times

    try:
        seconds = run_times.record(args.run_dir)
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    for stem, value in seconds.items():
        print(f"{stem:<36} {run_times.format_duration(value)}")
    print(f"{'total':<36} {run_times.format_duration(sum(seconds.values()))}  (written to {run_times.TIMES_FILE.name}, "
          "README.md and the notebooks' first cells)")
    return 0


def command_list(args: argparse.Namespace) -> int:
    """Print each notebook with its parameters, defaults and comments, then its presets."""
    from helpers import presets

    for notebook in discover_notebooks(Path(args.notebooks_dir)):
        print(notebook.stem)
        params = notebook_parameters(notebook)
        width = max((len(p.name) + len(p.default) for p in params), default=0) + 3
        for p in params:
            text = f"{p.name} = {p.default}"
            print(f"    {text:<{width}}  # {p.help}" if p.help else f"    {text}")
        if not params:
            print("    (no parameters cell)")
        for name, preset in presets.presets_for(notebook.stem).items():
            settings = [f"{k}={format_value(v)}" for k, v in preset.parameters.items()]
            settings += [f"{k}={','.join(map(format_value, v))}" for k, v in preset.grid.items()]
            print(f"  preset {name}: {preset.description}")
            if settings:
                print("      " + " ".join(settings))
            print(f"      python -m helpers run {notebook.stem[:2]} --preset {name}")
            if not preset.grid and preset.parameters:
                print(f"      {presets.papermill_command(notebook.stem, name)}")
    return 0


def positive_seconds(text: str) -> float:
    """argparse type of ``--timeout``: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def command_run(args: argparse.Namespace) -> int:
    """Validate, execute every planned notebook, print and save the summary; 1 if any failed."""
    executions = plan_executions(args)
    check_kernel(args.kernel)
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    if args.resume and args.output is None:
        raise UsageError("--resume needs --output: the folder of the run to resume")
    client = None
    if args.scheduler:  # connect before anything is written: an unreachable scheduler is a usage error
        from helpers.dask_runner import connect

        client = connect(args.scheduler, args.jobs)
    output_dir = prepare_output_dir(args.output, args.overwrite or args.resume)
    print(f"Running {len(executions)} execution(s) into {output_dir}", flush=True)
    try:
        if client is not None:
            from helpers.dask_runner import run_on_dask

            run_on_dask(executions, output_dir, args.kernel, args.timeout, client, args.resume)
        elif args.jobs > 1:
            run_parallel(executions, output_dir, args.kernel, args.timeout, args.jobs, args.resume)
        else:
            run_all(executions, output_dir, args.kernel, args.timeout, args.resume)
    finally:
        for e in executions:
            if e.status == "pending":
                e.status = "skipped"
        table = write_summary(executions, output_dir, args.kernel)
        print(table)
        print(f"\nSummary: {output_dir / 'summary.md'} and summary.csv", flush=True)
    return 1 if any(e.status != "ok" for e in executions) else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m helpers``; returns the exit status."""
    argv = normalize_param_argv(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    try:
        commands = {"run": command_run, "list": command_list, "record-times": command_record_times}
        from helpers import website  # python -m helpers site (helpers/website.py)
        commands["site"] = website.command_site
        return commands[args.command](args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
