"""The machinery behind every exercise check: run the learner's function safely, compare, explain.

A check is a plain function ``check(trial)`` that calls the learner's code through ``trial`` and
raises :class:`Wrong` at the first problem it finds, with a message that names the mistake in plain
words and an optional hint. Everything the learner's code can do wrong (raise, return nonsense,
return NaN, not be a function at all) becomes a :class:`Feedback`, never a traceback from the checker.

Statuses of a :class:`Feedback`:

* ``"passed"``          every test of the check passed
* ``"not attempted"``   the stub is still there (``NotImplementedError``, or ``...`` giving ``None``)
* ``"not yet"``         the code runs but an answer is wrong (the message says which and why)
* ``"error"``           the learner's code raised an exception (its type, message and line are shown)
"""

from __future__ import annotations

import linecache
import math
import sys
import textwrap
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

PASSED, NOT_ATTEMPTED, NOT_YET, ERROR = "passed", "not attempted", "not yet", "error"


class Wrong(Exception):
    """Raised by a check when the learner's answer is wrong; ``message`` says what, ``hint`` how to fix it."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class _NotAttempted(Exception):
    """The learner's function is still the stub."""


class LearnerError(Exception):
    """The learner's function raised; ``text`` describes the exception in plain words.

    A check may catch it around :meth:`Trial.call` to name a mistake the exception gives away (an index error
    from one-hot labels given as integers) by raising :class:`Wrong`; uncaught, it becomes an "error" feedback.
    """

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


@dataclass(frozen=True)
class Exercise:
    """One coding exercise: the function the learner writes and the check that tests it.

    ``exercise_id`` is ``"NN.K"`` (notebook NN, exercise K); ``function_name`` is the name the stub
    defines; ``check(trial)`` raises :class:`Wrong` at the first wrong answer; ``solution`` is the
    course's own answer (in :mod:`helpers.exercises.solutions`), shown by :func:`helpers.exercises.solution`.
    ``hint`` is shown with a wrong answer whose :class:`Wrong` has no hint of its own.
    """

    exercise_id: str
    title: str
    function_name: str
    check: Callable[["Trial"], None]
    solution: Callable
    hint: str = ""


@dataclass
class Feedback:
    """What a check found: ``status`` (see the module docstring), what was right, what was wrong, a hint."""

    exercise_id: str
    title: str
    status: str
    right: list[str] = field(default_factory=list)
    problem: str = ""
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def __str__(self) -> str:
        head = {PASSED: "passed", NOT_ATTEMPTED: "not attempted yet", NOT_YET: "not right yet",
                ERROR: "your code raised an error"}[self.status]
        lines = [f"Exercise {self.exercise_id} · {self.title}: {head}"]
        lines += [wrapped(f"  ✓ {text}") for text in self.right]
        if self.problem:
            mark = "·" if self.status == NOT_ATTEMPTED else "✗"
            lines.append(wrapped(f"  {mark} {self.problem}"))
        if self.hint:
            lines.append(wrapped(f"  Hint: {self.hint}"))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


class Trial:
    """The learner's function as a check sees it: ``call`` runs it, the ``expect_*`` methods compare.

    Each passed comparison adds a line to ``right`` (shown to the learner as ✓).
    """

    def __init__(self, function: Callable, name: str):
        self.function = function
        self.name = name
        self.right: list[str] = []
        self.last_result: Any = None  # what the learner's function returned last, as it returned it

    def call(self, *args, allow_none: bool = False, **kwargs) -> Any:
        """Call the learner's function; a stub or an exception becomes feedback, not a traceback.

        ``None`` as the result is a mistake (a missing ``return``) unless ``allow_none`` (a function that changes
        its argument in place, such as freezing a model's layers).
        """
        shown = describe_call(self.name, args, kwargs)
        try:
            result = self.function(*args, **kwargs)
        except NotImplementedError:
            raise _NotAttempted() from None
        except Exception as exc:  # the learner's code: any exception is feedback
            raise LearnerError(f"{shown} raised {learner_exception(exc)}") from None
        if result is None and not allow_none:
            raise Wrong(f"{shown} returned None.",
                        "Does your function end with a `return` statement? A body that is still `...` returns None.")
        self.last_result = result
        return result

    def ok(self, text: str) -> None:
        """Record something the learner got right."""
        self.right.append(text)

    # --- conversions that turn nonsense into plain words -------------------------------------------------
    def array(self, value, what: str, ndim: int | None = None, shape: tuple | None = None) -> np.ndarray:
        """``value`` as a float array, or :class:`Wrong` saying why it is not a usable array of numbers.

        ``None`` (what :func:`as_floats` makes of an answer that is not numbers) stands for the function's own
        result, so the message names what it returned (a string, say).
        """
        if value is None and self.last_result is not None:
            value = self.last_result
        if isinstance(value, (str, bytes, dict, set)) or callable(value):
            raise Wrong(f"{what} should be an array of numbers, but it is a {type(value).__name__}: {short(value)}.")
        refuse_complex(value, what)
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise Wrong(f"{what} should be an array of numbers, but {short(value)} cannot be read as one.") from None
        if ndim is not None and arr.ndim != ndim:
            raise Wrong(f"{what} should have {ndim} dimension(s), but it has shape {arr.shape}.")
        if shape is not None and arr.shape != tuple(shape):
            raise Wrong(f"{what} should have shape {tuple(shape)}, but it has shape {arr.shape}.")
        if np.isnan(arr).any():
            raise Wrong(f"{what} contains NaN (not a number).",
                        "NaN usually comes from 0/0, log(0) or exp of a large number; check each step on a small input.")
        if np.isinf(arr).any():
            raise Wrong(f"{what} contains an infinite value.", "Look for a division by zero or an overflowing exp.")
        return arr

    def number(self, value, what: str) -> float:
        """``value`` as a finite float (a Python number, a NumPy scalar or a size-1 array)."""
        if value is None and self.last_result is not None:
            value = self.last_result
        if isinstance(value, bool) or isinstance(value, (str, bytes, dict, set)) or callable(value):
            raise Wrong(f"{what} should be a number, but it is a {type(value).__name__}: {short(value)}.")
        refuse_complex(value, what)
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise Wrong(f"{what} should be a number, but {short(value)} cannot be read as one.") from None
        if arr.size != 1:
            raise Wrong(f"{what} should be a single number, but it has shape {arr.shape}.")
        number = float(arr.reshape(()))
        if math.isnan(number):
            raise Wrong(f"{what} is NaN (not a number).", "NaN usually comes from 0/0 or log(0).")
        if math.isinf(number):
            raise Wrong(f"{what} is infinite.", "Look for a division by zero.")
        return number

    def integer(self, value, what: str) -> int:
        """``value`` as an int (a float such as 3.0 is accepted; 3.5 is not)."""
        number = self.number(value, what)
        if number != int(number):
            raise Wrong(f"{what} should be a whole number, but it is {number}.")
        return int(number)

    # --- comparisons ------------------------------------------------------------------------------------
    def expect_close(self, got, expected, what: str, rtol: float = 1e-5, atol: float = 1e-6,
                     ok: str | None = None) -> np.ndarray:
        """Compare arrays (or numbers) of the same shape; :class:`Wrong` names the first difference."""
        expected = np.asarray(expected, dtype=float)
        got = self.array(got, what, shape=expected.shape)
        if not np.allclose(got, expected, rtol=rtol, atol=atol):
            index = np.unravel_index(np.argmax(np.abs(got - expected)), expected.shape) if expected.ndim else ()
            where = f" at index {tuple(int(i) for i in index)}" if expected.ndim else ""
            raise Wrong(f"{what} is wrong{where}: got {fmt(got[index])}, expected {fmt(expected[index])}.")
        self.ok(ok or f"{what} is right")
        return got

    def expect_equal(self, got, expected, what: str, ok: str | None = None):
        """Exact equality (ints, strings, tuples)."""
        if got != expected:
            raise Wrong(f"{what}: got {short(got)}, expected {short(expected)}.")
        self.ok(ok or f"{what} is right")
        return got


def refuse_complex(value, what: str) -> None:
    """:class:`Wrong` if ``value`` holds complex numbers (a square root of a negative number, say)."""
    if np.iscomplexobj(value):
        raise Wrong(f"{what} should hold real numbers, but it holds complex numbers: {short(value)}.",
                    "A square root or a power of a negative number gives complex results; check the signs.")


def as_floats(value) -> np.ndarray | None:
    """``value`` as a float array for diagnosing a mistake (NaN and inf allowed), or None when it is not numbers.

    Checks use it to recognise a known wrong answer before :meth:`Trial.array` judges the value.
    """
    if isinstance(value, (str, bytes, dict, set)) or callable(value):
        return None
    try:
        with np.errstate(all="ignore"):
            return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None


def same(got: np.ndarray | None, expected, rtol: float = 1e-6) -> bool:
    """``got`` has ``expected``'s shape and values (NaN never matches)."""
    expected = np.asarray(expected, dtype=float)
    return got is not None and got.shape == expected.shape and bool(np.allclose(got, expected, rtol=rtol, atol=1e-9))


def evaluate(exercise: Exercise, answer) -> Feedback:
    """Run ``exercise.check`` on the learner's ``answer`` (their function) and return the feedback."""
    feedback = Feedback(exercise.exercise_id, exercise.title, PASSED)
    if not callable(answer):
        kind = type(answer).__name__
        feedback.status = NOT_YET
        feedback.problem = (f"expected your function `{exercise.function_name}` itself, got a {kind} ({short(answer)}).")
        feedback.hint = (f"Pass the function without calling it: check.exercise(\"{exercise.exercise_id}\", "
                         f"{exercise.function_name}), not {exercise.function_name}(...).")
        return feedback
    trial = Trial(answer, exercise.function_name)
    try:
        exercise.check(trial)
    except _NotAttempted:
        feedback.status = NOT_ATTEMPTED
        feedback.problem = (f"`{exercise.function_name}` still raises NotImplementedError: replace that line with your "
                            "code, run the cell, then run this check again.")
        feedback.right = []
        return feedback
    except LearnerError as exc:
        feedback.status, feedback.problem = ERROR, exc.text
        feedback.hint = "Read the error message and the line it names; try your function on a tiny input first."
    except Wrong as exc:
        feedback.status, feedback.problem = NOT_YET, exc.message
        feedback.hint = exc.hint if exc.hint is not None else exercise.hint
    except Exception as exc:  # the answer was nonsense in a way no comparison foresaw: still plain words
        feedback.status = NOT_YET
        feedback.problem = (f"your answer could not be checked: using what `{exercise.function_name}` returned "
                            f"failed with {type(exc).__name__}: {exc}.")
        feedback.hint = exercise.hint or "Compare what your function returns with what its docstring asks for."
    feedback.right = list(trial.right)
    return feedback


# --- plain-words formatting -------------------------------------------------------------------------------
def wrapped(line: str, width: int = 100) -> str:
    """A feedback line folded at ``width`` characters, continuation lines indented under its text."""
    return textwrap.fill(line, width=width, subsequent_indent="    ", break_long_words=False,
                         break_on_hyphens=False)


def short(value, limit: int = 60) -> str:
    """A one-line description of any value, at most ``limit`` characters."""
    if isinstance(value, np.ndarray):
        text = f"array of shape {value.shape}"
    else:
        try:
            text = repr(value)
        except Exception:
            text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fmt(value) -> str:
    """A number as the learner would write it (4 significant digits)."""
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return short(value)


def describe_call(name: str, args: tuple, kwargs: dict) -> str:
    """``name(arg, ...)`` with each argument described briefly."""
    parts = [short(a, 40) for a in args] + [f"{k}={short(v, 40)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def learner_exception(exc: BaseException) -> str:
    """An exception raised in the learner's code: type, message and the learner's line that raised it."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(_OWN_DIR) and "site-packages" not in f.filename
              and not f.filename.startswith(sys.base_prefix)]
    if frames:
        last = frames[-1]
        line = (last.line or linecache.getline(last.filename, last.lineno)).strip()
        if line:
            text += f" (in `{last.name}`, at: {line})"
    return text


_OWN_DIR = __file__.rsplit("/", 1)[0] if "/" in __file__ else __file__
