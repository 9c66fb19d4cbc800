"""Autoencoders for notebook 08: the 5→3→5 vanilla example and the tutorial's convolutional denoiser.

- :func:`build_vanilla_autoencoder`: ``Dense`` encoder to a small bottleneck and ``Dense`` decoder back
  (the tutorial's 2-layer figure: 5 inputs, 3 bottleneck units, 5 outputs).
- :func:`build_conv_denoising_autoencoder`: the LearnOpenCV tutorial's network, layer for layer:

  ============================  ==========================  ==============
  layer (name)                  what                        output shape
  ============================  ==========================  ==============
  ``conv1`` + ``conv1_act``     Conv2D 32, 3×3, same        28×28×32
  ``pool1``                     MaxPool 2×2                 14×14×32
  ``conv2`` + ``conv2_act``     Conv2D 32, 3×3, same        14×14×32
  ``encoding``                  MaxPool 2×2 (bottleneck)    7×7×32 = 1,568
  ``conv3`` + ``conv3_act``     Conv2D 32, 3×3, same        7×7×32
  ``upsample1``                 Conv2DTranspose 32, s=2     14×14×32
  ``upsample2``                 Conv2DTranspose 32, s=2     28×28×32
  ``logits``                    Conv2D 1, 3×3, same         28×28×1
  ``recon``                     sigmoid                     28×28×1
  ============================  ==========================  ==============

  The activation after the three ``conv`` layers is leaky ReLU with slope 0.1 (``activation="relu"``
  for the exercise); as in the tutorial's code the two transposed convolutions and the logits layer
  have no activation of their own.
- :func:`build_training_noise`: the tutorial's noise, drawn anew for every training batch: a
  ``GaussianNoise`` layer (active in training only) followed by clipping to ``[0, 1]``.
- :func:`psnr` and :func:`binary_crossentropy`: the image-quality numbers the notebook asserts.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("leaky_relu", "relu")


def build_vanilla_autoencoder(input_dim: int = 5, bottleneck: int = 3, activation: str | None = None,
                              name: str = "vanilla_autoencoder"):
    """``input_dim`` → ``Dense(bottleneck)`` → ``Dense(input_dim)``: the smallest autoencoder.

    Layers are named ``inputs``, ``bottleneck`` and ``reconstruction``. With the default
    (``activation=None``, linear) it can at best learn the best ``bottleneck``-dimensional linear
    subspace of the data, like PCA. Input and output: float32 ``(batch, input_dim)``. Not compiled.
    """
    import keras

    if int(input_dim) < 1 or int(bottleneck) < 1:
        raise ValueError(f"input_dim and bottleneck must be positive; got {input_dim} and {bottleneck}.")
    inputs = keras.Input(shape=(int(input_dim),), name="inputs")
    code = keras.layers.Dense(int(bottleneck), activation=activation, name="bottleneck")(inputs)
    outputs = keras.layers.Dense(int(input_dim), name="reconstruction")(code)
    return keras.Model(inputs, outputs, name=name)


def _activation_layer(activation: str, alpha: float, name: str):
    import keras

    if activation == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=alpha, name=name)
    return keras.layers.ReLU(name=name)


def build_conv_denoising_autoencoder(input_shape: tuple[int, int, int] = (28, 28, 1), filters: int = 32,
                                     activation: str = "leaky_relu", alpha: float = 0.1,
                                     name: str = "denoising_autoencoder"):
    """The tutorial's convolutional denoising autoencoder (see the module docstring for the layers).

    Args:
        input_shape: ``(height, width, channels)``; height and width must be divisible by 4
            (two 2×2 poolings, two stride-2 upsamplings). MNIST: ``(28, 28, 1)``.
        filters: filters of every hidden convolution (the tutorial: 32).
        activation: ``"leaky_relu"`` (the tutorial) or ``"relu"`` (the exercise).
        alpha: leaky ReLU's slope for negative inputs (the tutorial: 0.1).

    Returns:
        an uncompiled ``keras.Model`` from noisy float32 images in ``[0, 1]`` to reconstructions
        in ``(0, 1)``, same shape. Its layer ``"encoding"`` outputs the bottleneck
        (``7×7×32`` for MNIST); use :func:`encoder_of` to get the encoder alone.
    """
    import keras

    if activation not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}.")
    if len(tuple(input_shape)) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), e.g. (28, 28, 1); got {input_shape}.")
    height, width, channels = (int(v) for v in input_shape)
    if height % 4 or width % 4 or min(height, width, channels) < 1:
        raise ValueError(f"Height and width must be positive multiples of 4 (two 2x2 poolings); got {input_shape}.")
    if int(filters) < 1:
        raise ValueError(f"filters must be positive; got {filters}.")
    if not 0.0 <= float(alpha) < 1.0:
        raise ValueError(f"alpha (leaky ReLU slope) must be in [0, 1); got {alpha}.")

    def conv(x, layer_name):
        x = keras.layers.Conv2D(filters, (3, 3), strides=(1, 1), padding="same", name=layer_name)(x)
        return _activation_layer(activation, float(alpha), f"{layer_name}_act")(x)

    inputs = keras.Input(shape=(height, width, channels), name="noisy")
    # encoder: 28x28x1 -> 7x7x32
    x = conv(inputs, "conv1")                                                    # 28x28x32
    x = keras.layers.MaxPooling2D((2, 2), strides=(2, 2), name="pool1")(x)       # 14x14x32
    x = conv(x, "conv2")                                                         # 14x14x32
    encoded = keras.layers.MaxPooling2D((2, 2), strides=(2, 2), name="encoding")(x)  # 7x7x32
    # decoder: 7x7x32 -> 28x28x1
    x = conv(encoded, "conv3")                                                   # 7x7x32
    x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same", name="upsample1")(x)  # 14x14x32
    x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same", name="upsample2")(x)  # 28x28x32
    logits = keras.layers.Conv2D(channels, (3, 3), padding="same", name="logits")(x)  # 28x28x1
    outputs = keras.layers.Activation("sigmoid", name="recon")(logits)
    return keras.Model(inputs, outputs, name=name)


def build_training_noise(noise_factor: float = 0.5, seed: int | None = None, input_shape=None,
                         name: str = "add_noise"):
    """Layers that add fresh noise to every training batch: ``clip(x + noise_factor * N(0, 1), 0, 1)``.

    ``GaussianNoise(noise_factor)`` draws new noise each time it is called with ``training=True``
    (every batch of ``fit``) and passes its input through unchanged otherwise (``predict``,
    ``evaluate``, validation). ``ReLU(max_value=1.0)`` is ``clip(x, 0, 1)``: it brings the noisy
    pixels back to ``[0, 1]`` and leaves images already in that range unchanged. Put it in front of
    the autoencoder and train on clean images (``fit(x, x)``): this is what the tutorial does by
    adding ``np.random.normal`` noise to every batch in its training loop. Input and output: float32
    images ``(batch, height, width, channels)`` in ``[0, 1]``; ``input_shape`` (e.g. ``(28, 28, 1)``)
    builds the block at once.
    """
    import keras

    if not float(noise_factor) >= 0.0:
        raise ValueError(f"noise_factor must be >= 0 (the tutorial uses 0.5); got {noise_factor}.")
    first = [keras.Input(shape=tuple(input_shape))] if input_shape is not None else []
    return keras.Sequential(first + [
        keras.layers.GaussianNoise(float(noise_factor), seed=seed, name="gaussian_noise"),
        keras.layers.ReLU(max_value=1.0, name="clip_0_1"),
    ], name=name)


def encoder_of(autoencoder):
    """The encoder half of a model from :func:`build_conv_denoising_autoencoder` (input → ``encoding``)."""
    import keras

    try:
        encoding = autoencoder.get_layer("encoding")
    except ValueError:
        raise ValueError("The model has no layer named 'encoding'; build it with build_conv_denoising_autoencoder().") from None
    return keras.Model(autoencoder.inputs[0], encoding.output, name="encoder")


def _pair(reference, other, what: str):
    reference = np.asarray(reference, dtype=np.float64)
    other = np.asarray(other, dtype=np.float64)
    if reference.shape != other.shape:
        raise ValueError(f"{what}: the two image arrays differ in shape: {reference.shape} vs {other.shape}.")
    if reference.ndim < 2:
        raise ValueError(f"{what}: expected a batch of images (n, height, width[, channels]); got shape {reference.shape}.")
    return reference, other


def psnr(reference, other, data_range: float = 1.0) -> np.ndarray:
    """Peak signal-to-noise ratio per image, in dB: ``10 log10(data_range² / MSE)``.

    Args:
        reference: clean images ``(n, h, w[, c])``, float in ``[0, data_range]``.
        other: images to compare (noisy or reconstructed), same shape.
        data_range: largest possible pixel value (1.0 for images scaled to ``[0, 1]``, 255 for uint8).

    Returns:
        float64 array ``(n,)``; ``inf`` for an image identical to its reference. Higher is better:
        +6 dB is half the root-mean-square error.
    """
    if data_range <= 0:
        raise ValueError(f"data_range must be positive (1.0 for [0, 1] images, 255 for uint8); got {data_range}.")
    reference, other = _pair(reference, other, "psnr")
    mse = ((reference - other) ** 2).reshape(len(reference), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range ** 2 / mse)


def binary_crossentropy(targets, predictions, epsilon: float = 1e-7) -> float:
    """Mean binary cross-entropy over all pixels, clipping predictions to ``[epsilon, 1 - epsilon]`` like Keras.

    Used for the baseline "return the noisy input unchanged": its loss against the clean images.
    """
    targets, predictions = _pair(targets, predictions, "binary_crossentropy")
    p = np.clip(predictions, epsilon, 1.0 - epsilon)
    return float(np.mean(-(targets * np.log(p) + (1.0 - targets) * np.log(1.0 - p))))
