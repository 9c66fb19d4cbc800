"""TensorFlow's C++ start-up lines stay out of stderr once ``helpers`` is imported first."""

import os
import subprocess
import sys

import pytest

from helpers import quiet_tensorflow

IMPORT_TF = "import tensorflow as tf; import sys; print(tf.__version__)"


def run_python(code: str, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "DLFB_TF_STARTUP_LOGS")}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120)


@pytest.fixture(scope="module")
def startup_logs_without_helpers():
    return run_python(IMPORT_TF).stderr


def test_helpers_first_keeps_stderr_clean(startup_logs_without_helpers):
    quiet = run_python("import helpers; " + IMPORT_TF)
    assert quiet.returncode == 0 and quiet.stdout.strip()
    assert quiet.stderr.strip() == "", quiet.stderr
    # The check is meaningful only if TensorFlow really prints something when left alone.
    if not startup_logs_without_helpers.strip():
        pytest.skip("this TensorFlow build prints nothing at start-up, so there is nothing to silence")


def test_opt_out_shows_the_messages_again(startup_logs_without_helpers):
    if not startup_logs_without_helpers.strip():
        pytest.skip("this TensorFlow build prints nothing at start-up")
    loud = run_python("import helpers; " + IMPORT_TF, DLFB_TF_STARTUP_LOGS="1")
    assert loud.stderr.strip()


def test_python_warnings_are_not_hidden():
    result = run_python("import helpers, warnings; import tensorflow; warnings.warn('still visible')")
    assert "still visible" in result.stderr


def test_c_stderr_silenced_restores_the_descriptor():
    before = os.fstat(2)
    with quiet_tensorflow.c_stderr_silenced():
        os.write(2, b"")  # writing inside is harmless
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
