"""Notebook 05's exercises (a Dense stack's parameter count, one-hot labels) and self-check questions."""

from __future__ import annotations

import numpy as np

from helpers.exercises.core import Exercise, Trial, Wrong
from helpers.exercises.selfcheck import Question
from helpers.exercises.solutions import nb05 as solutions


def _keras_count(n_inputs: int, hidden_units: list[int], n_outputs: int) -> int:
    """The reference: Keras counts the parameters of the same stack."""
    import keras

    model = keras.Sequential([keras.Input(shape=(n_inputs,))] + [keras.layers.Dense(u) for u in hidden_units]
                             + [keras.layers.Dense(n_outputs)])
    return model.count_params()


def check_dense_parameter_count(t: Trial) -> None:
    for n_inputs, hidden, n_outputs in [(4, [3], 2), (784, [512, 512], 10), (30, [20, 7, 5], 3), (6, [], 1)]:
        call = f"dense_parameter_count({n_inputs}, {hidden}, {n_outputs})"
        got = t.integer(t.call(n_inputs, list(hidden), n_outputs), call)
        expected = _keras_count(n_inputs, hidden, n_outputs)
        if got == expected:
            t.ok(f"{call} = {expected:,}")
            continue
        sizes = [n_inputs, *hidden, n_outputs]
        weights_only = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        if got == weights_only:
            raise Wrong(f"{call} gave {got:,}, the weights only: you forgot the biases ({expected - got:,} of them).",
                        "Each Dense unit has one bias besides its weights: n_in × n_out + n_out per layer.")
        if hidden and got == _keras_count(n_inputs, hidden[:-1], hidden[-1]):
            raise Wrong(f"{call} gave {got:,}: the output layer's parameters are missing.",
                        "Count one Dense layer per pair of neighbouring sizes: inputs → hidden … → outputs.")
        if got == sum(a * b + a for a, b in zip(sizes[:-1], sizes[1:])):
            raise Wrong(f"{call} gave {got:,}: one bias per *input* was counted; biases belong to the layer's units.")
        raise Wrong(f"{call} gave {got:,}, expected {expected:,}.",
                    "Work out the 4 → 3 → 2 network by hand first: (4·3 + 3) + (3·2 + 2).")


def check_one_hot(t: Trial) -> None:
    import keras

    labels = np.array([3, 0, 9, 3, 7])
    expected = keras.utils.to_categorical(labels, 10)
    got = t.array(t.call(labels, 10), "one_hot([3, 0, 9, 3, 7], 10)")
    if got.shape == labels.shape:
        raise Wrong("one_hot([3, 0, 9, 3, 7], 10) has shape (5,): the labels are not one-hot yet.",
                    "Return one row per label with n_classes columns: a 1 in column `label`, 0 elsewhere.")
    if got.shape == expected.T.shape and got.shape != expected.shape:
        raise Wrong("one_hot([3, 0, 9, 3, 7], 10) has shape (10, 5): rows and columns are swapped.",
                    "Row i belongs to labels[i]: the shape is (number of labels, n_classes).")
    if got.shape == expected.shape and np.allclose(np.roll(got, 1, axis=1), expected):
        raise Wrong("the 1s are one column to the left of the label: an off-by-one error.",
                    "Column k stands for class k; with 0-based indices, label 3 goes into column 3.")
    if got.shape == expected.shape and np.allclose(np.roll(got, -1, axis=1), expected):
        raise Wrong("the 1s are one column to the right of the label: an off-by-one error.",
                    "Column k stands for class k; with 0-based indices, label 3 goes into column 3.")
    t.expect_close(got, expected, "one_hot([3, 0, 9, 3, 7], 10)", ok="one_hot([3, 0, 9, 3, 7], 10) is right")
    got = t.array(t.call(np.array([1, 0, 1]), 2), "one_hot([1, 0, 1], 2)")
    t.expect_close(got, [[0, 1], [1, 0], [0, 1]], "one_hot([1, 0, 1], 2)",
                   ok="works for any number of classes (checked with 2)")


EXERCISES = [
    Exercise("05.1", "Parameters of a Dense stack", "dense_parameter_count", check_dense_parameter_count,
             solutions.dense_parameter_count,
             hint="A Dense layer from n_in to n_out inputs has n_in × n_out weights and n_out biases."),
    Exercise("05.2", "One-hot encoding", "one_hot", check_one_hot, solutions.one_hot,
             hint="np.zeros((n, n_classes)), then set one entry per row to 1."),
]

QUESTIONS = [
    Question("How many numbers does one 28×28 MNIST image become after flattening?", 784,
             "28 × 28 = 784 pixel values, one input unit each."),
    Question("The tutorial's network is 784 → 512 → 512 → 10. How many of its parameters are biases?", 1034,
             "One bias per unit of each Dense layer: 512 + 512 + 10 = 1,034.", tolerance=0.0),
    Question("Training accuracy climbs to 100 % while the validation loss rises. What is happening?",
             1, "The network memorises the training images: overfitting, which Dropout or more data reduce.",
             options=("the network is underfitting", "the network is overfitting",
                      "the learning rate is too small", "the test set is corrupt")),
    Question("What does Dropout(0.5) do at test time (model.predict, model.evaluate)?", 2,
             "Dropout is active only while training; at test time every unit is used.",
             options=("drops half of the units, as in training", "drops half of the inputs",
                      "nothing: all units are used", "doubles every weight")),
]
