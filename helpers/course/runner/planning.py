"""Planning a batch: find the notebooks, read their parameters cells, parse and validate values, presets and
grids, and turn a command line into a list of executions (nothing runs and nothing is written here, except
the output folder that :func:`prepare_output_dir` creates).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import functools
import hashlib
import itertools
import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helpers.course import presets, run_record
from helpers import parameters
from helpers.parameters import shown, with_article  # a value quoted in a message, as the notebook quotes it
from helpers.course.paths import NOTEBOOKS_DIR

DEFAULT_NOTEBOOKS_DIR = NOTEBOOKS_DIR
DEFAULT_KERNEL = "python3"
NOTEBOOK_RE = re.compile(r"^(\d+)_\w+\.ipynb$")
PARAM_FLAGS = ("-p", "--param")
# Written so that no two ways match the same text: the old [-+]?(\d+\.?\d*|\.\d+)... took quadratic time on a long
# run of digits (20,000 digits: 3 s).
FLOAT_RE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)[eE][-+]?\d+")

# Bounds on what the runner reads, so that no input makes its work or its messages unbounded.
# A params file of the whole course is a few hundred bytes; the YAML reader (pure Python, about 20 us a value) reads
# 100 kB of the densest YAML ([1,1,1,...], nested lists) in about 2 s on one core, and 1 MB in 20 to 40 s.
MAX_PARAMS_FILE_BYTES = 100_000
MAX_COMMAND_LINE_VALUES_CHARS = 200_000  # all -p and --grid text together (a 10,000-value grid is about 50,000)
MAX_NOTEBOOK_BYTES = 100_000_000  # the stored notebooks, outputs and figures included, are under 1 MB each
MAX_YAML_DEPTH = 8  # file -> section -> value -> list of lists: 4 levels are all a parameter needs
MAX_INT_DIGITS = 20  # no parameter takes an integer beyond 64 bits
DEFAULT_MAX_EXECUTIONS = 1000  # the cap on a batch's executions; --max-executions raises it
MAX_STEM_CHARS = 150  # an executed copy's file stem; a longer one is cut and ends in a hash of the whole
MAX_MESSAGE_CHARS = 4000  # a usage error is cut to this (each value quoted in it is cut much shorter)


def shown_name(name: Any) -> str:
    """A parameter or key name for a message: cut to 60 characters."""
    text = str(name) if not isinstance(name, int) or abs(name) < 10**40 else shown(name)
    return text if len(text) <= 60 else text[:50] + "..." + text[-7:]


def shown_names(names: list[Any], limit: int = 10) -> str:
    """``A, B, C`` for at most ``limit`` names, then ``and N more``."""
    listed = ", ".join(shown_name(n) for n in names[:limit])
    return listed + (f" and {len(names) - limit:,} more" if len(names) > limit else "")


def read_regular_file(path: Path, limit: int, what: str) -> str:
    """The UTF-8 text of the regular file ``path`` (links followed), refused with a usage error when it is not one
    (a device such as /dev/zero, a FIFO, a folder), when it is larger than ``limit`` bytes, or not UTF-8 text.
    Opened without blocking, so a FIFO cannot hang the runner."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else
                    "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
                    else "not a file")
            raise UsageError(f"{what} {path} is {kind}, not a regular file: give the path of a file")
        if os.fstat(fd).st_size > limit:
            raise UsageError(f"{what} {path} is larger than {limit:,} bytes, more than any {what} needs")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UsageError(f"{what} {path} is larger than {limit:,} bytes, more than any {what} needs")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {path} is not UTF-8 text (byte {exc.start:,} cannot be read): save it as UTF-8")


class UsageError(Exception):
    """A problem with the command line; reported as one message with exit status 2."""


@dataclass(frozen=True)
class Parameter:
    """One parameter of a notebook's ``parameters`` cell."""

    name: str
    default: str  # source text of the default value
    help: str = ""  # trailing comment, if any
    declaration: parameters.Declaration | None = None  # its type, range and choices (helpers.parameters)


@dataclass
class Execution:
    """One planned (and later finished) notebook execution."""

    notebook: Path
    parameters: dict[str, Any]
    grid: dict[str, Any] = field(default_factory=dict)
    status: run_record.Status = run_record.Status.PENDING
    wall_time: float | None = None
    error: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None  # the --preset the parameters came from
    strict: bool = True  # False: parameters the thresholds were not set for; a missed threshold is reported
    resumed: bool = False  # True when --resume took the result from an earlier run's record
    card: dict[str, Any] = field(default_factory=dict)  # versions, device, seed, parameters (helpers.course.run_record)

    @property
    def key(self) -> str:
        """What identifies this execution for --resume (notebook content, parameters, preset, versions)."""
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


_PARAMETERS_CACHE: dict[tuple, tuple[Parameter, ...]] = {}


def notebook_parameters(notebook: Path) -> list[Parameter]:
    """Parse the cell tagged ``parameters`` of ``notebook`` (empty list when it has none).

    Each notebook is read once: the result is kept under the file's path, size and modification time (planning a
    grid of 10,000 values asks for it 10,000 times)."""
    path = Path(notebook)
    try:
        info = path.stat()
    except OSError as exc:
        raise UsageError(f"cannot read notebook {path}: {exc.strerror or exc}") from None
    key = (os.path.abspath(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    if key not in _PARAMETERS_CACHE:
        if len(_PARAMETERS_CACHE) > 1000:
            _PARAMETERS_CACHE.clear()
        _PARAMETERS_CACHE[key] = tuple(_read_notebook_parameters(path))
    return list(_PARAMETERS_CACHE[key])


def _read_notebook_parameters(path: Path) -> list[Parameter]:
    text = read_regular_file(path, MAX_NOTEBOOK_BYTES, "notebook")
    try:
        cells = json.loads(text).get("cells", [])
        for cell in cells:
            if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
                source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                return parse_parameters_source(source, path.stem)
    except (ValueError, RecursionError) as exc:  # json.JSONDecodeError is a ValueError
        raise UsageError(f"cannot read notebook {path}: not a notebook's JSON ({shown_name(exc)})") from None
    except (AttributeError, TypeError, KeyError):
        raise UsageError(f"cannot read notebook {path}: its JSON is not a Jupyter notebook's (cells with "
                         "cell_type, metadata and source)") from None
    return []


def parse_parameters_source(source: str, where: Any = "parameters cell") -> list[Parameter]:
    """The parameters a parameters cell's source declares: its top-level ``NAME: type = value  # help [allowed]``
    assignments, read by :func:`helpers.parameters.parse` (the notebook's own check reads them the same way)."""
    try:
        declared = parameters.parse(source)
    except parameters.DeclarationError as exc:
        raise UsageError(f"cannot parse the parameters cell of {where}: {cut(str(exc), 600)}") from None
    return [Parameter(d.name, d.default_text, d.help, d) for d in declared.values()]


# --------------------------------------------------------------------------- parameters


YAML11_SURPRISES = (
    (re.compile(r"(?i)(yes|no|on|off|y|n)"), "YAML 1.1 reads it as a boolean: write true or false (or quote a string)"),
    (re.compile(r"[-+]?0[0-7_]+"), "YAML 1.1 reads a leading 0 as octal (010 is 8): drop the leading zero"),
    (re.compile(r"[-+]?\d+(:[0-5]?\d)+(\.\d*)?"), "YAML 1.1 reads 1:30 as 90 (base 60): quote it for text"),
)


AMBIGUOUS_TAG = "tag:dlfb,2026:yaml11-ambiguous"


@functools.lru_cache(maxsize=None)
def strict_yaml_loader():
    """A safe YAML loader with YAML 1.2's scalars: only true/false are booleans and integers are
    decimal, so ``no``, ``010`` and ``1:30`` stay text (and then fail the type check with a message).

    Its work is bounded by what it reads: anchors and aliases (``&a``, ``*a``: a few hundred bytes of them expand
    to gigabytes, and an alias inside its own anchor makes a value that contains itself), explicit tags
    (``!!binary``, ``!!python/...``), nesting deeper than :data:`MAX_YAML_DEPTH` and integers of more than
    :data:`MAX_INT_DIGITS` digits are refused with a :class:`UsageError` that names the line. Dates stay text."""
    class StrictLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            event = self.peek_event()
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise UsageError(f"line {line}: YAML anchors and aliases (&name, *name) are not accepted: write "
                                 "each value out in full (quote a text that starts with & or *)")
            if getattr(event, "tag", None) is not None:
                raise UsageError(f"line {line}: YAML tags ({shown(event.tag)}) are not accepted: write a plain "
                                 "value (quote a text that starts with !)")
            self.depth = getattr(self, "depth", 0) + 1
            try:
                if self.depth > MAX_YAML_DEPTH:
                    raise UsageError(f"line {line}: values nested more than {MAX_YAML_DEPTH} deep; no parameter "
                                     "takes lists within lists that deep")
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    kept = ("tag:yaml.org,2002:float", "tag:yaml.org,2002:null")  # not YAML 1.1's dates, merge keys, '=' values
    StrictLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag in kept]
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
        raise UsageError(f"value {shown(text)} (line {node.start_mark.line + 1}) is ambiguous: {why}")

    StrictLoader.add_constructor(AMBIGUOUS_TAG, refuse)

    def construct_int(loader, node):
        text = loader.construct_scalar(node)
        digits = len(text.lstrip("+-"))
        if digits > MAX_INT_DIGITS:
            raise UsageError(f"line {node.start_mark.line + 1}: an integer of {digits:,} digits; no parameter takes "
                             f"one of more than {MAX_INT_DIGITS} digits")
        return int(text)

    def construct_float(loader, node):
        try:
            return yaml.SafeLoader.construct_yaml_float(loader, node)
        except ValueError:
            raise UsageError(f"value {shown(loader.construct_scalar(node))} (line {node.start_mark.line + 1}) is "
                             "not a number: quote it for text") from None

    StrictLoader.add_constructor("tag:yaml.org,2002:int", construct_int)
    StrictLoader.add_constructor("tag:yaml.org,2002:float", construct_float)
    return StrictLoader


def load_yaml(text: str) -> Any:
    """``text`` read with :func:`strict_yaml_loader` (raises ``yaml.YAMLError`` or :class:`UsageError`)."""
    try:
        return yaml.load(text, Loader=strict_yaml_loader())
    except RecursionError:  # not expected past the depth limit; a usage error rather than a traceback all the same
        raise UsageError(f"values nested too deep (more than {MAX_YAML_DEPTH} levels)") from None


def parse_value(text: str) -> Any:
    """Parse a command-line value as a YAML scalar: ``3`` -> 3, ``0.5`` and ``1e-3`` -> float,
    ``true`` -> True, ``None``/``null`` -> None, ``[64, 32]`` -> list; anything else stays a string.

    Values that YAML 1.1 would silently turn into something else (``no`` -> False, ``010`` -> 8,
    ``1:30`` -> 90) are refused with a message that says how to write them. ``nan`` and ``inf`` are floats, as
    papermill reads them (and then refused by the range check: a value must be finite); quote them for text.
    """
    stripped = text.strip()
    if stripped in ("None", "null", "~"):
        return None
    if stripped.lower().lstrip("+-") in ("nan", "inf", "infinity", ".nan", ".inf"):
        return float(stripped.replace(".", ""))  # a number, refused by the range check as not finite
    if FLOAT_RE.fullmatch(stripped):  # YAML 1.1 reads 1e-3 as a string
        return float(stripped)
    for pattern, why in YAML11_SURPRISES:
        if pattern.fullmatch(stripped):
            raise UsageError(f"value {shown(stripped)} is ambiguous: {why}")
    try:
        value = load_yaml(stripped)
    except UsageError as exc:
        raise UsageError(f"value {shown(stripped)}: {exc}") from None
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (bool, int, float, str, list, dict)) else text


def normalize_param_argv(argv: list[str], options: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Rewrite ``-p NAME VALUE`` as ``-p NAME=VALUE`` so argparse sees one token per ``-p``.

    A VALUE that is one of the runner's ``options`` (``-p PHOTO --overwrite``, where the value was forgotten; an
    abbreviation such as ``--over`` or ``--output=x`` too) is refused: the option was meant, not taken as the
    value. ``-p NAME=--overwrite`` or ``-p NAME "'--overwrite'"`` (YAML quotes) give that text as the value."""
    out, i = [], 0
    while i < len(argv):
        token = argv[i]
        out.append(token)
        if token in PARAM_FLAGS and i + 2 < len(argv) and "=" not in argv[i + 1]:
            name, value = argv[i + 1], argv[i + 2]
            if is_option(value, options):
                raise UsageError(
                    f"{token} {shown_name(name)} {shown_name(value)}: {shown_name(value)} is an option of the runner, "
                    f"so it is not taken as the value of {shown_name(name)}; give the value before it "
                    f"({token} {shown_name(name)} VALUE), or, to set {shown_name(name)} to that very text, write "
                    f"{token} {shown_name(name)}={shown_name(value)} or {token} {shown_name(name)} "
                    f"\"'{shown_name(value)}'\" (in YAML quotes)")
            out.append(f"{name}={value}")
            i += 3
            continue
        i += 1
    return out


def is_option(text: str, options: tuple[str, ...] | list[str]) -> bool:
    """Whether ``text`` is (or abbreviates, as argparse allows) one of ``options``: ``--overwrite``, ``--over``,
    ``--output=x``, ``-h``, ``--``; a negative number such as ``-1`` is not."""
    head = text.split("=", 1)[0]
    if head == "--" or head in options:
        return True
    return head.startswith("--") and any(option.startswith(head) for option in options if option.startswith("--"))


def split_assignment(text: str, option: str) -> tuple[str, str]:
    """Split ``NAME=VALUE`` into its parts; reject a missing ``=`` or an invalid name."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise UsageError(f"{option} expects NAME=VALUE (or -p NAME VALUE), got {shown(text)}")
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


def parse_grid(specs: list[str], max_executions: int | None = None) -> dict[str, list[Any]]:
    """Parse repeated ``--grid NAME=v1,v2`` arguments into ``{NAME: [v1, v2]}`` (command-line order).

    With ``max_executions``, a grid whose values alone make more executions is refused before its values are
    parsed."""
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        name, values = split_assignment(spec, "--grid")
        if name in grid:
            raise UsageError(f"--grid {shown_name(name)} given twice; list all values once: "
                             f"--grid {shown_name(name)}=v1,v2")
        texts = [v.strip() for v in split_grid_values(values) if v.strip()]
        if max_executions is not None and len(texts) > max_executions:
            raise UsageError(f"--grid {shown_name(name)} has {len(texts):,} values, more executions than the cap "
                             f"of {max_executions:,}: give fewer values, or raise the cap with "
                             f"--max-executions {len(texts)}")
        parsed = [parse_value(v) for v in texts]
        if not parsed:
            raise UsageError(f"--grid {shown_name(name)} has no values; use --grid {shown_name(name)}=v1,v2,...")
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
    """Name of an executed copy: ``05_mlp`` + ``{ACTIVATION: tanh}`` -> ``05_mlp__ACTIVATION=tanh``.

    A name longer than :data:`MAX_STEM_CHARS` (long grid values: a file name has at most 255 bytes) is cut and
    ends in a hash of the whole name, so that it stays unique."""
    parts = [safe_filename_part(f"{name}={format_value(value)}") for name, value in grid_values.items()]
    whole = "__".join([stem, *parts])
    if len(whole) <= MAX_STEM_CHARS:
        return whole
    digest = hashlib.sha256(whole.encode("utf-8")).hexdigest()[:16]
    return f"{whole[:MAX_STEM_CHARS - 18]}__{digest}"


def coerce_yaml_float(value: Any) -> Any:
    """Turn strings like ``1e-3`` (a string for YAML 1.1) into floats; leave other values alone."""
    return float(value) if isinstance(value, str) and FLOAT_RE.fullmatch(value.strip()) else value


def load_params_file(path: Path | None, stems: set[str]) -> tuple[dict[str, Any], dict[str, dict]]:
    """Read a YAML parameters file -> (parameters for every notebook, {stem: parameters}).

    The file must be a regular file (links followed) of at most :data:`MAX_PARAMS_FILE_BYTES` bytes of UTF-8;
    what :func:`strict_yaml_loader` refuses (anchors and aliases, tags, deep nesting, huge integers) is a usage
    error naming the file and the line."""
    if path is None:
        return {}, {}
    text = read_regular_file(Path(path), MAX_PARAMS_FILE_BYTES, "--params-file")
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"cannot read --params-file {path}: {cut(str(exc), 600)}") from None
    except UsageError as exc:  # a YAML 1.1 surprise, an alias, a huge integer...
        raise UsageError(f"--params-file {path}: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(f"--params-file {path} must hold a mapping of NAME: value, not {with_article(type(data).__name__)}")
    common, per_notebook = {}, {}
    for key, value in data.items():
        key = str(key)
        if NOTEBOOK_RE.match(key + ".ipynb"):
            if key not in stems:
                raise UsageError(f"--params-file section {shown(key)} names no notebook; valid: "
                                 f"{shown_names(sorted(stems), 20)}")
            if not isinstance(value, dict):
                raise UsageError(f"--params-file section {shown(key)} must be a mapping of NAME: value")
            per_notebook[key] = {str(k): coerce_yaml_float(v) for k, v in value.items()}
        else:
            common[key] = coerce_yaml_float(value)
    return common, per_notebook


def cut(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]} [... {len(text) - limit:,} more characters]"


def check_values(notebook: Path, values: dict[str, Any]) -> None:
    """Reject a value that its declaration in the notebook's ``parameters`` cell does not allow: another type, a
    number outside its range or not finite (in a list too), a value outside its choices, None where the declaration
    does not allow it. The same check, with the same message, as the notebook's setup cell makes of itself
    (:mod:`helpers.parameters`); names the cell lacks are :func:`check_parameters`' to refuse."""
    declared = {p.name: p.declaration for p in notebook_parameters(notebook)}
    for name, value in values.items():
        declaration = declared.get(name)
        problem = declaration.problem(value) if declaration is not None else None
        if problem:
            raise UsageError(f"{notebook.stem}: {cut(problem)}")


def check_parameters(notebook: Path, names: list[str]) -> None:
    """Reject parameter ``names`` that the notebook's ``parameters`` cell does not define."""
    valid = [p.name for p in notebook_parameters(notebook)]
    known = set(valid)
    unknown = [name for name in names if name not in known]
    if unknown:
        listing = shown_names(valid, 60) if valid else "none (it has no cell tagged 'parameters')"
        raise UsageError(f"unknown parameter(s) {shown_names(unknown)} for {notebook.stem}; "
                         f"valid parameters: {listing}")


def plan_executions(args: argparse.Namespace) -> list[Execution]:
    """Validate the command line and return every execution to run (nothing is written).

    A batch of more than ``args.max_executions`` executions (default :data:`DEFAULT_MAX_EXECUTIONS`) is refused
    before any grid is expanded."""
    limit = getattr(args, "max_executions", None) or DEFAULT_MAX_EXECUTIONS
    given = sum(len(text) for text in [*args.param, *args.grid])
    if given > MAX_COMMAND_LINE_VALUES_CHARS:
        raise UsageError(f"-p and --grid give {given:,} characters of values, more than the "
                         f"{MAX_COMMAND_LINE_VALUES_CHARS:,} any batch needs: run the batch in parts")
    notebooks = select_notebooks(args.notebooks, Path(args.notebooks_dir))
    cli_params = parse_params(args.param)
    grid = parse_grid(args.grid, limit)
    clash = sorted(set(grid) & set(cli_params))
    if clash:
        raise UsageError(f"parameter(s) {shown_names(clash)} given with both -p and --grid")
    stems = {nb.stem for nb in discover_notebooks(Path(args.notebooks_dir))} | {nb.stem for nb in notebooks}
    common, per_notebook = load_params_file(args.params_file, stems)
    check_common_keys(common, notebooks, Path(args.notebooks_dir), args.params_file)
    grids = []
    for notebook in notebooks:
        preset = load_preset(notebook.stem, args.preset)
        preset_grid = {k: v for k, v in preset.grid.items() if k not in grid and k not in cli_params}
        grids.append((notebook, preset, {**preset_grid, **grid}))
    check_batch_size([(notebook, notebook_grid) for notebook, _, notebook_grid in grids], limit)
    executions = []
    for notebook, preset, notebook_grid in grids:
        defined = {p.name for p in notebook_parameters(notebook)}
        shared = {k: v for k, v in common.items() if k in defined}  # a file's top level: where the name exists
        base = {**preset.parameters, **shared, **per_notebook.get(notebook.stem, {}), **cli_params}
        base = {k: v for k, v in base.items() if k not in notebook_grid}
        check_parameters(notebook, [*base, *notebook_grid])
        check_values(notebook, base)
        for name, values in notebook_grid.items():
            for value in values:
                check_values(notebook, {name: value})
        for combo in expand_grid(notebook_grid):
            parameters = {**base, **combo}
            executions.append(Execution(notebook, parameters, combo, preset=args.preset,
                                        strict=thresholds_fit(parameters, preset)))
    check_unique_stems(executions)
    return executions


def check_batch_size(grids: list[tuple[Path, dict[str, list[Any]]]], limit: int) -> None:
    """Reject a batch of more than ``limit`` executions (counted, not expanded: a grid of five names with 100
    values each would be 10 billion), naming the largest grids."""
    sizes = [(math.prod(len(values) for values in grid.values()), notebook, grid) for notebook, grid in grids]
    total = sum(size for size, _, _ in sizes)
    if total <= limit:
        return
    largest = sorted(sizes, key=lambda item: -item[0])[:3]
    details = "; ".join(f"{nb.stem}: {size:,}" + (" = " + " x ".join(f"{len(v):,} values of {shown_name(k)}"
                                                                     for k, v in grid.items()) if grid else "")
                        for size, nb, grid in largest if size)
    raise UsageError(f"this batch would run {total:,} executions ({details}), more than the cap of {limit:,}: "
                     f"give fewer grid values or notebooks, or raise the cap with --max-executions {total}")


def check_common_keys(common: dict[str, Any], notebooks: list[Path], notebooks_dir: Path, path: Path | None) -> None:
    """Reject top-level keys of a params file that no selected notebook defines, saying where each one exists."""
    selected = set().union(*({p.name for p in notebook_parameters(nb)} for nb in notebooks))
    unused = [key for key in common if key not in selected]
    if not unused:
        return
    everywhere = [(nb.stem, {p.name for p in notebook_parameters(nb)}) for nb in discover_notebooks(notebooks_dir)]
    problems = []
    for key in unused[:10]:
        where = [stem for stem, names in everywhere if key in names]
        problems.append(f"{shown_name(key)} (defined in {', '.join(where)})" if where
                        else f"{shown_name(key)} (defined in no notebook)")
    more = f"; and {len(unused) - 10:,} more" if len(unused) > 10 else ""
    raise UsageError(f"--params-file {path}: no selected notebook has the parameter(s) {'; '.join(problems)}{more}; "
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


def check_output_folder(output: str | None, executions: list[Execution]) -> None:
    """Refuse an output folder that would put executed copies over or beside the notebooks they run: one that is
    (or lies inside) the folder of a selected notebook, the folder a notebook's link points into included (links
    resolved), or one where an executed copy's file is a source notebook itself (a hard link). With no ``--output``,
    the default ``runs/`` folder under the current directory is checked."""
    folder = Path(output) if output is not None else Path.cwd() / "runs"
    target = folder.resolve()
    notebooks = list(dict.fromkeys(e.notebook for e in executions))
    for notebook in notebooks:
        for source_dir in dict.fromkeys([notebook.absolute().parent.resolve(), notebook.resolve().parent]):
            if target == source_dir or source_dir in target.parents:
                where = "is" if target == source_dir else "is inside"
                given = f"--output {folder}" if output is not None else f"the default output folder {folder}"
                raise UsageError(f"{given} {where} the folder of the source notebook {notebook.name} ({source_dir}): "
                                 "its executed copies would be written over or beside the course's notebooks; "
                                 f"choose an --output folder outside {source_dir}, e.g. runs/my-batch")
    for execution in executions:
        copy = folder / f"{execution.stem}.ipynb"
        try:
            same = copy.exists() and os.path.samefile(copy, execution.notebook)
        except OSError:
            same = False
        if same:
            raise UsageError(f"{copy} is the source notebook {execution.notebook} itself (a link to it): the run "
                             "would write over it; choose another --output folder")


def check_kernel(kernel: str) -> None:
    """Reject a Jupyter kernel name that is not installed, listing the installed ones."""
    from jupyter_client.kernelspec import KernelSpecManager  # heavy (traitlets, zmq): only for `run`

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
