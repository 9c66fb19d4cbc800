"""Notebook 04's exercises (the features that let one neuron learn the circle, a Dense layer's forward pass, the L2
penalty) and self-check questions."""

from __future__ import annotations

import numpy as np

from helpers.exercises.core import Exercise, Trial, Wrong, as_floats, same, short
from helpers.exercises.selfcheck import Question
from helpers.exercises.solutions import nb04 as solutions
from helpers import playground


# --- 04.1 the features that let one neuron learn the circle --------------------------------------------------
def _logistic_accuracy(features: np.ndarray, y: np.ndarray, test_features: np.ndarray, y_test: np.ndarray) -> float:
    """Train one sigmoid neuron (logistic regression, full-batch gradient descent in NumPy) and return its test
    accuracy: the notebook's single neuron, small enough to run inside a check (a few milliseconds)."""
    mean, std = features.mean(axis=0), features.std(axis=0) + 1e-12
    a = np.c_[(features - mean) / std, np.ones(len(features))]
    b = np.c_[(test_features - mean) / std, np.ones(len(test_features))]
    w = np.zeros(a.shape[1])
    for _ in range(1000):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -30, 30)))
        w -= 0.5 * a.T @ (p - y) / len(y)
    return float(np.mean((b @ w > 0) == (y_test == 1)))


def _circle_feature_mistakes(call: str, got: np.ndarray | None, x: np.ndarray) -> None:
    if got is None:
        return
    x1, x2 = x[:, 0], x[:, 1]
    n = len(x)
    right = np.stack([x1, x2, x1 ** 2, x2 ** 2], axis=1)
    if same(got, right.T):
        raise Wrong(f"{call} has shape {got.shape}: one row per feature; the neuron wants one row per point, "
                    f"shape ({n}, 4).", "np.stack([...], axis=1) or np.column_stack([...]).")
    if same(got, np.stack([x1 ** 2, x2 ** 2], axis=1)):
        raise Wrong(f"{call} holds only x1² and x2²; keep x1 and x2 as the first two columns, as the notebook fed "
                    "the neuron x1, x2, x1², x2².")
    if got.shape == (n, 4) and same(got[:, :2], x):
        squares = got[:, 2:]
        if same(squares, np.stack([x1 * x2, x1 * x2], axis=1)) or same(squares[:, :1], (x1 * x2)[:, None]):
            raise Wrong(f"{call}: x1·x2 is the feature that solves XOR; the circle needs the squares x1² and x2².")
        if same(squares, 2 * x):
            raise Wrong(f"{call}: the last two columns are 2·x1 and 2·x2; a square is x1 ** 2 (or x1 * x1), not "
                        "x1 * 2.")
        if same(squares, np.stack([(x1 + x2) ** 2, (x1 - x2) ** 2], axis=1)) or same(
                squares, np.stack([x1 ** 2 + x2 ** 2] * 2, axis=1)):
            raise Wrong(f"{call}: column 3 should be x1² and column 4 x2², each coordinate squared on its own.")
    if got.shape == (n, 3) and same(got[:, 2], x1 ** 2 + x2 ** 2):
        raise Wrong(f"{call}: one column x1² + x2² is the squared distance from the centre, and a neuron can use "
                    f"it too; this exercise asks for the notebook's four columns x1, x2, x1², x2², shape ({n}, 4).")


def check_circle_features(t: Trial) -> None:

    x = np.array([[0.5, -1.0], [2.0, 3.0], [-1.5, 0.25], [4.0, -2.0], [0.0, 1.0]])
    call = "circle_features(x of shape (5, 2))"
    got = as_floats(t.call(x.copy()))
    _circle_feature_mistakes(call, got, x)
    expected = np.column_stack([x[:, 0], x[:, 1], x[:, 0] * x[:, 0], x[:, 1] * x[:, 1]])  # by hand, column by column
    t.expect_close(got, expected, call, rtol=1e-5, ok="5 points → shape (5, 4): x1, x2, x1², x2² in that order")

    x_train, y_train = playground.make_dataset("circle", 300, seed=404)
    x_test, y_test = playground.make_dataset("circle", 300, seed=405)
    call = "circle_features(300 circle-data points)"
    features = t.array(t.call(x_train.copy()), call, shape=(300, 4))
    test_features = t.array(t.call(x_test.copy()), "circle_features(300 other points)", shape=(300, 4))
    plain = _logistic_accuracy(x_train.astype(float), y_train, x_test.astype(float), y_test)
    crossed = _logistic_accuracy(features, y_train, test_features, y_test)
    if crossed < 0.95:
        raise Wrong(f"one neuron trained on your features gets only {crossed:.2f} of the test points right; with "
                    "x1, x2, x1², x2² it separates the circle.")
    t.ok(f"one sigmoid neuron trained on your features: test accuracy {crossed:.2f} on the circle "
         f"(on x1, x2 alone: {plain:.2f})")


# --- 04.2 a Dense layer's forward pass -----------------------------------------------------------------------
ACTIVATIONS = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
               "linear": lambda z: z}


def _keras_dense(x: np.ndarray, w: np.ndarray, b: np.ndarray, activation: str) -> np.ndarray:
    """The reference: a keras.layers.Dense with these weights, in float64."""
    import keras

    layer = keras.layers.Dense(w.shape[1], activation=activation, dtype="float64")
    layer.build((None, w.shape[0]))
    layer.set_weights([w, b])
    return np.asarray(layer(x), dtype=float)


def _dense_mistakes(call: str, got: np.ndarray | None, x, w, b, activation: str) -> None:
    if got is None:
        return
    f = ACTIVATIONS[activation]
    z = x @ w + b
    with np.errstate(all="ignore"):
        if same(got, x @ w) and not same(got, f(z)):
            raise Wrong(f"{call}: that is x·W only; add the bias b, then apply the activation: f(x·W + b).")
        if same(got, f(x @ w)) and not same(got, f(z)):
            raise Wrong(f"{call}: the bias is missing: z = x·W + b, then the activation.")
        if w.shape[0] == w.shape[1] and same(got, f(x @ w.T + b)) and not same(got, f(z)):
            raise Wrong(f"{call}: W was used transposed (x @ W.T); W has shape (inputs, units), so it is x @ W.",
                        "Row i of W holds the weights from input i to every unit.")
        if activation != "linear" and same(got, z):
            raise Wrong(f"{call}: that is z = x·W + b; the {activation} activation still has to be applied to it.")
        if same(got, f(x @ w) + b) and not same(got, f(z)):
            raise Wrong(f"{call}: the bias was added after the activation; add it first: f(x·W + b).")
        for other, g in ACTIVATIONS.items():
            if other != activation and same(got, g(z)):
                raise Wrong(f"{call}: that is the {other} of x·W + b, but the activation asked for is "
                            f"{activation!r}.", "Choose the function by the `activation` argument (if/elif on "
                            "its name).")
        if activation == "sigmoid" and same(got, 1 / (1 + np.exp(z))):
            raise Wrong(f"{call}: a sign is flipped in the sigmoid: it is 1 / (1 + exp(−z)).")
        if activation == "relu" and same(got, np.minimum(z, 0)):
            raise Wrong(f"{call}: ReLU keeps the positive values: max(0, z), not min(0, z).")


def check_dense_forward(t: Trial) -> None:
    rng = np.random.default_rng(17)
    x = rng.normal(size=(4, 3))
    cases = [(x, rng.normal(size=(3, 2)), rng.normal(size=2), "sigmoid"),
             (x, rng.normal(size=(3, 5)), rng.normal(size=5), "relu"),
             (rng.normal(size=(6, 3)), rng.normal(size=(3, 3)), rng.normal(size=3), "tanh"),
             (x, rng.normal(size=(3, 1)), np.array([0.7]), "linear")]
    for xs, w, b, activation in cases:
        call = f"dense_forward(x {xs.shape}, W {w.shape}, b {b.shape}, {activation!r})"
        with np.errstate(all="ignore"):
            got = as_floats(t.call(xs.copy(), w.copy(), b.copy(), activation))
        expected = _keras_dense(xs, w, b, activation)
        if got is not None and got.shape == expected.shape[::-1] and got.shape != expected.shape:
            raise Wrong(f"{call} has shape {got.shape}, expected {expected.shape}: one row per sample, one column per "
                        "unit.", "x has shape (n, inputs) and W (inputs, units), so x @ W has shape (n, units).")
        _dense_mistakes(call, got, xs, w, b, activation)
        t.expect_close(got, expected, call, rtol=1e-6, ok=f"{activation}: the same as keras.layers.Dense({w.shape[1]}, "
                                                           f"activation={activation!r}) with these weights")


# --- 04.3 the L2 penalty -------------------------------------------------------------------------------------
def _l2_model(seed: int):
    import keras

    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(8, activation="relu", name="hidden_1"),
                              keras.layers.Dense(1, activation="sigmoid", name="output")])
    model.set_weights([rng.normal(0, 1.5, w.shape) for w in model.get_weights()])  # biases too: they must not count
    return model


def _keras_penalty(model, rate: float) -> float:
    """The reference: Keras's own L2 regularizer applied to each kernel, as kernel_regularizer=L2(rate) does."""
    import keras

    regularizer = keras.regularizers.L2(rate)
    return float(sum(float(regularizer(layer.kernel)) for layer in model.layers if hasattr(layer, "kernel")))


def check_l2_penalty(t: Trial) -> None:
    for seed, rate in ((3, 0.03), (8, 0.5)):
        model = _l2_model(seed)
        call = f"l2_penalty(a 2 → 8 → 1 model, {rate})"
        got = t.number(t.call(model, rate), call)
        expected = _keras_penalty(model, rate)
        if np.isclose(got, expected, rtol=1e-4):
            continue
        kernels = [np.asarray(layer.kernel, dtype=float) for layer in model.layers if hasattr(layer, "kernel")]
        everything = [np.asarray(w, dtype=float) for w in model.get_weights()]
        squares = sum(float(np.sum(k ** 2)) for k in kernels)
        mistakes = [
            (rate * sum(float(np.sum(w ** 2)) for w in everything),
             "the biases were included; L2 (kernel_regularizer) penalises the kernels' weights only"),
            (rate * sum(float(np.sum(np.abs(k))) for k in kernels),
             "that is rate · Σ|w|, the L1 penalty; L2 squares each weight"),
            (squares, "the rate is missing: the penalty is rate · Σ w²"),
            (rate * np.sqrt(squares), "the square root was taken (a norm); the L2 penalty is the plain sum of squares"),
            (rate * sum(float(np.mean(k ** 2)) for k in kernels), "the squares were averaged; add them up"),
            (0.5 * rate * squares, "a factor ½ crept in; Keras's L2(rate) adds rate · Σ w², without ½"),
            (rate * float(np.sum(kernels[0] ** 2)), "only the first layer's kernel was counted; every Dense kernel "
                                                    "is penalised"),
        ]
        for value, words in mistakes:
            if np.isclose(got, value, rtol=1e-4):
                raise Wrong(f"{call} gave {got:.4g}, expected {expected:.4g}: {words}.",
                            "Loop over model.layers; for each layer with a kernel add rate * np.sum(kernel ** 2).")
        raise Wrong(f"{call} gave {got:.4g}, expected {expected:.4g}.",
                    "Loop over model.layers; for each layer with a kernel add rate * np.sum(kernel ** 2).")
    t.ok("the penalty equals what keras.regularizers.L2 adds to the loss for both kernels, biases left out")


EXERCISES = [
    Exercise("04.1", "Circle features for one neuron", "circle_features", check_circle_features,
             solutions.circle_features, hint="Square each coordinate: x[:, 0] ** 2 and x[:, 1] ** 2."),
    Exercise("04.2", "A Dense layer's forward pass", "dense_forward", check_dense_forward, solutions.dense_forward,
             hint="a = f(x @ W + b), with f chosen by its name."),
    Exercise("04.3", "The L2 penalty", "l2_penalty", check_l2_penalty, solutions.l2_penalty,
             hint="rate · the sum of the squares of every Dense layer's kernel (not the biases)."),
]

QUESTIONS = [
    Question("How many parameters has the tutorial's network 2 → 3 hidden ReLU units → 1 sigmoid output?", 13,
             "Hidden: 2 × 3 weights + 3 biases = 9; output: 3 weights + 1 bias = 4; 13 in all.", tolerance=0.0),
    Question("Which extra input lets a single neuron solve XOR?", 2,
             "x1·x2 is positive in two opposite quadrants and negative in the other two: one threshold on it is XOR.",
             options=("x1² and x2²", "sin(x1)", "x1·x2", "none: a single neuron never can")),
    Question("With `HIDDEN_ACTIVATION=\"linear\"`, the 3-unit network fails on the circle like a single neuron. Why?",
             0, "Linear layers stacked are one linear map: the boundary is again one straight line.",
             options=("a composition of linear functions is linear", "3 units are too few for any activation",
                      "linear units cannot be trained with Adam", "the output needs a softmax")),
    Question("In section 3 (noise, 8 hidden units, no L2), which pair of curves signals overfitting?", 1,
             "The network fits the stray training points: training loss down, test loss up.",
             options=("both losses falling", "training loss falling while the test loss rises",
                      "both losses rising", "test loss below the training loss")),
    Question("What does `kernel_regularizer=keras.regularizers.L2(0.03)` add to the loss?", 3,
             "L2 adds rate × the sum of the squared kernel weights, so large weights cost something.",
             options=("0.03 × the number of weights", "0.03 × Σ |w|", "noise of size 0.03 to the weights",
                      "0.03 × Σ w² over the kernel's weights")),
]
