"""TensorFlow-Playground-style 2-D toy problems, feature crosses and decision-boundary plots (notebook 04).

The datasets follow playground.tensorflow.org: points in the square ``[-6, 6]²``, two classes.

============  ===================================================================================
``gaussian``  two Gaussian blobs around (2, 2) and (-2, -2): linearly separable
``circle``    class 1 inside radius 2.5, class 0 on a ring between radius 3.5 and 5
``xor``       uniform points; class 1 where x1·x2 > 0 (the two "same sign" quadrants)
``spiral``    two interleaved spirals (hard; needs more hidden units)
============  ===================================================================================

``noise`` is the Playground's "Noise" slider (``noise=0.3`` is the Playground's 30): it moves the points
themselves, never their labels. Each point keeps the class of the clean position it was drawn at and is
then jittered (for ``gaussian`` the blobs widen: the Playground's variance ``0.5 + 7 * noise``), so the two
classes overlap near the boundary and a network that follows every training point overfits.
``label_noise`` (not a Playground setting) flips that fraction of the labels to model mislabelled data.

Typical use::

    x, y = make_dataset("circle", n_samples=400, seed=0)
    features = add_features(x, ("x1", "x2", "x1^2", "x2^2"))
    fig = plot_decision_boundary(lambda p: model.predict(add_features(p, names), verbose=0), x, y)
"""

from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np

DATASETS = ("gaussian", "circle", "xor", "spiral")
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
EXTENT = 6.0  # the Playground's plotting square is [-6, 6] x [-6, 6]
CLASS_COLORS = ("tab:orange", "tab:blue")  # Playground colours: orange = class 0, blue = class 1


def _check_choice(value: str, valid: Sequence[str], what: str) -> None:
    if value not in valid:
        raise ValueError(f"Unknown {what} {value!r}; choose one of {tuple(valid)}.")


def make_dataset(name: str, n_samples: int = 400, noise: float = 0.0, label_noise: float = 0.0,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generate one of the Playground's 2-D classification problems.

    Args:
        name: one of :data:`DATASETS`.
        n_samples: number of points (half of each class, up to one for odd counts); at least 2.
        noise: 0..1, how far the points are jittered away from their clean positions, labels unchanged
            (0 = the clean Playground picture; 0.3 = the Playground's noise 30).
        label_noise: 0..0.5, fraction of points whose label is flipped (0.3 = 30 % wrong labels).
        seed: the same seed gives the same points.

    Returns:
        ``(x, y)``: float32 ``(n_samples, 2)`` coordinates and int32 ``(n_samples,)`` labels in {0, 1}.
    """
    _check_choice(name, DATASETS, "dataset")
    if int(n_samples) != n_samples or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2; got {n_samples!r}.")
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be between 0 and 1; got {noise}.")
    if not 0.0 <= label_noise <= 0.5:
        raise ValueError(f"label_noise must be between 0 and 0.5 (a fraction of flipped labels); got {label_noise}.")
    n_samples = int(n_samples)
    rng = np.random.default_rng(seed)
    n1 = n_samples // 2
    y = np.concatenate([np.ones(n1), np.zeros(n_samples - n1)]).astype(np.int32)
    if name == "gaussian":
        std = np.sqrt(0.5 + 7.0 * noise)  # the Playground: variance 0.5 at noise 0, 4 at noise 50
        centers = np.where(y[:, None] == 1, 2.0, -2.0)
        x = centers + rng.normal(0.0, std, size=(n_samples, 2))
    elif name == "circle":
        radius = np.where(y == 1, rng.uniform(0.0, 2.5, n_samples), rng.uniform(3.5, 5.0, n_samples))
        angle = rng.uniform(0.0, 2 * np.pi, n_samples)
        x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        x += 1.5 * noise * rng.normal(0.0, 1.0, size=x.shape)
    elif name == "xor":
        x = rng.uniform(-5.0, 5.0, size=(n_samples, 2))
        x += np.sign(x) * 0.3  # keep a small gap along the axes, as the Playground does
        y = (x[:, 0] * x[:, 1] > 0).astype(np.int32)  # the class of the clean point...
        x += 1.5 * noise * rng.normal(0.0, 1.0, size=x.shape)  # ...which the jitter may carry across an axis
    else:  # spiral
        t = rng.uniform(0.0, 1.0, n_samples)
        radius = 5.0 * t
        angle = 1.75 * t * 2 * np.pi + np.where(y == 1, 0.0, np.pi)
        x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
        x += 0.5 * noise * rng.normal(0.0, 1.0, size=x.shape)
    order = rng.permutation(n_samples)
    x, y = x[order].astype(np.float32), y[order]
    if label_noise > 0:
        flip = rng.choice(n_samples, size=int(round(label_noise * n_samples)), replace=False)
        y = y.copy()
        y[flip] = 1 - y[flip]
    return x, y


def add_features(x: np.ndarray, names: Sequence[str] = ("x1", "x2")) -> np.ndarray:
    """Build the Playground's input features ("feature crosses") from 2-D points.

    Args:
        x: ``(n, 2)`` points.
        names: features from :data:`FEATURES`, in the order wanted, e.g. ``("x1", "x2", "x1^2", "x2^2")``.

    Returns:
        float32 ``(n, len(names))``.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"Expected 2-D points shaped (n, 2); got shape {x.shape}.")
    if not names:
        raise ValueError(f"Choose at least one feature from {FEATURES}.")
    x1, x2 = x[:, 0], x[:, 1]
    table = {"x1": x1, "x2": x2, "x1^2": x1 ** 2, "x2^2": x2 ** 2, "x1*x2": x1 * x2,
             "sin(x1)": np.sin(x1), "sin(x2)": np.sin(x2)}
    for name in names:
        _check_choice(name, FEATURES, "feature")
    return np.stack([table[name] for name in names], axis=1).astype(np.float32)


def grid_points(resolution: int = 100, extent: float = EXTENT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``resolution x resolution`` grid over ``[-extent, extent]²``: returns ``(xx, yy, points (r*r, 2))``."""
    axis = np.linspace(-extent, extent, int(resolution), dtype=np.float32)
    xx, yy = np.meshgrid(axis, axis)
    return xx, yy, np.stack([xx.ravel(), yy.ravel()], axis=1)


def plot_decision_boundary(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray,
                           ax=None, title: str | None = None, resolution: int = 100, extent: float = EXTENT,
                           discretize: bool = False):
    """Colour the plane by the model's output and draw the 0.5 contour over the data (the Playground's view).

    Args:
        predict: function taking float32 ``(m, 2)`` points and returning ``(m,)`` or ``(m, 1)``
            probabilities of class 1 (apply any feature crosses inside it).
        x, y: the data points ``(n, 2)`` and labels ``(n,)`` to scatter on top.
        ax: an existing Axes; a new small figure otherwise.
        discretize: colour only the predicted class (no shades), like the Playground's checkbox.

    Returns:
        the Figure.
    """
    x, y = np.asarray(x), np.ravel(np.asarray(y))
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} vs {len(y)}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.2))
    xx, yy, points = grid_points(resolution, extent)
    prob = np.asarray(predict(points), dtype=np.float32).reshape(-1)
    if prob.size != points.shape[0]:
        raise ValueError(f"predict returned {prob.size} values for {points.shape[0]} points; "
                         "it must return one probability per point.")
    prob = prob.reshape(xx.shape)
    shown = (prob > 0.5).astype(np.float32) if discretize else prob
    ax.contourf(xx, yy, shown, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.45, vmin=0, vmax=1)
    if prob.min() < 0.5 < prob.max():
        ax.contour(xx, yy, prob, levels=[0.5], colors="k", linewidths=1.0)
    for label, color in enumerate(CLASS_COLORS):
        mask = y == label
        ax.scatter(x[mask, 0], x[mask, 1], s=9, c=color, edgecolors="white", linewidths=0.3)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.grid(False)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax.figure


def plot_dataset(x: np.ndarray, y: np.ndarray, ax=None, title: str | None = None, extent: float = EXTENT):
    """Scatter a 2-D dataset in the Playground's colours (orange = class 0, blue = class 1); returns the Figure."""
    x, y = np.asarray(x), np.ravel(np.asarray(y))
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.2))
    for label, color in enumerate(CLASS_COLORS):
        mask = y == label
        ax.scatter(x[mask, 0], x[mask, 1], s=9, c=color, edgecolors="white", linewidths=0.3, label=f"class {label}")
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax.figure


def keras_predictor(model, features: Sequence[str] = ("x1", "x2")) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap a Keras model trained on :func:`add_features` inputs as a ``points -> probabilities`` function."""
    features = tuple(features)

    def predict(points: np.ndarray) -> np.ndarray:
        return np.asarray(model(add_features(points, features), training=False)).reshape(-1)

    return predict


def run_experiment(dataset: str = "circle", hidden_units: int | Sequence[int] = 3, activation: str = "relu",
                   l2: float = 0.0, label_noise: float = 0.0, noise: float = 0.0,
                   features: Sequence[str] = ("x1", "x2"), n_train: int = 200, n_test: int = 200,
                   steps: int = 1000, learning_rate: float = 0.03, seed: int = 0,
                   record_every: int = 25) -> dict:
    """One Playground run: generate train/test data, build a network, train it, and return everything.

    ``hidden_units=0`` (or an empty tuple) gives the single neuron of the Playground's "no hidden layer"
    network. The test set is drawn with another seed from the same distribution (same noise).

    Returns:
        dict with ``model``, ``history`` (see :func:`helpers.taught.feedforward.train_full_batch`), ``features``, ``x_train``,
        ``y_train``, ``x_test``, ``y_test``, ``train_accuracy``, ``test_accuracy`` and ``config``.
    """
    import keras  # Keras (and the taught module, which imports it) only when a run is made: the data and plot

    from helpers.taught.feedforward import single_neuron, small_classifier, train_full_batch  # helpers stay NumPy-only

    features = tuple(features)
    x_train, y_train = make_dataset(dataset, n_train, noise=noise, label_noise=label_noise, seed=seed)
    x_test, y_test = make_dataset(dataset, n_test, noise=noise, label_noise=label_noise, seed=seed + 1000)
    keras.utils.set_random_seed(seed)
    no_hidden = hidden_units in (0, None) or (not isinstance(hidden_units, (int, float)) and len(hidden_units) == 0)
    if no_hidden:
        model = single_neuron(len(features))
    else:
        model = small_classifier(len(features), hidden_units, activation=activation, l2=l2)
    f_train, f_test = add_features(x_train, features), add_features(x_test, features)
    history = train_full_batch(model, f_train, y_train, steps=steps, learning_rate=learning_rate,
                               validation_data=(f_test, y_test), record_every=record_every)
    accuracy = {name: float(keras.metrics.BinaryAccuracy(dtype="float64")(y, model(f, training=False)))  # p > 0.5
                for name, f, y in (("train", f_train, y_train), ("test", f_test, y_test))}
    return {
        "model": model, "history": history, "features": features,
        "x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test,
        "train_accuracy": accuracy["train"], "test_accuracy": accuracy["test"],
        "config": dict(dataset=dataset, hidden_units=hidden_units, activation=activation, l2=l2,
                       label_noise=label_noise, noise=noise, features=features, steps=steps),
    }


def plot_experiment(result: dict, title: str | None = None):
    """Playground-style figure of a :func:`run_experiment` result: decision boundary with the training
    points, and training / test loss curves. Returns the Figure."""
    fig, (ax_b, ax_l) = plt.subplots(1, 2, figsize=(7.0, 3.2), gridspec_kw={"width_ratios": [1, 1.25]})
    plot_decision_boundary(keras_predictor(result["model"], result["features"]), result["x_train"],
                           result["y_train"], ax=ax_b,
                           title=f"train acc {result['train_accuracy']:.2f} · test acc {result['test_accuracy']:.2f}")
    h = result["history"]
    ax_l.plot(h["step"], h["loss"], label="training loss")
    ax_l.plot(h["step"], h["val_loss"], label="test loss")
    ax_l.set_xlabel("step (full-batch epochs)")
    ax_l.set_ylabel("cross-entropy")
    ax_l.legend()
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def kernel_magnitudes(model) -> dict[str, np.ndarray]:
    """Absolute kernel weights per Dense layer, ``{layer name: |W| flattened}`` (biases left out)."""
    return {layer.name: np.abs(np.asarray(layer.kernel)).ravel()
            for layer in model.layers if hasattr(layer, "kernel")}
