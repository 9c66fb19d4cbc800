"""Solutions to notebook 09's exercises."""

import numpy as np


def top_predictions(probabilities, class_names, top=5):
    probabilities = np.asarray(probabilities)
    decoded = []
    for row in probabilities:                       # one photo at a time
        best = np.argsort(row)[::-1][:top]          # class indices, most probable first
        decoded.append([(class_names[i], float(row[i])) for i in best])
    return decoded


def vgg_preprocess(batch):
    batch = np.array(batch, dtype="float32")        # a copy: the caller's array stays as it was
    bgr = batch[..., ::-1]                          # RGB -> BGR: reverse the last (channel) axis
    return bgr - np.array([103.939, 116.779, 123.68], dtype="float32")   # ImageNet means of B, G, R
