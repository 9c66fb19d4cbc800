"""The IBM talk's small cats-vs-dogs network, trained from scratch (notebook 10's baseline).

Three convolution blocks (32, 32, 64 filters of 3x3, ReLU, 2x2 max pooling), then
Flatten -> Dense 64 ReLU -> Dropout 0.5 -> Dense 1 sigmoid; binary cross-entropy, RMSprop.
The talk trains it on 150x150 images (the last feature map is 17x17x64 = 18,496 values) and
reports 74-78 % validation accuracy after 50 epochs with augmentation.

Shapes (150x150 input)::

    input       (batch, 150, 150, 3)  float32 pixels; the model rescales 0..255 -> 0..1 itself
    conv1/pool1 (batch, 148, 148, 32) -> (batch, 74, 74, 32)
    conv2/pool2 (batch, 72, 72, 32)   -> (batch, 36, 36, 32)
    conv3/pool3 (batch, 34, 34, 64)   -> (batch, 17, 17, 64)
    flatten     (batch, 18496)
    output      (batch, 1)            probability of class 1 ("dogs")
"""

from __future__ import annotations


def build_scratch_cnn(image_size: int = 150, rescale: bool = True, dropout: float = 0.5, name: str = "scratch_cnn"):
    """Build (uncompiled) the IBM talk's 3-convolution binary classifier.

    Args:
        image_size: square input size in pixels (150 in the talk). At least 22 (three valid
            3x3 convolutions and 2x2 poolings must leave one pixel).
        rescale: start with ``Rescaling(1/255)`` so the model takes raw 0..255 pixels
            (the talk's ``ImageDataGenerator(rescale=1./255)``).
        dropout: dropout rate before the output (0.5 in the talk).

    Returns:
        ``keras.Sequential`` (as the talk writes it) with input ``(batch, image_size, image_size, 3)`` and output ``(batch, 1)``
        (sigmoid). Layer names: ``conv1``, ``pool1``, ..., ``fc1``, ``dropout``, ``output``.
    """
    import keras
    from keras import layers

    if image_size < 22:
        raise ValueError(f"image_size must be at least 22 pixels for three conv+pool blocks, got {image_size}")
    stack = [keras.Input(shape=(image_size, image_size, 3), name="image")]
    if rescale:
        stack.append(layers.Rescaling(1.0 / 255, name="rescale"))
    for i, filters in enumerate((32, 32, 64), start=1):
        stack += [layers.Conv2D(filters, 3, activation="relu", name=f"conv{i}"),
                  layers.MaxPooling2D(2, name=f"pool{i}")]
    stack += [layers.Flatten(name="flatten"),
              layers.Dense(64, activation="relu", name="fc1"),
              layers.Dropout(dropout, name="dropout"),
              layers.Dense(1, activation="sigmoid", name="output")]
    return keras.Sequential(stack, name=name)


def compile_scratch_cnn(model, learning_rate: float = 1e-3):
    """Compile as in the talk: binary cross-entropy, RMSprop (Keras default rate 1e-3), accuracy."""
    import keras

    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model
