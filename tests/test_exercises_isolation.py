"""The learner's code cannot hang, end or fool an exercise check (helpers/exercises/isolation.py, core.py,
cell_runner.py; the progress command of helpers/course/progress.py).

Each test builds the learner's function itself, runs the real check on it, and asserts the outcome and the words of
the message, within a bounded time: ``sys.exit`` and other ``BaseException``\\ s become the learner's error, a function
that never returns is stopped by the check's time limit, a patched ``np.allclose`` (or ``math.isclose``, or a
builtin) does not make a wrong answer pass, and a 10 MB exception message gives a few hundred characters of feedback.
"""

from __future__ import annotations

import builtins
import math
import signal
import sys
import threading
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from helpers import exercises
from helpers.exercises import cell_runner, isolation
from helpers.exercises.core import ERROR, NOT_YET, Exercise, Trial, evaluate

SSE = "01.2"  # sum_of_squared_errors: the right answer for ([0, 1, 0, 0], [0.1, 0.5, 0.3, 0.2]) is 0.39


def sse_wrong(expected, output):
    """A wrong answer to 01.2: a constant."""
    return 1.0


def doubling_check(t: Trial) -> None:
    t.expect_close(t.call(2.0), 4.0, "double(2)")


DOUBLE = Exercise("00.1", "Double a number", "double", doubling_check, solution=lambda x: 2 * x)


def timed(work):
    started = time.monotonic()
    result = work()
    return result, time.monotonic() - started


def no_timer_left():
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)


# --- SystemExit, KeyboardInterrupt and other BaseExceptions ---------------------------------------------------
@pytest.mark.parametrize("ending, words", [
    (lambda: sys.exit(3), "called sys.exit(3)"),
    (lambda: exit(0), "called sys.exit(0)"),
    (lambda: quit(), "called sys.exit()"),
    (lambda: sys.exit("bye"), "called sys.exit('bye')"),
])
def test_sys_exit_in_the_function_is_named_as_its_error(ending, words):
    def sum_of_squared_errors(expected, output):
        ending()

    feedback = exercises.evaluate_answer(SSE, sum_of_squared_errors)
    assert feedback.status == ERROR, str(feedback)
    assert words in feedback.problem and "sum_of_squared_errors(" in feedback.problem
    assert "return" in feedback.hint
    assert "Traceback" not in str(feedback)


def test_keyboard_interrupt_and_other_base_exceptions_are_the_learners_error():
    def interrupted(expected, output):
        raise KeyboardInterrupt

    class Stop(BaseException):
        pass

    def stops(expected, output):
        raise Stop("halt")

    feedback = exercises.evaluate_answer(SSE, interrupted)
    assert feedback.status == ERROR and "interrupted (KeyboardInterrupt)" in feedback.problem
    feedback = exercises.evaluate_answer(SSE, stops)
    assert feedback.status == ERROR and "Stop: halt" in feedback.problem and "BaseException" in feedback.problem


def test_sys_exit_while_the_check_reads_the_result_is_named():
    class Exits:
        def __array__(self, *args, **kwargs):
            sys.exit(4)

    feedback = exercises.evaluate_answer(SSE, lambda expected, output: Exits())
    assert feedback.status == ERROR and "sys.exit(4)" in feedback.problem


def test_exercise_prints_feedback_for_sys_exit(capsys):
    exercises.check(SSE, lambda expected, output: sys.exit(3))
    assert "called sys.exit(3)" in capsys.readouterr().out


# --- the time limit ---------------------------------------------------------------------------------------------
def spins(x):
    while True:
        pass


def sleeps(x):
    time.sleep(60)


def catches_once(x):
    try:
        time.sleep(60)
    except BaseException:  # noqa: BLE001
        return 4.0  # the right answer, too late


@pytest.mark.parametrize("function", [spins, sleeps, catches_once])
def test_a_function_that_does_not_finish_is_stopped_and_named(function):
    feedback, seconds = timed(lambda: evaluate(DOUBLE, function, time_limit=0.5))
    assert seconds < 3, seconds
    assert feedback.status == ERROR and not feedback.passed
    assert "double(2.0) did not finish within 0.5 s" in feedback.problem, feedback.problem
    assert "did not finish in time" in str(feedback) and "loop" in feedback.hint
    no_timer_left()


def test_a_function_that_swallows_the_stop_cannot_end_the_check_early_but_is_reported():
    # the alarm comes back every quarter second: swallowing it forever keeps the learner's loop going, so this one
    # is for progress's per-notebook process; here it is bounded by raising it from a second, non-swallowed place
    def one_swallow(x):
        try:
            while True:
                pass
        except BaseException:  # noqa: BLE001
            pass
        while True:
            pass

    feedback, seconds = timed(lambda: evaluate(DOUBLE, one_swallow, time_limit=0.5))
    assert seconds < 3 and feedback.status == ERROR and "did not finish within 0.5 s" in feedback.problem
    no_timer_left()


def test_the_default_time_limit_applies_to_real_exercises(monkeypatch):
    monkeypatch.setattr(isolation, "TIME_LIMIT", 0.5)
    monkeypatch.setattr(sys.modules["helpers.exercises.core"], "TIME_LIMIT", 0.5)
    feedback, seconds = timed(lambda: exercises.evaluate_answer(SSE, lambda e, o: time.sleep(60)))
    assert seconds < 3 and feedback.status == ERROR and "did not finish within 0.5 s" in feedback.problem


def test_a_fast_answer_is_untouched_by_the_limit_and_the_previous_timer_is_kept():
    calls = []

    def handler(*args):
        calls.append(args)

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        feedback = evaluate(DOUBLE, lambda x: 2 * x, time_limit=5)
        assert feedback.passed, str(feedback)
        delay, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < delay <= 30.0
        assert signal.getsignal(signal.SIGALRM) is handler and not calls
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_outside_the_main_thread_the_check_runs_in_a_thread_that_is_stopped():
    box = {}
    worker = threading.Thread(target=lambda: box.update(feedback=evaluate(DOUBLE, spins, time_limit=0.5)))
    started = time.monotonic()
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and time.monotonic() - started < 3
    feedback = box["feedback"]
    assert feedback.status == ERROR and "did not finish within 0.5 s" in feedback.problem
    deadline = time.monotonic() + 5  # the spinning learner's thread was asked to stop, and stops
    while any(t.name == "exercise check" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "exercise check" for t in threading.enumerate())


def test_the_thread_keeps_the_callers_numpy_settings():
    def answer(x):
        return np.geterr()["divide"] == "ignore" and 2 * x or 0.0

    def check(t):
        with np.errstate(divide="ignore"):
            t.expect_close(t.call(2.0), 4.0, "double(2)")

    box = {}
    exercise = Exercise("00.2", "Double", "double", check, solution=lambda x: 2 * x)
    worker = threading.Thread(target=lambda: box.update(feedback=evaluate(exercise, answer, time_limit=5)))
    worker.start()
    worker.join(10)
    assert box["feedback"].passed, str(box["feedback"])


# --- patched comparisons ------------------------------------------------------------------------------------------
def always(*args, **kwargs):
    return True


@pytest.fixture
def restore_libraries():
    """Whatever a test replaces in NumPy, math or the builtins is put back after it."""
    saved = isolation.LIBRARIES.restore()
    assert not saved, f"a test left {isolation.LIBRARIES.labels(saved)} replaced"
    yield
    isolation.LIBRARIES.restore()


def test_patching_isclose_and_allclose_in_a_cell_does_not_pass_a_wrong_answer(restore_libraries):
    learner_isclose, learner_allclose = always, lambda *a, **k: True
    np.isclose, np.allclose = learner_isclose, learner_allclose  # what the learner's cell did
    feedback = exercises.evaluate_answer(SSE, sse_wrong)
    assert feedback.status == NOT_YET, str(feedback)
    assert "expected 0.39" in feedback.problem
    assert any("numpy.allclose" in n and "numpy.isclose" in n for n in feedback.notes), feedback.notes
    # the notebook keeps its own state: the check changed nothing in it
    assert np.isclose is learner_isclose and np.allclose is learner_allclose


def test_patching_inside_the_function_does_not_pass_a_wrong_answer(restore_libraries):
    def double(x):
        np.allclose = always
        math.isclose = always
        return 5.0

    feedback = evaluate(DOUBLE, double)
    assert feedback.status == NOT_YET and "got 5, expected 4" in feedback.problem, str(feedback)
    assert np.allclose is not always and math.isclose is not always  # put back, not left for the next cell
    assert "numpy.allclose" in feedback.notes[0] and "math.isclose" in feedback.notes[0]


def test_patching_numpy_internals_builtins_and_testing_does_not_pass_a_wrong_answer(restore_libraries):
    import numpy._core.numeric as numeric

    numeric.isclose = always  # what np.allclose calls inside
    numeric.allclose._implementation.__code__ = (lambda a, b, rtol=0, atol=0, equal_nan=False: True).__code__
    np.testing.assert_allclose = lambda *a, **k: None
    builtins.abs = lambda x: 0.0
    feedback = exercises.evaluate_answer(SSE, sse_wrong)
    isolation.LIBRARIES.restore()
    assert feedback.status == NOT_YET and "expected 0.39" in feedback.problem, str(feedback)
    assert "builtins.abs" in feedback.notes[0]


def test_a_returned_object_cannot_answer_the_comparison_for_itself(restore_libraries):
    class Agreeable(np.ndarray):
        """Says it equals anything, and claims every NumPy function and ufunc called on it."""

        def __array_function__(self, func, types, args, kwargs):
            return True

        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            return np.zeros(np.shape(inputs[0]), dtype=bool) if ufunc is not np.less_equal else True

        def __eq__(self, other):
            return True

    class Sneaky:
        """Replaces np.allclose while it is read as numbers, then gives the wrong number."""

        def __array__(self, dtype=None, copy=None):
            np.allclose = np.isclose = always
            return np.array(1.0)

        def __float__(self):
            np.allclose = np.isclose = always
            return 1.0

    for answer in (lambda e, o: np.array(1.0).view(Agreeable), lambda e, o: Sneaky()):
        feedback = exercises.evaluate_answer(SSE, answer)
        assert feedback.status == NOT_YET and "expected 0.39" in feedback.problem, str(feedback)
    assert np.allclose is not always


def test_right_answers_carry_no_note():
    for exercise_id, ex in exercises.all_exercises().items():
        feedback = exercises.evaluate_answer(exercise_id, ex.solution)
        assert feedback.passed and not feedback.notes, str(feedback)


# --- bounded messages ------------------------------------------------------------------------------------------------
def test_a_ten_megabyte_exception_message_gives_a_few_hundred_characters():
    def sum_of_squared_errors(expected, output):
        raise ValueError("x" * 10_000_000)

    feedback, seconds = timed(lambda: exercises.evaluate_answer(SSE, sum_of_squared_errors))
    text = str(feedback)
    assert seconds < 2 and feedback.status == ERROR
    assert len(text) < 1000, len(text)
    assert "ValueError: xxx" in feedback.problem and "characters cut)" in feedback.problem


def test_huge_names_results_and_failing_messages_are_bounded():
    huge_type = type("E" * 1_000_000, (Exception,), {})

    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no")

    def huge_line(expected, output):
        raise huge_type("y" * 1_000_000)

    for answer, words in [(huge_line, "characters cut"),
                          (lambda e, o: (_ for _ in ()).throw(Unprintable()), "cannot be shown as text"),
                          (lambda e, o: ["z" * 10] * 1_000_000, "cannot be read as one")]:
        feedback, seconds = timed(lambda: exercises.evaluate_answer(SSE, answer))
        assert seconds < 2 and not feedback.passed
        assert len(str(feedback)) < 1200 and words in str(feedback), str(feedback)[:300]


def test_short_descriptions_do_not_write_out_a_huge_value_first():
    from helpers.exercises.core import short

    huge = list(range(10_000_000))  # built outside the timing: only short() is timed (its full repr takes seconds)
    text, seconds = timed(lambda: short(huge))
    assert seconds < 0.5 and len(text) <= 60 and text.startswith("[0, 1, 2")


def test_bounded_says_how_much_was_cut():
    assert isolation.bounded("short") == "short"
    text = isolation.bounded("a" * 10_000, 100)
    assert len(text) <= 100 and text.endswith("characters cut)") and "9,928" in text


# --- the progress command -----------------------------------------------------------------------------------------
def test_run_cells_names_exit_and_stops_a_cell_that_never_ends():
    namespace, error = cell_runner.run_cells(["def f():\n    return 1\n", "exit(0)\n", "def g():\n    return 2\n"], "nb")
    assert "f" in namespace and "g" not in namespace
    assert "exercise cell 2 called sys.exit(0)" in error
    (namespace, error), seconds = timed(lambda: cell_runner.run_cells(["while True:\n    pass\n"], "nb", time_limit=0.5))
    assert seconds < 3 and "exercise cell 1 did not finish within 0.5 s" in error
    no_timer_left()


def learner_copy(tmp_path, name: str, cells: list[str]):
    """Notebook 01 with its three exercise cells replaced by ``cells`` (the learner's versions), saved as ``name``."""
    source = next((Path(__file__).resolve().parents[1] / "notebooks").glob("01_*.ipynb"))
    notebook = nbformat.read(source, as_version=4)
    exercise = [c for c in notebook.cells if c.cell_type == "code" and "exercise" in c.metadata.get("tags", [])]
    for cell, text in zip(exercise, cells):
        cell.source = text
    path = tmp_path / name
    nbformat.write(notebook, path)
    return path


@pytest.mark.slow
def test_progress_reports_sys_exit_exit_and_a_hung_notebook(tmp_path, capsys):
    from helpers.course.cli import main

    exits = learner_copy(tmp_path, "01_exits.ipynb", [
        "import numpy as np\ndef softmax(scores):\n    np.allclose = lambda *a, **k: True\n    return scores\n",
        "import sys\ndef sum_of_squared_errors(expected, output):\n    sys.exit(3)\n",
        "exit(0)\ndef cost_slope(w, x, y):\n    return 0.0\n"])
    hangs = learner_copy(tmp_path, "01_hangs.ipynb", [
        "import time\nwhile True:\n    try:\n        time.sleep(1)\n    except BaseException:\n        pass\n"])
    started = time.monotonic()
    status = main(["progress", str(hangs), str(exits), "--timeout", "25", "--jobs", "2"])
    seconds = time.monotonic() - started
    out = capsys.readouterr().out
    assert status == 0, out
    assert seconds < 60, seconds
    lines = {line.split()[1]: line for line in out.splitlines() if line[:1] in "✓·✗!" and line[2:4] == "01"}
    assert "called sys.exit(3)" in lines["01.2"] and "error" in lines["01.2"], out
    assert "exercise cell 3 called sys.exit(0)" in lines["01.3"], out
    assert "not right yet" in out or "✗ 01.1" in out, out  # softmax returned the scores: wrong, patch or not
    assert "did not finish within 25 s" in out and out.count("not checked") == 3, out
    assert "0 of 6 exercises pass" in out
