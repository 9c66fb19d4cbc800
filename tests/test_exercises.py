"""Every exercise of the course: its solution passes, the notebook's own stub is "not attempted", and nonsense
answers get plain words. Wrong answers particular to one notebook are in tests/test_exercises_nbNN.py."""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from helpers import exercises
from helpers.exercises import cell_runner, progress, selfcheck
from helpers.exercises.core import ERROR, NOT_ATTEMPTED, NOT_YET, PASSED, Exercise, Trial, Wrong, evaluate

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ALL = exercises.all_exercises()
IDS = list(ALL)
NOTEBOOKS_WITH_EXERCISES = sorted({i.split(".")[0] for i in IDS})


def notebook_path(nn: str) -> Path:
    return next(NOTEBOOKS.glob(f"{nn}_*.ipynb"))


def stub_namespace(nn: str) -> dict:
    """The notebook's exercise cells run as stored (stubs), as the progress command runs them."""
    namespace, error = cell_runner.run_cells(progress.exercise_cells(nbformat.read(notebook_path(nn), as_version=4)), nn)
    assert error is None, error
    return namespace


def no_traceback(feedback) -> None:
    text = str(feedback)
    assert "Traceback" not in text and 'File "' not in text, text
    assert feedback.problem, "a failed check must say what is wrong"


@pytest.mark.parametrize("exercise_id", IDS)
def test_solution_passes(exercise_id):
    feedback = exercises.evaluate_answer(exercise_id, ALL[exercise_id].solution)
    assert feedback.passed, str(feedback)
    assert feedback.right, "a passed check lists what it checked"


@pytest.mark.parametrize("exercise_id", IDS)
def test_notebook_stub_is_not_attempted(exercise_id):
    ex = ALL[exercise_id]
    namespace = stub_namespace(exercise_id.split(".")[0])
    assert ex.function_name in namespace, f"the notebook's exercise cell must define {ex.function_name}"
    feedback = exercises.evaluate_answer(exercise_id, namespace[ex.function_name])
    assert feedback.status == NOT_ATTEMPTED, str(feedback)
    assert "NotImplementedError" in feedback.problem and not feedback.right


def _raises(*args, **kwargs):
    return {}["missing key"]


NONSENSE = {
    "a string": lambda *a, **k: "forty-two",
    "NaN": lambda *a, **k: float("nan"),
    "an array of NaN": lambda *a, **k: np.full((3, 3), np.nan),
    "a dict": lambda *a, **k: {"answer": 1},
    "an exception": _raises,
    "a function": lambda *a, **k: (lambda: 0),
    "an empty list": lambda *a, **k: [],
}


@pytest.mark.parametrize("what", list(NONSENSE))
@pytest.mark.parametrize("exercise_id", IDS)
def test_nonsense_gets_plain_words(exercise_id, what):
    feedback = exercises.evaluate_answer(exercise_id, NONSENSE[what])
    assert feedback.status in (NOT_YET, ERROR), str(feedback)
    no_traceback(feedback)
    if what == "an exception":
        assert feedback.status == ERROR and "KeyError" in feedback.problem
    if what in ("a string", "a dict") and exercise_id != "11.1":  # 11.1 changes a model in place: no result to judge
        # the message says what came back, not a consequence of it (such as "it has shape ()")
        returned = NONSENSE[what]()
        assert type(returned).__name__ in feedback.problem or repr(returned) in feedback.problem, feedback.problem


@pytest.mark.parametrize("exercise_id", IDS)
def test_not_a_function_says_how_to_pass_it(exercise_id):
    feedback = exercises.evaluate_answer(exercise_id, 42)
    assert feedback.status == NOT_YET and "without calling it" in feedback.hint


@pytest.mark.parametrize("nn", NOTEBOOKS_WITH_EXERCISES)
def test_notebook_has_each_exercise_stub_check_and_solution(nn):
    notebook = nbformat.read(notebook_path(nn), as_version=4)
    sources = [c.source for c in notebook.cells if c.cell_type == "code"]
    ids = [i for i in IDS if i.startswith(nn + ".")]
    assert 2 <= len(ids) <= 4, f"notebook {nn} should have 2-4 exercises, has {ids}"
    assert [i for i, _ in progress.check_calls(notebook)] == ids
    for exercise_id in ids:
        assert any(f'exercises.solution("{exercise_id}")' in s for s in sources), exercise_id
    for source in progress.exercise_cells(notebook):
        assert "raise NotImplementedError" in source, "an exercise cell holds the stub, not an answer"
    assert any(f'exercises.quiz("{nn}")' in s for s in sources)


@pytest.mark.parametrize("nn", NOTEBOOKS_WITH_EXERCISES)
def test_stored_notebook_shows_questions_not_answers(nn):
    notebook = nbformat.read(notebook_path(nn), as_version=4)
    quiz_cell = next(c for c in notebook.cells if c.cell_type == "code" and f'exercises.quiz("{nn}")' in c.source)
    if not quiz_cell.get("outputs"):
        pytest.skip("notebook not executed since the self-check was added")
    text = "".join(o.get("data", {}).get("text/plain", "") for o in quiz_cell.outputs)
    for q in exercises.questions(nn):
        assert q.text[:40] in text
        assert q.explanation not in text, "the stored notebook must not give the answers away"


@pytest.mark.parametrize("nn", NOTEBOOKS_WITH_EXERCISES)
def test_questions_are_well_formed(nn):
    qs = exercises.questions(nn)
    assert 3 <= len(qs) <= 5
    for q in qs:
        right, text = q.judge(q.answer)
        assert right and text.startswith("Right.")
        assert q.explanation and "\n" not in q.explanation
        if q.is_choice:
            wrong = (q.answer + 1) % len(q.options)
            assert q.judge(selfcheck.letter(wrong)) [0] is False
        else:
            assert q.judge(float(q.answer) * 1.5 + 1)[0] is False
        for nonsense in ("", "zzz", None, float("nan"), [1]):
            right, text = q.judge(nonsense)
            assert right is False and text


def test_quiz_widget_gives_feedback_on_click():
    qs = exercises.questions(NOTEBOOKS_WITH_EXERCISES[0])
    box = selfcheck.widget("xx", qs)
    for q, row in zip(qs, box.children[1:]):
        entry, button = row.children[1].children
        result = row.children[2]
        assert result.value == ""
        entry.value = q.answer if q.is_choice else str(q.answer)
        button.click()
        assert "✓ Right." in result.value
        entry.value = (q.answer + 1) % len(q.options) if q.is_choice else "-12345"
        button.click()
        assert "✗ Not quite" in result.value


def test_solution_is_collapsed_and_shows_the_source():
    shown = exercises._Solution(IDS[0])
    markdown = shown._repr_markdown_()
    assert markdown.startswith("<details><summary>") and "</details>" in markdown
    assert ALL[IDS[0]].function_name in markdown and ALL[IDS[0]].function_name in repr(shown)


def test_unknown_ids_list_the_valid_ones():
    with pytest.raises(ValueError, match=re.escape(IDS[0])):
        exercises.get(IDS[0].split(".")[0] + ".99")
    with pytest.raises(ValueError, match="Unknown exercise"):
        exercises.get("nonsense")
    with pytest.raises(ValueError, match="no self-check"):
        exercises.questions("42")


def test_exercise_prints_and_never_raises(capsys):
    def stub(*args):
        raise NotImplementedError
    exercises.check(IDS[0], stub)
    assert "not attempted yet" in capsys.readouterr().out


def test_a_check_that_crashes_on_odd_output_still_answers_in_words():
    def fragile_check(t: Trial):
        value = t.call(1)
        if value["key"] > 0:  # a check that did not foresee this kind of answer
            raise Wrong("never")
    ex = Exercise("00.1", "fragile", "f", fragile_check, solution=lambda x: x)
    feedback = evaluate(ex, lambda x: 3)
    assert feedback.status == NOT_YET and "could not be checked" in feedback.problem
    no_traceback(feedback)


def test_learner_error_names_the_line(tmp_path):
    source = "def f(x):\n    y = x + 1\n    return y / 0\n"
    namespace: dict = {}
    exec(compile(source, str(tmp_path / "cell.py"), "exec"), namespace)
    (tmp_path / "cell.py").write_text(source)
    ex = Exercise("00.1", "demo", "f", lambda t: t.call(2), solution=lambda x: x)
    feedback = evaluate(ex, namespace["f"])
    assert feedback.status == ERROR
    assert "ZeroDivisionError" in feedback.problem and "return y / 0" in feedback.problem


def test_progress_reports_a_learner_copy(tmp_path, capsys):
    nn = NOTEBOOKS_WITH_EXERCISES[0]
    notebook = nbformat.read(notebook_path(nn), as_version=4)
    ids = [i for i in IDS if i.startswith(nn + ".")]
    cells = [c for c in notebook.cells if c.cell_type == "code" and "exercise" in c.metadata.get("tags", [])]
    first = ALL[ids[0]]
    import inspect
    cells[0].source = "import numpy as np\n" + inspect.getsource(first.solution)  # the learner solved the first one
    cells[-1].source = "def broken(:\n" + cells[-1].source  # and broke the last cell
    nbformat.write(notebook, tmp_path / notebook_path(nn).name)
    results = list(cell_runner.iter_notebook_progress(tmp_path / notebook_path(nn).name))
    status = {r.exercise_id: r.status for r in results}
    assert status[ids[0]] == PASSED
    assert status[ids[-1]] == ERROR
    assert "syntax error" in [r for r in results if r.exercise_id == ids[-1]][0].detail
    table = progress.report(results)
    assert f"1 of {len(ids)} exercises pass" in table


@pytest.mark.slow
def test_progress_command_on_the_stored_notebooks(capsys):
    from helpers.course.cli import main

    assert main(["progress", NOTEBOOKS_WITH_EXERCISES[0]]) == 0
    out = capsys.readouterr().out
    assert "not attempted" in out and "0 of" in out


def test_readme_example_is_what_the_checker_prints():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split('exercises.check("05.2", one_hot)\n', 1)[1].split("```", 1)[0]
    shown = "\n".join(line[2:] for line in block.strip().splitlines())
    from helpers.exercises.solutions import nb05
    printed = str(exercises.evaluate_answer("05.2", lambda labels, n: nb05.one_hot(labels, n).T))
    assert shown == printed
