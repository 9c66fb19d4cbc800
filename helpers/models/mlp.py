"""Feedforward (multi-layer perceptron) builders for notebooks 04 and 05.

- :func:`single_neuron` : one sigmoid neuron, the Playground's "no hidden layer" network (notebook 04)
- :func:`small_classifier` : one or more small hidden layers + a sigmoid output, optional L2 (notebook 04)
- :func:`tutorial_mlp` : the LearnOpenCV MNIST network 784 → 512 → 512 → 10, with or without Dropout (notebook 05)

All builders return an *uncompiled* ``keras.Sequential`` with an explicit ``Input`` and fixed layer
names, so ``model.summary()`` prints the same table every run.
"""

from __future__ import annotations

from typing import Sequence

import keras

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


def _check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {activation!r}; choose one of {ACTIVATIONS}.")


def _check_positive_int(value, what: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{what} must be a positive integer; got {value!r}.")
    return int(value)


def single_neuron(n_features: int = 2, name: str = "single_neuron") -> keras.Sequential:
    """One neuron: ``sigmoid(w·x + b)`` on ``n_features`` inputs -> float ``(batch, 1)`` probability of class 1.

    It has ``n_features + 1`` parameters and can only draw a straight decision boundary in its input space.
    """
    n_features = _check_positive_int(n_features, "n_features")
    return keras.Sequential([
        keras.Input(shape=(n_features,), name="features"),
        keras.layers.Dense(1, activation="sigmoid", name="output"),
    ], name=name)


def small_classifier(n_features: int = 2, hidden_units: int | Sequence[int] = 3, activation: str = "relu",
                     l2: float = 0.0, name: str = "small_classifier") -> keras.Sequential:
    """Binary classifier with small hidden layers, like the Playground's networks.

    Args:
        n_features: input width (2 for raw x1, x2).
        hidden_units: units of one hidden layer (``3``) or of several (``(4, 2)``).
        activation: hidden activation, one of :data:`ACTIVATIONS`.
        l2: L2 penalty rate on every kernel (the Playground's "regularization rate"; 0 = none).

    Returns:
        uncompiled model mapping float ``(batch, n_features)`` to ``(batch, 1)`` probabilities.
    """
    n_features = _check_positive_int(n_features, "n_features")
    _check_activation(activation)
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0; got {l2}.")
    units = [hidden_units] if isinstance(hidden_units, (int, float)) else list(hidden_units)
    if not units:
        raise ValueError("hidden_units is empty; use single_neuron() for a network without hidden layers.")
    units = [_check_positive_int(u, "hidden_units") for u in units]
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    layers = [keras.Input(shape=(n_features,), name="features")]
    for i, u in enumerate(units, 1):
        layers.append(keras.layers.Dense(u, activation=activation, kernel_regularizer=regularizer, name=f"hidden_{i}"))
    layers.append(keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=regularizer, name="output"))
    return keras.Sequential(layers, name=name)


def tutorial_mlp(input_dim: int = 784, hidden_layers: int = 2, hidden_units: int = 512, num_classes: int = 10,
                 activation: str = "relu", dropout: float = 0.0, name: str = "mlp") -> keras.Sequential:
    """The LearnOpenCV MNIST network: ``hidden_layers`` Dense layers of ``hidden_units`` + a softmax output.

    With the defaults (784 → 512 ReLU → 512 ReLU → 10 softmax) it has 669,706 parameters, the tutorial's
    network; ``dropout=0.5`` adds ``Dropout(0.5)`` after every hidden layer (the tutorial's ``model_reg``).

    Args:
        input_dim: length of the flattened image (28 * 28 = 784).
        hidden_layers: number of hidden Dense layers (0 gives softmax regression).
        hidden_units: units per hidden layer.
        num_classes: softmax outputs.
        activation: hidden activation, one of :data:`ACTIVATIONS`.
        dropout: dropout rate in ``[0, 1)`` after each hidden layer (0 = no Dropout layers).

    Returns:
        uncompiled model mapping float32 ``(batch, input_dim)`` to ``(batch, num_classes)`` probabilities.
    """
    input_dim = _check_positive_int(input_dim, "input_dim")
    hidden_units = _check_positive_int(hidden_units, "hidden_units")
    num_classes = _check_positive_int(num_classes, "num_classes")
    if isinstance(hidden_layers, bool) or int(hidden_layers) != hidden_layers or hidden_layers < 0:
        raise ValueError(f"hidden_layers must be an integer >= 0; got {hidden_layers!r}.")
    _check_activation(activation)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1) (a fraction of units dropped); got {dropout}.")
    layers = [keras.Input(shape=(input_dim,), name="pixels")]
    for i in range(1, int(hidden_layers) + 1):
        layers.append(keras.layers.Dense(hidden_units, activation=activation, name=f"hidden_{i}"))
        if dropout > 0:
            layers.append(keras.layers.Dropout(dropout, name=f"dropout_{i}"))
    layers.append(keras.layers.Dense(num_classes, activation="softmax", name="output"))
    return keras.Sequential(layers, name=name)


def mlp_parameter_count(input_dim: int = 784, hidden_layers: int = 2, hidden_units: int = 512,
                        num_classes: int = 10) -> int:
    """Parameters of :func:`tutorial_mlp` by hand: weights + biases of each Dense layer (Dropout adds none)."""
    widths = [input_dim] + [hidden_units] * hidden_layers + [num_classes]
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
