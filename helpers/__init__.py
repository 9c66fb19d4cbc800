"""Helpers for the "Deep Learning for Beginners, executed" course.

The notebooks tell the story; this package holds the repeated mechanics they import.

Shared by every notebook:

- :mod:`helpers.sources`        where data comes from (online Keras cache or the offline mirror)
- :mod:`helpers.data`           dataset loaders with the same return types as ``keras.datasets``
- :mod:`helpers.preprocessing`  flatten, scale, one-hot, split, subsample, add noise
- :mod:`helpers.plots`          the tutorials' figures (learning curves, image grids, predictions)
- :mod:`helpers.checks`         the expectations a notebook asserts, with readable errors
- :mod:`helpers.training`       seeding and a one-line-per-epoch training log
- :mod:`helpers.report`         metrics recorded for the course runner, and the run's output folder
- :mod:`helpers.runner`         ``python -m helpers run``: execute notebooks with papermill
- :mod:`helpers.quiet_tensorflow`  keeps TensorFlow's C++ start-up lines out of the notebooks

One topic each (the notebook that uses it first in brackets):

- :mod:`helpers.basics`         softmax, cost, brute force and gradient descent on a bowl (01)
- :mod:`helpers.playground`     TensorFlow-Playground-style 2-D data and decision boundaries (04)
- :mod:`helpers.lowlevel`       a network written with ``tf.Variable`` and ``tf.GradientTape`` (05)
- :mod:`helpers.convolution`    convolution arithmetic in NumPy, output sizes, parameter counts (06)
- :mod:`helpers.feature_maps`   intermediate activations of any Keras model, plotted (06, 09)
- :mod:`helpers.activations`    activation functions, derivatives, gradient norms, dead units (07)
- :mod:`helpers.imagenet`       one entry point for ImageNet classifiers and feature extractors (09-11)
- :mod:`helpers.efficientnet_lite`  EfficientNet-Lite0/1/2 in Keras, with real weights converted offline (09-11)
- :mod:`helpers.torch_checkpoint`   a safe reader for PyTorch weight files (no pickle code is run) (09-11)
- :mod:`helpers.model_zoo`      architectures and sizes of the classic ImageNet models (09)
- :mod:`helpers.transfer`       cached bottleneck features, heads, freezing, misclassifications (10, 11)
- :mod:`helpers.models`         builders for the tutorials' networks: ``mlp``, ``cnn``, ``autoencoder``, ``scratch_cnn``

Importing this package is cheap: it imports no TensorFlow. It only makes TensorFlow's C++
logging quiet (``TF_CPP_MIN_LOG_LEVEL=3`` unless you chose a level yourself, and
:mod:`helpers.quiet_tensorflow` for the start-up lines), so a notebook that imports ``helpers``
before TensorFlow keeps its stderr clean.
"""

import os

from helpers import quiet_tensorflow

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
quiet_tensorflow.install()

__version__ = "1.0.0"
