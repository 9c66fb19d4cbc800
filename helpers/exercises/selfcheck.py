"""Self-check questions: multiple choice or a number, answered in the notebook with immediate feedback.

:func:`show` draws each question with ipywidgets (radio buttons or a number box, a Check button, a line of
feedback). Nothing needs the network. The stored notebook shows the questions, never the answers: the
answers stay in this package, and the widgets' saved state holds only the questions and options. Where
widgets cannot run (an untrusted notebook, a terminal, a static page) the same questions are shown as
text, and :func:`answer` checks an answer given in code: ``exercises.answer("05", 2, "b")``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    """A multiple-choice question (``options`` and ``answer`` an index into them) or a number question
    (no options; ``answer`` a number, right within ``tolerance``, relative). ``explanation`` is one line,
    shown after any answer."""

    text: str
    answer: int | float
    explanation: str
    options: tuple[str, ...] = ()
    tolerance: float = 0.01

    def __post_init__(self):
        if self.options and not (isinstance(self.answer, int) and 0 <= self.answer < len(self.options)):
            raise ValueError(f"answer must index one of the {len(self.options)} options of {self.text!r}")

    @property
    def is_choice(self) -> bool:
        return bool(self.options)

    def judge(self, given) -> tuple[bool, str]:
        """(right?, one line of feedback) for an answer: an option index, its letter ('b'), or a number."""
        if self.is_choice:
            index = choice_index(given, len(self.options))
            if index is None:
                letters = ", ".join(letter(i) for i in range(len(self.options)))
                return False, f"Answer with one of the options {letters} (or its number, from 0)."
            if index == self.answer:
                return True, f"Right. {self.explanation}"
            return False, f"Not quite: ({letter(index)}) is not it. {self.explanation}"
        try:
            number = float(given)
        except (TypeError, ValueError):
            return False, f"Answer with a number, e.g. {self.answer!r:.8}."
        if math.isnan(number):
            return False, "Answer with a number, not NaN."
        if math.isclose(number, float(self.answer), rel_tol=self.tolerance, abs_tol=1e-12):
            return True, f"Right. {self.explanation}"
        return False, f"Not quite: {number:g} is not it. {self.explanation}"


def letter(index: int) -> str:
    return "abcdefghij"[index]


def choice_index(given, n: int) -> int | None:
    """An option given as its letter ('b', 'B', '(b)') or its index (1) → the index, or None."""
    if isinstance(given, str):
        text = given.strip().strip("()").lower()
        return "abcdefghij".index(text) if len(text) == 1 and text in "abcdefghij"[:n] else None
    if isinstance(given, bool):
        return None
    if isinstance(given, int) and 0 <= given < n:
        return given
    return None


def as_text(notebook: str, questions: list[Question]) -> str:
    """The questions as plain text (no answers): what an untrusted notebook or a terminal shows."""
    lines = [f"Self-check for notebook {notebook} ({len(questions)} questions). Run this cell to answer with "
             f"buttons, or in code: exercises.answer(\"{notebook}\", QUESTION, ANSWER)."]
    for number, q in enumerate(questions, 1):
        lines.append(f"{number}. {q.text}")
        if q.is_choice:
            lines += [f"   ({letter(i)}) {option}" for i, option in enumerate(q.options)]
        else:
            lines.append("   (a number)")
    return "\n".join(lines)


def widget(notebook: str, questions: list[Question]):
    """An ipywidgets box with every question, its input, a Check button and a feedback line."""
    import ipywidgets as w

    rows = [w.HTML(f"<b>Self-check</b> ({len(questions)} questions): answer, then press <i>Check</i>.")]
    for number, q in enumerate(questions, 1):
        prompt = w.HTMLMath(f"<b>{number}.</b> {q.text}", layout=w.Layout(width="100%"))
        if q.is_choice:
            entry = w.RadioButtons(options=[(f"({letter(i)}) {o}", i) for i, o in enumerate(q.options)], value=None,
                                   layout=w.Layout(width="auto"))
        else:
            entry = w.Text(value="", placeholder="a number", layout=w.Layout(width="12em"))
        button = w.Button(description="Check", layout=w.Layout(width="6em"))
        result = w.HTML("")

        def on_click(_, q=q, entry=entry, result=result):
            value = entry.value
            right, text = q.judge(value if q.is_choice else value.strip() or None)
            if q.is_choice and value is None:
                right, text = False, "Pick an option first."
            colour = "#1a7f37" if right else "#b35900"
            result.value = f"<span style='color:{colour}'>{'✓' if right else '✗'} {escape(text)}</span>"

        button.on_click(on_click)
        rows.append(w.VBox([prompt, w.HBox([entry, button]), result],
                           layout=w.Layout(margin="0 0 0.6em 0")))
    return w.VBox(rows)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
