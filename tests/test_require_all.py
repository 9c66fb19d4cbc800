"""The DLFB_REQUIRE_ALL switch of tests/conftest.py: a skipped mirror/weights/browser test fails under it.

Runs pytest on a two-test file beside a copy of the real conftest, once with and once without the switch.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent

SAMPLE = '''
import pytest

@pytest.mark.mirror
def test_needs_the_mirror():
    pytest.skip("no mirror on this machine")

def test_unmarked():
    pytest.skip("an ordinary skip")
'''


def _run(tmp_path, require_all):
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "DLFB_REQUIRE_ALL"}
    env["PYTHONPATH"] = str(REPO)
    if require_all:
        env["DLFB_REQUIRE_ALL"] = "1"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
           "-W", "ignore::pytest.PytestUnknownMarkWarning", "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path)]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize("require_all", [False, True])
def test_skips_of_marked_tests_fail_only_under_the_switch(tmp_path, require_all):
    done = _run(tmp_path, require_all)
    out = done.stdout + done.stderr
    if require_all:
        assert done.returncode == 1, out
        assert "1 failed, 1 skipped" in out and "DLFB_REQUIRE_ALL=1" in out and "no mirror on this machine" in out
    else:
        assert done.returncode == 0, out
        assert "2 skipped" in out
