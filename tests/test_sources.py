"""Data sources: the Keras cache as Keras 3.15 lays it out, a probe per download host (proxies honoured,
answers cached), and a Keras cache that falls back to /tmp when the home folder cannot be written.

The network is never used: tests/conftest.py refuses non-loopback connections, and each test here
fakes ``socket.create_connection`` to say what the "network" does.
"""

import pickle
import socket
import sys
import time

import numpy as np
import pytest

from helpers import data, sources


class _FakeNetwork:
    """Stands in for ``socket.create_connection``: records each address, succeeds for ``online`` hosts."""

    def __init__(self, online=(), delay=0.0):
        self.online = set(online)
        self.delay = delay
        self.calls = []

    def __call__(self, address, timeout=None, *args, **kwargs):
        self.calls.append(tuple(address))
        if self.delay:
            time.sleep(self.delay)
        if address[0] in self.online:
            return socket.socket()  # an unconnected socket: enough for the probe's `with`
        raise OSError(f"fake network: {address[0]} unreachable")


@pytest.fixture
def network(monkeypatch):
    for name in ("https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    fake = _FakeNetwork()
    monkeypatch.setattr(socket, "create_connection", fake)
    return fake


@pytest.fixture
def no_mirror(monkeypatch):
    monkeypatch.delenv(sources.MIRROR_ENV, raising=False)


# ------------------------------------------------------------------------------------------ probe
def test_probe_answer_is_cached_per_host(network):
    network.online = {"a.example"}
    assert sources.internet_available("a.example") is True
    assert sources.internet_available("a.example") is True
    assert sources.internet_available("b.example") is False
    assert sources.internet_available("b.example") is False
    assert network.calls == [("a.example", 443), ("b.example", 443)]
    sources.forget_probes()
    assert sources.internet_available("b.example") is False
    assert len(network.calls) == 3


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy"])
def test_probe_goes_through_the_https_proxy(network, monkeypatch, variable):
    """Behind a proxy only the proxy can be reached: the probe must ask the proxy, as Keras's download will."""
    monkeypatch.setenv(variable, "http://proxy.corp.example:3128")
    network.online = {"proxy.corp.example"}
    assert sources.internet_available("www.cs.toronto.edu") is True
    assert network.calls == [("proxy.corp.example", 3128)]
    assert "through the HTTPS proxy proxy.corp.example:3128" in sources.probe_target("www.cs.toronto.edu")


def test_no_proxy_hosts_are_probed_directly(network, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "proxy.corp.example:8080")  # no scheme: read as http://
    monkeypatch.setenv("NO_PROXY", "intranet.example")
    assert sources.https_proxy_for("storage.googleapis.com") == ("proxy.corp.example", 8080)
    assert sources.internet_available("intranet.example") is False
    assert network.calls == [("intranet.example", 443)]


def test_stuck_probe_gives_up_after_its_timeout(network):
    network.delay = 5.0
    start = time.monotonic()
    assert sources.internet_available("stuck.example", timeout=0.3) is False
    assert time.monotonic() - start < 2


def test_probe_on_a_closed_local_port_says_offline():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert sources.internet_available("127.0.0.1", port, timeout=1.0) is False


def test_offline_cifar10_error_names_its_own_host(network, no_mirror):
    """CIFAR-10 comes from www.cs.toronto.edu, not from Google's storage: probe and name that host."""
    with pytest.raises(sources.DataSourceError) as info:
        data.load_cifar10()
    assert ("www.cs.toronto.edu", 443) in network.calls
    assert ("storage.googleapis.com", 443) not in network.calls
    assert "cannot reach www.cs.toronto.edu (offline?)" in str(info.value)
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in str(info.value)


def test_each_loader_pays_for_the_probe_once(network, no_mirror):
    for _ in range(3):
        with pytest.raises(sources.DataSourceError):
            data.load_boston_housing()
    assert network.calls == [("storage.googleapis.com", 443)]


# ---------------------------------------------------------------------------------- Keras cache
def _write_cifar_batches(folder, per_batch=2):
    """Six python batches as Keras's CIFAR-10 archive holds them, ``per_batch`` images each."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = {}
    for name in data.CIFAR10_BATCHES:
        x = rng.integers(0, 256, size=(per_batch, 3 * 32 * 32), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=per_batch)]
        (folder / name).write_bytes(pickle.dumps({b"batch_label": name.encode(), b"labels": labels, b"data": x},
                                                 protocol=4))
        images[name] = (x, labels)
    return images


def test_cifar10_in_the_keras_315_cache_is_found_offline(_own_keras_home, monkeypatch, no_mirror, capsys):
    """Keras 3.15 extracts CIFAR-10 to datasets/cifar-10-batches-py-target/cifar-10-batches-py."""
    folder = _own_keras_home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    written = _write_cifar_batches(folder)
    monkeypatch.setattr(sources, "internet_available", lambda *a, **k: pytest.fail("no probe: the data is cached"))
    (x_train, y_train), (x_test, y_test) = loaded = data.load_cifar10()
    assert x_train.shape == (10, 32, 32, 3) and y_train.shape == (10, 1) and x_train.dtype == np.uint8
    assert x_test.shape == (2, 32, 32, 3) and y_test.shape == (2, 1)
    x0, labels0 = written["data_batch_1"]
    np.testing.assert_array_equal(x_train[0], x0[0].reshape(3, 32, 32).transpose(1, 2, 0))
    assert y_train[:2, 0].tolist() == labels0
    assert "Keras cache" in loaded.source and "Keras cache" in capsys.readouterr().out


def test_incomplete_cifar10_cache_is_not_taken_for_a_download(_own_keras_home, network, no_mirror):
    folder = _own_keras_home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    _write_cifar_batches(folder)
    (folder / "test_batch").unlink()
    assert data.cifar10_keras_cache() is None


def test_crafted_cifar10_batch_runs_no_code(_own_keras_home, tmp_path):
    folder = _own_keras_home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    _write_cifar_batches(folder)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(ValueError, match="test_batch is not a CIFAR-10 python batch.*builtins.print"):
        data.read_cifar10_batches(folder)


# ----------------------------------------------------------------------------- read-only home
def test_keras_cache_falls_back_when_home_cannot_be_written(tmp_path, monkeypatch):
    """A home folder where ~/.keras cannot be created (read-only; here a file stands in the way, which
    stops root too): the cache moves to the fallback folder instead of raising."""
    blocker = tmp_path / "home"
    blocker.write_text("not a folder")
    fallback = tmp_path / "fallback" / ".keras"
    monkeypatch.setattr(sources, "KERAS_FALLBACK_DIR", fallback)
    monkeypatch.setenv("HOME", str(blocker))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.delitem(sys.modules, "keras.src.backend.config", raising=False)  # as if Keras were not imported
    assert sources.keras_cache_dir() == fallback and fallback.is_dir()
    assert sources.keras_cache_file("datasets", "x.npz") == fallback / "datasets" / "x.npz"


def test_keras_cache_falls_back_when_keras_home_is_not_writable(_own_keras_home, tmp_path, monkeypatch):
    fallback = tmp_path / "fallback"
    monkeypatch.setattr(sources, "KERAS_FALLBACK_DIR", fallback)
    real_access = sources.os.access
    monkeypatch.setattr(sources.os, "access",
                        lambda p, mode, **k: False if str(p) == str(_own_keras_home) else real_access(p, mode, **k))
    assert sources.keras_cache_dir() == fallback


def test_keras_cache_dir_is_the_tests_own_keras_home(_own_keras_home):
    """The autouse fixture's home is the one the helpers see (no test writes to ~/.keras)."""
    import keras  # noqa: F401 - Keras imported or not, the same folder

    assert sources.keras_cache_dir() == _own_keras_home


def test_tests_cannot_reach_the_network():
    """tests/conftest.py refuses every connection that would leave the machine."""
    with pytest.raises(OSError, match="tests do not use the network"):
        socket.create_connection(("storage.googleapis.com", 443), timeout=1)
    assert sources.internet_available("storage.googleapis.com") is False


# ------------------------------------------------------------------------------- mirror, cache, probe
def test_mirror_dir(tmp_path, monkeypatch):
    monkeypatch.delenv(sources.MIRROR_ENV, raising=False)
    assert sources.mirror_dir() is None and sources.mirror_path("images") is None
    monkeypatch.setenv(sources.MIRROR_ENV, str(tmp_path))
    (tmp_path / "images").mkdir()
    assert sources.mirror_dir() == tmp_path
    assert sources.mirror_path("images") == tmp_path / "images"
    assert sources.mirror_path("nothing") is None
    monkeypatch.setenv(sources.MIRROR_ENV, str(tmp_path / "missing"))
    with pytest.raises(sources.DataSourceError, match="DLFB_MIRROR=.*is not a folder"):
        sources.mirror_dir()


def test_keras_cache_dir_follows_keras_home(keras_home):
    assert sources.keras_cache_dir() == keras_home
    target = sources.keras_cache_file("datasets", "x.npz")
    assert target == keras_home / "datasets" / "x.npz" and target.parent.is_dir() and not target.exists()


def test_internet_probe_fails_fast_on_a_closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert sources.internet_available("127.0.0.1", port, timeout=1.0) is False


def test_no_source_error_message():
    err = sources.no_source_error("MNIST", ["Keras cache: empty", "mirror: unset"])
    text = str(err)
    assert isinstance(err, sources.DataSourceError)
    assert "Could not load MNIST" in text and "  - Keras cache: empty" in text and "  - mirror: unset" in text
    assert "DLFB_MIRROR" in text and "internet" in text
