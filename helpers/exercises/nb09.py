"""Notebook 09's exercises (top-5 decoding of a (n, 1000) prediction, VGG16's "caffe" preprocessing) and
self-check questions."""

from __future__ import annotations

import numpy as np

from helpers.exercises.core import Exercise, Trial, Wrong, short
from helpers.exercises.selfcheck import Question
from helpers.exercises.solutions import nb09 as solutions

# --- 09.1 top-5 decoding -------------------------------------------------------------------------------------


def _probabilities(seed: int, n: int, classes: int = 1000) -> np.ndarray:
    """Softmax of random scores: (n, classes) rows that sum to 1, all values distinct."""
    scores = np.random.default_rng(seed).normal(0.0, 3.0, size=(n, classes))
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return (exp / exp.sum(axis=1, keepdims=True)).astype("float32")


def _class_names(classes: int = 1000) -> list[str]:
    return [f"class_{i:03d}" for i in range(classes)]


def _read_rows(t: Trial, got, call: str, n: int, top: int) -> list[list[tuple[object, float]]]:
    """The learner's result as n rows of ``top`` (name, probability) pairs, or Wrong saying how it differs."""
    if isinstance(got, np.ndarray):
        got = got.tolist()
    if isinstance(got, (str, bytes, dict, set)) or not isinstance(got, (list, tuple)):
        raise Wrong(f"{call} should return a list with one entry per row (photo), but it returned a "
                    f"{type(got).__name__}: {short(got)}.")
    if len(got) != n:
        if n > 1 and len(got) == top and all(isinstance(e, (list, tuple)) and len(e) == 2
                                             and isinstance(e[0], str) for e in got):
            raise Wrong(f"{call} returned one list of {top} pairs for {n} photos: the top {top} of one row only.",
                        "Loop over the rows: one list of (name, probability) pairs per photo.")
        raise Wrong(f"{call} returned {len(got)} entries for {n} rows: one list per row (photo) is needed.")
    rows = []
    for i, row in enumerate(got):
        if isinstance(row, np.ndarray):
            row = row.tolist()
        if not isinstance(row, (list, tuple)):
            raise Wrong(f"row {i} of the result should be a list of {top} (name, probability) pairs, but it is "
                        f"a {type(row).__name__}: {short(row)}.")
        if len(row) != top:
            extra = (f" (all {len(row)} classes: keep only the first {top})" if len(row) == 1000 else
                     " (is 5 written into your function? use the argument `top`)" if len(row) == 5 else "")
            raise Wrong(f"row {i} of {call} has {len(row)} entries, expected top={top}{extra}.")
        pairs = []
        for j, entry in enumerate(row):
            if isinstance(entry, np.ndarray):
                entry = entry.tolist()
            if not isinstance(entry, (list, tuple)) or len(entry) != 2:
                three = " (the three values of keras's decode_predictions; here: name and probability only)" \
                    if isinstance(entry, (list, tuple)) and len(entry) == 3 else ""
                raise Wrong(f"entry {j} of row {i} should be a (name, probability) pair, but it is "
                            f"{short(entry)}{three}.")
            name, probability = entry
            pairs.append((name, t.number(probability, f"the probability of entry {j} in row {i}")))
        rows.append(pairs)
    return rows


def _compare_top(t: Trial, rows, probabilities: np.ndarray, names: list[str], call: str) -> None:
    """Wrong at the first row that is not the best ``top`` classes, most probable first, naming the mistake."""
    n, top = len(rows), len(rows[0])
    index_of = {name: k for k, name in enumerate(names)}
    best = np.argsort(-probabilities, axis=1)[:, :top]          # the reference: NumPy's argsort, descending
    worst = np.argsort(probabilities, axis=1)[:, :top]
    for i, pairs in enumerate(rows):
        got_names = [name for name, _ in pairs]
        for name in got_names:
            if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
                raise Wrong(f"row {i} of {call} holds class indices ({short(got_names)}) where names are needed.",
                            "Look each index up in class_names: class_names[index].")
            if not isinstance(name, str) or name not in index_of:
                raise Wrong(f"row {i} of {call} holds {short(name)}, which is not one of the class names.",
                            "Each pair is (class_names[index], probability of that index).")
        got = [index_of[name] for name in got_names]
        expected = best[i].tolist()
        if got != expected:
            if got == expected[::-1]:
                raise Wrong(f"row {i} of {call} has the right {top} classes in ascending order: best first is needed.",
                            "np.argsort sorts from the smallest up: reverse it ([::-1]) before taking the top.")
            if sorted(got) == sorted(worst[i].tolist()):
                raise Wrong(f"row {i} of {call} holds the {top} *least* probable classes.",
                            "np.argsort sorts ascending: the best classes are at the end ([::-1] or argsort(-p)).")
            if all(k < n for k in got) and set(got) != set(expected):
                raise Wrong(f"row {i} of {call} holds classes {short(got)}, all below {n}, the number of rows: "
                            "these are row numbers, sorted along the wrong axis (axis 0, over the photos).",
                            "Sort each row over its classes: np.argsort(p, axis=1), or row by row.")
            for j in range(n):
                if j != i and got == best[j].tolist():
                    raise Wrong(f"row {i} of {call} holds the top {top} of row {j}: the top {top} of the wrong row.",
                                "Row i of the result must come from probabilities[i].")
            shifted = [k - 1 for k in got]
            if shifted == expected or [k + 1 for k in got] == expected:
                raise Wrong(f"row {i} of {call}: each name is one class away from the right one (off by one when "
                            "looking up class_names).", "class_names[k] is the name of column k, counting from 0.")
            if sorted(got) == sorted(expected):
                raise Wrong(f"row {i} of {call} has the right {top} classes in the wrong order: "
                            f"got {short(got_names)}.", "Most probable first.")
            raise Wrong(f"row {i} of {call} names {short(got_names)}; expected "
                        f"{short([names[k] for k in expected])}.")
        for (name, probability), k in zip(pairs, got):
            if not np.isclose(probability, probabilities[i, k], rtol=1e-5, atol=1e-7):
                sorted_row = np.sort(probabilities[i])[::-1]
                hint = ("It looks like the probabilities were sorted separately from the names."
                        if np.isclose(probability, sorted_row[got.index(k)], rtol=1e-5) else
                        "Take probabilities[i, k] for class k of row i.")
                raise Wrong(f"row {i} of {call}: the probability next to {name!r} is {probability:.4g}, but "
                            f"that class's probability is {probabilities[i, k]:.4g}.", hint)


def check_top_predictions(t: Trial) -> None:
    names = _class_names()
    for seed, n, top in [(9, 4, 5), (19, 1, 3)]:
        probabilities = _probabilities(seed, n)
        given = probabilities.copy()
        call = f"top_predictions(<{n}x1000 probabilities>, class_names, top={top})"
        rows = _read_rows(t, t.call(given, list(names), top=top), call, n, top)
        if not np.array_equal(given, probabilities):
            raise Wrong(f"{call} changed the probabilities passed in (sorted them in place?).",
                        "np.sort(row) and np.argsort(row) return new arrays; row.sort() changes the caller's data.")
        _compare_top(t, rows, probabilities, names, call)
        t.ok(f"{call}: the {top} best classes of each of the {n} row(s), best first, with their probabilities")


# --- 09.2 VGG16 preprocessing ---------------------------------------------------------------------------------

_MEANS_BGR = np.array([103.939, 116.779, 123.68])


def _keras_vgg16(batch: np.ndarray) -> np.ndarray:
    """The reference: keras.applications.vgg16.preprocess_input (needs no weights), on a copy."""
    from keras.applications import vgg16

    return np.asarray(vgg16.preprocess_input(batch.copy()), dtype=float)


def _diagnose_preprocess(got: np.ndarray, batch: np.ndarray, call: str) -> None:
    candidates = [
        (batch - _MEANS_BGR, "the channels were not reversed: VGG16 expects BGR, so flip RGB → BGR before "
                             "subtracting the means", "batch[..., ::-1] reverses the channel axis."),
        (batch[..., ::-1] - _MEANS_BGR[::-1], "the means are in the wrong order: after the flip, channel 0 is blue "
                                              "and loses 103.939", "Subtract [103.939, 116.779, 123.68] after flipping."),
        (batch - _MEANS_BGR[::-1], "the means were subtracted in RGB order but the channels were never reversed",
         "Flip to BGR first (batch[..., ::-1]), then subtract [103.939, 116.779, 123.68]."),
        (batch[:, ::-1] - _MEANS_BGR, "the image was flipped upside down (axis 1, the rows), not the channels",
         "The channels are the last axis: batch[..., ::-1]."),
        (batch[:, :, ::-1] - _MEANS_BGR, "the image was mirrored left-right (axis 2, the columns), not the channels",
         "The channels are the last axis: batch[..., ::-1]."),
        (batch[::-1] - _MEANS_BGR, "the order of the photos in the batch was reversed (axis 0), not the channels",
         "The channels are the last axis: batch[..., ::-1]."),
        (batch / 127.5 - 1, "that is the [-1, 1] scaling of Inception, MobileNet and EfficientNet-Lite ('tf' mode); "
                            "VGG16 uses 'caffe' mode", "Flip RGB → BGR and subtract the ImageNet channel means."),
        (batch / 255, "pixels / 255 is the tutorial's rescale of notebook 10, not VGG16's preprocessing",
         "Flip RGB → BGR and subtract the ImageNet channel means."),
        (batch[..., ::-1] / 255 - _MEANS_BGR / 255, "the pixels were scaled to 0..1: VGG16 keeps 0..255",
         "No division: flip the channels and subtract the means."),
    ]
    for candidate, problem, hint in candidates:
        if candidate.shape == got.shape and np.allclose(got, candidate, rtol=1e-4, atol=1e-3):
            raise Wrong(f"{call}: {problem}.", hint)


def check_vgg_preprocess(t: Trial) -> None:
    rng = np.random.default_rng(909)
    for shape in [(2, 4, 5, 3), (1, 3, 3, 3)]:
        batch = rng.uniform(0, 255, size=shape).astype("float32")
        given = batch.copy()
        call = f"vgg_preprocess(<batch of shape {shape}>)"
        expected = _keras_vgg16(batch)
        got = t.array(t.call(given), call)
        if got.shape != expected.shape:
            if got.shape == shape[:-1]:
                raise Wrong(f"{call} returned shape {got.shape}: the channel axis is gone.",
                            "Keep the shape: (n, height, width, 3) in, the same shape out.")
            raise Wrong(f"{call} returned shape {got.shape}, expected {expected.shape} (the shape of the batch).")
        if not np.allclose(got, expected, rtol=1e-4, atol=1e-3):
            _diagnose_preprocess(got.astype(float), batch.astype(float), call)
            t.expect_close(got, expected, call, rtol=1e-4, atol=1e-3)
        if not np.array_equal(given, batch):
            raise Wrong(f"{call} returns the right values but changed the caller's batch as well (it worked in place).",
                        "Work on a copy (np.array(batch, dtype='float32')): the tutorial passes image_batch.copy() "
                        "to preprocess_input for this reason.")
        t.ok(f"{call} matches keras.applications.vgg16.preprocess_input, and the batch passed in is unchanged")


EXERCISES = [
    Exercise("09.1", "Top-5 decoding", "top_predictions", check_top_predictions, solutions.top_predictions,
             hint="For each row: np.argsort(row)[::-1][:top] gives the best class indices, most probable first."),
    Exercise("09.2", "VGG16's preprocessing", "vgg_preprocess", check_vgg_preprocess, solutions.vgg_preprocess,
             hint="Reverse the last axis (RGB → BGR), then subtract [103.939, 116.779, 123.68] (the B, G, R means)."),
]

QUESTIONS = [
    Question("An ImageNet classifier is given one photo as a batch of shape (1, 224, 224, 3). What is the shape of "
             "model.predict's output?", 1,
             "One row per photo in the batch, one probability per ILSVRC class: (1, 1000).",
             options=("(1000,)", "(1, 1000)", "(224, 224, 1000)", "(1, 5): the top 5")),
    Question("Why did every model name the tomato and the watermelon wrongly?", 2,
             "Tomato and watermelon are not among the 1,000 ILSVRC classes: a classifier can only answer with its own "
             "classes (notebook 10 trains a new classifier for them).",
             options=("the photos are too small", "the models were built with weights=None",
                      "they are not ImageNet classes", "the preprocessing was wrong")),
    Question("VGG16's first dense layer takes the flattened 7×7×512 feature map of a 224×224 photo. How many input "
             "values is that?", 25088, "7 × 7 × 512 = 25,088 inputs, each connected to 4,096 units.", tolerance=0.0),
    Question("What does np.expand_dims(image, axis=0) do to an image array of shape (224, 224, 3)?", 0,
             "It adds a batch axis in front: (1, 224, 224, 3), a batch of one photo, which is what networks take.",
             options=("makes it (1, 224, 224, 3)", "makes it (224, 224, 3, 1)", "makes it (224, 224, 4)",
                      "converts it to a PIL image")),
]
