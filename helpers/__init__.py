"""Helpers for the "Deep Learning for Beginners, executed" course.

The notebooks tell the story; this package holds the repeated mechanics they import. Each notebook
starts with one explicit call, :func:`setup`; importing the package itself changes nothing global
(no environment variable, no import hook, no matplotlib setting).

Three layers, one folder each (``pyproject.toml``'s import-linter contracts check the directions):

- ``helpers/*.py`` and :mod:`helpers.taught`: the teaching library, what the notebooks import (listed here); it
  imports neither of the two others. :mod:`helpers.taught` is generated: the networks and loops a notebook teaches,
  written once on its page in cells marked ``#| export`` (``python -m helpers.taught.export`` writes them).
- :mod:`helpers.exercises`: the learner's exercises, checks and quizzes; it may import the teaching library.
- :mod:`helpers.course`: the course tooling behind ``python -m helpers`` (runner, presets, run records, reports,
  run times, store, website); it never imports Keras or TensorFlow, nor the modules that do.

The map for maintainers (what each package holds, how a run flows, where new things go): ``docs/architecture.md``.

Shared by every notebook:

- :mod:`helpers.sources`        where data comes from (online Keras cache or the offline mirror)
- :mod:`helpers.data`           dataset loaders with the same return types as ``keras.datasets``
- :mod:`helpers.preprocessing`  flatten, scale, split, subsample, add noise (one-hot: ``keras.utils.to_categorical``)
- :mod:`helpers.plots`          the tutorials' figures (learning curves, image grids, predictions)
- :mod:`helpers.parameters`     the grammar of a notebook's parameters cell; :func:`check_parameters` (the setup
  cell's one call) checks every value against it
- :mod:`helpers.checks`         the expectations a notebook asserts, with readable errors
- :mod:`helpers.training`       a one-line-per-epoch training log (seeding: ``keras.utils.set_random_seed``)
- :mod:`helpers.report`         metrics and training histories handed to the course runner, and the run's output folder
- :mod:`helpers.handoff`        the runner-notebook contract: one file per execution, named in ``$DLFB_HANDOFF_FILE``
- :mod:`helpers.quiet_tensorflow`  imports TensorFlow with its C++ start-up lines filtered out (for :func:`setup`)

One topic each (the notebook that uses it first in brackets):

- :mod:`helpers.thirty_thousand_feet` an image as numbers, cost, brute force, the bowl gradient descent runs on, its figures (01)
- :mod:`helpers.playground`     TensorFlow-Playground-style 2-D data and decision boundaries (04)
- :mod:`helpers.convolution`    convolution arithmetic in NumPy, output sizes, parameter counts (06)
- :mod:`helpers.feature_maps`   intermediate activations of any Keras model, plotted (06, 09)
- :mod:`helpers.activations`    activation functions and softmax (01, 07), derivatives, gradient norms, dead units (07)
- :mod:`helpers.image_quality`  PSNR and the pixel-wise binary cross-entropy of reconstructed images (08)
- :mod:`helpers.imagenet`       one entry point for ImageNet classifiers and feature extractors (09-11)
- :mod:`helpers.efficientnet_lite`  EfficientNet-Lite0/1/2 in Keras, with real weights converted offline (09-11)
- :mod:`helpers.torch_checkpoint`   a safe reader for PyTorch weight files (no pickle code is run) (09-11)
- :mod:`helpers.model_zoo`      architectures and sizes of the classic ImageNet models (09)
- :mod:`helpers.transfer`       class folders, cached bottleneck features, freezing, misclassifications (10, 11)
- :mod:`helpers.taught`         the code the pages teach, exported from them: ``descent`` (01), ``keras_basics`` (03),
  ``feedforward`` (04), ``mlp`` (05), ``cnn`` (06), ``deep_mlp`` (07), ``autoencoder`` (08), ``transfer`` (10),
  ``fine_tuning`` (11)
"""

import os
import sys

from helpers.parameters import check_parameters  # noqa: F401  (the setup cell's check, pure Python)

__version__ = "1.0.0"


def setup(tf_log_level: int = 3, figure_style: bool = True, plain_text: bool = True) -> dict:
    """Prepare a notebook in one explicit call: the first code cell after the parameters.

    * TensorFlow's C++ logging: ``TF_CPP_MIN_LOG_LEVEL`` is set to ``tf_log_level`` unless you set the
      variable yourself. The default is 3 because, measured with TensorFlow 2.21 and Keras 3.15, level 2
      prints harmless C++ ERROR lines into every training cell (``NodeDef mentions attribute
      use_unbounded_threadpool which is not in the op definition``, grappler's ``remapper failed``).
      Level 3 hides only TensorFlow's C++ log lines: every Python exception, TensorFlow's errors
      included, still shows. Pass 2 (errors) or 0 (everything) to see them. TensorFlow is then
      imported with its start-up lines filtered
      (:func:`helpers.quiet_tensorflow.import_tensorflow_quietly`): what it prints while loading is
      captured, the known start-up notices are dropped, anything else is printed again, and a failing
      ``import tensorflow`` shows its error.
    * ``figure_style=True`` applies the course's matplotlib style (:func:`helpers.plots.use_course_style`).
    * ``plain_text=True`` keeps terminal escape codes out of the plain-text version of rich's notebook outputs
      (:func:`helpers.plain_text.plain_text_rich_output`): ``model.summary()`` is displayed as HTML (coloured)
      and as plain text, and rich writes the plain text as for a colour terminal (``ESC[1m``, ``ESC[38;5;33m``),
      which the stored notebook would otherwise keep.

    To opt out, do not call it (the notebooks then print TensorFlow's start-up lines and use
    matplotlib's own style), or call ``helpers.setup(tf_log_level=0, figure_style=False, plain_text=False)``.

    Returns:
        ``{"TF_CPP_MIN_LOG_LEVEL": str, "tensorflow_already_imported": bool, "figure_style": bool,
        "plain_text": bool}``.

    Raises:
        ValueError: ``tf_log_level`` is not 0, 1, 2 or 3.
    """
    if tf_log_level not in (0, 1, 2, 3) or isinstance(tf_log_level, bool):
        raise ValueError(f"tf_log_level={tf_log_level!r}: use 0 (all), 1 (no INFO), 2 (errors only) or 3 (none).")
    already = sys.modules.get("tensorflow") is not None
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", str(tf_log_level))
    if not already:
        from helpers import quiet_tensorflow

        quiet_tensorflow.import_tensorflow_quietly()
    if figure_style:
        from helpers import plots

        plots.use_course_style()
    if plain_text:
        from helpers import plain_text as _plain_text

        _plain_text.plain_text_rich_output()
    return {"TF_CPP_MIN_LOG_LEVEL": os.environ["TF_CPP_MIN_LOG_LEVEL"], "tensorflow_already_imported": already,
            "figure_style": figure_style, "plain_text": plain_text}
