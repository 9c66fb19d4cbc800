"""Solutions to notebook 11's exercises."""

import keras
import numpy as np


def freeze_all_but_last(model, n):
    model.trainable = True                          # undo an earlier freeze of the whole model
    for layer in model.layers[:-n] if n > 0 else model.layers:
        layer.trainable = False                     # the early, general layers
    for layer in model.layers[len(model.layers) - n:]:
        # the last n layers train, except BatchNormalization: it stays frozen (inference mode, ImageNet statistics)
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)


def count_parameters(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable, non_trainable
