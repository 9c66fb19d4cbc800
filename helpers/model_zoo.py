"""A tour of ImageNet classifiers for notebook 09: sizes, predictions on photos, first-layer filters.

- :data:`ARCHITECTURES` and :func:`architecture_table`  the tutorial's four ``keras.applications``
  models (and VGG19) built with ``weights=None``, so their sizes are known without a download
- :func:`imagenet_labels`, :func:`is_domestic_cat`, :func:`is_dog_breed`, :func:`is_cat_or_dog`
  groups of the 1,000 ImageNet classes, for the notebook's assertions
- :func:`predictions_table`  models x photos: top-1 label and confidence
- :func:`plot_filters`       the first convolution's filters as small RGB images (the IBM talk's
  AlexNet figure); feature maps come from :func:`helpers.feature_maps.plot_feature_maps`
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from helpers.imagenet import class_index
from helpers import plots


@dataclass(frozen=True)
class Architecture:
    """A ``keras.applications`` model: constructor name, input size, year and family."""

    builder: str
    input_size: int
    year: int
    idea: str


#: The tutorial's four models (VGG19 from the book chapter), built with ``weights=None``.
ARCHITECTURES: dict[str, Architecture] = {
    "vgg16": Architecture("VGG16", 224, 2014, "16 weight layers of 3x3 convolutions + 3 huge dense layers"),
    "vgg19": Architecture("VGG19", 224, 2014, "VGG16 with 3 more 3x3 convolutions"),
    "inception_v3": Architecture("InceptionV3", 299, 2015, "Inception modules: 1x1, 3x3, 5x5 and pooling side by side"),
    "resnet50": Architecture("ResNet50", 224, 2015, "residual (skip) connections around bottleneck blocks"),
    "mobilenet": Architecture("MobileNet", 224, 2017, "depthwise-separable convolutions, for phones"),
}


def build_architecture(name: str, weights=None):
    """Build ``keras.applications.<builder>(weights=weights)`` (with its 1,000-class top).

    ``weights=None`` downloads nothing: random weights, the exact architecture and parameter count.
    """
    import keras

    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {name!r}; choose from {', '.join(ARCHITECTURES)}.")
    return getattr(keras.applications, ARCHITECTURES[name].builder)(weights=weights)


def architecture_table(names: Sequence[str]) -> list[dict]:
    """Build each architecture with ``weights=None`` and count it.

    Returns:
        one dict per model: ``name``, ``parameters`` (int), ``layers`` (number of Keras layers),
        ``input`` (e.g. ``"224x224x3"``), ``year``, ``idea``. Each model is freed after counting.
    """
    import keras

    rows = []
    for name in names:
        model = build_architecture(name)
        arch = ARCHITECTURES[name]
        rows.append({"name": name, "parameters": int(model.count_params()), "layers": len(model.layers),
                     "input": f"{arch.input_size}x{arch.input_size}x3", "year": arch.year, "idea": arch.idea})
        del model
        keras.backend.clear_session()
    return rows


# ---------------------------------------------------------------------------------- ImageNet labels
#: ImageNet-1k class indices 281..285: tabby, tiger_cat, Persian_cat, Siamese_cat, Egyptian_cat.
DOMESTIC_CAT_INDICES = range(281, 286)
#: ImageNet-1k class indices 151..268: the 118 dog breeds (Chihuahua ... Mexican_hairless).
DOG_BREED_INDICES = range(151, 269)


def imagenet_labels() -> list[tuple[str, str]]:
    """The 1,000 ImageNet classes in index order, as ``(wordnet_id, label)``.

    From Keras's ``imagenet_class_index.json``, read once by :func:`helpers.imagenet.class_index`
    (which finds it offline in the mirror).
    """

    index = class_index()
    return [tuple(index[str(i)]) for i in range(1000)]


def _wnids(indices) -> set[str]:
    labels = imagenet_labels()
    return {labels[i][0] for i in indices}


def is_domestic_cat(wnid: str) -> bool:
    """True for the five house-cat classes (281-285), e.g. ``n02123045`` tabby."""
    return wnid in _wnids(DOMESTIC_CAT_INDICES)


def is_dog_breed(wnid: str) -> bool:
    """True for the 118 dog breeds (151-268); wolves, dingo, foxes (269-280) are not breeds."""
    return wnid in _wnids(DOG_BREED_INDICES)


# ---------------------------------------------------------------------------------- predictions
def predictions_table(results: dict[str, dict[str, list]]) -> str:
    """Format ``{model: {photo: [(wnid, label, score), ...]}}`` as a text table of top-1 predictions.

    One row per photo, one column per model, each cell ``label (confidence)``.
    """
    models = list(results)
    if not models:
        raise ValueError("No results to tabulate.")
    photos = list(results[models[0]])
    cells = {m: {p: f"{results[m][p][0][1]} ({results[m][p][0][2]:.2f})" for p in photos} for m in models}
    width0 = max(len("photo"), *(len(p) for p in photos))
    widths = {m: max(len(m), *(len(cells[m][p]) for p in photos)) for m in models}
    lines = ["  ".join([f"{'photo':<{width0}}"] + [f"{m:<{widths[m]}}" for m in models])]
    lines.append("  ".join(["-" * width0] + ["-" * widths[m] for m in models]))
    for p in photos:
        lines.append("  ".join([f"{p:<{width0}}"] + [f"{cells[m][p]:<{widths[m]}}" for m in models]))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- filters
def first_conv_layer(model):
    """The first ``Conv2D`` layer of a model (searching nested models too)."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D) and not isinstance(layer, keras.layers.DepthwiseConv2D):
            return layer
        if isinstance(layer, keras.Model):
            found = first_conv_layer(layer)
            if found is not None:
                return found
    return None


def filters_as_images(kernel) -> np.ndarray:
    """Turn a conv kernel ``(kh, kw, 3, filters)`` into ``filters`` RGB images ``(filters, kh, kw, 3)`` in 0..1.

    Each filter is min-max scaled on its own, so its pattern (an edge, a colour blob) is visible.
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 4 or kernel.shape[2] != 3:
        raise ValueError(f"Expected a first-layer kernel (height, width, 3, filters), got {kernel.shape}.")
    images = np.moveaxis(kernel, -1, 0)
    low = images.min(axis=(1, 2, 3), keepdims=True)
    high = images.max(axis=(1, 2, 3), keepdims=True)
    return (images - low) / np.maximum(high - low, 1e-8)


def plot_filters(model, max_filters: int = 32, ncols: int = 16, size: float = 0.6):
    """Show the first convolution's filters as RGB patches (like the AlexNet figure in the IBM talk).

    Returns:
        matplotlib Figure.
    """

    layer = first_conv_layer(model)
    if layer is None:
        raise ValueError(f"Model {model.name!r} has no Conv2D layer.")
    images = filters_as_images(layer.get_weights()[0])[:max_filters]
    kh, kw = layer.kernel.shape[:2]
    return plots.show_images(images, ncols=ncols, size=size, interpolation="nearest",
                             title=f"{model.name} / {layer.name}: {len(images)} filters of {kh}x{kw}x3")


def pick_feature_map_layers(model, count: int = 3) -> list[str]:
    """Choose ``count`` layers at increasing depth whose outputs are feature maps, for plotting.

    Candidates are activation layers (``ReLU`` / ``Activation``, as in EfficientNet and ResNet) or,
    when a model has none (VGG puts ReLU inside ``Conv2D``), its ``Conv2D`` layers; the first one and
    then evenly spaced ones down to the middle of the network are returned (early: edges and colours; later: coarser, more abstract).
    """
    import keras

    def spatial(layer):
        try:
            return len(layer.output.shape) == 4
        except (AttributeError, ValueError):
            return False

    acts = [l.name for l in model.layers if isinstance(l, (keras.layers.ReLU, keras.layers.Activation)) and spatial(l)]
    candidates = acts or [l.name for l in model.layers if isinstance(l, keras.layers.Conv2D) and spatial(l)]
    if not candidates:
        raise ValueError(f"Model {model.name!r} has no layer with a feature-map output.")
    count = max(1, min(count, len(candidates)))
    positions = [round(i * (len(candidates) - 1) / (2 * max(count - 1, 1))) for i in range(count)]
    return [candidates[p] for p in positions]
