"""Transfer learning and fine-tuning mechanics for notebooks 10 and 11.

The notebooks tell the story (frozen base -> cached features -> small head -> fine-tuning); this
module holds the repeated mechanics (the networks they teach, the scratch baseline and the classifier head, are
written on notebook 10's page and exported to :mod:`helpers.taught.transfer`; the freezing loop, ``freeze_all_but``,
on notebook 11's, exported to :mod:`helpers.taught.fine_tuning`):

- :func:`load_image_folder`   a class-folder dataset (``train/cats/*.jpg`` ...) read with
  ``keras.utils.image_dataset_from_directory`` into uint8 arrays, with labels and file paths
- :func:`extract_features`    run a frozen model once over every image (the IBM talk's
  "bottleneck features"), optionally cached in an ``.npz`` file
- :func:`misclassified`       the tutorial's error listing ("No of errors = k/400", true label,
  prediction, confidence)
- :func:`layer_rows`          the model as a table, one :class:`LayerRow` per layer (name, type, output
  shape, trainable, trainable and frozen parameters): the one home of the per-layer rows that
  :func:`trainable_table`, :func:`print_trainable_table`, :func:`block_table` and
  :func:`helpers.feature_maps.text_diagram` show
- :func:`trainable_counts`, :func:`trainable_table`, :func:`block_table`  what ``model.summary()``
  says about trainable / non-trainable parameters, as data
- :func:`split_model`         cut a functional model in two at a layer: the frozen front (run once,
  cached) and the tail that is fine-tuned; the tail *shares* the original layers, so training it
  trains the full model too
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np
from helpers import data
from helpers import plots


# ------------------------------------------------------------------------------------- data
@dataclass
class ImageFolder:
    """Images of a class-folder dataset, held in memory.

    Attributes:
        images: uint8 ``(n, height, width, 3)``, RGB pixels 0..255 (resized, aspect ratio not kept,
            like the tutorials' ``target_size``).
        labels: int32 ``(n,)``, index into ``class_names``.
        class_names: sorted sub-folder names, e.g. ``["cats", "dogs"]``.
        file_paths: ``n`` paths in the same order as ``images``.
        folder: the folder that was read.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    file_paths: list[str]
    folder: Path

    def __len__(self) -> int:
        return len(self.labels)

    def counts(self) -> dict[str, int]:
        """Number of images per class, e.g. ``{"cats": 500, "dogs": 500}``."""
        return {name: int((self.labels == i).sum()) for i, name in enumerate(self.class_names)}

    def describe(self) -> str:
        """One line: folder name, image count per class and array shape."""
        per_class = ", ".join(f"{k} {v}" for k, v in self.counts().items())
        return f"{self.folder.name}: {len(self)} images ({per_class}), array {self.images.shape} {self.images.dtype}"


def load_image_folder(folder, image_size: int | tuple[int, int], batch_size: int = 64,
                      class_names: Sequence[str] | None = None, bad_images: str = "fail") -> ImageFolder:
    """Read a class-folder dataset with ``keras.utils.image_dataset_from_directory``.

    The order is the folder order (``shuffle=False``), so features computed once line up with
    ``labels`` and ``file_paths``; ``model.fit`` shuffles the arrays itself.

    Args:
        folder: a folder with one sub-folder of images per class.
        image_size: output height and width in pixels (an int for square images).
        class_names: expected class folders (e.g. the training set's), default: all sub-folders.
        bad_images: what to do with entries that are not readable images (a text file named ``.jpg``,
            a truncated JPEG, a decompression bomb, a link to ``/dev/zero``, a named pipe, a link loop: see
            :func:`helpers.data.image_problem`): ``"fail"`` (default) raises, listing every one with the
            reason, those of the split folders beside ``folder`` (``validation/`` next to ``train/``)
            included; ``"skip"`` prints this folder's list and reads the other images.

    Returns:
        :class:`ImageFolder`: images uint8 ``(n, height, width, 3)``, labels int32 ``(n,)``.

    Raises:
        FileNotFoundError / ValueError: from :func:`helpers.data.check_class_folders`.
        helpers.data.BadImagesError (a ValueError): unreadable files and ``bad_images="fail"``.
    """

    if bad_images not in ("fail", "skip"):
        raise ValueError(f"bad_images={bad_images!r}: use 'fail' (stop and list them) or 'skip' (leave them out).")
    folder = Path(folder)
    found = data.check_class_folders(folder)
    if class_names is not None and list(class_names) != found:
        raise ValueError(f"{folder} has class folders {found}, but {list(class_names)} were expected "
                         "(training and validation folders must hold the same classes).")
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    # "fail" names the bad files of the split folders beside this one (validation/ next to train/) in the same
    # error; "skip" leaves out this folder's only (the others are listed when they are read).
    find = data.find_bad_images if bad_images == "skip" else data.find_bad_images_in_splits
    shown_from = folder.parent if len(data.split_folders(folder)) > 1 else folder
    bad = find(folder, found)  # quick: what each entry is (nothing but regular files), first and last bytes, header
    if bad and bad_images == "fail":
        raise data.BadImagesError(shown_from, bad)
    try:
        return _read_skipping(folder, found, bad, size, batch_size)
    except Exception as exc:  # TensorFlow's InvalidArgumentError names no file: find the culprits
        deeper = find(folder, found, decode=True)
        if len(deeper) <= len(bad):
            raise
        if bad_images == "fail":
            raise data.BadImagesError(shown_from, deeper) from exc
        return _read_skipping(folder, found, deeper, size, batch_size)


def _read_skipping(folder: Path, classes: list[str], bad: list, size, batch_size) -> ImageFolder:
    """Read ``folder``; when ``bad`` lists ``(path, reason)`` pairs, say so and leave those out."""
    if not bad:
        return _read_image_folder(folder, folder, size, batch_size)
    print(f"Skipping {len(bad)} unreadable file(s) (bad_images='skip'):")
    for path, reason in bad[:50]:
        print(f"  - {path}: {reason}")
    if len(bad) > 50:
        print(f"  ... and {len(bad) - 50} more")
    return _read_without(folder, classes, {p for p, _ in bad}, size, batch_size)


def _read_image_folder(folder: Path, read_from: Path, size, batch_size, paths: dict | None = None) -> ImageFolder:
    import keras

    dataset = keras.utils.image_dataset_from_directory(
        read_from, labels="inferred", label_mode="int", image_size=size, batch_size=batch_size,
        shuffle=False, verbose=False)
    images, labels = [], []
    for x, y in dataset:
        images.append(np.clip(np.round(x.numpy()), 0, 255).astype(np.uint8))
        labels.append(y.numpy().astype(np.int32))
    file_paths = [paths.get(p, p) for p in dataset.file_paths] if paths else list(dataset.file_paths)
    return ImageFolder(np.concatenate(images), np.concatenate(labels), list(dataset.class_names), file_paths, folder)


def _read_without(folder: Path, classes: list[str], skip: set, size, batch_size) -> ImageFolder:
    """Read ``folder`` leaving out the files in ``skip``: through a temporary tree of links to the others."""
    import os
    import shutil
    import tempfile


    with tempfile.TemporaryDirectory(prefix="image_folder_") as tmp:
        paths = {}
        for path in data.image_files(folder, classes):
            if path in skip:
                continue
            link = Path(tmp) / path.relative_to(folder)
            link.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.symlink(path.resolve(), link)
            except OSError:  # no symlinks here (some file systems): copy instead
                shutil.copyfile(path, link)
            paths[str(link)] = str(path)
        for c in classes:  # a class whose every file was bad still counts as a (now empty) class
            (Path(tmp) / c).mkdir(exist_ok=True)
        return _read_image_folder(folder, Path(tmp), size, batch_size, paths)


# ----------------------------------------------------------------------------------- features
def extract_features(model, images: np.ndarray, preprocess: Callable | None = None, batch_size: int = 32,
                     cache_file: str | Path | None = None) -> np.ndarray:
    """Run ``model`` once over ``images`` and return its outputs (the "bottleneck features").

    Args:
        model: a (frozen) Keras model, e.g. a convolutional base with ``include_top=False``.
        images: ``(n, h, w, 3)`` pixels 0..255 (any dtype).
        preprocess: the backbone's preprocessing, applied batch by batch (e.g.
            ``extractor.preprocess``); None: the images are passed as float32.
        cache_file: an ``.npz`` path; when it exists and holds features for the same number of
            images, they are loaded instead of computed; otherwise they are computed and saved there.

    Returns:
        float32 array ``(n, *model.output_shape[1:])``, e.g. ``(1000, 7, 7, 512)`` for VGG16 at 224.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be (n, height, width, 3), got {images.shape}")
    if cache_file is not None:
        cache_file = Path(cache_file)
        if cache_file.is_file():
            with np.load(cache_file) as f:
                cached = f["features"]
            if len(cached) == len(images):
                return cached
    outputs = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        batch = preprocess(batch) if preprocess is not None else batch.astype(np.float32)
        outputs.append(np.asarray(model.predict_on_batch(batch), dtype=np.float32))
    features = np.concatenate(outputs)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache_file, features=features)
    return features


# ------------------------------------------------------------------------------------- errors
@dataclass
class Misclassified:
    """One wrongly classified sample."""

    index: int
    file_path: str
    true_label: str
    predicted_label: str
    confidence: float

    def __str__(self) -> str:
        return (f"Original label: {self.true_label}, Prediction: {self.predicted_label}, "
                f"confidence: {self.confidence:.3f}  ({Path(self.file_path).name})")

    def title(self) -> str:
        """The tutorial's plot title: ``Original label:cat.1050.jpg, Prediction :dogs, confidence : 0.977``
        (the tutorial titles with the file name, which holds the true class), over two lines."""
        return (f"Original label:{Path(self.file_path).name or self.true_label},\n"
                f"Prediction :{self.predicted_label}, confidence : {self.confidence:.3f}")


def misclassified(probabilities, labels, class_names: Sequence[str],
                  file_paths: Sequence[str] | None = None) -> list[Misclassified]:
    """List the samples whose arg-max prediction differs from the label, most confident first.

    Args:
        probabilities: ``(n, classes)`` softmax outputs.
        labels: ``(n,)`` integer labels.
        class_names: ``classes`` names.
        file_paths: ``n`` paths (optional), to show the photos.
    """
    probabilities = np.asarray(probabilities)
    labels = np.ravel(np.asarray(labels)).astype(int)
    if probabilities.ndim != 2 or probabilities.shape != (len(labels), len(class_names)):
        raise ValueError(f"probabilities must be (n, {len(class_names)}) with n = {len(labels)} labels; "
                         f"got {probabilities.shape}")
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    rows = [Misclassified(int(i), str(file_paths[i]) if file_paths is not None else "",
                          class_names[labels[i]], class_names[predicted[i]], float(probabilities[i, predicted[i]]))
            for i in wrong]
    return sorted(rows, key=lambda r: -r.confidence)


def error_line(errors: Sequence, total: int) -> str:
    """The tutorial's summary line, e.g. ``"No of errors = 7/400 (accuracy 0.983)"``."""
    return f"No of errors = {len(errors)}/{total} (accuracy {1 - len(errors) / total:.3f})"


def show_misclassified(errors: Sequence[Misclassified], max_images: int = 10, ncols: int = 5, size: float = 2.0,
                       tutorial_titles: bool = False):
    """Show the misclassified photos titled true / predicted / confidence (a matplotlib Figure), or None.

    ``tutorial_titles=True`` titles each photo as the fine-tuning tutorial does (``Original label:<file>,
    Prediction :<class>, confidence : 0.977``, :meth:`Misclassified.title`); the tutorial draws one
    7x7-inch figure per error, here they share one grid (``ncols`` per row, ``size`` inches each).
    """
    from PIL import Image


    errors = list(errors)[:max_images]
    if not errors:
        return None
    images = []
    for err in errors:
        with Image.open(err.file_path) as img:
            img.thumbnail((160, 160) if not tutorial_titles else (320, 320))
            images.append(np.asarray(img.convert("RGB")))
    if tutorial_titles:
        titles = [e.title() for e in errors]
    else:
        titles = [f"true: {e.true_label}\npred: {e.predicted_label} ({e.confidence:.2f})" for e in errors]
    fig = plots.show_images(images, titles, ncols=min(ncols, len(images)), size=size)
    for ax in fig.axes[:len(errors)]:
        ax.title.set_color(plots.WRONG_COLOR)
        if tutorial_titles:
            ax.title.set_fontsize(8)
    return fig


# ------------------------------------------------------------------------------------ counting
def _count(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def trainable_counts(model) -> dict[str, int]:
    """``{"total": ..., "trainable": ..., "non_trainable": ...}`` parameter counts, as in ``model.summary()``."""
    trainable = _count(model.trainable_weights)
    non_trainable = _count(model.non_trainable_weights)
    return {"total": trainable + non_trainable, "trainable": trainable, "non_trainable": non_trainable}


class LayerRow(NamedTuple):
    """One layer of a model as a table row; see :func:`layer_rows`."""

    name: str
    kind: str                # the layer's class name, e.g. "Conv2D"
    output_shape: tuple      # with the batch axis, e.g. (None, 26, 26, 32); () when the layer has no single output
    trainable: bool          # layer.trainable
    trainable_params: int    # sizes of layer.trainable_weights, added up
    frozen_params: int       # sizes of layer.non_trainable_weights (a frozen layer's weights, BatchNorm statistics)

    @property
    def params(self) -> int:
        """All of the layer's parameters, as ``layer.count_params()`` counts them."""
        return self.trainable_params + self.frozen_params


def _output_shape(layer) -> tuple:
    try:
        return tuple(layer.output.shape)
    except (AttributeError, ValueError):
        return ()


def layer_rows(model) -> list[LayerRow]:
    """The model as a table: one :class:`LayerRow` per layer of ``model.layers``, in order.

    A nested model (e.g. an augmentation block) is one row. The per-layer tables of the course build on
    it: :func:`trainable_table` and :func:`print_trainable_table` (trainable flags), :func:`block_table`
    (rows added up by block) and :func:`helpers.feature_maps.text_diagram` (rows drawn as boxes).
    """
    return [LayerRow(layer.name, type(layer).__name__, _output_shape(layer), bool(layer.trainable),
                     _count(layer.trainable_weights), _count(layer.non_trainable_weights))
            for layer in model.layers]


def trainable_table(model) -> list[tuple[str, str, bool, int]]:
    """One row per layer: ``(name, class name, trainable, parameters)``; the columns of :func:`layer_rows`
    that ``print(layer, layer.trainable)`` shows."""
    return [(row.name, row.kind, row.trainable, row.params) for row in layer_rows(model)]


def print_trainable_table(model, skip_inputs: bool = False) -> None:
    """Print :func:`trainable_table` as aligned text (the tutorial's ``print(layer, layer.trainable)``).

    ``skip_inputs`` leaves out ``InputLayer`` rows (e.g. the generated input of a :func:`split_model` tail).
    """
    rows = [row for row in layer_rows(model) if not (skip_inputs and row.kind == "InputLayer")]
    width = max(len(row.name) for row in rows)
    type_width = max(len(row.kind) for row in rows)
    for row in rows:
        print(f"{row.name:<{width}}  {row.kind:<{type_width}}  trainable={str(row.trainable):<5}  {row.params:>10,}")


def block_table(model, block_of: Callable[[str], str] | None = None) -> list[tuple[str, int, int, int]]:
    """Group layers by block: ``(block, layers, trainable parameters, non-trainable parameters)``.

    For deep models (EfficientNet has ~150 layers) this is the readable version of
    :func:`trainable_table`: the :func:`layer_rows` of each block added up. ``block_of`` maps a layer name
    to its block; default: the text before the first ``_`` (``block7a_dwconv`` -> ``block7a``).
    """
    block_of = block_of or (lambda name: name.split("_")[0])
    table: dict[str, list[int]] = {}  # block -> [layers, trainable, non-trainable], in the order blocks first appear
    for row in layer_rows(model):
        totals = table.setdefault(block_of(row.name), [0, 0, 0])
        totals[0] += 1
        totals[1] += row.trainable_params
        totals[2] += row.frozen_params
    return [(block, *totals) for block, totals in table.items()]


# ------------------------------------------------------------------------------------ splitting
def split_model(model, first_tail_layer: str):
    """Cut a functional model before ``first_tail_layer``: return ``(front, tail)``.

    ``front`` maps the model's input to the tensor that enters ``first_tail_layer``; ``tail`` maps
    that tensor to the model's output. Both *share* the layers (and weights) of ``model``: training
    ``tail`` on cached ``front`` outputs trains ``model`` itself. The cut must be a single tensor
    that the rest of the graph depends on alone (true between EfficientNet's blocks 6 and 7, and
    between VGG's blocks).

    Example: ``front, tail = split_model(base, "block7a_expand_conv")``; ``front`` gives
    ``(batch, 7, 7, 192)`` at 224 pixels for EfficientNet-Lite0.
    """
    import keras

    names = [layer.name for layer in model.layers]
    if first_tail_layer not in names:
        raise ValueError(f"{first_tail_layer!r} is not a layer of {model.name}; e.g. {names[-5:]}")
    layer = model.get_layer(first_tail_layer)
    cut = layer.input
    if isinstance(cut, (list, tuple)):
        raise ValueError(f"{first_tail_layer!r} has several inputs; cut the model at a layer with one input.")
    front = keras.Model(model.inputs, cut, name=f"{model.name}_front")
    outputs = model.outputs[0] if len(model.outputs) == 1 else model.outputs
    tail = keras.Model(cut, outputs, name=f"{model.name}_tail")
    return front, tail


def cached_validation_callback(model_on_cache, x_cached, y_val, batch_size: int = 64):
    """A Keras callback that adds ``val_loss`` / ``val_accuracy`` computed on *cached* activations.

    When only the tail of a network trains (the front is frozen and in inference mode), the
    validation images' front activations never change: compute them once and evaluate
    ``model_on_cache`` (tail + head, sharing the trained layers) on them after every epoch, instead
    of running the whole network over the validation images again. Put it *before*
    :class:`helpers.training.EpochLine` in ``callbacks`` so the printed line shows the values.

    Args:
        model_on_cache: maps cached activations to class probabilities (softmax).
        x_cached: the validation set's cached activations.
        y_val: integer labels.
    """
    import keras

    y_val = np.asarray(y_val).astype(int)

    class CachedValidation(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            probs = model_on_cache.predict(x_cached, batch_size=batch_size, verbose=0)
            picked = np.clip(probs[np.arange(len(y_val)), y_val], 1e-7, 1.0)
            if logs is not None:
                logs["val_loss"] = float(-np.log(picked).mean())
                logs["val_accuracy"] = float((probs.argmax(axis=1) == y_val).mean())

    return CachedValidation()


# ------------------------------------------------------------------------------------- timing
@dataclass
class Stopwatch:
    """Measure named steps: ``with watch("features"): ...``; ``watch.table()`` lists the seconds."""

    times: dict[str, float] = field(default_factory=dict)

    def __call__(self, name: str):
        watch = self

        class _Step:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                watch.times[name] = watch.times.get(name, 0.0) + time.perf_counter() - self.start

        return _Step()

    def table(self) -> str:
        return "\n".join(f"{k:<32} {v:7.1f} s" for k, v in self.times.items())
