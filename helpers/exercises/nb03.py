"""Notebook 03's exercises (a Keras model with a given parameter count, standardising with the training set's
statistics) and self-check questions."""

from __future__ import annotations

import numpy as np

from helpers.exercises.core import Exercise, Trial, Wrong, as_floats, same, short
from helpers.exercises.selfcheck import Question
from helpers.exercises.solutions import nb03 as solutions


# --- 03.1 a model with a given parameter count -------------------------------------------------------------
# (n_features, n_params): each reachable with one hidden Dense layer, and chosen so that the usual wrong formulas
# give another number of hidden units than the right one.
PARAMETER_CASES = [(2, 13), (13, 601), (4, 61), (5, 141)]


def _shape(tensor) -> tuple:
    return tuple(None if d is None else int(d) for d in tensor.shape)


def check_model_with_parameters(t: Trial) -> None:
    import keras

    for n_features, n_params in PARAMETER_CASES:
        call = f"model_with_parameters({n_features}, {n_params})"
        model = t.call(n_features, n_params)
        if not isinstance(model, keras.Model):
            raise Wrong(f"{call} returned {short(model)}; it should return a Keras model, e.g. keras.Sequential([...]).",
                        "Build the model inside the function and `return` it.")
        try:
            count = int(model.count_params())
            inputs, outputs = model.inputs, model.outputs
        except Exception:
            raise Wrong(f"{call}: the model has no weights yet, so Keras cannot count them: it does not know its "
                        "input's shape.", "Start the Sequential list with keras.Input(shape=(n_features,)).") from None
        if len(inputs) != 1 or _shape(inputs[0]) != (None, n_features):
            raise Wrong(f"{call}: the model's input has shape {[_shape(i) for i in inputs]}; it should take "
                        f"{n_features} features, shape (None, {n_features}).", "keras.Input(shape=(n_features,)).")
        if len(outputs) != 1 or _shape(outputs[0]) != (None, 1):
            raise Wrong(f"{call}: the model's output has shape {[_shape(o) for o in outputs]}; it should predict one "
                        "number per sample, shape (None, 1).", "End with layers.Dense(1).")
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        if len(dense) < 2:
            raise Wrong(f"{call}: the model has {len(dense)} Dense layer(s); it needs a hidden Dense layer and the "
                        "Dense(1) output.", "keras.Input → Dense(hidden_units, activation='relu') → Dense(1).")
        if not all(layer.use_bias for layer in dense):
            raise Wrong(f"{call}: a Dense layer has use_bias=False; keep the biases (the default) and count them.",
                        "Per Dense layer: inputs × units weights + units biases.")
        if count == n_params:
            t.ok(f"{call}: model.count_params() = {n_params:,}, one output, {n_features} inputs")
            continue
        hidden = int(dense[0].units)
        right = (n_params - 1) // (n_features + 2)
        weights_only = sum(int(np.prod(layer.kernel.shape)) for layer in dense)
        if hidden != right and hidden in {n_params // (n_features + 1), round(n_params / (n_features + 1))}:
            raise Wrong(f"{call}: Keras counts {count:,} parameters. You forgot the biases: {hidden} hidden units "
                        f"solve ({n_features} + 1)·H = {n_params}, which counts the weights and no bias "
                        f"(or leaves out the output layer); Dense({hidden}) also has {hidden} biases and Dense(1) one.",
                        "Per Dense layer: inputs × units weights + units biases. Solve the total for H.")
        if weights_only == n_params:
            raise Wrong(f"{call}: your model's weights alone add up to {n_params:,}; you forgot the biases "
                        f"({count - weights_only} of them), which Keras counts too.",
                        "Per Dense layer: inputs × units weights + units biases.")
        if hidden != right and hidden in {(n_params - 1) // (n_features + 1), n_params // (n_features + 2)}:
            raise Wrong(f"{call}: Keras counts {count:,}. With {hidden} hidden units one bias term is missing from "
                        "your count: the hidden layer has one bias per unit, and Dense(1) has one bias too.",
                        "Total = n·H + H (hidden) + H + 1 (output).")
        raise Wrong(f"{call}: model.count_params() is {count:,}, expected {n_params:,}.",
                    "Write the total for n inputs, H hidden units and 1 output (weights and biases of both layers), "
                    "then solve it for H.")


# --- 03.2 standardise with the training set's statistics ---------------------------------------------------
def _normalization_reference(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference: a keras.layers.Normalization layer adapted on the training set (section 5.1's note)."""
    import keras

    norm = keras.layers.Normalization(axis=-1)
    norm.adapt(x_train)
    return (np.asarray(norm(x_train), dtype=float), np.asarray(norm(x_test), dtype=float))


def _scaled(x, mean, std):
    return (x - mean) / std


def check_standardise(t: Trial) -> None:
    rng = np.random.default_rng(2017)
    scales = np.array([400.0, 0.5, 6.0])                  # like TAX, NOX and RM: very different ranges
    x_train = rng.normal(1.0, 1.0, (40, 3)) * scales
    x_test = rng.normal(1.6, 0.7, (12, 3)) * scales       # future data need not look like the training data
    call = "standardise(x_train of shape (40, 3), x_test of shape (12, 3))"
    got = t.call(x_train.copy(), x_test.copy())
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Wrong(f"{call} returned {short(got)}; it should return two arrays: (train_scaled, test_scaled).",
                    "End with `return train_scaled, test_scaled`.")
    train_got, test_got = as_floats(got[0]), as_floats(got[1])
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    with np.errstate(all="ignore"):
        if same(test_got, _scaled(x_test, x_test.mean(axis=0), x_test.std(axis=0)), rtol=1e-4):
            raise Wrong(f"{call}: the test set was scaled with its own mean and standard deviation; use the training "
                        "set's, as if the test set were future data not seen yet.",
                        "Compute mean and std on x_train only, then apply them to both arrays.")
        if same(train_got, _scaled(x_train, x_train.mean(axis=1, keepdims=True), x_train.std(axis=1, keepdims=True)),
                rtol=1e-4):
            raise Wrong(f"{call}: mean and std were taken per row (per sample, axis=1); each feature (column) needs "
                        "its own: axis=0.")
        if same(train_got, _scaled(x_train, x_train.mean(), x_train.std()), rtol=1e-4):
            raise Wrong(f"{call}: one mean and one std for the whole array; each feature (column) needs its own, "
                        "axis=0, so that TAX and NOX both end up on the same scale.")
        if same(train_got, _scaled(x_train, mean, x_train.std(axis=0, ddof=1)), rtol=1e-4):
            raise Wrong(f"{call}: divided by the sample standard deviation (ddof=1); the notebook and Keras's "
                        "Normalization layer use np.std's default, ddof=0.")
        if same(train_got, x_train - mean, rtol=1e-4):
            raise Wrong(f"{call}: the features were centred but not divided by their standard deviation, so TAX still "
                        "spreads over hundreds and NOX over less than 1.")
        if same(train_got, x_train / std, rtol=1e-4):
            raise Wrong(f"{call}: the features were divided by their standard deviation, but the mean was not "
                        "subtracted first.")
    train_ref, test_ref = _normalization_reference(x_train, x_test)
    t.expect_close(train_got, train_ref, "the scaled training set", rtol=1e-4, atol=1e-4,
                   ok="the training set: every column now has mean 0 and std 1, as keras.layers.Normalization gives")
    t.expect_close(test_got, test_ref, "the scaled test set", rtol=1e-4, atol=1e-4,
                   ok="the test set is scaled with the training set's mean and std, not its own")


EXERCISES = [
    Exercise("03.1", "A model with a given parameter count", "model_with_parameters", check_model_with_parameters,
             solutions.model_with_parameters,
             hint="Dense(H) on n inputs: n·H weights + H biases; Dense(1) on H inputs: H weights + 1 bias."),
    Exercise("03.2", "Standardise with training statistics", "standardise", check_standardise,
             solutions.standardise,
             hint="mean and std of x_train along axis 0 (one per feature); apply the same two to x_test."),
]

QUESTIONS = [
    Question("How many parameters has `Dense(10)` on 13 input features (section 3.1)?", 140,
             "13 × 10 weights + 10 biases = 140.", tolerance=0.0),
    Question("The labels are class numbers 0, 1, 2 (not one-hot). Which loss goes with a Dense(3, softmax) output?",
             2, "sparse_categorical_crossentropy takes class numbers; categorical_crossentropy needs one-hot rows.",
             options=('"mse"', '"binary_crossentropy"', '"sparse_categorical_crossentropy"',
                      '"categorical_crossentropy"')),
    Question("Why did standardising the Boston features let 60 epochs do what took the tutorial 1,000?", 1,
             "On raw features TAX is in the hundreds and NOX below 1: one learning rate cannot suit both weights, "
             "and the cost is a narrow valley; standardised, it is a round bowl.",
             options=("it removes the noise from the data", "features on very different scales make a narrow "
                      "valley that one learning rate crosses badly", "it makes the model non-linear",
                      "it doubles the number of training samples")),
    Question("The test features are standardised with which mean and standard deviation?", 0,
             "The test set stands for future data: it gets the training set's statistics, unchanged.",
             options=("the training set's", "the test set's own", "those of training and test together",
                      "none: the test set is left raw")),
    Question("Which optimizer of section 4.1 divides by the root of the sum of *all* past squared gradients, so "
             "its steps keep shrinking?", 2,
             "Adagrad's sum only grows; RMSprop and Adam use moving averages, which forget old gradients.",
             options=("SGD with momentum", "RMSprop", "Adagrad", "Adam")),
]
