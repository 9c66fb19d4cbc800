"""Convolutional networks of notebook 06: the tutorial's CIFAR-10 CNN, the book's MNIST CNNs, augmentation.

Builders return *uncompiled* Keras models with fixed layer names, so ``model.summary()`` prints the
same table on every run (and matches the tutorial's layer names ``conv2d_1``, ``dense_1``, ...).

- :func:`build_cifar10_cnn`   LearnOpenCV tutorial: 6 conv + 1 dense layer, 276,138 parameters
- :func:`build_mnist_cnn`     Sandipan Dey's book chapter: 32+64 conv filters (1,199,882 parameters),
                              or the one-layer 64 x 5x5 variant (924,374 parameters)
- :func:`augmentation_block`  Keras 3 preprocessing layers replacing the tutorial's ``ImageDataGenerator``
- :func:`tutorial_rmsprop`    the optimizer the tutorial's ``optimizer='rmsprop'`` meant, in Keras 3 naming
"""

from __future__ import annotations

import keras
from keras import layers

#: Parameter count of :func:`build_cifar10_cnn` (as printed by the tutorial's ``model.summary()``).
CIFAR10_CNN_PARAMS = 276_138

#: The tutorial's summary: (layer name, output shape without the batch axis, parameters).
CIFAR10_CNN_LAYERS = [
    ("conv2d_1", (32, 32, 32), 896),
    ("conv2d_2", (30, 30, 32), 9248),
    ("max_pooling2d_1", (15, 15, 32), 0),
    ("dropout_1", (15, 15, 32), 0),
    ("conv2d_3", (15, 15, 64), 18496),
    ("conv2d_4", (13, 13, 64), 36928),
    ("max_pooling2d_2", (6, 6, 64), 0),
    ("dropout_2", (6, 6, 64), 0),
    ("conv2d_5", (6, 6, 64), 36928),
    ("conv2d_6", (4, 4, 64), 36928),
    ("max_pooling2d_3", (2, 2, 64), 0),
    ("dropout_3", (2, 2, 64), 0),
    ("flatten_1", (256,), 0),
    ("dense_1", (512,), 131584),
    ("dropout_4", (512,), 0),
    ("dense_2", (10,), 5130),
]

#: Parameter counts of the book chapter's two MNIST CNNs.
MNIST_CNN_PARAMS = {"two_conv": 1_199_882, "one_conv": 924_374}
MNIST_CNN_VARIANTS = tuple(MNIST_CNN_PARAMS)


def augmentation_block(flip: str | None = "horizontal", translation: float = 0.1, seed: int | None = None,
                       name: str = "augmentation") -> keras.Sequential:
    """Random flips and shifts, applied to each training batch (and switched off at inference).

    Keras 3 replacement for the tutorial's ``ImageDataGenerator(horizontal_flip=True,
    width_shift_range=0.1, height_shift_range=0.1)``: the layers sit inside the model, so
    ``model.fit`` augments on the fly and ``model.predict`` / ``evaluate`` see the images unchanged.

    Args:
        flip: ``"horizontal"``, ``"vertical"``, ``"horizontal_and_vertical"`` or ``None`` (no flip).
        translation: maximum shift as a fraction of height and width (0.1 = up to 3 pixels of 32).
        seed: seed of the random transformations.
        name: the block's name in ``model.summary()``.

    Returns:
        ``keras.Sequential`` mapping float images ``(n, h, w, c)`` to images of the same shape.
    """
    valid_flips = (None, "horizontal", "vertical", "horizontal_and_vertical")
    if flip not in valid_flips:
        raise ValueError(f"flip={flip!r} is not one of {valid_flips}.")
    if not 0.0 <= translation < 1.0:
        raise ValueError(f"translation must be a fraction in [0, 1); got {translation}.")
    block = []
    if flip:
        block.append(layers.RandomFlip(flip, seed=seed, name="random_flip"))
    if translation:
        block.append(layers.RandomTranslation(translation, translation, fill_mode="nearest", seed=seed,
                                              name="random_translation"))
    if not block:
        raise ValueError("An augmentation block needs a flip or a translation.")
    return keras.Sequential(block, name=name)


def build_cifar10_cnn(input_shape: tuple[int, int, int] = (32, 32, 3), num_classes: int = 10,
                      augmentation: keras.Model | None = None, name: str = "cifar10_cnn") -> keras.Sequential:
    """The LearnOpenCV tutorial's CIFAR-10 network (``createModel()``), layer for layer.

    Three blocks of [Conv2D 'same' -> Conv2D 'valid' -> MaxPooling 2x2 -> Dropout 0.25] with 32, 64
    and 64 filters of 3x3, then Flatten -> Dense 512 ReLU -> Dropout 0.5 -> Dense softmax.
    For 32x32x3 inputs it has 276,138 parameters (:data:`CIFAR10_CNN_PARAMS`) and the output
    shapes of :data:`CIFAR10_CNN_LAYERS`.

    Args:
        input_shape: ``(height, width, channels)`` of the float inputs (scaled to [0, 1]).
        num_classes: softmax outputs.
        augmentation: optional block (see :func:`augmentation_block`) placed right after the input;
            it adds no parameters.
        name: model name.

    Returns:
        An uncompiled ``keras.Sequential``, outputs ``(batch, num_classes)`` probabilities.
    """
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels); got {input_shape}.")
    stack = [keras.Input(shape=input_shape, name="image")]
    if augmentation is not None:
        stack.append(augmentation)
    for block, filters in enumerate((32, 64, 64)):
        stack += [
            layers.Conv2D(filters, (3, 3), padding="same", activation="relu", name=f"conv2d_{2 * block + 1}"),
            layers.Conv2D(filters, (3, 3), activation="relu", name=f"conv2d_{2 * block + 2}"),
            layers.MaxPooling2D(pool_size=(2, 2), name=f"max_pooling2d_{block + 1}"),
            layers.Dropout(0.25, name=f"dropout_{block + 1}"),
        ]
    stack += [
        layers.Flatten(name="flatten_1"),
        layers.Dense(512, activation="relu", name="dense_1"),
        layers.Dropout(0.5, name="dropout_4"),
        layers.Dense(num_classes, activation="softmax", name="dense_2"),
    ]
    return keras.Sequential(stack, name=name)


def build_mnist_cnn(variant: str = "two_conv", input_shape: tuple[int, int, int] = (28, 28, 1),
                    num_classes: int = 10, name: str | None = None) -> keras.Sequential:
    """One of the book chapter's MNIST CNNs (Sandipan Dey, ch. 10), with the book's layer names.

    ``"two_conv"`` (the chapter's first CNN, 99.06 % on full MNIST after 10 epochs): Conv2D 32 3x3 ReLU
    -> Conv2D 64 3x3 ReLU -> MaxPooling 2x2 -> Dropout 0.25 -> Flatten -> Dense 128 ReLU -> Dropout 0.5
    -> Dense softmax; 1,199,882 parameters.

    ``"one_conv"`` (its second CNN, 98.90 %): Conv2D 64 5x5 ReLU -> MaxPooling 2x2 -> Flatten -> Dense 100
    ReLU -> Dense softmax; 924,374 parameters.

    Args:
        variant: one of :data:`MNIST_CNN_VARIANTS`.
        input_shape: ``(28, 28, 1)`` float images scaled to [0, 1].
        num_classes: softmax outputs.
        name: model name (default ``mnist_cnn_<variant>``).

    Returns:
        An uncompiled ``keras.Sequential``.
    """
    if variant not in MNIST_CNN_VARIANTS:
        raise ValueError(f"variant={variant!r} is not one of {MNIST_CNN_VARIANTS}.")
    stack = [keras.Input(shape=input_shape, name="digit")]
    if variant == "two_conv":
        stack += [
            layers.Conv2D(32, (3, 3), activation="relu", name="conv2d_1"),
            layers.Conv2D(64, (3, 3), activation="relu", name="conv2d_2"),
            layers.MaxPooling2D(pool_size=(2, 2), name="max_pooling2d_1"),
            layers.Dropout(0.25, name="dropout_1"),
            layers.Flatten(name="flatten_1"),
            layers.Dense(128, activation="relu", name="dense_1"),
            layers.Dropout(0.5, name="dropout_2"),
        ]
    else:
        stack += [
            layers.Conv2D(64, (5, 5), strides=(1, 1), activation="relu", name="conv2d_1"),
            layers.MaxPooling2D(pool_size=(2, 2), strides=(2, 2), name="max_pooling2d_1"),
            layers.Flatten(name="flatten_1"),
            layers.Dense(100, activation="relu", name="dense_1"),
        ]
    stack.append(layers.Dense(num_classes, activation="softmax", name="dense_2"))
    return keras.Sequential(stack, name=name or f"mnist_cnn_{variant}")


def tutorial_rmsprop(learning_rate: float = 0.001) -> keras.optimizers.RMSprop:
    """RMSprop with the settings of Keras 2's ``optimizer='rmsprop'`` used by the tutorial.

    Keras 2.1: ``RMSprop(lr=0.001, rho=0.9, epsilon=None, decay=0.0)``; Keras 3 spells the learning
    rate ``learning_rate=`` and has no ``decay`` argument (use a schedule instead).
    """
    return keras.optimizers.RMSprop(learning_rate=learning_rate, rho=0.9)


def layer_table(model) -> list[tuple[str, tuple, int]]:
    """``[(layer name, output shape without the batch axis, parameters), ...]`` for comparisons.

    Nested models (an augmentation block) are skipped: they add no parameters and keep the shape.
    """
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            continue
        rows.append((layer.name, tuple(layer.output.shape[1:]), layer.count_params()))
    return rows
