"""The tutorials' figures as functions, in one consistent style. Every function returns its Figure.

In a notebook the figure shows itself at the end of the cell; elsewhere call ``fig.savefig(...)``.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

COURSE_STYLE = {
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
}
TRAIN_COLOR, VALIDATION_COLOR = "tab:blue", "tab:orange"
CORRECT_COLOR, WRONG_COLOR = "tab:green", "tab:red"


def use_course_style() -> None:
    """Apply the course's matplotlib style (small, light grid, no top/right spines); :func:`helpers.setup`
    calls it, importing this module does not."""
    plt.rcParams.update(COURSE_STYLE)


def _history_dict(history) -> dict:
    """Accept a Keras ``History`` or a plain ``{metric: [values per epoch]}`` dict."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping) or not logs:
        raise TypeError("Pass the History returned by model.fit (or its .history dict); got an empty or unknown object.")
    return dict(logs)


def plot_history(history, metrics: Sequence[str] | None = None, title: str | None = None):
    """Plot training and validation curves, one panel per metric (the tutorials' loss/accuracy figures).

    Args:
        history: the ``History`` returned by ``model.fit`` or its ``.history`` dict.
        metrics: e.g. ``("loss", "accuracy")``; default: every metric that has no ``val_`` prefix.
        title: figure title.
    """
    logs = _history_dict(history)
    metrics = list(metrics or [k for k in logs if not k.startswith("val_") and k != "learning_rate"])
    missing = [m for m in metrics if m not in logs]
    if missing:
        raise KeyError(f"Metric(s) {missing} not in the history; it has {sorted(logs)}.")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.2), squeeze=False)
    for ax, name in zip(axes[0], metrics):
        epochs = np.arange(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], color=TRAIN_COLOR, label=f"training {name}")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], color=VALIDATION_COLOR, label=f"validation {name}")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(name)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def compare_histories(histories: Mapping[str, object], metric: str = "val_accuracy", title: str | None = None):
    """Plot one metric for several runs on one axis (e.g. with and without dropout)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for label, history in histories.items():
        logs = _history_dict(history)
        if metric not in logs:
            raise KeyError(f"Run {label!r} has no {metric!r}; it has {sorted(logs)}.")
        ax.plot(np.arange(1, len(logs[metric]) + 1), logs[metric], label=label)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(metric)
    ax.legend()
    ax.set_title(title or metric)
    fig.tight_layout()
    return fig


def show_images(images, titles: Sequence[str] | None = None, ncols: int = 8, cmap: str | None = None,
                size: float = 1.5, title: str | None = None, interpolation: str | None = None):
    """Show a grid of images with optional titles.

    Args:
        images: array ``(n, h, w)`` (grayscale) or ``(n, h, w, 3)`` (RGB), uint8 0..255 or float 0..1,
            or a list of such images.
        titles: one string per image.
        ncols: images per row.
        cmap: colormap for grayscale images (default ``"gray"``).
        title: figure title.
        interpolation: passed to ``imshow``; ``"nearest"`` keeps tiny images (e.g. 3x3 filters) sharp.
    """
    images = [np.asarray(img) for img in images]
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"Got {len(images)} images but {len(titles)} titles.")
    n = len(images)
    if n == 0:
        raise ValueError("No images to show.")
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if title else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i]
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        ax.imshow(img, cmap=cmap or ("gray" if img.ndim == 2 else None), interpolation=interpolation)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_predictions(images, probabilities, class_names: Sequence[str], true_labels=None, ncols: int = 5,
                     size: float = 1.8, cmap: str | None = None):
    """Show images titled with the predicted class and its confidence.

    With ``true_labels`` the title also gives the true class, green when right and red when wrong.

    Args:
        images: ``(n, h, w[, c])``.
        probabilities: ``(n, num_classes)`` model outputs (softmax probabilities).
        class_names: ``num_classes`` names.
        true_labels: ``(n,)`` integer labels, optional.
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or probabilities.shape[1] != len(class_names):
        raise ValueError(f"probabilities must be (n, {len(class_names)}); got {probabilities.shape}.")
    predicted = probabilities.argmax(axis=1)
    titles = []
    for i, p in enumerate(predicted):
        text = f"{class_names[p]} ({probabilities[i, p]:.0%})"
        if true_labels is not None:
            text += f"\ntrue: {class_names[int(np.ravel(true_labels)[i])]}"
        titles.append(text)
    fig = show_images(images, titles, ncols=ncols, size=size, cmap=cmap)
    if true_labels is not None:
        truth = np.ravel(true_labels).astype(int)
        for ax, p, t in zip(fig.axes, predicted, truth):
            ax.title.set_color(CORRECT_COLOR if p == t else WRONG_COLOR)
    return fig


def plot_probabilities(probabilities, class_names: Sequence[str], title: str | None = None):
    """Bar chart of one prediction's class probabilities (e.g. the ten digits for one test image)."""
    probabilities = np.ravel(np.asarray(probabilities))
    if len(probabilities) != len(class_names):
        raise ValueError(f"Got {len(probabilities)} probabilities for {len(class_names)} classes.")
    fig, ax = plt.subplots(figsize=(max(4.0, 0.45 * len(class_names)), 2.8))
    bars = ax.bar(range(len(class_names)), probabilities, color=TRAIN_COLOR)
    bars[int(probabilities.argmax())].set_color(VALIDATION_COLOR)
    ax.set_xticks(range(len(class_names)), class_names, rotation=45 if max(map(len, class_names)) > 3 else 0)
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def flow_diagram(steps: Sequence[tuple[str, str]], inputs: Mapping[int, str] | None = None,
                 title: str | None = None):
    """Draw a left-to-right chain of boxes joined by arrows (e.g. Keras's workflow).

    Args:
        steps: ``(heading, detail)`` per box, in order; the detail (code, a short note) is drawn smaller.
        inputs: optional ``{step index: label}``: something fed into that box from below
            (e.g. ``{2: "training data"}``), drawn as a grey box with an arrow up.
        title: figure title.
    """
    steps = list(steps)
    if not steps:
        raise ValueError("flow_diagram needs at least one (heading, detail) step.")
    inputs = dict(inputs or {})
    bad = [i for i in inputs if not 0 <= i < len(steps)]
    if bad:
        raise ValueError(f"inputs names step(s) {bad}, but there are only steps 0..{len(steps) - 1}.")
    width, gap, height = 2.3, 0.55, 1.0
    fig, ax = plt.subplots(figsize=(0.95 * len(steps) * (width + gap), 2.6 if inputs else 1.7))
    for i, (heading, detail) in enumerate(steps):
        x = i * (width + gap)
        ax.add_patch(plt.Rectangle((x, 0), width, height, facecolor="#dbe8f5", edgecolor=TRAIN_COLOR, lw=1.5))
        ax.text(x + width / 2, 0.66 * height, heading, ha="center", va="center", fontsize=10, fontweight="bold")
        ax.text(x + width / 2, 0.3 * height, detail, ha="center", va="center", fontsize=8, family="monospace")
        if i + 1 < len(steps):
            ax.annotate("", xy=(x + width + gap, height / 2), xytext=(x + width, height / 2),
                        arrowprops=dict(arrowstyle="-|>", color="black", lw=1.5))
        if i in inputs:
            ax.add_patch(plt.Rectangle((x + 0.15 * width, -1.25), 0.7 * width, 0.55, facecolor="#eeeeee",
                                       edgecolor="gray"))
            ax.text(x + width / 2, -0.975, inputs[i], ha="center", va="center", fontsize=8.5)
            ax.annotate("", xy=(x + width / 2, 0), xytext=(x + width / 2, -0.7),
                        arrowprops=dict(arrowstyle="-|>", color="gray", lw=1.2))
    ax.set_xlim(-0.1, len(steps) * (width + gap) - gap + 0.1)
    ax.set_ylim(-1.35 if inputs else -0.1, height + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
