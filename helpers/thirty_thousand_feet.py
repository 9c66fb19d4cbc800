"""The ideas of notebook 01 (a 30,000-feet view of neural networks) as small NumPy functions.

- the black box's output: :func:`helpers.activations.softmax` (the course's one softmax) turns any three scores
  into probabilities that sum to 1;
- an image as numbers: :func:`resize_short_side`, :func:`center_crop`, :func:`gray_to_rgb` and
  :func:`fixed_size_steps` bring any photo to ``size x size x 3`` numbers (256x256x3 = 196,608);
- a balanced Cat / Dog / Other sample of real photos for the untrained box: :func:`cat_dog_other_files`;
- the cost: :func:`sum_of_squared_errors`;
- training a one-knob model: :func:`one_knob_data`, :func:`one_knob_cost`, :func:`one_knob_gradient` and
  :func:`brute_force_search` (gradient descent itself is written on the page and exported to
  :mod:`helpers.taught.descent`);
- the figures: :func:`plot_brute_force` and :func:`plot_descent_runs`.

Everything here is plain NumPy / Pillow / matplotlib (no TensorFlow), so it imports fast and is easy to test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np

from helpers import plots  # noqa: F401  (applies the course's matplotlib style)
from helpers import data


# ------------------------------------------------------------------------------------- the cost
def sum_of_squared_errors(expected, output) -> float:
    """Sum of squared errors between the expected output and the network's output.

    Example: ``sum_of_squared_errors((1, 0, 0), (0.37, 0.5, 0.13))`` -> ``0.6638`` (the tutorial's number).
    Works for one image ``(k,)`` or for a whole set ``(n, k)`` (the total cost over all images).
    """
    expected = np.asarray(expected, dtype=np.float64)
    output = np.asarray(output, dtype=np.float64)
    if expected.shape != output.shape:
        raise ValueError(f"expected and output must have the same shape; got {expected.shape} and {output.shape}.")
    return float(np.sum((expected - output) ** 2))


# ------------------------------------------------------------------------------ image as numbers
def _as_image(image):
    from PIL import Image

    if isinstance(image, Image.Image):
        return image
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError(f"Expected a PIL image or a uint8 array (h, w) or (h, w, 3); got {array.dtype} {array.shape}.")
    return Image.fromarray(array)


def resize_short_side(image, size: int = 256) -> np.ndarray:
    """Resize so that the shorter side is ``size`` pixels, keeping the aspect ratio.

    Args:
        image: a PIL image or a uint8 array ``(h, w)`` or ``(h, w, 3)``.
    Returns:
        uint8 array; e.g. a 472x500 (h x w) photo becomes 256x271.
    """
    img = _as_image(image)
    w, h = img.size
    scale = size / min(w, h)
    new_size = (max(size, round(w * scale)), max(size, round(h * scale)))
    from PIL import Image

    return np.asarray(img.resize(new_size, Image.Resampling.BILINEAR))


def center_crop(image, size: int = 256) -> np.ndarray:
    """Cut the central ``size x size`` pixels out of an array ``(h, w[, c])`` with ``h, w >= size``."""
    array = np.asarray(image)
    h, w = array.shape[:2]
    if h < size or w < size:
        raise ValueError(f"Cannot crop {size}x{size} from an image of {h}x{w}: resize it first (resize_short_side).")
    top, left = (h - size) // 2, (w - size) // 2
    return array[top:top + size, left:left + size]


def to_gray(image) -> np.ndarray:
    """Convert an RGB image to one grayscale channel: uint8 ``(h, w)`` (Pillow's luma formula)."""
    return np.asarray(_as_image(image).convert("L"))


def gray_to_rgb(gray) -> np.ndarray:
    """Copy a grayscale image ``(h, w)`` (or ``(h, w, 1)``) into three identical channels ``(h, w, 3)``."""
    gray = np.asarray(gray)
    if gray.ndim == 3 and gray.shape[-1] == 1:
        gray = gray[..., 0]
    if gray.ndim != 2:
        raise ValueError(f"Expected a grayscale image (h, w); got shape {gray.shape}.")
    return np.stack([gray, gray, gray], axis=-1)


def fixed_size_steps(path: str | Path, size: int = 256, grayscale: bool = False) -> dict[str, np.ndarray]:
    """Bring any photo to ``size x size x 3`` numbers, keeping every intermediate step.

    Steps (the tutorial's recipe): resize so the short side is ``size``; crop ``size x size`` from the
    centre; if the image is grayscale (or ``grayscale=True`` turns it gray), copy it into three channels.

    Returns:
        ``{"original": ..., "resized": ..., "cropped": ..., "final": ...}`` uint8 arrays (plus ``"gray"``
        ``(size, size)`` when a grayscale step happened); ``final`` is always ``(size, size, 3)``.
    """
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No image at {path}. Pass the path of a .jpg/.png file.")
    with Image.open(path) as img:
        img.load()
        original = img.convert("L") if img.mode in ("L", "LA", "1", "I", "F") else img.convert("RGB")
    steps = {"original": np.asarray(original)}
    steps["resized"] = resize_short_side(original, size)
    steps["cropped"] = center_crop(steps["resized"], size)
    cropped = steps["cropped"]
    if grayscale and cropped.ndim == 3:
        cropped = to_gray(cropped)
    if cropped.ndim == 2:
        steps["gray"] = cropped
        steps["final"] = gray_to_rgb(cropped)
    else:
        steps["final"] = cropped
    return steps


#: The black box's three classes, and where sample images of each come from (image folders of the mirror).
CAT_DOG_OTHER = ("Cat", "Dog", "Other")


def cat_dog_other_files(n_per_class: int, seed: int = 0, cats_dogs_dir: str | Path | None = None,
                        other_dirs: list[str | Path] | None = None) -> tuple[list[Path], np.ndarray]:
    """Pick ``n_per_class`` image files of each class Cat, Dog, Other (a balanced test set for notebook 01).

    Cats and dogs come from ``<cats_dogs_dir>/train/{cats,dogs}`` (default: :func:`helpers.data.image_dir`
    ``("cats_vs_dogs")``); "Other" from every image under ``other_dirs`` (default: the mirror's ants and bees
    of ``hymenoptera_data/train`` and the fruit photos of ``photos``), so it holds neither cats nor dogs.

    Returns:
        ``(files, labels)``: ``3 * n_per_class`` paths and an int array of labels 0 (Cat), 1 (Dog), 2 (Other),
        in class order; the files of each class are a random sample (``seed``), sorted by name.
    Raises:
        ValueError: ``n_per_class`` < 1, or a class has fewer images than that (the message says how many).
    """

    if int(n_per_class) < 1:
        raise ValueError(f"n_per_class must be a positive integer; got {n_per_class!r}.")
    n_per_class = int(n_per_class)
    root = Path(cats_dogs_dir) if cats_dogs_dir is not None else data.image_dir("cats_vs_dogs")
    if other_dirs is None:
        other_dirs = [data.image_dir("hymenoptera_data") / "train", data.image_dir("photos")]
    suffixes = {".jpg", ".jpeg", ".png"}

    def images_in(folder):
        return sorted(f for f in Path(folder).rglob("*") if f.suffix.lower() in suffixes
                      and not f.stem.lower().startswith(("cat", "dog")))

    pools = [sorted(f for f in (root / "train" / "cats").iterdir() if f.suffix.lower() in suffixes),
             sorted(f for f in (root / "train" / "dogs").iterdir() if f.suffix.lower() in suffixes),
             [f for folder in other_dirs for f in images_in(folder)]]
    rng = np.random.default_rng(seed)
    files: list[Path] = []
    for name, pool in zip(CAT_DOG_OTHER, pools):
        if len(pool) < n_per_class:
            raise ValueError(f"Only {len(pool)} '{name}' images available, fewer than n_per_class={n_per_class}; "
                             f"pass a smaller n_per_class.")
        picked = rng.choice(len(pool), size=n_per_class, replace=False)
        files += sorted(pool[i] for i in picked)
    labels = np.repeat(np.arange(len(CAT_DOG_OTHER)), n_per_class)
    return files, labels


# ----------------------------------------------------------------------------- a one-knob model
def one_knob_data(n: int = 20, true_knob: float = 3.0, noise: float = 0.3, seed: int = 0):
    """A tiny training set for a model with one knob ``w`` that predicts ``y = w * x``.

    Returns:
        ``x, y``: float64 ``(n,)``; ``x`` uniform in [0, 1], ``y = true_knob * x + noise * N(0, 1)``.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1; got {n}.")
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, n)
    y = true_knob * x + noise * rng.standard_normal(n)
    return x, y


def one_knob_cost(w, x, y) -> np.ndarray:
    """Sum of squared errors of the model ``y = w * x`` for one knob setting or an array of them.

    A bowl: ``cost(w) = a * w**2 - 2 b * w + c`` with ``a = sum(x**2) > 0``.
    """
    w = np.asarray(w, dtype=np.float64)
    errors = np.multiply.outer(w, x) - y  # (..., n)
    return np.sum(errors ** 2, axis=-1)


def one_knob_gradient(w, x, y) -> np.ndarray:
    """Slope of :func:`one_knob_cost` at ``w``: ``2 * sum((w x - y) x)``."""
    w = np.asarray(w, dtype=np.float64)
    return 2.0 * np.sum((np.multiply.outer(w, x) - y) * x, axis=-1)


def best_knob(x, y) -> float:
    """The exact bottom of the bowl: ``sum(x y) / sum(x**2)`` (what training should find)."""
    return float(np.dot(x, y) / np.dot(x, x))


def brute_force_search(cost: Callable[[np.ndarray], np.ndarray], low: float, high: float, n: int = 1000):
    """Try ``n`` knob settings evenly spaced in ``[low, high]``; keep the one with the lowest cost.

    Returns:
        ``best_w, settings, costs`` (``settings`` and ``costs`` are float64 ``(n,)``).
    """
    if n < 2 or not high > low:
        raise ValueError(f"Need n >= 2 settings and high > low; got n={n}, low={low}, high={high}.")
    settings = np.linspace(low, high, n)
    costs = np.asarray(cost(settings), dtype=np.float64)
    return float(settings[np.argmin(costs)]), settings, costs


def critical_learning_rate(x) -> float:
    """Largest learning rate for which gradient descent on :func:`one_knob_cost` still converges.

    The bowl's curvature is ``2 * sum(x**2)``; a step of ``learning_rate * curvature`` > 1 jumps past the
    bottom (overshoot), > 2 jumps further away each time (divergence). Returns ``2 / curvature``.
    """
    x = np.asarray(x, dtype=np.float64)
    return float(2.0 / (2.0 * np.dot(x, x)))


# -------------------------------------------------------------------------------------- figures
def plot_brute_force(settings, costs, best_w: float, title: str = "Brute force: try every knob setting"):
    """Cost against knob setting, with the best setting marked. Returns the Figure."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(settings, costs, color="tab:blue")
    ax.axvline(best_w, color="tab:orange", linestyle="--", label=f"best setting w = {best_w:.3f}")
    ax.set_xlabel("knob setting w")
    ax.set_ylabel("cost (sum of squared errors)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def plain_log_labels(ax) -> None:
    """Give a log-scale y-axis that spans less than a decade a few plainly labelled ticks (``1.099``, ``1.1``,
    ``1.101``) instead of Matplotlib's crowded ``1.099×10⁰``, ``1.1×10⁰``; wider axes keep their powers of ten."""
    import matplotlib.ticker as mticker

    low, high = ax.get_ylim()
    if low > 0 and high / low < 10:
        ax.yaxis.set_major_locator(mticker.MaxNLocator(nbins=4))
        ax.yaxis.set_minor_locator(mticker.NullLocator())
        ax.yaxis.set_major_formatter(mticker.ScalarFormatter(useOffset=False))


def plot_descent_runs(cost: Callable[[np.ndarray], np.ndarray], runs: Mapping[str, tuple[float, np.ndarray]],
                      w_range: tuple[float, float] | None = None, minimum: float | None = None):
    """Gradient descent on the bowl, one panel per run, plus the cost after each step for all runs.

    Args:
        cost: vectorised cost function of the knob.
        runs: ``{label: (learning_rate, path)}`` with ``path`` from notebook 01's ``gradient_descent``
            (:func:`helpers.taught.descent.gradient_descent`).
        w_range: knob range to draw the bowl over (default: around all paths).
        minimum: the bottom of the bowl, marked in every panel.
    Returns:
        the Figure.
    """
    if not runs:
        raise ValueError("Pass at least one run: {label: (learning_rate, path)}.")
    finite = np.concatenate([p[np.isfinite(p)] for _, p in runs.values()])
    if w_range is None:
        lo, hi = float(finite.min()), float(finite.max())
        pad = 0.15 * (hi - lo or 1.0)
        w_range = (lo - pad, hi + pad)
    ws = np.linspace(*w_range, 300)
    n = len(runs)
    fig, axes = plt.subplots(1, n + 1, figsize=(3.3 * (n + 1), 3.1), squeeze=False)
    axes = axes[0]
    for ax, (label, (learning_rate, path)) in zip(axes, runs.items()):
        path = path[np.isfinite(path)]
        ax.plot(ws, cost(ws), color="0.6")
        ax.plot(path, cost(path), "-o", color="tab:red", markersize=3, linewidth=0.8)
        ax.plot(path[:1], cost(path[:1]), "o", color="black", markersize=5, label="start")
        if minimum is not None:
            ax.axvline(minimum, color="tab:green", linestyle=":", label="bottom")
        ax.set_xlim(*w_range)
        ax.set_title(f"{label}\nlearning rate {learning_rate:g}")
        ax.set_xlabel("knob setting w")
        ax.legend(loc="upper center")
    axes[0].set_ylabel("cost")
    last = axes[-1]
    for label, (learning_rate, path) in runs.items():
        path = path[np.isfinite(path)]
        last.semilogy(np.arange(len(path)), cost(path), "-o", markersize=2, label=f"{label} ({learning_rate:g})")
    plain_log_labels(last)
    last.set_xlabel("step")
    last.set_ylabel("cost (log scale)")
    last.set_title("cost after each step")
    last.legend()
    fig.tight_layout()
    return fig
