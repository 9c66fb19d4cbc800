"""Notebook 09's exercises: the common wrong answers get messages that name the mistake."""

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises.solutions import nb09 as solutions


def _decode(order):
    """A top_predictions variant whose class order per row is ``order(row)``."""
    def answer(probabilities, class_names, top=5):
        probabilities = np.asarray(probabilities)
        return [[(class_names[k], float(row[k])) for k in order(row, top)] for row in probabilities]
    return answer


def first_row_for_all(probabilities, class_names, top=5):
    first = solutions.top_predictions(probabilities, class_names, top)[0]
    return [first for _ in range(len(probabilities))]


def wrong_axis(probabilities, class_names, top=5):
    probabilities = np.asarray(probabilities)
    best = np.argsort(-probabilities, axis=0)[:, :top]          # sorted over the photos, not the classes
    return [[(class_names[k], float(probabilities[i, k])) for k in row] for i, row in enumerate(best)]


def probabilities_sorted_apart(probabilities, class_names, top=5):
    probabilities = np.asarray(probabilities)
    return [[(class_names[k], float(p)) for k, p in zip(np.argsort(row)[::-1][:top], np.sort(row)[:top])]
            for row in probabilities]


def sorts_in_place(probabilities, class_names, top=5):
    result = solutions.top_predictions(probabilities, class_names, top)
    probabilities.sort(axis=1)
    return result


def keras_triples(probabilities, class_names, top=5):
    return [[(f"n{k:08d}", name, p) for name, p in row]
            for k, row in enumerate(solutions.top_predictions(probabilities, class_names, top))]


@pytest.mark.parametrize("answer, words", [
    (_decode(lambda row, top: np.argsort(row)[-top:]), "ascending order"),
    (_decode(lambda row, top: np.argsort(row)[:top]), "*least* probable"),
    (wrong_axis, "wrong axis"),
    (first_row_for_all, "wrong row"),
    (_decode(lambda row, top: np.argsort(row)[::-1][:5]), "use the argument `top`"),
    (_decode(lambda row, top: np.argsort(row)[::-1][:top] + 1), "off by one"),
    (probabilities_sorted_apart, "the probability next to"),
    (sorts_in_place, "changed the probabilities"),
    (lambda p, names, top=5: [[(int(k), 0.1) for k in np.argsort(r)[::-1][:top]] for r in np.asarray(p)],
     "class indices"),
    (keras_triples, "(name, probability) pair"),
    (lambda p, names, top=5: solutions.top_predictions(p, names, top)[0], "one row only"),
])
def test_top_predictions_mistakes(answer, words):
    feedback = exercises.evaluate_answer("09.1", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


MEANS = np.array([103.939, 116.779, 123.68])


def keras_in_place(batch):
    from keras.applications import vgg16
    return vgg16.preprocess_input(batch)                         # works on the caller's array


@pytest.mark.parametrize("answer, words", [
    (lambda b: np.asarray(b) - MEANS, "not reversed"),
    (lambda b: np.asarray(b)[..., ::-1] - MEANS[::-1], "means are in the wrong order"),
    (lambda b: np.asarray(b)[:, :, ::-1] - MEANS, "mirrored left-right"),
    (lambda b: np.asarray(b)[:, ::-1] - MEANS, "upside down"),
    (lambda b: np.asarray(b) / 127.5 - 1, "'tf' mode"),
    (lambda b: np.asarray(b) / 255, "rescale"),
    (keras_in_place, "changed the caller's batch"),
    (lambda b: np.asarray(b).mean(axis=-1), "channel axis is gone"),
])
def test_vgg_preprocess_mistakes(answer, words):
    feedback = exercises.evaluate_answer("09.2", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)
