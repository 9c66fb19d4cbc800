"""Solutions to notebook 11's exercises."""

import numpy as np

from helpers.taught.fine_tuning import freeze_all_but  # notebook 11, section 3


def train_last_blocks(model, n):
    blocks = []                                     # block1, block2, ... in the order of model.layers
    for layer in model.layers:
        block = layer.name.split("_")[0]
        if layer.name.startswith("block") and block not in blocks:
            blocks.append(block)
    return freeze_all_but(model, from_layer=blocks[-n] + "_")   # the page's loop; BatchNormalization stays frozen


def count_parameters(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable, non_trainable
