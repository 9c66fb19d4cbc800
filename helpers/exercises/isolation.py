"""Keeping the learner's code from breaking the check that runs it: a time limit, trusted libraries, bounded text.

A check runs the learner's function in the learner's own Python process (their notebook's kernel), so anything
the learner's code does happens to the check too. Three things are made safe here; none of them is a sandbox (code
that sets out to fool the checker from the same process can), they keep honest mistakes from hanging the kernel,
ending it, or making a wrong answer pass.

**Time limit** (:func:`run_with_time_limit`). In the main thread on Linux and macOS (a Jupyter kernel runs cells
there) a ``SIGALRM`` timer (``signal.setitimer``) raises :class:`OutOfTime` into the running code when the limit has
passed, and again every quarter second until the check gives up: the learner's code is *stopped*, where it was,
in the thread and context it runs in (Keras's and NumPy's per-thread settings stay as the notebook set them).
:class:`OutOfTime` derives from ``BaseException`` so that the learner's ``except Exception:`` does not swallow it.
Python handles a signal between two bytecodes, so a single C call that never returns to Python (a huge matrix
product, ``sum(itertools.count())``) is only stopped when it returns; the same is true of the stop button.
Outside the main thread, or without ``setitimer``, the check runs in a daemon thread that is waited for until the
limit: a thread cannot be killed, so on time-out it is asked to stop (an :class:`OutOfTime` raised into it at its
next bytecode, which ends a Python loop; a ``time.sleep`` or a C call ends first) and is left behind as a daemon
thread that never keeps the interpreter from exiting. ``python -m helpers progress`` adds the only stop that
always works: each notebook's checks run in a child process with an overall time limit.

**Trusted libraries** (:data:`LIBRARIES`). When this module is imported it records every function of NumPy (all
its loaded modules, so ``numpy._core.numeric.isclose`` behind ``np.allclose`` too), of ``math``, ``operator`` and
the builtins, and of the exercise checks themselves, with their code objects. While a check runs, anything the
learner's code replaced (``np.allclose = lambda *a, **k: True`` in a cell, or inside the function) is put back to
what was recorded, after every call of the learner's function and every conversion of what it returned; the
learner's own replacements made before the check are put back when the check ends, so a check never changes the
notebook's state. The feedback names what was replaced.

**Bounded text** (:func:`bounded`). Anything the learner's code chose (an exception's message, a type's name, a
line of source) is cut to a few hundred characters, with the number of characters cut.
"""

from __future__ import annotations

import builtins
import contextvars
import ctypes
import math
import operator
import signal
import sys
import threading
import time
import types
from typing import Any, Callable

import numpy
import numpy.linalg  # noqa: F401  (loaded now so that its functions are recorded)
import numpy.testing  # noqa: F401

#: Seconds a check may take, learner's code and comparisons together, unless its exercise sets its own.
TIME_LIMIT = 20.0
#: After the limit, how often :class:`OutOfTime` is raised again (the learner's code may catch it once).
_REPEAT = 0.25


def bounded(text: str, limit: int = 200) -> str:
    """``text`` cut to about ``limit`` characters, the cut said in words: ``"aaaa… (9,000 characters cut)"``."""
    if len(text) <= limit:
        return text
    keep = max(limit - 28, 10)
    return f"{text[:keep]}… ({len(text) - keep:,} characters cut)"


def safe_text(value: Any, limit: int = 200) -> str:
    """``str(value)`` bounded; a ``__str__`` that fails (learner's code) gives a description instead of raising."""
    try:
        text = str(value)
    except BaseException:  # noqa: BLE001  (the learner's __str__: anything it raises is not the checker's error)
        text = f"<{type_name(value)} that cannot be shown as text>"
    if not isinstance(text, str):
        text = "<not text>"
    return bounded(text, limit)


def type_name(value: Any, limit: int = 60) -> str:
    """The name of ``value``'s type, bounded (a learner can give a class a name of any length)."""
    try:
        name = type(value).__name__
    except BaseException:  # noqa: BLE001
        name = "object"
    return bounded(name if isinstance(name, str) else "object", limit)


# --- the time limit ----------------------------------------------------------------------------------------
class OutOfTime(BaseException):
    """Raised into the learner's code when its check's time limit has passed (not an ``Exception``, so that
    ``except Exception:`` in the learner's code lets it through)."""


def run_with_time_limit(work: Callable[[], Any], seconds: float) -> Any:
    """``work()``'s result, or :class:`OutOfTime` once ``seconds`` have passed (see the module docstring for how).

    Whatever ``work`` raises (``SystemExit`` and ``KeyboardInterrupt`` included) is raised again, unchanged.
    """
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        return _with_alarm(work, seconds)
    return _with_thread(work, seconds)


def _with_alarm(work: Callable[[], Any], seconds: float) -> Any:
    """``run_with_time_limit`` by ``SIGALRM``: the previous handler and any running timer are restored after."""
    fired = False

    def on_alarm(signum, frame):
        nonlocal fired
        fired = True
        # Never raise into this function's own frames: the timer is being set or cleared there, and an exception
        # escaping between those lines would leave it running. The next alarm (a quarter second later) comes.
        if frame is not None and frame.f_code in _OWN_CODE:
            return
        raise OutOfTime()

    started = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    _OWN_CODE.add(on_alarm.__code__)
    previous_timer = (0.0, 0.0)
    outcome: tuple[bool, Any] = (False, OutOfTime())
    try:
        previous_timer = signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT)
        try:
            outcome = (True, work())
        except BaseException as exc:  # noqa: BLE001  (raised again below, after the timer is cleared)
            outcome = (False, exc)
    except OutOfTime:  # the alarm arrived while this frame was between two of its own lines
        pass
    finally:
        _clear_alarm(previous_handler, previous_timer, started)
    if fired:
        raise OutOfTime() from None
    finished, value = outcome
    if finished:
        return value
    raise value


def _clear_alarm(previous_handler, previous_timer: tuple[float, float], started: float) -> None:
    """Stop this check's timer, put the previous handler back and re-arm a timer that was running before."""
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous_handler if previous_handler is not None else signal.SIG_DFL)
    delay, interval = previous_timer
    if delay > 0:
        signal.setitimer(signal.ITIMER_REAL, max(delay - (time.monotonic() - started), 0.001), interval)


_OWN_CODE: set = {_with_alarm.__code__, _clear_alarm.__code__}


def _with_thread(work: Callable[[], Any], seconds: float) -> Any:
    """``run_with_time_limit`` in a daemon thread (the caller's context variables, e.g. ``np.errstate``, go with it)."""
    box: dict[str, Any] = {}
    context = contextvars.copy_context()

    def target():
        try:
            box["value"] = context.run(work)
        except BaseException as exc:  # noqa: BLE001  (handed to the waiting thread)
            box["error"] = exc

    thread = threading.Thread(target=target, name="exercise check", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        _ask_to_stop(thread)
        raise OutOfTime()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _ask_to_stop(thread: threading.Thread) -> None:
    """Raise :class:`OutOfTime` in ``thread`` at its next bytecode (CPython's ``PyThreadState_SetAsyncExc``)."""
    try:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(OutOfTime))
    except Exception:  # noqa: BLE001  (not CPython: the daemon thread is left to end on its own)
        pass


# --- trusted libraries -------------------------------------------------------------------------------------
_ABSENT = object()
#: Names IPython or the interactive prompt itself changes in ``builtins`` (not the learner's doing).
_BUILTINS_OF_THE_PROMPT = {"_", "__", "___", "exit", "quit", "get_ipython", "display", "help", "copyright",
                           "credits", "license", "__IPYTHON__"}
_FUNCTION_PARTS = ("__code__", "__defaults__", "__kwdefaults__")


class Libraries:
    """The recorded (import-time) functions of the libraries a check compares with; see the module docstring.

    Each record is ``(label, read, write, original)``: ``read()`` gives the value now (``_ABSENT`` if deleted),
    ``write(value)`` puts one back. Names in a module's namespace, the most numerous, are also kept as
    ``(namespace, key, original)`` in ``_fast`` so that :meth:`changed` reads them without a function call
    (about a millisecond for all of NumPy).
    """

    def __init__(self):
        self._records: list[tuple[str, Callable[[], Any], Callable[[Any], None], Any]] = []
        self._fast: list[tuple[dict, str, Any]] = []  # per record: (namespace, key, original), or (None, "", None)
        self._seen: set[tuple[int, str]] = set()
        self.noticed: set[int] = set()  # records :meth:`restore` found replaced (cleared by whoever reports them)
        self._lock = threading.Lock()

    # recording
    def watch_module(self, module: types.ModuleType | None, everything: bool = False) -> None:
        """Record ``module``'s functions, submodules and float constants (all its names if ``everything``).

        Names already recorded keep their first value, so calling this again only adds names defined since.
        """
        if module is None:
            return
        namespace = vars(module)
        prefix = module.__name__
        is_builtins = module is builtins
        with self._lock:
            for key, value in list(namespace.items()):
                if (id(namespace), key) in self._seen or (key.startswith("__") and key.endswith("__") and
                                                          key != "__import__" and key != "__build_class__"):
                    continue
                if is_builtins and key in _BUILTINS_OF_THE_PROMPT:
                    continue
                if not (everything or callable(value) or isinstance(value, (types.ModuleType, float))):
                    continue
                self._seen.add((id(namespace), key))
                self._append(f"{prefix}.{key}", _dict_reader(namespace, key), _dict_writer(namespace, key), value,
                             (namespace, key, value))
                self._watch_value(f"{prefix}.{key}", value, everything)

    def _watch_value(self, label: str, value: Any, members: bool) -> None:
        function = value
        if type(value).__name__ == "_ArrayFunctionDispatcher":  # np.allclose: its Python body is _implementation
            function = getattr(value, "_implementation", None)
        if isinstance(function, types.FunctionType) and (id(function), "__code__") not in self._seen:
            for part in _FUNCTION_PARTS:
                self._seen.add((id(function), part))
                self._append(f"{label}.{part}", _attr_reader(function, part), _attr_writer(function, part),
                             getattr(function, part))
        if members and isinstance(value, type) and value.__module__.startswith("helpers.exercises"):
            for key, member in list(vars(value).items()):
                if (id(value), key) in self._seen or (key.startswith("__") and key != "__init__"
                                                      and key != "__str__"):
                    continue
                self._seen.add((id(value), key))
                self._append(f"{label}.{key}", _class_reader(value, key), _class_writer(value, key), member)
                self._watch_value(f"{label}.{key}", member, False)

    def _append(self, label, read, write, original, fast=(None, "", None)) -> None:
        self._records.append((label, read, write, original))
        self._fast.append(fast)

    # enforcing
    def changed(self) -> list[tuple[int, Any]]:
        """``(record index, value now)`` of every recorded name that no longer holds its recorded value."""
        found = []
        absent = _ABSENT
        for index, (namespace, key, original) in enumerate(self._fast):
            if namespace is None:
                original = self._records[index][3]
                now = self._records[index][1]()
            else:
                now = namespace.get(key, absent)
            if now is not original:
                found.append((index, now))
        return found

    def restore(self) -> dict[int, Any]:
        """Put every recorded value back; the replaced values by record index (to :meth:`reinstate` later)."""
        replaced = dict(self.changed())
        self.noticed.update(replaced)
        for index in replaced:
            _, _, write, original = self._records[index]
            _quietly(write, original)
        return replaced

    def reinstate(self, replaced: dict[int, Any]) -> None:
        """Put back values that :meth:`restore` took away (the learner's own state before the check)."""
        for index, value in replaced.items():
            _quietly(self._records[index][2], value)

    def labels(self, indices) -> list[str]:
        """The dotted names of records, e.g. ``numpy.allclose``, in record order."""
        return [self._records[i][0] for i in sorted(set(indices))]


def _quietly(write: Callable[[Any], None], value: Any) -> None:
    try:
        write(value)
    except Exception:  # noqa: BLE001  (a read-only attribute: nothing was replaced there)
        pass


def _dict_reader(namespace: dict, key: str):
    return lambda: namespace.get(key, _ABSENT)


def _dict_writer(namespace: dict, key: str):
    def write(value):
        if value is _ABSENT:
            namespace.pop(key, None)
        else:
            namespace[key] = value
    return write


def _attr_reader(holder, key: str):
    return lambda: getattr(holder, key, _ABSENT)


def _attr_writer(holder, key: str):
    return lambda value: setattr(holder, key, value)


def _class_reader(cls: type, key: str):
    return lambda: cls.__dict__.get(key, _ABSENT)


def _class_writer(cls: type, key: str):
    def write(value):
        if value is _ABSENT:
            if key in cls.__dict__:
                delattr(cls, key)
        else:
            setattr(cls, key, value)
    return write


#: The one record of the trusted libraries, made when this module is first imported (before any learner's code).
LIBRARIES = Libraries()


def _record_libraries() -> None:
    """NumPy (every loaded module), ``math``, ``operator``, the builtins and this module, into :data:`LIBRARIES`."""
    for name, module in sorted(sys.modules.items()):
        if (name == "numpy" or name.startswith("numpy.")) and isinstance(module, types.ModuleType):
            LIBRARIES.watch_module(module)
    for module in (math, operator, builtins):
        LIBRARIES.watch_module(module)
    LIBRARIES.watch_module(sys.modules[__name__], everything=True)


_record_libraries()
