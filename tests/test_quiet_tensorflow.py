"""Importing helpers changes nothing global; helpers.setup() imports TensorFlow without its start-up lines,
and what is not a known start-up line (a real error) is still shown."""

import os
import subprocess
import sys

import pytest

from helpers import quiet_tensorflow

IMPORT_TF = "import tensorflow as tf; tf.config.list_physical_devices(); print(tf.__version__)"


def run_python(code: str, **env):
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=180)


def test_import_helpers_changes_nothing_global():
    code = ("import os, sys, matplotlib; before = dict(matplotlib.rcParams); hooks = list(sys.meta_path)\n"
            "import helpers, helpers.plots, helpers.checks, helpers.data\n"
            "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), sys.meta_path == hooks, dict(matplotlib.rcParams) == before)")
    assert run_python(code).stdout.split() == ["None", "True", "True"]


@pytest.fixture(scope="module")
def startup_logs_without_setup():
    return run_python(IMPORT_TF).stderr


@pytest.mark.slow
def test_setup_keeps_stderr_clean(startup_logs_without_setup):
    quiet = run_python("import helpers; helpers.setup(); " + IMPORT_TF)
    assert quiet.returncode == 0 and quiet.stdout.strip()
    assert quiet.stderr.strip() == "", quiet.stderr
    # Meaningful only if TensorFlow prints something when left alone (it does: TF 2.21 on CPU).
    assert startup_logs_without_setup.strip(), "TensorFlow printed nothing at start-up: nothing to filter"


@pytest.mark.slow
def test_setup_keeps_the_users_own_level():
    result = run_python("import os, helpers; helpers.setup(figure_style=False); print(os.environ['TF_CPP_MIN_LOG_LEVEL'])",
                        TF_CPP_MIN_LOG_LEVEL="0")
    assert result.stdout.split()[-1] == "0"


def test_a_failing_import_shows_its_error():
    result = run_python("import sys; sys.modules['tensorflow'] = None\nimport helpers; helpers.setup()")
    assert result.returncode != 0 and "import of tensorflow halted" in result.stderr


@pytest.mark.slow
def test_python_warnings_are_not_hidden():
    result = run_python("import helpers, warnings; helpers.setup(); warnings.warn('still visible')")
    assert "still visible" in result.stderr


@pytest.mark.parametrize("line, noise", [
    ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", True),
    ("I0000 00:00:1795620716.669295   12364 port.cc:153] oneDNN custom operations are on.", True),
    ("W0000 00:00:1795620716.669295   12364 cpu_feature_guard.cc:10] something", True),
    ("E0000 00:00:1795620676.564309   11275 op_kernel.cc:52] an error that must stay visible", False),
    ("Traceback (most recent call last):", False),
])
def test_startup_noise_pattern(line, noise):
    assert bool(quiet_tensorflow.STARTUP_NOISE.match(line)) is noise


def test_captured_stderr_is_restored_and_readable():
    before = os.fstat(2)
    with quiet_tensorflow.c_stderr_captured() as captured:
        os.write(2, b"inside\n")
        assert captured() == "inside\n"
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
