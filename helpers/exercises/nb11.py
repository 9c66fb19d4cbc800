"""Notebook 11's exercises (training the last blocks of a model with the page's exported ``freeze_all_but``,
reading its trainable and non-trainable parameter counts) and self-check questions.

The checks build a tiny functional "backbone" (about 1,000 parameters, no pretrained weights, no data):
stem, block 1, block 2 with BatchNormalization layers, then a small head. Its parameter counts below are
worked out by hand (a Conv2D of k×k from c_in to c_out has k·k·c_in·c_out + c_out parameters; a
BatchNormalization of c channels has 2c trainable ones, gamma and beta, and 2c non-trainable ones, the moving
mean and variance).
"""

from __future__ import annotations

from helpers.exercises.core import Exercise, Trial, Wrong, short
from helpers.exercises.selfcheck import Question
from helpers.exercises.solutions import nb11 as solutions

# name: (trainable parameters, non-trainable parameters), worked out by hand
LAYER_PARAMETERS = {
    "stem_conv": (3 * 3 * 3 * 4 + 4, 0),        # 112
    "stem_bn": (2 * 4, 2 * 4),
    "block1_conv1": (3 * 3 * 4 * 6 + 6, 0),     # 222
    "block1_bn": (2 * 6, 2 * 6),
    "block1_conv2": (1 * 1 * 6 * 6 + 6, 0),     # 42
    "block2_conv1": (3 * 3 * 6 * 8 + 8, 0),     # 440
    "block2_conv2": (1 * 1 * 8 * 8 + 8, 0),     # 72
    "block2_bn": (2 * 8, 2 * 8),
    "dense": (8 * 3 + 3, 0),                    # 27
}
BATCH_NORM = ("stem_bn", "block1_bn", "block2_bn")
TOTAL = sum(t + n for t, n in LAYER_PARAMETERS.values())                   # 987
MOVING_STATISTICS = sum(n for _, n in LAYER_PARAMETERS.values())           # 36


def tiny_backbone():
    """The check's model: 12 layers (the input layer first), 987 parameters, random weights."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(8, 8, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.MaxPooling2D(2, name="stem_pool")(x)
    x = layers.Conv2D(6, 3, padding="same", name="block1_conv1")(x)
    x = layers.BatchNormalization(name="block1_bn")(x)
    x = layers.Conv2D(6, 1, name="block1_conv2")(x)
    x = layers.Conv2D(8, 3, padding="same", name="block2_conv1")(x)
    x = layers.Conv2D(8, 1, name="block2_conv2")(x)
    x = layers.BatchNormalization(name="block2_bn")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(3, name="dense")(x)
    return keras.Model(inputs, outputs, name="tiny_backbone")


def _names(model) -> list[str]:
    return [layer.name for layer in model.layers]


# --- 11.1 train the last n blocks, with the page's freeze_all_but --------------------------------------------------

BLOCKS = ("block1", "block2")   # tiny_backbone's blocks, in order; stem before them, the head (pool, dense) after


def _expected_trainable(names: list[str], first: str) -> list[str]:
    """Every layer from ``first`` on, except BatchNormalization: what freeze_all_but(from_layer=first) leaves trainable."""
    return [name for name in names[names.index(first):] if name not in BATCH_NORM]


def _check_blocks(t: Trial, model, n: int, before: str) -> None:
    names = _names(model)
    expected = _expected_trainable(names, f"{BLOCKS[-n]}_conv1")
    call = f"train_last_blocks(model, {n}) on {before}"
    got = t.call(model, n, allow_none=True)
    flags = {layer.name: bool(layer.trainable) for layer in model.layers}
    trained = [name for name in names if flags[name] and model.trainable]
    with_weights = [name for name in names if name in LAYER_PARAMETERS]
    trained_weights = [name for name in trained if name in with_weights]
    if trained == expected:
        if got is None:
            raise Wrong(f"{call}: the right layers train, but it returned None; return the names of the trainable "
                        "layers.", "freeze_all_but returns them: return what it returns.")
        if list(got) != expected:
            raise Wrong(f"{call} returned {short(got)}; expected the names of the trainable layers, {expected}.")
        t.ok(f"{call}: {', '.join(n_ for n_ in expected if n_ in with_weights)} train "
             f"({sum(LAYER_PARAMETERS[n_][0] for n_ in expected if n_ in LAYER_PARAMETERS):,} parameters), "
             "BatchNormalization frozen")
        return
    if not model.trainable or not trained:
        raise Wrong(f"{call}: nothing would train: the whole model is frozen.",
                    "freeze_all_but sets model.trainable = True itself: call it instead of freezing by hand.")
    if len(trained) == len(expected) + sum(name in BATCH_NORM for name in names[names.index(expected[0]):]) and \
            [name for name in trained if name not in BATCH_NORM] == expected:
        raise Wrong(f"{call}: the BatchNormalization layers among the trained blocks are trainable. With a few "
                    "hundred photos, BatchNormalization stays frozen (inference mode, its ImageNet statistics).",
                    "Keep freeze_all_but's keep_batchnorm_frozen=True (its default).")
    if trained == [name for name in names[len(names) - n:] if name not in BATCH_NORM]:
        raise Wrong(f"{call}: the last {n} layers train ({', '.join(trained)}), not the last {n} blocks: "
                    f"freeze_all_but(model, last={n}) counts layers.",
                    "Find the first layer of the n-th last block and pass it as from_layer.")
    after_blocks = next(name for name in reversed(names) if name.startswith("block"))
    head_start = names[names.index(after_blocks) + 1]
    for k, what in ((n + 1, "one block too many"), (n - 1, "one block too few")):
        first = head_start if k == 0 else f"{BLOCKS[-k]}_conv1" if k <= len(BLOCKS) else None
        if first and trained == _expected_trainable(names, first):
            raise Wrong(f"{call}: the last {k} blocks train instead of the last {n}: off by one ({what}).",
                        f"With blocks {list(BLOCKS)}, the last {n} start at blocks[-{n}].")
    head = [name for name in ("pool", "dense") if not flags[name]]
    if head and all(flags[name] for name in expected if name.startswith("block")):
        raise Wrong(f"{call}: the blocks train, but the head after them ({', '.join(head)}) is frozen: every layer "
                    "after the last block trains too.",
                    "freeze_all_but(model, from_layer=...) trains everything from that layer to the end.")
    should = [name for name in expected if name in with_weights and not flags[name]]
    should_not = [name for name in trained_weights if name not in expected]
    raise Wrong(f"{call}: " + "; ".join(
        ([f"{', '.join(should)} should train"] if should else [])
        + ([f"{', '.join(should_not)} should be frozen"] if should_not else [])
        or [f"the trainable layers are {trained}, expected {expected}"]) + ".",
        f"The last {n} block(s) of this model start at layer {expected[0]!r}.")


def check_train_last_blocks(t: Trial) -> None:
    model = tiny_backbone()
    _check_blocks(t, model, 1, "a fresh model")
    model = tiny_backbone()
    model.trainable = False
    _check_blocks(t, model, 2, "a model frozen as a whole before (model.trainable = False)")
    _check_blocks(t, model, 1, "the same model, called again with n = 1")


# --- 11.2 trainable and non-trainable parameters ---------------------------------------------------------------

def _pair(t: Trial, got, call: str) -> tuple[int, int]:
    if isinstance(got, dict):
        raise Wrong(f"{call} returned a dict ({short(got)}); return a pair: (trainable, non_trainable).")
    if isinstance(got, (str, bytes)) or not hasattr(got, "__len__"):
        raise Wrong(f"{call} should return a pair of numbers (trainable, non_trainable), but it returned "
                    f"{short(got)}.")
    if len(got) != 2:
        raise Wrong(f"{call} returned {len(got)} values ({short(got)}); expected two: (trainable, non_trainable).")
    return t.integer(got[0], f"the trainable count of {call}"), t.integer(got[1], f"the non-trainable count of {call}")


def _check_counts(t: Trial, model, expected: tuple[int, int], call: str) -> None:
    got = _pair(t, t.call(model), call)
    if got == expected:
        t.ok(f"{call} = ({expected[0]:,}, {expected[1]:,})")
        return
    trainable, non_trainable = expected
    if got == (non_trainable, trainable):
        raise Wrong(f"{call} gave {got}: trainable and non-trainable are swapped.", "Return (trainable, non_trainable).")
    if got[0] == trainable + MOVING_STATISTICS and non_trainable >= MOVING_STATISTICS \
            and got[1] == non_trainable - MOVING_STATISTICS:
        raise Wrong(f"{call} gave {got}: BatchNormalization's moving mean and variance ({MOVING_STATISTICS} numbers "
                    "here) were counted as trainable. They are updated from the data, never by the optimizer: they are "
                    "non-trainable weights, even in a trainable layer.",
                    "Count model.trainable_weights and model.non_trainable_weights, not whole layers.")
    if got == (TOTAL, 0) or got == (TOTAL, TOTAL):
        raise Wrong(f"{call} gave {got}: every parameter was counted as trainable, but this model has frozen "
                    "weights (and BatchNormalization's moving statistics are never trainable).")
    if got[0] == len(model.trainable_weights) and got[1] == len(model.non_trainable_weights):
        raise Wrong(f"{call} gave {got}: the number of weight arrays, not the number of parameters in them.",
                    "Each weight is an array: add up their sizes (the product of each shape).")
    if sum(got) == TOTAL:
        raise Wrong(f"{call} gave {got}: the total ({TOTAL:,}) is right, but the split is not; expected {expected}.",
                    "A layer inside a frozen nested model is frozen too, whatever its own flag.")
    raise Wrong(f"{call} gave {got}, expected {expected}.",
                "model.summary() prints both counts at its end: compare with it.")


def check_count_parameters(t: Trial) -> None:
    model = tiny_backbone()
    _check_counts(t, model, (TOTAL - MOVING_STATISTICS, MOVING_STATISTICS), "count_parameters(<fresh tiny model>)")
    tail = ("block2_conv1", "block2_conv2", "dense")
    for layer in model.layers:
        layer.trainable = layer.name in tail
    trainable = sum(LAYER_PARAMETERS[name][0] for name in tail)
    _check_counts(t, model, (trainable, TOTAL - trainable),
                  "count_parameters(<the model with only block2_conv1, block2_conv2 and dense trainable>)")
    import keras

    base = tiny_backbone()
    inputs = keras.Input(shape=(8, 8, 3))
    nested = keras.Model(inputs, keras.layers.Dense(2, name="new_head")(base(inputs)), name="nested")
    for layer in nested.layers[:25]:                 # the talk's freeze, on a nested model: freezes everything
        layer.trainable = False
    _check_counts(t, nested, (0, TOTAL + 3 * 2 + 2),
                  "count_parameters(<the talk's nested model after its layers[:25] freeze>)")


EXERCISES = [
    Exercise("11.1", "Train the last blocks", "train_last_blocks", check_train_last_blocks,
             solutions.train_last_blocks,
             hint="List the blocks (the text before the first '_' of the names that start with 'block') in order; "
                  "blocks[-n] is where training starts: freeze_all_but(model, from_layer=blocks[-n] + '_')."),
    Exercise("11.2", "Trainable and non-trainable parameters", "count_parameters", check_count_parameters,
             solutions.count_parameters,
             hint="Add up the sizes of model.trainable_weights, then of model.non_trainable_weights."),
]

QUESTIONS = [
    Question("The tutorial runs `for layer in vgg_conv.layers[:-4]: layer.trainable = False` on VGG16's base. Which "
             "layers still train?", 1, "The last 4 layers: block 5's three convolutions and its max pooling "
             "(7.1 M parameters); blocks 1-4 are frozen.",
             options=("the first 4 layers", "block 5's three convolutions and its pooling layer",
                      "only the last convolution", "none: the whole base is frozen")),
    Question("On the talk's model (an Input, the whole VGG16 as one layer, the classifier as one layer), what does "
             "`for layer in model.layers[:25]: layer.trainable = False` freeze?", 3,
             "model.layers has only 3 entries, so all of them are frozen, nested models included: nothing trains.",
             options=("the first 25 convolutional layers", "blocks 1 to 4 of VGG16", "only the classifier",
                      "everything: the model has 3 layers, all frozen")),
    Question("The tutorial's model has 40,408,899 parameters of which 32,773,635 are trainable. How many are "
             "non-trainable?", 7635264, "40,408,899 − 32,773,635 = 7,635,264, the weights of blocks 1-4.",
             tolerance=0.0),
    Question("Why do BatchNormalization layers stay frozen when fine-tuning on a few hundred photos?", 0,
             "A frozen BatchNormalization layer runs in inference mode with its ImageNet statistics; re-estimating "
             "them from a few small batches would shift the features the next layers expect.",
             options=("their ImageNet statistics are better than estimates from a few small batches",
                      "they have no weights", "Keras cannot train them", "they slow training down")),
    Question("Why can experiment 2 train on cached activations, while experiment 3 runs the whole network each "
             "epoch?", 2, "Augmentation changes every training photo each epoch, so what enters the last block "
             "changes too; without augmentation the frozen front gives the same activations every time.",
             options=("experiment 3 has more trainable parameters", "experiment 3 uses a different optimizer",
                      "augmentation changes the photos every epoch", "the cache is too large for experiment 3")),
]
