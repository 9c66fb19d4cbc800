"""helpers.data: IDX files, the dataset loaders (mirror, Keras cache, Debian's Fashion-MNIST, offline errors), the
CIFAR-10 archive decoder, LoadedData, and the image folders and photos.

Tests that read the offline mirror skip (with the reason) when ``DLFB_MIRROR`` is unset. Tests that must not touch
the real Keras cache point Keras at a fresh folder (``fresh_keras_home``). The network is never used: the
internet probe is replaced by one that says "offline".
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import data, sources

MIRROR = os.environ.get("DLFB_MIRROR", "").strip()
_skip_without_mirror = pytest.mark.skipif(
    not MIRROR or not Path(MIRROR).is_dir(),
    reason="DLFB_MIRROR is unset (or not a folder): set it to the offline mirror, e.g. DLFB_MIRROR=../shared",
)


def needs_mirror(test):
    """Marks ``test`` as needing the offline mirror (marker ``mirror``) and skips it without one."""
    return pytest.mark.mirror(_skip_without_mirror(test))

FASHION_DIR = data.FASHION_MNIST_DEBIAN_DIR


@pytest.fixture
def offline(monkeypatch):
    """Make the loaders believe there is no internet (fast and deterministic)."""
    monkeypatch.setattr(sources, "internet_available", lambda *a, **k: False)


@pytest.fixture
def fresh_keras_home(tmp_path, point_keras_home):
    """An empty Keras home: ``$KERAS_HOME`` and Keras's own (import-time) setting both point at it."""
    home = tmp_path / "keras_home"
    home.mkdir()
    point_keras_home(home)
    return home


def _write_idx(path: Path, array: np.ndarray, gz: bool) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)


def test_read_idx_images_and_labels(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 1, 9], dtype=np.uint8)
    _write_idx(tmp_path / "img-idx3-ubyte.gz", images, gz=True)
    _write_idx(tmp_path / "lab-idx1-ubyte", labels, gz=False)
    got = data.read_idx(tmp_path / "img-idx3-ubyte.gz")
    assert got.shape == (2, 3, 4) and got.dtype == np.uint8
    np.testing.assert_array_equal(got, images)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "lab-idx1-ubyte"), labels)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(tmp_path / "bad")


def test_unknown_source_is_rejected():
    with pytest.raises(ValueError, match="source='web' is not one of"):
        data.load_boston_housing(source="web")


def test_missing_mirror_offline_raises_helpful_error(monkeypatch, fresh_keras_home, offline):
    monkeypatch.delenv(sources.MIRROR_ENV, raising=False)
    with pytest.raises(sources.DataSourceError) as info:
        data.load_boston_housing(source="offline")
    text = str(info.value)
    assert "Boston housing" in text and "Sources tried" in text and "offline (mirror)" in text
    assert "DLFB_MIRROR" in text
    with pytest.raises(sources.DataSourceError) as info:
        data.load_mnist(source="auto")
    text = str(info.value)
    assert text.startswith("Could not download MNIST from https://storage.googleapis.com/")
    assert "(offline?)" in text and "Or by hand" in text and "DLFB_MIRROR" in text
    with pytest.raises(sources.DataSourceError, match="CIFAR-10(.|\n)*DLFB_MIRROR"):
        data.load_cifar10(source="offline")


@needs_mirror
def test_boston_housing_from_the_mirror_matches_the_tutorial(monkeypatch, fresh_keras_home, offline, capsys):
    monkeypatch.setenv(sources.MIRROR_ENV, MIRROR)
    loaded = data.load_boston_housing(source="offline")
    (x_train, y_train), (x_test, y_test) = loaded
    assert x_train.shape == (404, 13) and y_train.shape == (404,)
    assert x_test.shape == (102, 13) and y_test.shape == (102,)
    assert y_test[:5].tolist() == [7.2, 18.8, 19.0, 27.0, 22.2]
    assert loaded.name == "Boston housing" and "mirror" in loaded.source
    assert (fresh_keras_home / "datasets" / "boston_housing.npz").exists()
    assert "Boston housing: 404 training + 102 test samples" in capsys.readouterr().out
    # now it is in this (fresh) Keras cache, so "keras" finds it there
    again = data.load_boston_housing(source="keras")
    assert "Keras cache" in again.source
    np.testing.assert_array_equal(again[1][1], y_test)


@pytest.mark.slow
@needs_mirror
def test_mnist_offline_shapes_and_classes(monkeypatch, fresh_keras_home, offline):
    monkeypatch.setenv(sources.MIRROR_ENV, MIRROR)
    loaded = data.load_mnist(source="offline")
    (x_train, y_train), (x_test, y_test) = loaded
    assert x_train.shape == (5000, 28, 28) and x_train.dtype == np.uint8 and y_train.shape == (5000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert set(y_train[:1000].tolist()) == set(range(10))
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert x_train.max() == 255 and "5,000" in loaded.source


@pytest.mark.slow
@needs_mirror
def test_cifar10_offline_shapes_dtypes_and_labels(monkeypatch, offline):
    """Uses the real Keras cache: the first run decodes the mirror's archive (~15 s), later runs read the cache."""
    monkeypatch.setenv(sources.MIRROR_ENV, MIRROR)
    (x_train, y_train), (x_test, y_test) = data.load_cifar10(source="offline")
    assert x_train.shape == (50000, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (50000, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 32, 32, 3) and y_test.shape == (10000, 1)
    assert np.bincount(y_train.ravel()).tolist() == [5000] * 10
    assert np.bincount(y_test.ravel()).tolist() == [1000] * 10
    assert len(set(y_train[:100].ravel().tolist())) == 10  # shuffled: classes mixed


def test_cifar10_archive_decoding_uses_keras_label_order(tmp_path):
    archive = tmp_path / "tiny.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for split, cls, value in [("train", "airplane", 10), ("train", "cat", 30), ("train", "truck", 90),
                                  ("test", "dog", 50), ("test", "unknown", 0), ("other", "cat", 0)]:
            buf = io.BytesIO()
            Image.fromarray(np.full((32, 32, 3), value, dtype=np.uint8)).save(buf, format="JPEG", quality=95)
            info = tarfile.TarInfo(f"{split}/{cls}/0001.jpg")
            info.size = len(buf.getvalue())
            tar.addfile(info, io.BytesIO(buf.getvalue()))
    (x_train, y_train), (x_test, y_test) = data.decode_cifar10_jpeg_archive(archive)
    assert x_train.shape == (3, 32, 32, 3) and y_train.shape == (3, 1) and y_train.dtype == np.uint8
    label_of_value = {int(round(float(x.mean()))): int(y[0]) for x, y in zip(x_train, y_train)}
    assert label_of_value == {10: 0, 30: 3, 90: 9}  # airplane=0, cat=3, truck=9, as in keras.datasets.cifar10
    assert y_test.ravel().tolist() == [data.CIFAR10_CLASSES.index("dog")]


@pytest.mark.mirror  # an offline source CI installs (.ci/run), like the mirror
@pytest.mark.skipif(not (FASHION_DIR / "train-images-idx3-ubyte.gz").exists(),
                    reason="Debian package dataset-fashion-mnist is not installed")
def test_fashion_mnist_offline(fresh_keras_home, offline):
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(source="offline")
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28) and x_train.dtype == np.uint8
    assert np.bincount(y_test).tolist() == [1000] * 10


def test_loaded_data_is_a_keras_style_tuple():
    loaded = data.LoadedData((np.zeros((3, 2)), np.zeros(3)), (np.zeros((1, 2)), np.zeros(1)), name="toy", source="here")
    (x_train, _), (x_test, _) = loaded
    assert isinstance(loaded, tuple) and len(loaded) == 2 and x_train.shape == (3, 2)
    assert loaded.summary() == "toy: 3 training + 1 test samples, from here"



def test_image_dir_and_photo_path_errors(monkeypatch, tmp_path, fresh_keras_home, offline):
    with pytest.raises(ValueError, match="Unknown image folder 'pets'.*photos.*cats_vs_dogs"):
        data.image_dir("pets")
    with pytest.raises(ValueError, match="Unknown photo 'lion'.*cat, dog"):
        data.photo_path("lion")
    own = tmp_path / "mine.png"
    Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(own)
    assert data.photo_path(str(own)) == own
    monkeypatch.delenv(sources.MIRROR_ENV, raising=False)
    assert data.image_dir("photos") == data.COURSE_DATA_DIR / "photos"  # the repository's own files, no mirror
    with pytest.raises(sources.DataSourceError, match="(?s)cats_and_dogs_filtered.*Or by hand.*DLFB_MIRROR"):
        data.image_dir("cats_vs_dogs")


@needs_mirror
def test_image_dir_and_photos_from_the_mirror(monkeypatch):
    monkeypatch.setenv(sources.MIRROR_ENV, MIRROR)
    folder = data.image_dir("photos")
    assert folder == data.COURSE_DATA_DIR / "photos"  # not the mirror's old photos (unknown licence)
    for name in data.PHOTO_NAMES:
        assert data.photo_path(name).is_file()
    assert data.check_class_folders(data.image_dir("cats_vs_dogs") / "train") == ["cats", "dogs"]


def test_check_class_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.check_class_folders(tmp_path / "nope")
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "1.jpg").write_bytes(b"x")
    with pytest.raises(ValueError, match="1 class sub-folder"):
        data.check_class_folders(tmp_path)
    (tmp_path / "dogs").mkdir()
    (tmp_path / ".hidden").mkdir()
    with pytest.raises(ValueError, match=r"\['dogs'\].*hold no images"):
        data.check_class_folders(tmp_path)
    (tmp_path / "dogs" / "2.jpg").write_bytes(b"x")
    assert data.check_class_folders(tmp_path) == ["cats", "dogs"]
