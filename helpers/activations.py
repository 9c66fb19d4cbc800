"""Activation functions for notebook 07: formulas, derivatives, plots and the measurements behind them.

Three views of every activation, so the notebook can check one against another:

- :func:`activate` and :func:`derivative`: closed forms in NumPy (what you would write on paper);
- :func:`tape_derivative`: the same derivative computed by TensorFlow's ``tf.GradientTape``;
- :func:`activation_layer`: the Keras layer that puts the function into a network.

Softmax works on a whole vector, so it has its own trio: :func:`softmax`, :func:`softmax_jacobian`
(closed form ``diag(p) - p pᵀ``) and :func:`tape_softmax_jacobian`.

For the deep-network experiments on the MLP that notebook 07 writes on its page
(:func:`helpers.taught.deep_mlp.build_mlp`: a named activation ``act_i`` after every hidden ``Dense``
``dense_i``): :func:`layer_gradient_norms` (vanishing gradients at initialisation),
:func:`dead_unit_share` (dying ReLU: zero gradient for every sample),
:func:`inactive_unit_share` (weighted input never positive) and the plots :func:`plot_activation`,
:func:`plot_gradient_norms`.

Names used everywhere (``ACTIVATION_NAMES``): ``linear, sigmoid, tanh, relu, leaky_relu, prelu,
elu, swish``. ``alpha`` is the negative-side slope of leaky ReLU / PReLU (default 0.1, as in the
tutorial) and the saturation value of ELU (default 1.0).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

ACTIVATION_NAMES = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "swish")
DEFAULT_ALPHA = {"leaky_relu": 0.1, "prelu": 0.1, "elu": 1.0}
FORMULAS = {
    "linear": r"$f(x) = x$",
    "sigmoid": r"$\sigma(x) = 1 / (1 + e^{-x})$",
    "tanh": r"$\tanh(x) = (e^{x} - e^{-x}) / (e^{x} + e^{-x})$",
    "relu": r"$f(x) = \max(0, x)$",
    "leaky_relu": r"$f(x) = \max(\alpha x, x)$",
    "prelu": r"$f(x) = \max(\alpha x, x)$, $\alpha$ learned",
    "elu": r"$f(x) = x$ if $x>0$ else $\alpha(e^{x} - 1)$",
    "swish": r"$f(x) = x\,\sigma(x)$",
    "softmax": r"$p_i = e^{x_i} / \sum_j e^{x_j}$",
}


def check_name(name: str) -> str:
    """Return ``name`` if it is a known activation, else raise a ValueError listing the valid names."""
    if name not in ACTIVATION_NAMES:
        raise ValueError(f"Unknown activation {name!r}; choose one of {', '.join(ACTIVATION_NAMES)} "
                         f"(softmax works on vectors: use softmax()).")
    return name


def _alpha(name: str, alpha: float | None) -> float:
    if alpha is None:
        return DEFAULT_ALPHA.get(name, 0.0)
    alpha = float(alpha)
    if name in ("leaky_relu", "prelu") and not 0.0 <= alpha < 1.0:
        raise ValueError(f"{name} needs a slope 0 <= alpha < 1 (the tutorial uses 0.1); got {alpha}.")
    if name == "elu" and alpha <= 0.0:
        raise ValueError(f"elu needs alpha > 0 (1.0 is usual); got {alpha}.")
    return alpha


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic function


def activate(name: str, x, alpha: float | None = None) -> np.ndarray:
    """Closed-form activation ``f(x)``, element-wise, in NumPy (float64)."""
    check_name(name)
    x = np.asarray(x, dtype=np.float64)
    a = _alpha(name, alpha)
    if name == "linear":
        return x.copy()
    if name == "sigmoid":
        return _sigmoid(x)
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(0.0, x)
    if name in ("leaky_relu", "prelu"):
        return np.where(x > 0, x, a * x)
    if name == "elu":
        return np.where(x > 0, x, a * np.expm1(np.minimum(x, 0.0)))
    return x * _sigmoid(x)  # swish


def derivative(name: str, x, alpha: float | None = None) -> np.ndarray:
    """Closed-form derivative ``f'(x)``, element-wise, in NumPy (float64).

    At the kink ``x = 0`` of ReLU-like functions the derivative is undefined; like TensorFlow we use
    the left-hand value there (0 for ReLU, alpha for leaky ReLU / PReLU).
    """
    check_name(name)
    x = np.asarray(x, dtype=np.float64)
    a = _alpha(name, alpha)
    if name == "linear":
        return np.ones_like(x)
    if name == "sigmoid":
        s = _sigmoid(x)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(x) ** 2
    if name == "relu":
        return (x > 0).astype(np.float64)
    if name in ("leaky_relu", "prelu"):
        return np.where(x > 0, 1.0, a)
    if name == "elu":
        return np.where(x > 0, 1.0, a * np.exp(np.minimum(x, 0.0)))
    s = _sigmoid(x)  # swish: d/dx x*s = s + x*s*(1-s)
    return s * (1.0 + x * (1.0 - s))


def _tf_activation(name: str, x, alpha: float):
    """The activation written with TensorFlow ops (what the tape differentiates)."""
    import tensorflow as tf

    if name == "linear":
        return tf.identity(x)
    if name == "sigmoid":
        return tf.sigmoid(x)
    if name == "tanh":
        return tf.tanh(x)
    if name == "relu":
        return tf.nn.relu(x)
    if name in ("leaky_relu", "prelu"):
        return tf.maximum(alpha * x, x)
    if name == "elu":
        return tf.where(x > 0, x, alpha * (tf.exp(tf.minimum(x, 0.0)) - 1.0))
    return tf.nn.silu(x)  # swish = SiLU


def tape_derivative(name: str, x, alpha: float | None = None, dtype: str = "float64") -> np.ndarray:
    """``f'(x)`` computed by automatic differentiation (``tf.GradientTape``), element-wise.

    Because each output depends only on its own input, the gradient of ``sum(f(x))`` is ``f'(x)``.
    Returns a NumPy array with the shape of ``x``.
    """
    import tensorflow as tf

    check_name(name)
    a = _alpha(name, alpha)
    x_t = tf.constant(np.asarray(x), dtype=dtype)
    with tf.GradientTape() as tape:
        tape.watch(x_t)
        y = _tf_activation(name, x_t, a)
    return tape.gradient(y, x_t).numpy()  # gradient of a non-scalar target = gradient of its sum


def softmax(x, axis: int = -1) -> np.ndarray:
    """Softmax ``p_i = exp(x_i) / sum_j exp(x_j)`` along ``axis`` (numerically stable), float64.

    Turns raw scores ``(..., k)`` into probabilities: each in (0, 1), summing to 1 along ``axis``; notebook 01's black
    box uses it first. Example: ``softmax([4.0, -0.5, 0.2])`` -> about ``[0.97, 0.01, 0.02]``.
    """
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


def softmax_jacobian(x) -> np.ndarray:
    """Closed-form Jacobian of softmax for one score vector ``x`` of shape ``(n,)``: ``diag(p) - p pᵀ``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"softmax_jacobian takes one score vector of shape (n,); got shape {x.shape}.")
    p = softmax(x)
    return np.diag(p) - np.outer(p, p)


def tape_softmax_jacobian(x) -> np.ndarray:
    """Jacobian ``dp_i/dx_j`` of ``tf.nn.softmax`` from ``tf.GradientTape.jacobian``; shape ``(n, n)``."""
    import tensorflow as tf

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"tape_softmax_jacobian takes one score vector of shape (n,); got shape {x.shape}.")
    x_t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_t)
        p = tf.nn.softmax(x_t)
    return tape.jacobian(p, x_t).numpy()


# --------------------------------------------------------------------------- plots


def plot_activation(name: str, alpha: float | None = None, x_range: tuple[float, float] = (-5.0, 5.0),
                    axes=None):
    """Plot ``f`` (left) and ``f'`` (right) for one activation; returns the Figure.

    ``axes``: optional pair of Matplotlib axes to draw into (for grids of activations).
    """
    import matplotlib.pyplot as plt

    check_name(name)
    a = _alpha(name, alpha)
    x = np.linspace(*x_range, 400)  # an even count never hits x = 0 exactly
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(7.0, 2.6))
    else:
        fig = axes[0].figure
    label = name if name not in DEFAULT_ALPHA else f"{name} (α={a:g})"
    axes[0].plot(x, activate(name, x, a), color="tab:blue")
    axes[0].set_title(f"{label}: {FORMULAS[name]}", fontsize=9)
    axes[1].plot(x, derivative(name, x, a), color="tab:red")
    axes[1].set_title(f"derivative of {label}", fontsize=9)
    for ax in axes:
        ax.axhline(0, color="gray", lw=0.6)
        ax.axvline(0, color="gray", lw=0.6)
        ax.set_xlabel("x")
    fig.tight_layout()
    return fig


def plot_gradient_norms(norms: Mapping[str, Sequence[float]], title: str | None = None):
    """Grouped bar plot (log scale) of per-layer gradient norms, one colour per activation.

    Args:
        norms: ``{activation name: [norm of layer 1, norm of layer 2, ...]}`` (e.g. from
            :func:`layer_gradient_norms`), input side first.
    """
    import matplotlib.pyplot as plt

    if not norms:
        raise ValueError("No gradient norms to plot.")
    names = list(norms)
    n_layers = len(next(iter(norms.values())))
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.55 * n_layers + 1.5), 3.2))
    for i, name in enumerate(names):
        values = np.asarray(norms[name], dtype=float)
        if len(values) != n_layers:
            raise ValueError(f"{name!r} has {len(values)} layers, the first activation has {n_layers}.")
        ax.bar(np.arange(1, n_layers + 1) + (i - (len(names) - 1) / 2) * width, values, width, label=name)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(1, n_layers + 1))
    ax.set_xlabel("Dense layer (1 = next to the input)")
    ax.set_ylabel("‖∂loss/∂W‖ (log scale)")
    ax.legend()
    ax.set_title(title or "Gradient norm per layer at initialisation")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- networks


def activation_layer(name: str, alpha: float | None = None, layer_name: str | None = None):
    """A Keras layer applying activation ``name`` (``prelu`` gets a trainable slope per unit).

    Keras 3 names: ``LeakyReLU(negative_slope=...)`` (Keras 2 called it ``alpha``), ``PReLU``,
    ``ELU(alpha=...)``, ``Activation("silu")`` for swish.
    """
    import keras

    check_name(name)
    a = _alpha(name, alpha)
    if name == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=a, name=layer_name)
    if name == "prelu":
        return keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(a), name=layer_name)
    if name == "elu":
        return keras.layers.ELU(alpha=a, name=layer_name)
    keras_name = {"swish": "silu"}.get(name, name)
    return keras.layers.Activation(keras_name, name=layer_name)


def _hidden_layers(model, prefix: str) -> list:
    """The layers ``<prefix>1, <prefix>2, ...`` of a :func:`helpers.taught.deep_mlp.build_mlp` network
    (``"dense_"``: the hidden Dense layers, ``"act_"``: their activations)."""
    layers = [layer for layer in model.layers if layer.name.startswith(prefix)]
    if not layers:
        raise ValueError(f"The model has no layers named {prefix}1, {prefix}2, ...; build it with "
                         "helpers.taught.deep_mlp.build_mlp().")
    return layers


def layer_gradient_norms(model, x, y) -> np.ndarray:
    """L2 norm of ``∂loss/∂kernel`` for each hidden Dense layer (input side first), on one batch.

    Loss: sparse categorical cross-entropy of ``model(x)`` against integer labels ``y``. Call it on a
    freshly built model to see how the gradient shrinks (or not) on its way back to the input.
    """
    import keras
    import tensorflow as tf

    layers = _hidden_layers(model, "dense_")
    x = tf.convert_to_tensor(np.asarray(x, dtype=np.float32))
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    kernels = [layer.kernel for layer in layers]
    with tf.GradientTape() as tape:
        loss = loss_fn(np.asarray(y), model(x, training=False))
    grads = tape.gradient(loss, kernels)
    return np.array([float(tf.norm(g)) for g in grads])


def hidden_preactivations(model, x) -> list[np.ndarray]:
    """Inputs of ``act_1 .. act_k`` (the weighted sums ``z`` of ``dense_1 .. dense_k``): ``(n, units)`` float32 arrays."""
    import keras

    probe = keras.Model(model.inputs[0], [layer.output for layer in _hidden_layers(model, "dense_")])
    x = np.asarray(x, dtype=np.float32)
    chunks = [probe(x[i:i + 1024], training=False) for i in range(0, len(x), 1024)]
    if not isinstance(chunks[0], (list, tuple)):
        chunks = [[c] for c in chunks]
    return [np.concatenate([np.asarray(c[k]) for c in chunks]) for k in range(len(chunks[0]))]


def dead_unit_share(model, x) -> np.ndarray:
    """Share of units in each hidden layer that are *dead*: zero gradient for every sample of ``x``.

    A unit is dead when its activation's derivative ``f'(z)`` is exactly 0 for every input in ``x``,
    so backpropagation can never change the weights that feed it. ``f'`` is taken from
    ``tf.GradientTape`` on the model's own activation layers (each ``act_i`` is element-wise, so the
    gradient of ``sum(f(z))`` is ``f'(z)``). For ReLU a unit is dead when ``z <= 0`` everywhere; a
    leaky ReLU, PReLU (slope > 0), ELU or swish unit never is, even when all its outputs are
    negative (see :func:`inactive_unit_share` for that). Returns one share (0..1) per hidden layer,
    input side first.
    """
    import tensorflow as tf

    acts = _hidden_layers(model, "act_")
    alive = None
    x = np.asarray(x, dtype=np.float32)
    for start in range(0, len(x), 1024):
        zs = hidden_preactivations(model, x[start:start + 1024])
        if len(zs) != len(acts):
            raise ValueError(f"The model has {len(zs)} dense_i layers but {len(acts)} act_i layers; build it with "
                             "helpers.taught.deep_mlp.build_mlp().")
        if alive is None:
            alive = [np.zeros(z.shape[1], dtype=bool) for z in zs]
        for k, (z, act) in enumerate(zip(zs, acts)):
            z = tf.constant(z)
            with tf.GradientTape() as tape:
                tape.watch(z)
                out = act(z)
            slope = tape.gradient(out, z)
            alive[k] |= np.any(np.asarray(slope) != 0.0, axis=0)
    return np.array([1.0 - float(np.mean(a)) for a in alive])


def inactive_unit_share(model, x) -> np.ndarray:
    """Share of units in each hidden layer whose weighted input is ``z <= 0`` for every sample of ``x``.

    For ReLU this is the same as :func:`dead_unit_share`. For leaky ReLU, PReLU or ELU such a unit
    still passes back a gradient (``f'(z) = alpha`` or ``alpha e^z``), so it is inactive but not
    dead. One share (0..1) per hidden layer, input side first.
    """
    return np.array([float(np.mean(z.max(axis=0) <= 0.0)) for z in hidden_preactivations(model, x)])
