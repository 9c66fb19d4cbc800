"""Tiny Keras models that several test files build (kept in one place)."""

import keras


def tiny_cnn(size: int = 16) -> keras.Model:
    """Two conv blocks with BatchNorm named like a backbone's (block1_*, block2_*): (size, size, 3) -> (8,)."""
    inputs = keras.Input((size, size, 3), name="img")
    x = keras.layers.Conv2D(4, 3, name="block1_conv")(inputs)
    x = keras.layers.BatchNormalization(name="block1_bn")(x)
    x = keras.layers.MaxPooling2D(2, name="block1_pool")(x)
    x = keras.layers.Conv2D(8, 3, name="block2_conv")(x)
    x = keras.layers.BatchNormalization(name="block2_bn")(x)
    x = keras.layers.GlobalAveragePooling2D(name="block2_pool")(x)
    return keras.Model(inputs, x, name="tiny")
