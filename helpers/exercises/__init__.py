"""Exercises a learner can check, their solutions, and a self-check quiz per notebook.

In a notebook (``from helpers import exercises``)::

    def one_hot(labels, n_classes):                  # the exercise cell, tagged "exercise"
        raise NotImplementedError("Exercise 05.2")   # the stub the learner replaces

    exercises.check("05.2", one_hot)                 # runs one_hot on inputs it did not show, says what is right
    exercises.solution("05.2")                       # one solution, collapsed until asked for
    exercises.quiz("05")                             # the notebook's self-check questions (ipywidgets)
    exercises.answer("05", 1, "b")                   # the same question answered in code

(Not to be confused with :mod:`helpers.checks`, the expectations a notebook asserts about its own results.)

How the course adds an exercise (contributors):

1. The check goes into ``helpers/exercises/nbNN.py`` as ``Exercise("NN.K", title, function_name, check, solution)``
   in that module's ``EXERCISES`` list; its questions go into ``QUESTIONS``. A check calls the learner's
   function through :class:`~helpers.exercises.core.Trial` on inputs the notebook does not show and compares with
   an *independent* reference (a Keras layer, a NumPy formula, a known value), never with the course's solution,
   so that the solution's own test means something. It raises :class:`~helpers.exercises.core.Wrong` with a
   message that names the mistake ("you forgot the bias") for each common wrong answer it can recognise.
2. The solution goes into ``helpers/exercises/solutions/nbNN.py``, written as a learner would write it.
3. The notebook gets, in its "Exercises" section: a markdown cell with the task; a code cell tagged
   ``exercise`` holding the stub (self-contained: it imports what it uses, it raises ``NotImplementedError``);
   a code cell ``exercises.check("NN.K", name)``; a code cell ``exercises.solution("NN.K")``. The stored notebook
   runs the stubs as stubs: each check prints "not attempted yet" and raises nothing, so nbval and the runner
   execute the notebook top to bottom unchanged.
4. ``tests/test_exercises.py`` then runs, for every exercise, the solution (must pass), the notebook's own stub
   (must say "not attempted"), and nonsense answers (must get plain words, never a traceback); each
   ``tests/test_exercises_nbNN.py`` holds at least one common wrong answer per exercise and the words its
   message must contain.

``python -m helpers progress`` runs the exercise cells of the learner's copies of the notebooks through their
checks and prints which pass (the command: :mod:`helpers.course.progress`; the process that checks one notebook:
:mod:`helpers.exercises.cell_runner`).
"""

from __future__ import annotations

import importlib
import inspect

from helpers.exercises.core import ERROR, NOT_ATTEMPTED, NOT_YET, PASSED, Exercise, Feedback, Trial, Wrong, evaluate
from helpers.exercises.selfcheck import Question
from helpers import widget_display
from helpers.exercises import selfcheck

NOTEBOOKS = tuple(f"{n:02d}" for n in range(1, 12))

__all__ = ["check", "solution", "quiz", "answer", "evaluate_answer", "all_exercises", "get", "questions",
           "Exercise", "Feedback", "Trial", "Wrong", "Question", "PASSED", "NOT_ATTEMPTED", "NOT_YET", "ERROR"]


def _module(notebook: str):
    """The exercise module of notebook ``"05"`` (``helpers.exercises.nb05``), or None if it has none yet."""
    try:
        return importlib.import_module(f"helpers.exercises.nb{notebook}")
    except ModuleNotFoundError as exc:
        if exc.name == f"helpers.exercises.nb{notebook}":
            return None
        raise


def all_exercises() -> dict[str, Exercise]:
    """Every exercise of the course by id, in course order."""
    found: dict[str, Exercise] = {}
    for notebook in NOTEBOOKS:
        module = _module(notebook)
        for ex in getattr(module, "EXERCISES", ()):
            found[ex.exercise_id] = ex
    return found


def get(exercise_id: str) -> Exercise:
    """The exercise ``"NN.K"``; an unknown id is an error that lists the valid ones of that notebook."""
    text = str(exercise_id).strip()
    notebook = text.split(".")[0].zfill(2)
    module = _module(notebook) if notebook in NOTEBOOKS else None
    known = {ex.exercise_id: ex for ex in getattr(module, "EXERCISES", ())}
    if text in known:
        return known[text]
    listed = ", ".join(known) if known else ", ".join(all_exercises())
    raise ValueError(f"Unknown exercise {exercise_id!r}. Exercises are named 'NN.K' (notebook, number): {listed}.")


def evaluate_answer(exercise_id: str, answer) -> Feedback:
    """The :class:`Feedback` for ``answer`` (the learner's function) without printing it."""
    return evaluate(get(exercise_id), answer)


def check(exercise_id: str, answer) -> None:
    """Check the learner's function for exercise ``"NN.K"`` and print what is right, what is wrong, a hint.

    Never raises for anything the learner's code does: a stub prints "not attempted yet".
    """
    print(evaluate_answer(exercise_id, answer))


def solution_source(exercise_id: str) -> str:
    """The source code of the course's solution to ``"NN.K"``."""
    return inspect.getsource(get(exercise_id).solution)


class _Solution:
    """Display of a solution: collapsed (``<details>``) in JupyterLab and on the site, plain in a terminal."""

    def __init__(self, exercise_id: str):
        ex = get(exercise_id)
        self.title = f"Exercise {ex.exercise_id} · {ex.title}: one solution"
        self.source = solution_source(exercise_id).rstrip()

    def _repr_markdown_(self) -> str:
        return (f"<details><summary>Show one solution to exercise {self.title.split(':')[0][9:]} "
                f"(try it yourself first)</summary>\n\n```python\n{self.source}\n```\n\n</details>")

    def __repr__(self) -> str:
        return f"{self.title}\n\n{self.source}"


def solution(exercise_id: str):
    """One solution to ``"NN.K"``, shown collapsed ("Show one solution") until the learner opens it."""
    from IPython.display import display

    display(_Solution(exercise_id))


def questions(notebook: str) -> list[Question]:
    """The self-check questions of notebook ``"NN"``."""
    key = str(notebook).zfill(2)
    module = _module(key) if key in NOTEBOOKS else None
    if module is None or not getattr(module, "QUESTIONS", None):
        raise ValueError(f"Notebook {notebook!r} has no self-check questions; notebooks are named "
                         f"{', '.join(NOTEBOOKS)}.")
    return list(module.QUESTIONS)


def quiz(notebook: str) -> None:
    """Show notebook ``"NN"``'s self-check: widgets to answer, and the questions as text where widgets cannot run."""

    qs = questions(notebook)
    widget_display.show(selfcheck.widget(str(notebook).zfill(2), qs),
                        selfcheck.as_text(str(notebook).zfill(2), qs))


def answer(notebook: str, number: int, given) -> None:
    """Answer self-check question ``number`` (from 1) of notebook ``"NN"`` in code, and print the feedback."""
    qs = questions(notebook)
    if not (isinstance(number, int) and 1 <= number <= len(qs)):
        raise ValueError(f"Notebook {notebook} has questions 1 to {len(qs)}; got {number!r}.")
    right, text = qs[number - 1].judge(given)
    print(f"{'✓' if right else '✗'} Question {number}: {text}")
