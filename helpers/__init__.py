"""Helpers for the "Deep Learning for Beginners, executed" course.

The notebooks tell the story; this package holds the repeated mechanics they import:

- :mod:`helpers.sources`        where data comes from (online Keras cache or the offline mirror)
- :mod:`helpers.data`           dataset loaders with the same return types as ``keras.datasets``
- :mod:`helpers.preprocessing`  flatten, scale, one-hot, split, subsample, add noise
- :mod:`helpers.plots`          the tutorials' figures (learning curves, image grids, predictions)
- :mod:`helpers.checks`         the expectations a notebook asserts, with readable errors
- :mod:`helpers.training`       seeding and a one-line-per-epoch training log
- :mod:`helpers.report`         metrics recorded for the course runner, and the run's output folder
- :mod:`helpers.runner`         ``python -m helpers run``: execute notebooks with papermill
- :mod:`helpers.imagenet`       one entry point for ImageNet classifiers and feature extractors
- :mod:`helpers.efficientnet_lite`  EfficientNet-Lite0/1/2 in Keras, with real weights converted offline
- :mod:`helpers.torch_checkpoint`   a safe reader for PyTorch weight files (no pickle code is run)
- :mod:`helpers.models`         builders for the tutorials' networks, one module per topic

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
