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

:func:`setup` is the explicit replacement the notebooks will move to (first cell, before TensorFlow):
``TF_CPP_MIN_LOG_LEVEL=2`` (TensorFlow's errors stay visible, nothing is redirected) and the figure style.
"""

import os

from helpers import quiet_tensorflow

# The level a user chose before importing helpers (None: not chosen); setup() never overrides it.
_USER_TF_LOG_LEVEL = os.environ.get("TF_CPP_MIN_LOG_LEVEL")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
quiet_tensorflow.install()

__version__ = "1.0.0"


def setup(tf_log_level: int = 2, figure_style: bool = True) -> dict:
    """Prepare a notebook in one explicit call (the first cell, before TensorFlow or Keras is imported).

    * TensorFlow's C++ logging: ``TF_CPP_MIN_LOG_LEVEL`` is set to ``tf_log_level`` (default 2: start-up
      INFO and WARNING lines hidden, ERROR lines still shown), unless you set the variable yourself
      before importing ``helpers``; set it to 0 to see everything. It takes effect only if TensorFlow
      is not imported yet. No stream is redirected, so a failing ``import tensorflow`` shows its error.
    * ``figure_style=True`` applies the course's matplotlib style (:func:`helpers.plots.use_course_style`).

    Returns:
        ``{"TF_CPP_MIN_LOG_LEVEL": str, "tensorflow_already_imported": bool, "figure_style": bool}``,
        what was in effect after the call.

    Raises:
        ValueError: ``tf_log_level`` is not 0, 1, 2 or 3.
    """
    import sys

    if tf_log_level not in (0, 1, 2, 3) or isinstance(tf_log_level, bool):
        raise ValueError(f"tf_log_level={tf_log_level!r}: use 0 (all), 1 (no INFO), 2 (errors only) or 3 (none).")
    if _USER_TF_LOG_LEVEL is None:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = str(tf_log_level)
    if figure_style:
        from helpers import plots

        plots.use_course_style()
    return {
        "TF_CPP_MIN_LOG_LEVEL": os.environ["TF_CPP_MIN_LOG_LEVEL"],
        "tensorflow_already_imported": "tensorflow" in sys.modules,
        "figure_style": figure_style,
    }
