"""Looking inside a convolutional network: feature maps and a model diagram.

Works with any built Keras model (Sequential or functional, trained or pretrained):

- :func:`feature_maps`        the activations of chosen layers for one image, as NumPy arrays
- :func:`plot_feature_maps`   those activations as a grid of small images, one block per layer
- :func:`receptive_fields`    how many input pixels one unit of each conv / pooling layer sees
- :func:`shift_response`      feature maps of shifted inputs: equivariance (the maps move along) and
                              invariance (the maps stay the same), layer by layer
- :func:`model_diagram`       ``keras.utils.plot_model`` when pydot + graphviz are installed, else a
                              text diagram (:func:`text_diagram`) that shows the same information
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from helpers.transfer import layer_rows
from helpers.convolution import shift_images
from helpers import report


def _check_layer_names(model, layer_names: Sequence[str]) -> list[str]:
    if isinstance(layer_names, str):
        layer_names = [layer_names]
    names = [layer.name for layer in model.layers]
    unknown = [n for n in layer_names if n not in names]
    if unknown:
        spatial = [row.name for row in layer_rows(model) if len(row.output_shape) == 4]
        raise ValueError(f"Layer(s) {unknown} not in model {model.name!r}. Layers with feature maps: {spatial}.")
    if not layer_names:
        raise ValueError("Give at least one layer name.")
    return list(layer_names)


def feature_maps(model, image, layer_names: Sequence[str]) -> dict[str, np.ndarray]:
    """Compute the outputs of ``layer_names`` for one image.

    Args:
        model: a built Keras model (its input must be defined, e.g. built with ``keras.Input``).
        image: one image shaped like the model's input without the batch axis, e.g. ``(28, 28, 1)``,
            or with a batch axis of 1; already preprocessed the way the model expects.
        layer_names: names of layers with 4-D outputs ``(1, h, w, channels)``.

    Returns:
        ``{layer_name: float32 array (h, w, channels)}`` in the order given.
    """
    import keras

    layer_names = _check_layer_names(model, layer_names)
    image = np.asarray(image, dtype=np.float32)
    expected = tuple(model.inputs[0].shape[1:])
    if image.shape == expected:
        image = image[None]
    if image.shape[1:] != expected or image.shape[0] != 1:
        raise ValueError(f"image has shape {image.shape}; model {model.name!r} expects one image shaped {expected} "
                         f"(or (1, *{expected})). Reshape or preprocess it first.")
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs=inputs, outputs=[model.get_layer(n).output for n in layer_names])
    outputs = probe(image, training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    result = {}
    for name, out in zip(layer_names, outputs):
        out = np.asarray(out)
        if out.ndim != 4:
            raise ValueError(f"Layer {name!r} outputs shape {out.shape}, not feature maps (batch, h, w, channels).")
        result[name] = out[0]
    return result


def plot_feature_maps(model, image, layer_names: Sequence[str], max_maps: int = 32, ncols: int = 8,
                      size: float = 0.9, cmap: str = "viridis"):
    """Show the feature maps (activation maps) of some layers for one image, as in the book chapter.

    Each layer gets a block of small images, one per channel (the first ``max_maps``), titled with the
    layer's name and output shape. Bright = strong activation; each map is scaled on its own.

    Args:
        model: any built Keras model (e.g. the notebook's MNIST CNN, or a pretrained network).
        image: one preprocessed input image, see :func:`feature_maps`.
        layer_names: layers to show, e.g. ``["conv2d_1", "conv2d_2"]``.
        max_maps: channels shown per layer.
        ncols: maps per row.
        size: inches per map.
        cmap: matplotlib colormap.

    Returns:
        matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    maps = feature_maps(model, image, layer_names)
    rows = {name: int(np.ceil(min(max_maps, m.shape[-1]) / ncols)) for name, m in maps.items()}
    fig = plt.figure(figsize=(size * ncols, sum(size * r + 0.35 for r in rows.values())))
    subfigs = fig.subfigures(len(maps), 1, height_ratios=[size * r + 0.35 for r in rows.values()], squeeze=False)
    for subfig, (name, m) in zip(subfigs[:, 0], maps.items()):
        shown = min(max_maps, m.shape[-1])
        axes = subfig.subplots(rows[name], ncols, squeeze=False)
        for c, ax in enumerate(axes.flat):
            ax.axis("off")
            if c < shown:
                ax.imshow(m[..., c], cmap=cmap)
        subfig.suptitle(f"{name}: {m.shape[0]}x{m.shape[1]}, first {shown} of {m.shape[-1]} maps", fontsize=10)
        subfig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=1 - 0.3 / (size * rows[name] + 0.35),
                               wspace=0.06, hspace=0.06)
    return fig


# -------------------------------------------------------------------------------- hierarchy
def _square(value) -> int:
    value = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if value[0] != value[1]:
        raise ValueError(f"receptive_fields handles square kernels, strides and pools only; got {value}.")
    return int(value[0])


def receptive_fields(model) -> dict[str, tuple[int, int]]:
    """Receptive field and total stride of every Conv2D / pooling layer of a sequential stack.

    A unit of a layer sees a ``size x size`` patch of the input image; ``stride`` is how many input
    pixels one step on its feature map corresponds to. Per layer with kernel ``k`` and stride ``s``:
    ``size += (k - 1) * stride`` and then ``stride *= s`` (dilation 1, square windows).

    Returns:
        ``{layer name: (receptive field in input pixels, total stride)}`` in layer order.
    """
    import keras

    size, stride, result = 1, 1, {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernel, step = _square(layer.kernel_size), _square(layer.strides)
        elif isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
            kernel, step = _square(layer.pool_size), _square(layer.strides)
        else:
            continue
        size += (kernel - 1) * stride
        stride *= step
        result[layer.name] = (size, stride)
    if not result:
        raise ValueError(f"model {model.name!r} has no Conv2D or pooling layer.")
    return result


def _probe(model, layer_names):
    import keras

    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs=inputs, outputs=[model.get_layer(n).output for n in layer_names])


def _batch_maps(probe, images, batch_size: int = 500) -> list[np.ndarray]:
    """Outputs of ``probe`` for a batch of images, called directly (no ``predict``: nothing to retrace)."""
    images = np.asarray(images, dtype=np.float32)
    chunks = []
    for start in range(0, len(images), batch_size):
        outputs = probe(images[start:start + batch_size], training=False)
        chunks.append([np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])])
    return [np.concatenate(parts) for parts in zip(*chunks)]


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over images of the Pearson correlation of two stacks of maps ``(n, ...)``."""
    a = a.reshape(len(a), -1) - a.reshape(len(a), -1).mean(1, keepdims=True)
    b = b.reshape(len(b), -1) - b.reshape(len(b), -1).mean(1, keepdims=True)
    denominator = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    return float(np.mean((a * b).sum(1) / np.maximum(denominator, 1e-12)))


def shift_response(model, images, layer_names: Sequence[str], shift: int) -> list[dict]:
    """How the feature maps of ``layer_names`` react when the input moves ``shift`` pixels right and down.

    Two measurements per layer (averaged over the images):

    - ``same_place_correlation``: correlation between the maps of the original and of the shifted
      images *at the same positions*. 1.0 would mean the layer is **invariant** to the shift.
    - ``moved_max_difference`` / ``moved_correlation``: the maps of the shifted images moved back by
      ``shift / stride`` positions against the original maps, on the part both cover. A difference of
      ~0 (correlation 1.0) means the layer is **equivariant**: its maps move with the input. Only defined
      when ``shift`` is a multiple of the layer's total stride (else ``nan``).

    Args:
        model: a built Keras model whose input is the image batch.
        images: ``(n, height, width, channels)`` images whose content is away from the borders (so that
            the shift loses nothing), e.g. MNIST digits.
        layer_names: layers with 4-D outputs (convolution, pooling).
        shift: pixels, > 0.

    Returns:
        one dict per layer: ``layer``, ``stride``, ``same_place_correlation``, ``moved_max_difference``,
        ``moved_correlation``, ``largest_value``.
    """

    layer_names = _check_layer_names(model, layer_names)
    if isinstance(shift, bool) or int(shift) != shift or shift < 1:
        raise ValueError(f"shift must be a whole number of pixels >= 1; got {shift!r}.")
    strides = receptive_fields(model)
    unknown = [n for n in layer_names if n not in strides]
    if unknown:
        raise ValueError(f"shift_response needs Conv2D or pooling layers; {unknown} are not (choose from {list(strides)}).")
    probe = _probe(model, layer_names)
    rows = []
    for name, before, after in zip(layer_names, _batch_maps(probe, images),
                                   _batch_maps(probe, shift_images(images, shift, shift))):
        stride = strides[name][1]
        row = {"layer": name, "stride": stride, "same_place_correlation": _correlation(before, after),
               "moved_max_difference": float("nan"), "moved_correlation": float("nan"),
               "largest_value": float(np.abs(before).max())}
        if shift % stride == 0:
            k = shift // stride
            row["moved_max_difference"] = float(np.abs(after[:, k:, k:] - before[:, :before.shape[1] - k,
                                                                                   :before.shape[2] - k]).max())
            row["moved_correlation"] = _correlation(after[:, k:, k:], before[:, :before.shape[1] - k, :before.shape[2] - k])
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------------ diagrams
def graphviz_available() -> bool:
    """True when ``keras.utils.plot_model`` can draw (the ``pydot`` package and graphviz's ``dot`` program)."""
    try:
        import pydot
    except ImportError:
        return False
    try:
        pydot.Dot.create(pydot.Dot())
    except Exception:  # noqa: BLE001 - pydot raises several kinds of errors when `dot` is missing
        return False
    return True


def _describe(layer) -> str:
    """One short line of a layer's settings, e.g. ``3x3, 32 filters, relu``."""
    cfg = layer.get_config()
    kind = type(layer).__name__
    parts = []
    if "filters" in cfg:
        parts.append(f"{'x'.join(map(str, cfg['kernel_size']))}, {cfg['filters']} filters")
        if tuple(cfg.get("strides", (1, 1))) != (1, 1):
            parts.append(f"stride {cfg['strides'][0]}")
        parts.append(f"padding {cfg.get('padding')}")
    elif "units" in cfg:
        parts.append(f"{cfg['units']} units")
    elif "pool_size" in cfg:
        parts.append(f"{'x'.join(map(str, cfg['pool_size']))} window")
    elif kind == "Dropout":
        parts.append(f"rate {cfg['rate']}")
    elif kind == "RandomFlip":
        parts.append(str(cfg.get("mode")))
    elif kind == "RandomTranslation":
        parts.append(f"height {cfg.get('height_factor')}, width {cfg.get('width_factor')}")
    activation = cfg.get("activation")
    if activation and activation != "linear":
        parts.append(str(activation))
    return ", ".join(parts)


def text_diagram(model, width: int = 58) -> str:
    """Draw the model as stacked boxes joined by arrows (plain text, no graphviz needed).

    Each box shows one :func:`helpers.transfer.layer_rows` row: the layer's name and type, its settings, its
    output shape and its parameter count. Nested models (e.g. an augmentation block) appear as one box.
    Branching (non-sequential) models are listed in layer order.
    """
    inner = width - 4
    top, bottom_join, bottom = "┌" + "─" * (width - 2) + "┐", None, "└" + "─" * (width - 2) + "┘"
    mid = (width - 2) // 2
    bottom_join = "└" + "─" * mid + "┬" + "─" * (width - 3 - mid) + "┘"
    arrow = " " * (mid + 1) + "▼"

    def row(text: str) -> str:
        if len(text) > inner:
            text = text[: inner - 1] + "…"
        return "│ " + text.ljust(inner) + " │"

    boxes = []
    input_shape = tuple(model.inputs[0].shape) if getattr(model, "inputs", None) else None
    if input_shape is not None:
        boxes.append([row(f"input  {_shape(input_shape)}")])
    for layer, table_row in zip(model.layers, layer_rows(model)):
        params = f"{table_row.params:,} params"
        lines = [row(f"{table_row.name} ({table_row.kind})")]
        settings = _describe(layer)
        if settings:
            lines.append(row(f"  {settings}"))
        out = _shape(table_row.output_shape)
        lines.append(row(f"  → {out}".ljust(inner - len(params)) + params))
        boxes.append(lines)
    text = []
    for i, lines in enumerate(boxes):
        text.append(top)
        text.extend(lines)
        last = i == len(boxes) - 1
        text.append(bottom if last else bottom_join)
        if not last:
            text.append(arrow)
    total = model.count_params()
    text.append(f"Total: {total:,} parameters in {len(model.layers)} layers")
    return "\n".join(text)


def _shape(shape) -> str:
    shape = tuple(shape)
    return "(" + ", ".join("batch" if s is None else str(s) for s in shape) + ")"


def model_diagram(model, to_file: str | Path | None = None, dpi: int = 60, force_text: bool = False):
    """Show the model's architecture: a ``keras.utils.plot_model`` picture, or a text diagram.

    With pydot and graphviz installed (see :func:`graphviz_available`), draws the graph with layer
    names and shapes into ``to_file`` (default ``model.png`` in :func:`helpers.report.output_dir`) and
    returns an ``IPython.display.Image`` of it. Without them (or with ``force_text=True``), prints why
    and returns the :func:`text_diagram` as a string (print it).

    Returns:
        ``IPython.display.Image`` or ``str``.
    """
    if not force_text and graphviz_available():
        import keras
        from IPython.display import Image


        path = Path(to_file) if to_file else report.output_dir() / f"{model.name}.png"
        keras.utils.plot_model(model, to_file=str(path), show_shapes=True, show_layer_names=True, dpi=dpi)
        return Image(filename=str(path))
    if not force_text:
        print("pydot/graphviz not installed (pip install pydot; apt-get install graphviz): drawing a text diagram.\n")
    return text_diagram(model)
