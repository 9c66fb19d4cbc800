"""The machinery behind every exercise check: run the learner's function safely, compare, explain.

A check is a plain function ``check(trial)`` that calls the learner's code through ``trial`` and
raises :class:`Wrong` at the first problem it finds, with a message that names the mistake in plain
words and an optional hint. Everything the learner's code can do wrong (raise, return nonsense,
return NaN, not be a function at all) becomes a :class:`Feedback`, never a traceback from the checker.

Statuses of a :class:`Feedback`:

* ``"passed"``          every test of the check passed
* ``"not attempted"``   the stub is still there (``NotImplementedError``, or ``...`` giving ``None``)
* ``"not yet"``         the code runs but an answer is wrong (the message says which and why)
* ``"error"``           the learner's code raised an exception (its type, message and line are shown), called
                        ``sys.exit``, or did not finish within the check's time limit

The learner's code cannot hang, end or fool a check (see :mod:`helpers.exercises.isolation`): each check runs under
a time limit (:data:`~helpers.exercises.isolation.TIME_LIMIT` seconds unless its exercise sets ``time_limit``);
``SystemExit``, ``KeyboardInterrupt`` and any other ``BaseException`` from the learner's code are named as its error;
comparisons use NumPy's and Python's functions as they were when this module was imported, and the learner's return
values are read as data (a fresh float array, or a float) before any comparison; every message is bounded.
"""

from __future__ import annotations

import builtins
import linecache
import math
import reprlib
import sys
import textwrap
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from helpers.exercises.isolation import (LIBRARIES, TIME_LIMIT, OutOfTime, bounded, run_with_time_limit, safe_text,
                                         type_name)

# Bound when this module is imported, before any learner's code runs: the conversions and comparisons below use these,
# whatever a learner's cell later assigns to np.allclose, np.asarray or float.
_array = np.array            # a new float array (a copy, never a view of the learner's memory, never a subclass)
_isnan, _isinf = np.isnan, np.isinf
_absolute, _subtract, _less_equal = np.absolute, np.subtract, np.less_equal
_float, _isinstance, _len = builtins.float, builtins.isinstance, builtins.len

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

    def __init__(self, text: str, hint: str | None = None):
        super().__init__(text)
        self.text = text
        self.hint = hint


@dataclass(frozen=True)
class Exercise:
    """One coding exercise: the function the learner writes and the check that tests it.

    ``exercise_id`` is ``"NN.K"`` (notebook NN, exercise K); ``function_name`` is the name the stub
    defines; ``check(trial)`` raises :class:`Wrong` at the first wrong answer; ``solution`` is the
    course's own answer (in :mod:`helpers.exercises.solutions`), shown by :func:`helpers.exercises.solution`.
    ``hint`` is shown with a wrong answer whose :class:`Wrong` has no hint of its own. ``time_limit`` (seconds) is
    how long the check may take, the learner's code included; None means
    :data:`~helpers.exercises.isolation.TIME_LIMIT`.
    """

    exercise_id: str
    title: str
    function_name: str
    check: Callable[["Trial"], None]
    solution: Callable
    hint: str = ""
    time_limit: float | None = None

    def __post_init__(self):
        # The check's module is recorded with the trusted libraries: a learner's cell that rebinds one of its names
        # (``nb05.np = ...``) is undone while the check runs.
        LIBRARIES.watch_module(sys.modules.get(getattr(self.check, "__module__", "") or ""), everything=True)


@dataclass
class Feedback:
    """What a check found: ``status`` (see the module docstring), what was right, what was wrong, a hint."""

    exercise_id: str
    title: str
    status: str
    right: list[str] = field(default_factory=list)
    problem: str = ""
    hint: str = ""
    notes: list[str] = field(default_factory=list)
    headline: str = ""  # replaces the status's own words ("your code raised an error") where they would mislead

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def __str__(self) -> str:
        head = self.headline or {PASSED: "passed", NOT_ATTEMPTED: "not attempted yet", NOT_YET: "not right yet",
                                 ERROR: "your code raised an error"}[self.status]
        lines = [f"Exercise {self.exercise_id} · {self.title}: {head}"]
        lines += [wrapped(f"  ✓ {text}") for text in self.right]
        if self.problem:
            mark = "·" if self.status == NOT_ATTEMPTED else "✗"
            lines.append(wrapped(f"  {mark} {self.problem}"))
        if self.hint:
            lines.append(wrapped(f"  Hint: {self.hint}"))
        lines += [wrapped(f"  Note: {text}") for text in self.notes]
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
        self.running: str = ""  # the call of the learner's function in progress (named if it runs out of time)
        self.stopped_in: str = ""  # the call the time limit stopped
        self.slowest: tuple[float, str] = (0.0, "")  # (seconds, call) of the slowest call that returned

    def call(self, *args, allow_none: bool = False, **kwargs) -> Any:
        """Call the learner's function; a stub or an exception becomes feedback, not a traceback.

        ``None`` as the result is a mistake (a missing ``return``) unless ``allow_none`` (a function that changes
        its argument in place, such as freezing a model's layers).
        """
        shown = describe_call(self.name, args, kwargs)
        self.running = shown
        started = time.monotonic()
        try:
            result = self.function(*args, **kwargs)
        except NotImplementedError:
            raise _NotAttempted() from None
        except OutOfTime:
            self.stopped_in = shown
            raise
        except Exception as exc:  # the learner's code: any exception is feedback
            raise LearnerError(f"{shown} raised {learner_exception(exc)}") from None
        except BaseException as exc:  # sys.exit(), exit(), KeyboardInterrupt...: named, never passed on
            raise LearnerError(*stopping_exception(shown, exc)) from None
        finally:
            self.running = ""
            self.slowest = max(self.slowest, (time.monotonic() - started, shown))
            LIBRARIES.restore()  # whatever the call replaced (np.allclose = ...) is NumPy's own again
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
            raise Wrong(f"{what} should be an array of numbers, but it is a {type_name(value)}: {short(value)}.")
        refuse_complex(value, what)
        arr = read_floats(value)
        if arr is None:
            raise Wrong(f"{what} should be an array of numbers, but {short(value)} cannot be read as one.")
        if ndim is not None and arr.ndim != ndim:
            raise Wrong(f"{what} should have {ndim} dimension(s), but it has shape {arr.shape}.")
        if shape is not None and arr.shape != tuple(shape):
            raise Wrong(f"{what} should have shape {tuple(shape)}, but it has shape {arr.shape}.")
        if _isnan(arr).any():
            raise Wrong(f"{what} contains NaN (not a number).",
                        "NaN usually comes from 0/0, log(0) or exp of a large number; check each step on a small input.")
        if _isinf(arr).any():
            raise Wrong(f"{what} contains an infinite value.", "Look for a division by zero or an overflowing exp.")
        return arr

    def number(self, value, what: str) -> float:
        """``value`` as a finite float (a Python number, a NumPy scalar or a size-1 array)."""
        if value is None and self.last_result is not None:
            value = self.last_result
        if isinstance(value, bool) or isinstance(value, (str, bytes, dict, set)) or callable(value):
            raise Wrong(f"{what} should be a number, but it is a {type_name(value)}: {short(value)}.")
        refuse_complex(value, what)
        arr = read_floats(value)
        if arr is None:
            raise Wrong(f"{what} should be a number, but {short(value)} cannot be read as one.")
        if arr.size != 1:
            raise Wrong(f"{what} should be a single number, but it has shape {arr.shape}.")
        number = _float(arr.reshape(()))
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
        expected = _array(expected, dtype=float)
        got = self.array(got, what, shape=expected.shape)
        if not close(got, expected, rtol=rtol, atol=atol):
            worst = _absolute(_subtract(got, expected)).argmax()
            index = np.unravel_index(worst, expected.shape) if expected.ndim else ()
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


def read_floats(value) -> np.ndarray | None:
    """``value`` as a new float ``np.ndarray`` (NaN and inf allowed), or None when it cannot be read as numbers.

    The array is a copy made with the ``np.array`` bound at import, so a learner's later change to it, to NumPy or to
    a subclass's methods changes nothing the check compares. Reading runs the learner's ``__array__``/``__float__``
    if the value has them: whatever they replace in NumPy is put back afterwards.
    """
    plain = type(value) in _PLAIN or (type(value) is np.ndarray and value.dtype.kind in "biuf")
    try:
        with np.errstate(all="ignore"):
            arr = _array(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        return None
    finally:
        if not plain:  # reading it may have run the learner's code (__array__, __float__, __len__...)
            LIBRARIES.restore()
    return arr


#: Types whose conversion to floats runs no learner's code.
_PLAIN = frozenset({float, int, bool, np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
                    np.uint8, np.bool_})


def close(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> bool:
    """``np.allclose`` for two float arrays of one shape, computed with NumPy's ufuncs bound at import (NaN: False)."""
    with np.errstate(all="ignore"):
        return bool(_less_equal(_absolute(_subtract(got, expected)), atol + rtol * _absolute(expected)).all())


def refuse_complex(value, what: str) -> None:
    """:class:`Wrong` if ``value`` holds complex numbers (a square root of a negative number, say).

    The question is asked of a copy (``np.array`` bound at import), never of ``value`` itself: an ndarray subclass
    that answers NumPy functions for itself (``__array_function__``) cannot claim to be complex or not.
    """
    plain = type(value) in _PLAIN or (type(value) is np.ndarray and value.dtype.kind in "biuf")
    if plain:
        return
    try:
        with np.errstate(all="ignore"):
            kind = _array(value).dtype.kind
    except Exception:  # noqa: BLE001  (not an array of anything: the conversions that follow say so)
        return
    finally:
        LIBRARIES.restore()
    if kind == "c":
        raise Wrong(f"{what} should hold real numbers, but it holds complex numbers: {short(value)}.",
                    "A square root or a power of a negative number gives complex results; check the signs.")


def as_floats(value) -> np.ndarray | None:
    """``value`` as a float array for diagnosing a mistake (NaN and inf allowed), or None when it is not numbers.

    Checks use it to recognise a known wrong answer before :meth:`Trial.array` judges the value.
    """
    if isinstance(value, (str, bytes, dict, set)) or callable(value):
        return None
    return read_floats(value)


def same(got: np.ndarray | None, expected, rtol: float = 1e-6) -> bool:
    """``got`` has ``expected``'s shape and values (NaN never matches)."""
    if got is None:
        return False
    with np.errstate(all="ignore"):
        expected = _array(expected, dtype=float)
    got = _array(got, dtype=float)
    return got.shape == expected.shape and close(got, expected, rtol=rtol, atol=1e-9)


def evaluate(exercise: Exercise, answer, time_limit: float | None = None) -> Feedback:
    """Run ``exercise.check`` on the learner's ``answer`` (their function) and return the feedback.

    The check runs under a time limit (``time_limit``, else the exercise's, else
    :data:`~helpers.exercises.isolation.TIME_LIMIT` seconds) with NumPy, ``math`` and the builtins as they were at
    import; whatever the learner's code had replaced in them is put back when the check ends. Nothing the learner's
    code does (raise anything, call ``sys.exit``, loop forever, patch ``np.allclose``) escapes as a traceback.
    """
    feedback = Feedback(exercise.exercise_id, exercise.title, PASSED)
    limit = float(time_limit if time_limit is not None else exercise.time_limit or TIME_LIMIT)
    trial = Trial(answer, exercise.function_name)
    LIBRARIES.watch_module(sys.modules.get(getattr(exercise.check, "__module__", "") or ""), everything=True)
    LIBRARIES.noticed.clear()
    learners_own = LIBRARIES.restore()
    try:
        run_with_time_limit(lambda: _judge(exercise, answer, trial, feedback), limit)
    except _NotAttempted:
        feedback.status = NOT_ATTEMPTED
        feedback.problem = (f"`{exercise.function_name}` still raises NotImplementedError: replace that line with your "
                            "code, run the cell, then run this check again.")
        trial.right = []
    except OutOfTime:
        seconds, slowest = trial.slowest
        # the call still running when time ran out, or one that ended late (it caught the stop and returned)
        where = trial.stopped_in or trial.running or (slowest if seconds >= limit / 2 else "")
        feedback.status, feedback.headline = ERROR, "your code did not finish in time"
        name = exercise.function_name
        feedback.problem = (f"{where} did not finish within {limit:g} s, so the check stopped it." if where else
                            f"the check did not finish within {limit:g} s while it used what `{name}` returned, so it "
                            "was stopped.")
        feedback.hint = ("A loop that never ends (a `while` whose condition never becomes false), a `sleep`, or far "
                         "more work than these small inputs need does this: try your function on a tiny input, with a "
                         "print inside the loop to see that it ends.")
    except LearnerError as exc:
        feedback.status, feedback.problem = ERROR, exc.text
        feedback.hint = exc.hint or ("Read the error message and the line it names; try your function on a tiny input "
                                     "first.")
    except Wrong as exc:
        feedback.status, feedback.problem = NOT_YET, safe_text(exc.message, 1000)
        feedback.hint = exc.hint if exc.hint is not None else exercise.hint
    except Exception as exc:  # the answer was nonsense in a way no comparison foresaw: still plain words
        feedback.status = NOT_YET
        feedback.problem = (f"your answer could not be checked: using what `{exercise.function_name}` returned "
                            f"failed with {type_name(exc)}: {safe_text(exc)}.")
        feedback.hint = exercise.hint or "Compare what your function returns with what its docstring asks for."
    except BaseException as exc:  # SystemExit or KeyboardInterrupt outside a call: reading what the function returned
        feedback.status = ERROR
        feedback.problem, hint = stopping_exception(f"reading what `{exercise.function_name}` returned", exc)
        feedback.hint = hint or ""
    finally:
        LIBRARIES.restore()
        replaced = LIBRARIES.labels(LIBRARIES.noticed)
        LIBRARIES.reinstate(learners_own)  # the notebook keeps its own state: a check changes nothing in it
    if feedback.status != NOT_ATTEMPTED:
        feedback.right = [bounded(text, 300) for text in trial.right]
    feedback.problem = bounded(feedback.problem, 700)
    feedback.hint = bounded(feedback.hint, 400)
    if replaced:
        shown = ", ".join(replaced[:5]) + (f" and {len(replaced) - 5} more" if len(replaced) > 5 else "")
        feedback.notes.append(f"your code replaced {shown}; this check used the original. Assigning to a library's "
                              "name changes it for the whole notebook: give your own function a name of its own.")
    return feedback


def _judge(exercise: Exercise, answer, trial: Trial, feedback: Feedback) -> None:
    """The part of :func:`evaluate` that runs under the time limit (everything that touches the learner's objects)."""
    if not callable(answer):
        kind = type_name(answer)
        feedback.status = NOT_YET
        feedback.problem = f"expected your function `{exercise.function_name}` itself, got a {kind} ({short(answer)})."
        feedback.hint = (f"Pass the function without calling it: exercises.check(\"{exercise.exercise_id}\", "
                         f"{exercise.function_name}), not {exercise.function_name}(...).")
        return
    exercise.check(trial)


# --- plain-words formatting -------------------------------------------------------------------------------
def wrapped(line: str, width: int = 100) -> str:
    """A feedback line folded at ``width`` characters, continuation lines indented under its text."""
    return textwrap.fill(line, width=width, subsequent_indent="    ", break_long_words=False,
                         break_on_hyphens=False)


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxdict, _SHORT.maxset = 3, 8, 8, 6, 6
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 70, 70, 40


def short(value, limit: int = 60) -> str:
    """A one-line description of any value, at most ``limit`` characters (a huge list is not written out first)."""
    if isinstance(value, np.ndarray):
        text = f"array of shape {value.shape}"
    else:
        try:
            text = _SHORT.repr(value)
        except Exception:  # noqa: BLE001  (a learner's __repr__ that fails)
            text = f"<{type_name(value)}>"
        if not isinstance(text, str):
            text = f"<{type_name(value)}>"
    text = " ".join(text[: 4 * limit].split())
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
    """An exception raised in the learner's code: type, message and the learner's line that raised it (bounded)."""
    message = safe_text(exc, 200)
    text = f"{type_name(exc)}: {message}" if message else type_name(exc)
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if not f.filename.startswith(_OWN_DIR) and "site-packages" not in f.filename
                  and not f.filename.startswith(sys.base_prefix)]
    except Exception:  # noqa: BLE001
        frames = []
    if frames:
        last = frames[-1]
        line = (last.line or linecache.getline(last.filename, last.lineno)).strip()
        if line:
            text += f" (in `{bounded(str(last.name), 60)}`, at: {bounded(line, 120)})"
    return text


def stopping_exception(shown: str, exc: BaseException) -> tuple[str, str | None]:
    """(message, hint) for a ``BaseException`` that is not an ``Exception`` from the learner's code, in plain words.

    ``sys.exit(3)``, ``exit()`` and ``quit()`` raise ``SystemExit``; the stop button or ``raise KeyboardInterrupt``
    give ``KeyboardInterrupt``. None of them is an answer, and none may end the check or the ``progress`` command.
    """
    if isinstance(exc, SystemExit):
        code = exc.code
        args = "" if code is None else bounded(repr(code) if not isinstance(code, int) else str(code), 60)
        return (f"{shown} called sys.exit({args}) (exit() and quit() do the same): that asks Python to end the whole "
                "program, so your function gave no answer.",
                "Remove the sys.exit / exit / quit call and end the function with `return` and its result.")
    if isinstance(exc, KeyboardInterrupt):
        return (f"{shown} was interrupted (KeyboardInterrupt): the kernel was stopped while the check ran, or your "
                "code raised KeyboardInterrupt.",
                "Run the check again and let it finish; if your function is slow, try it on a tiny input first.")
    return (f"{shown} raised {learner_exception(exc)}, which is not an ordinary error (it derives from BaseException, "
            "not Exception, like the exceptions that stop a program).",
            "Raise an ordinary exception (ValueError, say), or return the result.")


_OWN_DIR = __file__.rsplit("/", 1)[0] if "/" in __file__ else __file__
