"""Notebook 10's exercises (counting errors from predicted probabilities, pooling or flattening the feature
maps, the head's parameter count) and self-check questions."""

from __future__ import annotations

import numpy as np

from helpers.exercises.core import Exercise, Trial, Wrong, LearnerError, short
from helpers.exercises.selfcheck import Question
from helpers.exercises.solutions import nb10 as solutions

# --- 10.1 counting errors -------------------------------------------------------------------------------------
# Worked out by hand (the reference): the predicted class is the column with the largest probability.
THREE_CLASSES = np.array([[0.70, 0.20, 0.10],    # label 0, predicted 0: right
                          [0.10, 0.30, 0.60],    # label 1, predicted 2: wrong
                          [0.40, 0.35, 0.25],    # label 0, predicted 0: right (no class above 0.5)
                          [0.20, 0.45, 0.35],    # label 2, predicted 1: wrong
                          [0.05, 0.90, 0.05],    # label 1, predicted 1: right
                          [0.34, 0.33, 0.33],    # label 2, predicted 0: wrong
                          [0.15, 0.25, 0.60],    # label 2, predicted 2: right
                          [0.60, 0.30, 0.10]])   # label 1, predicted 0: wrong
THREE_LABELS = np.array([0, 1, 0, 2, 1, 2, 2, 1])
THREE_ERRORS = [1, 3, 5, 7]
CLASS_ONE = np.array([0.90, 0.20, 0.60, 0.45, 0.30, 0.70, 0.55, 0.10, 0.80, 0.35])   # two classes: P(class 1)
TWO_CLASSES = np.stack([1 - CLASS_ONE, CLASS_ONE], axis=1)
TWO_LABELS = np.array([1, 0, 0, 1, 0, 1, 1, 1, 0, 0])
TWO_ERRORS = [2, 3, 7, 8]


def _call_find_errors(t: Trial, probabilities, labels, one_hot: bool):
    """Call the learner's function; the exceptions typical of the integer / one-hot mix-up get named."""
    try:
        return t.call(probabilities.copy(), labels.copy())
    except LearnerError as exc:
        if not one_hot and "out of bounds for array of dimension 1" in exc.text:
            raise Wrong(f"{exc.text}. The labels here are integers, shape {labels.shape}, not one-hot rows: there is "
                        "no axis 1 to take an argmax over.",
                        "Only one-hot labels (2 dimensions) need argmax(axis=1); check labels.ndim first.") from None
        if not one_hot and "broadcast" in exc.text:
            raise Wrong(f"{exc.text}. The predicted classes and the labels have different lengths: an argmax along "
                        f"axis 0 gives one value per class ({probabilities.shape[1]}), not one per sample "
                        f"({len(labels)}).", "Take the argmax along axis 1, over the classes of each row.") from None
        if one_hot and "broadcast" in exc.text:
            raise Wrong(f"{exc.text}. The labels here are one-hot, shape {labels.shape}: compare class indices with "
                        "class indices.", "Turn one-hot rows into indices first: labels.argmax(axis=1).") from None
        raise


def _error_indices(t: Trial, got, call: str, n: int) -> list[int]:
    if isinstance(got, np.ndarray) and got.dtype == bool or (
            isinstance(got, (list, tuple)) and len(got) == n and got and all(isinstance(v, (bool, np.bool_)) for v in got)):
        raise Wrong(f"{call} returned a True/False mask; the positions (indices) of the errors are asked for.",
                    "np.flatnonzero(mask) turns a mask into the indices of its True entries.")
    arr = t.array(got, call)
    if arr.ndim == 0:
        raise Wrong(f"{call} returned a single number ({short(got)}); return the indices of the misclassified samples.",
                    "The count is then len(indices), the tutorial's 'No of errors = k/n'.")
    if arr.ndim != 1:
        raise Wrong(f"{call} returned an array of shape {arr.shape}; expected one index per misclassified sample, "
                    "shape (k,).", "Compare one predicted class per sample with one label per sample.")
    if not np.all(arr == np.round(arr)):
        raise Wrong(f"{call} returned {short(arr.tolist())}: indices are whole numbers.",
                    "Return positions such as [1, 3], not probabilities.")
    indices = [int(v) for v in arr]
    if any(i < 0 or i >= n for i in indices):
        bad = max(indices, key=abs)
        raise Wrong(f"{call} returned index {bad if abs(bad) < 10**9 else format(float(bad), '.3g')}, but there are "
                    f"only {n} samples: the (n, classes) "
                    "probabilities were compared element by element with the labels.",
                    "Take the predicted class of each row first (argmax over axis 1), then compare it with the label.")
    if len(set(indices)) != len(indices):
        raise Wrong(f"{call} lists a sample twice: {short(indices)}.")
    return sorted(indices)


def _compare_errors(got: list[int], expected: list[int], probabilities: np.ndarray, labels: np.ndarray,
                    call: str) -> None:
    n, classes = probabilities.shape
    if got == expected:
        return
    everything = list(range(n))
    right = [i for i in everything if i not in expected]
    if got == right:
        if classes == 2:
            raise Wrong(f"{call} returned exactly the correctly classified samples: either == instead of !=, or the "
                        "0.5 threshold is on the wrong column (column 0 is the probability of class 0).",
                        "With two classes, class 1 is predicted where probabilities[:, 1] > 0.5, i.e. the argmax.")
        raise Wrong(f"{call} returned exactly the correctly classified samples (== instead of !=?).")
    if got == everything:
        raise Wrong(f"{call} counts every sample as an error: a probability such as 0.7 never equals a label such as "
                    "0, so probabilities were compared with the labels directly.",
                    "The predicted class is the position of the largest probability: probabilities.argmax(axis=1).")
    if classes > 2:
        for column in range(classes):
            for predicted in ((probabilities[:, column] > 0.5).astype(int), (probabilities[:, column] <= 0.5).astype(int)):
                if got == np.flatnonzero(predicted != labels).tolist():
                    raise Wrong(f"{call}: a 0.5 threshold on column {column} decides between two classes only; here "
                                f"there are {classes} and the most probable class can be below 0.5 (row 2: "
                                "0.40, 0.35, 0.25).", "The predicted class is probabilities.argmax(axis=1).")
    if got == np.flatnonzero(probabilities.argmin(axis=1) != labels).tolist():
        raise Wrong(f"{call}: the predicted class was taken as the *least* probable one (argmin).")
    missing = [i for i in expected if i not in got]
    extra = [i for i in got if i not in expected]
    raise Wrong(f"{call} found errors at {short(got)}, expected {len(expected)} errors"
                + (f"; sample(s) {missing} are misclassified but missing" if missing else "")
                + (f"; sample(s) {extra} are classified correctly" if extra else "") + ".",
                "Work out row 1 by hand: [0.10, 0.30, 0.60] predicts class 2, its label is 1.")


def check_find_errors(t: Trial) -> None:
    cases = [(THREE_CLASSES, THREE_LABELS, THREE_ERRORS, False, "3 classes, integer labels"),
             (TWO_CLASSES, TWO_LABELS, TWO_ERRORS, False, "2 classes, integer labels"),
             (THREE_CLASSES, np.eye(3)[THREE_LABELS], THREE_ERRORS, True, "3 classes, one-hot labels")]
    for probabilities, labels, expected, one_hot, what in cases:
        n = len(probabilities)
        call = f"find_errors(<{n}x{probabilities.shape[1]} probabilities>, <{what}>)"
        got = _error_indices(t, _call_find_errors(t, probabilities, labels, one_hot), call, n)
        _compare_errors(got, expected, probabilities, labels if not one_hot else THREE_LABELS, call)
        t.ok(f"{what}: errors at {expected}, i.e. No of errors = {len(expected)}/{n}")


# --- 10.2 pooling or flattening the feature maps ---------------------------------------------------------------

def _keras_pool(maps: np.ndarray, pooling: str) -> np.ndarray:
    """The reference: Keras's GlobalAveragePooling2D or Flatten layer on the same maps."""
    import keras

    layer = keras.layers.GlobalAveragePooling2D() if pooling == "avg" else keras.layers.Flatten()
    return np.asarray(keras.ops.convert_to_numpy(layer(maps)), dtype=float)


def check_pool_features(t: Trial) -> None:
    maps = np.random.default_rng(10).normal(size=(3, 2, 4, 5)).astype("float32")   # (n, height, width, channels)
    n, h, w, c = maps.shape
    for pooling in ("avg", "flatten"):
        call = f"pool_features(<maps of shape {maps.shape}>, {pooling!r})"
        expected = _keras_pool(maps, pooling)
        got = t.array(t.call(maps.copy(), pooling), call)
        if got.shape != expected.shape:
            known = {(h, w, c): "the average over the samples (axis 0): average each sample over its height and width",
                     (n, h, w): "the average over the channels (axis -1): average over height and width, axes (1, 2)",
                     (n,): "one number per sample: average over height and width only, axes (1, 2), not the channels",
                     (n, 1, 1, c): "keepdims: drop the 1×1 axes, the head takes (n, channels)",
                     (n * h * w * c,): "the whole batch flattened into one vector: keep the sample axis, reshape(n, -1)",
                     (n, h * w): "the channels averaged away before flattening",
                     (n, c, h * w): "only the height and width were merged: flatten everything but the sample axis",
                     (n, h * w, c): "only the height and width were merged: flatten everything but the sample axis"}
            reason = known.get(got.shape, "")
            raise Wrong(f"{call} has shape {got.shape}, expected {expected.shape}" + (f": {reason}." if reason else "."),
                        "avg: (n, h, w, c) → (n, c); flatten: (n, h, w, c) → (n, h·w·c).")
        if not np.allclose(got, expected, rtol=1e-5, atol=1e-5):
            if pooling == "avg" and np.allclose(got, maps.max(axis=(1, 2)), atol=1e-5):
                raise Wrong(f"{call} took the maximum over height and width: that is max pooling, not the average.")
            if pooling == "avg" and np.allclose(got, maps.sum(axis=(1, 2)), atol=1e-4):
                raise Wrong(f"{call} summed over height and width: divide by the number of positions ({h}×{w}).")
            if pooling == "flatten" and np.allclose(np.sort(got, axis=1), np.sort(expected, axis=1), atol=1e-6):
                raise Wrong(f"{call} holds the right numbers in another order: Keras's Flatten keeps the (height, width, "
                            "channels) order, row by row, channels last.",
                            "reshape(n, -1) on the (n, h, w, c) array, with no transpose before it.")
            t.expect_close(got, expected, call, rtol=1e-5, atol=1e-5)
        t.ok(f"{call} matches Keras's {'GlobalAveragePooling2D' if pooling == 'avg' else 'Flatten'} layer")


# --- 10.3 the head's parameters -------------------------------------------------------------------------------

def _keras_head_count(shape, pooling: str, hidden_units: int, n_classes: int) -> int:
    """The reference: the notebook's head built in Keras, counted by Keras."""
    import keras

    model = keras.Sequential([keras.Input(shape=shape),
                              keras.layers.GlobalAveragePooling2D() if pooling == "avg" else keras.layers.Flatten(),
                              keras.layers.Dense(hidden_units, activation="relu"), keras.layers.Dropout(0.5),
                              keras.layers.Dense(n_classes, activation="softmax")])
    return model.count_params()


def check_head_parameters(t: Trial) -> None:
    for shape, pooling, hidden, classes in [((3, 3, 8), "avg", 4, 2), ((3, 3, 8), "flatten", 4, 2),
                                            ((2, 5, 7), "flatten", 6, 3), ((7, 7, 512), "avg", 256, 3)]:
        call = f"head_parameters({shape}, {pooling!r}, {hidden}, {classes})"
        got = t.integer(t.call(tuple(shape), pooling, hidden, classes), call)
        expected = _keras_head_count(shape, pooling, hidden, classes)
        if got == expected:
            t.ok(f"{call} = {expected:,}")
            continue
        h, w, c = shape
        inputs = c if pooling == "avg" else h * w * c
        other = h * w * c if pooling == "avg" else c
        def dense(i, biases=True):
            return i * hidden + hidden * biases + hidden * classes + classes * biases
        if got == dense(other):
            if pooling == "avg":
                raise Wrong(f"{call} gave {got:,}: counted as if the map were flattened ({h}·{w}·{c} = {other} inputs), "
                            f"but average pooling leaves one value per channel ({c} inputs).")
            raise Wrong(f"{call} gave {got:,}: counted as if the map were averaged ({c} inputs), but Flatten keeps "
                        f"every value: {h}·{w}·{c} = {inputs} inputs to the first Dense layer.")
        if got == dense(inputs, biases=False):
            raise Wrong(f"{call} gave {got:,}, the weights only: you forgot the biases ({expected - got:,} of them).")
        if got == inputs * hidden + hidden:
            raise Wrong(f"{call} gave {got:,}: the output layer (Dense with {classes} units) is missing.")
        if got == hidden * classes + classes:
            raise Wrong(f"{call} gave {got:,}: only the output layer; the hidden Dense layer is missing.")
        raise Wrong(f"{call} gave {got:,}, expected {expected:,}.",
                    f"First the number of inputs of the first Dense layer ({'c' if pooling == 'avg' else 'h·w·c'}), "
                    "then each Dense layer: inputs × units + units. Pooling, Flatten and Dropout have no parameters.")


EXERCISES = [
    Exercise("10.1", "Counting errors from probabilities", "find_errors", check_find_errors, solutions.find_errors,
             hint="The predicted class is probabilities.argmax(axis=1); the errors are where it differs from the label."),
    Exercise("10.2", "Average pooling or Flatten", "pool_features", check_pool_features, solutions.pool_features,
             hint="avg: feature_maps.mean(axis=(1, 2)); flatten: feature_maps.reshape(len(feature_maps), -1)."),
    Exercise("10.3", "Parameters of the head", "head_parameters", check_head_parameters, solutions.head_parameters,
             hint="The first Dense layer has c inputs after average pooling and h·w·c after Flatten."),
]

QUESTIONS = [
    Question("What is transfer learning, as this notebook uses the word?", 1,
             "The pretrained convolutional base stays frozen as a feature extractor; only a new small classifier "
             "trains. Adapting the base's weights too is fine-tuning (notebook 11).",
             options=("training the whole network again from ImageNet's weights",
                      "a frozen pretrained base as a feature extractor plus a new classifier trained on its features",
                      "training a small network from scratch on the new photos",
                      "using the ImageNet classifier's 1,000 classes as they are")),
    Question("Why may the base's features be computed only once per photo and cached?", 2,
             "The base is frozen and in inference mode, so the same photo always gives the same features.",
             options=("because caching makes the features more accurate", "because the head needs float16 inputs",
                      "because a frozen base gives the same output for the same photo every time",
                      "because Keras cannot train on images")),
    Question("With POOLING = \"avg\", how many numbers per photo does EfficientNet-Lite0's 5×5×1,280 feature map "
             "become?", 1280, "Average pooling keeps one value per channel: 1,280 (Flatten would keep 5·5·1,280 = "
             "32,000).", tolerance=0.0),
    Question("If the head makes 6 errors on the 400 validation photos, what is its validation accuracy? (a "
             "number between 0 and 1)", 0.985, "1 - 6/400 = 394/400 = 0.985.", tolerance=0.001),
    Question("The tutorial feeds VGG16 pixels scaled by 1/255. What is wrong with that?", 3,
             "VGG16 was trained on BGR pixels 0..255 minus the ImageNet means: 1/255 gives inputs far smaller (the "
             "notebook measured the spread: a couple of hundred times smaller), never negative, in the wrong channel order.",
             options=("nothing: every network expects pixels in 0..1", "the photos become too dark to see",
                      "it makes the features 255 times larger",
                      "the inputs are far smaller than, and unlike, what VGG16 was trained on")),
]
