"""A notebook's parameters, declared once: the cell tagged ``parameters`` says what each one takes.

Each line of that cell declares one parameter::

    EPOCHS: int = 20                # passes over the training data [at least 1]
    DROPOUT_RATE: float = 0.5       # share of units dropped while training [0 to below 1]
    ACTIVATION: str = "relu"        # hidden-layer activation ["relu", "tanh" or "sigmoid"]
    TRAIN_SAMPLES: int = None       # training images; None: all of them [at least 1 or None]
    MODELS: list[str] = ["vgg16"]   # models compared ["vgg16", "resnet50" or "mobilenet"]

that is ``NAME: TYPE = DEFAULT  # MEANING [ALLOWED]``:

``TYPE``
    ``int``, ``float``, ``str``, ``bool``, ``list[int]``, ``list[float]`` or ``list[str]`` (papermill shows it:
    ``papermill --help-notebook NOTEBOOK``). An int is also a float; True and False are no numbers.
``DEFAULT``
    a Python literal: a number, a quoted text, True, False, None or a list of these.
``MEANING``
    free text for the reader (papermill shows the whole comment as the parameter's help). It must not contain
    ``=``: papermill skips a line with two of them. Comment-only lines below it may explain more.
``[ALLOWED]`` (optional, at the very end of the comment)
    a range of numbers: ``[at least 1]``, ``[above 0]``, ``[at most 13]``, ``[below 1]``, ``[0 to 1]``; in ``[LOW to
    HIGH]`` both ends are allowed unless written ``above LOW`` or ``below HIGH`` (``[0 to below 1]``,
    ``[above 0 to below 1]``);
    or the choices, as Python literals separated by commas or ``or``: ``["relu", "tanh" or "sigmoid"]``.
    ``or None`` at the end allows None as well (``[at least 1 or None]``). For a list, every item must be allowed.

Without ``[ALLOWED]`` any value of the type is allowed. A number must always be finite (no nan, no inf). None is
allowed where the default is None or ``[ALLOWED]`` allows it. An assignment without a type takes the type of its
default (the course's notebooks give every parameter one; ``tests/test_parameters.py`` checks it); other statements
in the cell are no parameters.

Both sides read the declaration with :func:`parse`: the runner (``python -m helpers run``) checks every ``-p``,
``--grid``, ``--params-file`` and preset value before anything runs, and the notebook checks itself in its setup
cell with one call, :func:`check_parameters` (in Jupyter, under papermill, and in a notebook copied alone to an empty
folder: it reads the parameters cell from IPython's input history, see there). Checks that relate two parameters
(``KNOB_LOW < KNOB_HIGH``) are written out in the setup cell, after that call.

Pure Python: no Keras, no NumPy, nothing of the course's tooling.
"""

from __future__ import annotations

import ast
import json
import math
import re
import reprlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

__all__ = ["DeclarationError", "Range", "Declaration", "parse", "find_declaration", "check_parameters", "shown", "TYPES"]

TYPES = ("int", "float", "str", "bool", "list[int]", "list[float]", "list[str]")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE_RE = re.compile(rf"(?:(?P<low_word>at least|above) (?P<low>{_NUMBER})|(?P<high_word>at most|below) "
                       rf"(?P<high>{_NUMBER})|(?P<open_low>above )?(?P<from>{_NUMBER}) to (?P<open_high>below )?"
                       rf"(?P<to>{_NUMBER}))")
_LITERAL_RE = re.compile(rf"\s*(\"[^\"\\]*\"|'[^'\\]*'|None|True|False|{_NUMBER})\s*")
_SEPARATOR_RE = re.compile(r",\s*or\s+|,\s*|or\s+")
_OR_NONE_RE = re.compile(r",?\s+or\s+None$")
_ALLOWED_RE = re.compile(r"\[([^\[\]]*)\]\s*$")
_NO_DEFAULT = object()  # a default that is an expression, not a literal


class DeclarationError(ValueError):
    """A parameters cell that does not follow the grammar of :mod:`helpers.parameters`."""


@dataclass(frozen=True)
class Range:
    """``low <= value <= high`` (an open end excludes its bound; None: no bound)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return self.high is None or value < self.high or (not self.high_open and value == self.high)

    def __str__(self) -> str:
        """``"a number >= 1"``, ``"a number in [0, 1)"``, ``"any finite number"``."""
        return "any finite number" if self.low is None and self.high is None else f"a number {self.bounds()}"

    def bounds(self) -> str:
        """``">= 1"``, ``"in [0, 1)"``."""
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {_number(self.low)}"
        if self.low is None:
            return f"{'<' if self.high_open else '<='} {_number(self.high)}"
        return (f"in {'(' if self.low_open else '['}{_number(self.low)}, {_number(self.high)}"
                f"{')' if self.high_open else ']'}")


@dataclass(frozen=True)
class Declaration:
    """One parameter of a parameters cell: ``NAME: TYPE = DEFAULT  # HELP``, HELP ending in ``[ALLOWED]`` or not.

    ``type`` is one of :data:`TYPES` (None: neither annotated nor inferable; any value); ``default`` the default's
    value (``default_text`` its source); ``range``, ``choices`` and ``none_allowed`` what ``[ALLOWED]`` and the
    default allow; ``annotated`` whether the type was written (False: taken from the default); ``line`` the line in
    the cell (1-based)."""

    name: str
    type: str | None
    default: Any
    default_text: str
    help: str = ""
    range: Range | None = None
    choices: tuple | None = None
    none_allowed: bool = False
    annotated: bool = True
    line: int = 0

    @property
    def item_type(self) -> str | None:
        """The type of each item of a list (``"str"`` for ``list[str]``); the type itself otherwise."""
        return _item_type(self.type)

    def allowed(self) -> str:
        """What this parameter takes, in words: ``"None or an int >= 1"``, ``'one of "relu" or "tanh"'``."""
        if self.type is None:
            return "any value"
        is_list = self.type.startswith("list")
        if self.choices is not None:
            what = ("a list, each " if is_list else "") + "one of " + _listed(self.choices)
        else:
            what = f"a list of {self.item_type} values" if is_list else with_article(self.type)
            if self.range is not None:
                what += (", each " if is_list else " ") + self.range.bounds()
        return f"None or {what}" if self.none_allowed and (self.choices is None or None not in self.choices) \
            else what

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not a valid setting (one sentence naming the parameter, the value, what is allowed and
        the fix), or None when it is."""
        name, default = self.name, f" (its default: {_cut(self.default_text, 80)})"
        if value is None:
            if self.none_allowed:
                return None
            return (f"{name}=None is not a setting of this parameter: {name} takes {self.allowed()}{default}; "
                    "give a value of that type")
        if self.type is None:
            return None
        items = value if self.type.startswith("list") and isinstance(value, list) else [value]
        if not _fits(value, self.type) or not all(_fits(item, self.item_type) for item in items):
            wrong = next((i for i in items if not _fits(i, self.item_type)), value) if isinstance(value, list) \
                else value
            what = f"{name}={shown(value)} is" if wrong is value else f"{name} holds {shown(wrong)}, which is"
            return (f"{what} {with_article(type(wrong).__name__)}, but {name} takes {self.allowed()}{default}; give a value of "
                    "that type")
        for item in items:
            what = f"{name} holds {shown(item)}, which" if item is not value else f"{name}={shown(item)}"
            if self.choices is not None and not any(item == c and type(item) is type(c) for c in self.choices):
                return f"{what} is not one of the valid choices: {_listed(self.choices, quote=False)}"
            if isinstance(item, float) and not math.isfinite(item):
                return (f"{what} is not a finite number: {name} takes {self.range or 'any finite number'}{default}; "
                        "give a value inside that range")
            if self.range is not None and isinstance(item, (int, float)) and item not in self.range:
                return (f"{what} is out of range: {name} takes {self.range}{default}; give a value inside that "
                        "range")
        return None

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` (the message of :meth:`problem`) unless ``value`` is a valid setting."""
        message = self.problem(value)
        if message:
            raise ValueError(message)


# --------------------------------------------------------------------------- reading a parameters cell


def parse(source: str) -> dict[str, Declaration]:
    """The parameters a parameters cell's ``source`` declares, by name, in the cell's order.

    Raises:
        DeclarationError: the cell is not Python, a type is not one of :data:`TYPES`, an ``[ALLOWED]`` cannot be
            read or does not fit the type, or a None default has no type. The message names the line.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise DeclarationError(f"the parameters cell is not Python: {type(exc).__name__}: {exc}") from None
    lines = source.splitlines()
    declared: dict[str, Declaration] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            targets, annotation = [node.target], node.annotation
        elif isinstance(node, ast.Assign):
            targets, annotation = [t for t in node.targets if isinstance(t, ast.Name)], None
        else:
            continue  # not a parameter: code the cell may hold
        text = ast.get_source_segment(source, node.value) or ""
        rest = lines[node.end_lineno - 1][node.end_col_offset:]
        comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
        for target in targets:
            declared[target.id] = _declaration(target.id, annotation, text, comment, node.lineno)
    return declared


def _declaration(name: str, annotation: ast.expr | None, text: str, comment: str, line: int) -> Declaration:
    where = f"line {line} ({name})"
    try:
        default = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        default = _NO_DEFAULT
    if annotation is not None:
        type_name = ast.unparse(annotation).replace(" ", "")
        if type_name not in TYPES:
            raise DeclarationError(f"{where}: unknown type {type_name!r}; use one of {', '.join(TYPES)}")
    else:
        type_name = _type_of(default)
        if default is None:
            raise DeclarationError(f"{where}: a default of None says nothing about the values {name} takes: give it "
                                   f"a type, e.g. {name}: int = None")
    found = _ALLOWED_RE.search(comment)
    allowed = found.group(1).strip() if found else ""
    none_allowed = default is None
    if _OR_NONE_RE.search(allowed):
        allowed, none_allowed = _OR_NONE_RE.sub("", allowed), True
    value_range, choices = None, None
    if found and (matched := _RANGE_RE.fullmatch(allowed)):
        value_range = _range(matched)
        if type_name not in ("int", "float", "list[int]", "list[float]"):
            raise DeclarationError(f"{where}: [{found.group(1)}] is a range of numbers, but {name} is {type_name}")
    elif found:
        choices = _choices(allowed, where, found.group(1))
        wanted = _item_type(type_name)
        wrong = [c for c in choices if c is not None and wanted is not None and not _fits(c, wanted)]
        if wrong:
            raise DeclarationError(f"{where}: the choice {wrong[0]!r} is not {with_article(wanted)}")
        none_allowed = none_allowed or None in choices
    return Declaration(name, type_name, None if default is _NO_DEFAULT else default, text, comment, value_range,
                       choices, none_allowed, annotation is not None, line)


def _range(matched: re.Match) -> Range:
    groups = matched.groupdict()
    if groups["low_word"]:
        return Range(low=float(groups["low"]), low_open=groups["low_word"] == "above")
    if groups["high_word"]:
        return Range(high=float(groups["high"]), high_open=groups["high_word"] == "below")
    return Range(float(groups["from"]), float(groups["to"]), bool(groups["open_low"]), bool(groups["open_high"]))


def _choices(text: str, where: str, written: str) -> tuple:
    choices, position = [], 0
    while position < len(text):
        literal = _LITERAL_RE.match(text, position)
        if literal is None:
            break
        choices.append(ast.literal_eval(literal.group(1)))
        position = literal.end()
        if position == len(text):
            return tuple(choices)
        separator = _SEPARATOR_RE.match(text, position)
        if separator is None:
            break
        position = separator.end()
    raise DeclarationError(f"{where}: cannot read [{written}] at the end of its comment: write a range ([at least 1], "
                           "[0 to 1], [above 0 to below 1]) or the choices (\"a\", \"b\" or \"c\" in brackets), "
                           "optionally ending in 'or None'")


def _item_type(type_name: str | None) -> str | None:
    """``"str"`` for ``"list[str]"``; any other type name (or None) as it is."""
    return type_name[5:-1] if type_name and type_name.startswith("list[") else type_name


def _type_of(default: Any) -> str | None:
    """The type an unannotated parameter takes: that of its default (a list: of its items, when they agree)."""
    if isinstance(default, list):
        items = {_type_of(item) for item in default}
        if items == {"int", "float"}:
            items = {"float"}
        return f"list[{items.pop()}]" if len(items) == 1 and None not in items and "list" not in str(items) else None
    return type(default).__name__ if isinstance(default, (bool, int, float, str)) else None


def _fits(value: Any, type_name: str | None) -> bool:
    if type_name is None:
        return True
    if type_name.startswith("list"):
        return isinstance(value, list)
    if isinstance(value, bool) or type_name == "bool":
        return isinstance(value, bool) and type_name == "bool"
    if type_name == "float":
        return isinstance(value, (int, float))
    return type(value).__name__ == type_name


# --------------------------------------------------------------------------- a notebook checks itself


def find_declaration(history: Iterable[str]) -> str | None:
    """The parameters cell among the executed cells ``history`` (oldest first): the latest one that declares a
    parameter with a type (``NAME: TYPE = value``). Papermill's injected cell (``NAME = value``, no types) and the
    cells that use the parameters are passed over; None when no cell declares one."""
    for source in reversed(list(history)):
        if not isinstance(source, str) or ":" not in source:
            continue
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        if any(isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None
               for node in tree.body):
            return source
    return None


#: At most this many notebooks, of at most this many bytes each, are read by :func:`declaration_in_folder`.
MAX_NOTEBOOKS_READ = 100
MAX_NOTEBOOK_BYTES = 50_000_000


def declaration_in_folder(names: set[str], folder: Path) -> str | None:
    """The text of the ``parameters``-tagged cell, among the notebooks in ``folder``, that declares exactly ``names``.

    For front ends that run cells without storing them in IPython's history (nbval does, with ``store_history=False``):
    the parameters cell has run, so its names are in the namespace's ``__annotations__``, and the kernel's working
    folder is the notebook's. None when ``names`` is empty or no notebook (of the first :data:`MAX_NOTEBOOKS_READ`,
    each under :data:`MAX_NOTEBOOK_BYTES`) has such a cell.
    """
    if not names:
        return None
    for path in sorted(Path(folder).glob("*.ipynb"))[:MAX_NOTEBOOKS_READ]:
        try:
            if path.stat().st_size > MAX_NOTEBOOK_BYTES:
                continue
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError, AttributeError):
            continue
        for cell in cells if isinstance(cells, list) else []:
            if not isinstance(cell, dict) or "parameters" not in (cell.get("metadata") or {}).get("tags", []):
                continue
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            try:
                if set(parse(source)) == names:
                    return source
            except ValueError:
                continue
    return None


def check_parameters(namespace: dict, declaration: str | None = None) -> dict[str, Any]:
    """Check every parameter's value in ``namespace`` (the notebook's ``globals()``) against its declaration.

    The declaration is the parameters cell's text: ``declaration`` when given, else the latest cell in IPython's
    input history (``In``, which Jupyter, papermill and every IPython kernel keep in the notebook's namespace) that
    declares parameters with types. The history holds what was run, so the check follows the cell as the learner last
    ran it, needs neither the notebook's file nor the runner, and works in a notebook copied alone anywhere. (The
    types alone would also be in ``__annotations__``, but the ranges and choices are in the comments, which only the
    text keeps.) A front end that runs cells without storing them (nbval) leaves no cell in the history; then the
    ``parameters``-tagged cell of the notebook in the working folder that declares the names of ``__annotations__``
    is used (:func:`declaration_in_folder`).

    A list parameter given as text (papermill's ``-p MODELS vgg16,resnet50`` or ``-p NAMES "[a, b]"`` passes text)
    is read as the list and stored back in ``namespace``.

    Returns:
        ``{name: value}`` of the declared parameters, in the cell's order.

    Raises:
        ValueError: a value the declaration does not allow (the message names the parameter, the value, what it
            takes and the fix); no parameters cell in the history; a parameters cell that does not parse
            (:class:`DeclarationError`).
    """
    if declaration is None:
        history = namespace.get("In") or namespace.get("_ih")
        if history is None:
            raise ValueError("check_parameters reads the parameters cell from IPython's input history (In), which "
                             "this namespace lacks: run the notebook in Jupyter or IPython, or pass the cell's text "
                             "as declaration=")
        declaration = find_declaration(history[:-1] if len(history) > 1 else history)
        if declaration is None:  # a front end that runs cells without storing them (nbval does): the file's cell
            declaration = declaration_in_folder(set(namespace.get("__annotations__") or ()), Path.cwd())
        if declaration is None:
            raise ValueError("No parameters cell has run yet (a cell of NAME: TYPE = value lines): run the cell "
                             "tagged 'parameters' first, then this one")
    declared = parse(declaration)
    values = {}
    for name, declared_one in declared.items():
        if name not in namespace:
            raise ValueError(f"{name} is declared in the parameters cell but has no value here: run that cell")
        value = namespace[name]
        if isinstance(value, str) and declared_one.type and declared_one.type.startswith("list"):
            value = namespace[name] = _list_from_text(value, declared_one)
        message = declared_one.problem(value)
        if message:
            raise ValueError(message)
        values[name] = value
    return values


def _list_from_text(text: str, declared: Declaration) -> list:
    """``"a,b"``, ``"[a, b]"`` or ``'["a", "b"]'`` as a list (of numbers for ``list[int]`` and ``list[float]``)."""
    items = [item.strip().strip("'\"").strip() for item in text.strip().strip("[]").split(",")]
    items = [item for item in items if item]
    if declared.item_type in ("int", "float"):
        number = int if declared.item_type == "int" else float
        try:
            return [number(item) for item in items]
        except ValueError:
            raise ValueError(f"{declared.name}={text!r} is text that is not a list of {declared.item_type} values: "
                             f"give e.g. [1, 2] ({declared.allowed()})") from None
    return items


# --------------------------------------------------------------------------- words


def with_article(noun: str | None) -> str:
    """``"an int"``, ``"a float"``."""
    noun = str(noun)
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _number(bound: float) -> str:
    """``1``, ``0.5``, ``4294967295`` (a bound as written, not ``4.29497e+09``)."""
    bound = float(bound)
    return str(int(bound)) if bound.is_integer() and abs(bound) < 1e16 else f"{bound:g}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


class _ShortRepr(reprlib.Repr):
    """``reprlib`` with integers of any size (``repr`` of an int beyond 4,300 digits raises) and short strings."""

    def __init__(self):
        super().__init__()
        self.maxstring = self.maxother = 80
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = 8
        self.maxlevel = 3
        self.maxlong = 40

    def repr_int(self, x, level):
        if x.bit_length() > 128:
            return f"<an integer of about {int(x.bit_length() * math.log10(2)) + 1} digits>"
        return super().repr_int(x, level)

    def repr_bool(self, x, level):
        return repr(x)


_SHORT_REPR = _ShortRepr()


def shown(value: Any) -> str:
    """``repr(value)`` cut to a few hundred characters at most (a value quoted in a message: one from the command
    line may be long)."""
    return _SHORT_REPR.repr(value)


def _listed(choices: tuple, quote: bool = True) -> str:
    """``"relu", "tanh" or "sigmoid"`` (quote=False: ``relu, tanh, sigmoid``, as the runner's messages list them)."""
    if not quote:
        return ", ".join("None" if c is None else str(c) for c in choices)
    shown = [repr(c) if not isinstance(c, str) else f'"{c}"' for c in choices]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
