"""Keep TensorFlow's C++ start-up messages out of the notebooks.

TensorFlow 2.21 prints lines such as ``oneDNN custom operations are on`` and ``Could not find cuda
drivers`` straight to the process's stderr while it loads, before ``TF_CPP_MIN_LOG_LEVEL`` is
honoured. Jupyter forwards that stream into the notebook, where it clutters the first cell and
makes nbval's stderr comparison brittle.

:func:`install` adds an import hook: the first ``import tensorflow`` (directly, or through
``import keras``) runs with the C-level stderr (file descriptor 2) sent to ``/dev/null``. Python's
own warnings and exceptions are not affected: they go through ``sys.stderr``, which Jupyter
replaces with its own stream. ``import helpers`` installs the hook; set ``DLFB_TF_STARTUP_LOGS=1``
to see the messages again.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import os
import sys


@contextlib.contextmanager
def c_stderr_silenced():
    """Send file descriptor 2 to /dev/null inside the block (Python's ``sys.stderr`` object is untouched)."""
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with c_stderr_silenced():
            self._loader.exec_module(module)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != "tensorflow":
            return None
        import importlib.util

        sys.meta_path.remove(self)  # one-shot: find the real spec, then wrap its loader
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Silence TensorFlow's C++ start-up messages for the first ``import tensorflow`` in this process."""
    if "tensorflow" in sys.modules or os.environ.get("DLFB_TF_STARTUP_LOGS") == "1":
        return
    if not any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())
