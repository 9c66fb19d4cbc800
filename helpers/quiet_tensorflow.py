"""Import TensorFlow without its C++ start-up lines in the notebooks (for :func:`helpers.setup`).

TensorFlow 2.21 prints lines such as ``oneDNN custom operations are on`` and ``Could not find cuda
drivers`` straight to the process's stderr (file descriptor 2) while it loads, before
``TF_CPP_MIN_LOG_LEVEL`` is honoured, and on a machine without an NVIDIA GPU an error line about
``cuInit`` when it looks for devices. Jupyter forwards that stream into the notebook, where it clutters
the first cell and makes nbval's stderr comparison brittle.

:func:`import_tensorflow_quietly` captures what TensorFlow prints while it loads and finds its devices,
drops those known lines, and prints everything else again, so a real error stays visible; if the import
fails, everything captured is printed and the exception propagates. Nothing is installed and nothing
is redirected outside that one call. Python's warnings and exceptions are never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from pathlib import Path

#: TensorFlow's start-up lines that say nothing a learner must act on: its absl preamble, INFO and
#: WARNING lines (which TF_CPP_MIN_LOG_LEVEL=2 hides, except those printed before logging is set up),
#: and, on a machine with no NVIDIA device at all, the expected failure to initialise CUDA.
STARTUP_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
                           r"|[IW]\d{4} [\d:.]+\s+\d+ \S+:\d+\] .*)$")
NO_GPU_CUINIT = re.compile(r"^E\d{4} .*failed call to cuInit.*$")


def _no_nvidia_device() -> bool:
    return not Path("/dev/nvidia0").exists() and not Path("/dev/nvidiactl").exists()


@contextlib.contextmanager
def c_stderr_captured():
    """Send file descriptor 2 to a temporary file inside the block; yields a function returning its text.

    Unlike sending it to /dev/null, nothing is lost: the caller decides what to print again.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some embedded interpreters)
        yield lambda: ""
        return
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            yield lambda: (capture.seek(0), capture.read().decode("utf-8", "replace"))[1]
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_tensorflow_quietly():
    """Import TensorFlow (and let it find its devices) with its start-up lines filtered out.

    Everything TensorFlow prints on the C level while loading is captured; the lines of
    :data:`STARTUP_NOISE` (and the cuInit failure on a machine with no NVIDIA device) are dropped and
    every other line is printed again on ``sys.stderr``, so real errors stay visible. If the import
    fails, everything captured is printed and the exception propagates.
    """
    with c_stderr_captured() as captured:
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # device discovery prints its own start-up lines now
        except BaseException:
            sys.stderr.write(captured())
            raise
        text = captured()
    no_gpu = _no_nvidia_device()
    kept = [line for line in text.splitlines()
            if line.strip() and not STARTUP_NOISE.match(line) and not (no_gpu and NO_GPU_CUINIT.match(line))]
    if kept:
        sys.stderr.write("\n".join(kept) + "\n")
    return tf
