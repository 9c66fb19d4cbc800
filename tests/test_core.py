"""Tests for the core helpers: preprocessing, checks, report, plots, training, sources and data.

Tests that read the offline mirror skip (with the reason) when ``DLFB_MIRROR`` is unset. Tests that must not touch
the real Keras cache point Keras at a fresh folder (``fresh_keras_home``). The network is never used: the
internet probe is replaced by one that says "offline".
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import socket
import tarfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from helpers import checks, data, plots, preprocessing, report, sources  # noqa: E402

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


# ================================================================================ preprocessing
def test_flatten_images_shapes_and_errors():
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    flat = preprocessing.flatten_images(images)
    assert flat.shape == (2, 784)
    np.testing.assert_array_equal(flat[1], images[1].ravel())
    assert preprocessing.flatten_images(np.zeros((3, 32, 32, 3))).shape == (3, 3072)
    with pytest.raises(ValueError, match="batch of images"):
        preprocessing.flatten_images(np.zeros(5))


def test_scale_pixels_range_and_dtype():
    x = np.array([[0, 128, 255]], dtype=np.uint8)
    scaled = preprocessing.scale_pixels(x)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [[0.0, 128 / 255, 1.0]], rtol=1e-6)
    assert x[0, 2] == 255  # input untouched


def test_one_hot():
    out = preprocessing.one_hot(np.array([[5], [0]]), 10)
    assert out.shape == (2, 10) and out.dtype == np.float32
    assert out[0].tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert out[1, 0] == 1 and out.sum() == 2
    assert preprocessing.one_hot([0, 2]).shape == (2, 3)  # num_classes inferred
    with pytest.raises(ValueError, match="does not fit"):
        preprocessing.one_hot([3], 3)
    with pytest.raises(ValueError, match="non-negative"):
        preprocessing.one_hot([-1], 3)


def test_train_validation_split_is_a_seeded_partition():
    x = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    (xt, yt), (xv, yv) = preprocessing.train_validation_split(x, y, 0.2, seed=1)
    assert len(xv) == 10 and len(xt) == 40
    assert sorted(np.concatenate([yt, yv]).tolist()) == list(range(50))
    np.testing.assert_array_equal(xt[:, 0] // 2, yt)  # x and y stay paired
    (xt2, _), _ = preprocessing.train_validation_split(x, y, 0.2, seed=1)
    np.testing.assert_array_equal(xt, xt2)
    with pytest.raises(ValueError, match="between 0 and 1"):
        preprocessing.train_validation_split(x, y, 1.0)
    with pytest.raises(ValueError, match="differ in length"):
        preprocessing.train_validation_split(x, y[:10])


def test_take_subset():
    x, y = np.arange(20), np.arange(20) * 10
    xs, ys = preprocessing.take_subset(x, y, 5, seed=0)
    assert len(xs) == 5 and np.all(ys == xs * 10) and np.all(np.diff(xs) > 0)
    assert preprocessing.take_subset(x, y, None)[0] is x
    assert len(preprocessing.take_subset(x, y, 100)[0]) == 20
    with pytest.raises(ValueError, match="positive"):
        preprocessing.take_subset(x, y, 0)


def test_add_gaussian_noise_clips_and_is_seeded():
    images = np.full((4, 8, 8), 0.5, dtype=np.float32)
    noisy = preprocessing.add_gaussian_noise(images, 0.5, seed=3)
    assert noisy.shape == images.shape and noisy.dtype == np.float32
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0 and not np.allclose(noisy, images)
    np.testing.assert_array_equal(noisy, preprocessing.add_gaussian_noise(images, 0.5, seed=3))
    unclipped = preprocessing.add_gaussian_noise(images, 5.0, seed=3, clip=None)
    assert unclipped.min() < 0.0 and unclipped.max() > 1.0
    assert np.all(images == 0.5)


# ======================================================================================= checks
def test_checks_pass_and_return_values(capsys):
    assert checks.expect_at_least(0.95, 0.9, "accuracy") == 0.95
    assert checks.expect_at_most(0.1, 0.2, "loss") == 0.1
    assert checks.expect_equal(14, 14, "params") == 14
    assert checks.expect_shape(np.zeros((2, 3)), (None, 3), "x") == (2, 3)
    checks.expect_close([1.0, 2.0], [1.0, 2.0 + 1e-9], "v")
    out = capsys.readouterr().out
    assert out.count("OK  ") == 5 and "accuracy: 0.9500 >= 0.9" in out


@pytest.mark.parametrize("call, pattern", [
    (lambda: checks.expect_at_least(0.5, 0.9, "test accuracy"), r"test accuracy = 0\.5000, expected at least 0\.9"),
    (lambda: checks.expect_at_least(float("nan"), 0.9, "acc"), r"acc = nan"),
    (lambda: checks.expect_at_most(3.0, 2.0, "test loss"), r"test loss = 3\.0000, expected at most 2\.0"),
    (lambda: checks.expect_equal(13, 14, "params"), r"params = 13, expected 14"),
    (lambda: checks.expect_shape(np.zeros((2, 4)), (2, 3), "x"), r"x has shape \(2, 4\), expected \(2, 3\)"),
    (lambda: checks.expect_shape(np.zeros((2,)), (2, 3), "x"), r"expected \(2, 3\)"),
    (lambda: checks.expect_close([1.0], [1.1], "w", atol=0.01), r"w = .*expected .*largest difference"),
    (lambda: checks.expect_close([1.0, 2.0], [1.0], "w"), r"shape differs"),
])
def test_checks_fail_with_expected_and_got(call, pattern):
    with pytest.raises(checks.ExpectationError, match=pattern) as info:
        call()
    assert isinstance(info.value, AssertionError)


# ======================================================================================= report
def test_record_metrics_without_runner(monkeypatch, capsys):
    monkeypatch.delenv(report.METRICS_ENV, raising=False)
    got = report.record_metrics(test_accuracy=np.float32(0.98765432), epochs=np.int64(3), label="x", ok=True)
    assert got == {"test_accuracy": pytest.approx(0.987654, abs=1e-6), "epochs": 3, "label": "x", "ok": True}
    assert isinstance(got["epochs"], int)
    assert capsys.readouterr().out.startswith("Recorded: test_accuracy=0.987654")


def test_record_metrics_merges_into_runner_file(tmp_path, monkeypatch, capsys):
    target = tmp_path / "sub" / "metrics.json"
    monkeypatch.setenv(report.METRICS_ENV, str(target))
    report.record_metrics(a=1)
    merged = report.record_metrics(b=2.5, a=3)
    assert capsys.readouterr().out.splitlines()[-1] == "Recorded: b=2.5, a=3"  # what a run without the runner prints
    assert merged == {"a": 3, "b": 2.5}
    assert json.loads(target.read_text()) == {"a": 3, "b": 2.5}
    with pytest.raises(TypeError, match="scalars"):
        report.record_metrics(bad=[1, 2])


def test_output_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(report.OUTPUT_ENV, str(tmp_path / "out"))
    assert report.output_dir() == tmp_path / "out" and (tmp_path / "out").is_dir()
    monkeypatch.delenv(report.OUTPUT_ENV)
    monkeypatch.setattr(report, "_temporary_output", None)
    first = report.output_dir()
    assert first.is_dir() and first.name.startswith("dlfb-") and report.output_dir() == first


# ======================================================================================== plots
HISTORY = {"loss": [1.0, 0.5, 0.3], "accuracy": [0.5, 0.7, 0.8], "val_loss": [1.1, 0.7, 0.6],
           "val_accuracy": [0.4, 0.6, 0.7], "learning_rate": [0.1, 0.1, 0.1]}


class FakeHistory:
    history = HISTORY


def test_plot_history_panels_and_curves():
    fig = plots.plot_history(FakeHistory(), title="t")
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 2  # loss and accuracy (not learning_rate, not val_)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].lines) == 2  # training + validation
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), HISTORY["loss"])
    one = plots.plot_history({"loss": [3, 2]}, metrics=["loss"])
    assert len(one.axes) == 1 and len(one.axes[0].lines) == 1
    with pytest.raises(KeyError, match="mae"):
        plots.plot_history(HISTORY, metrics=["mae"])
    with pytest.raises(TypeError):
        plots.plot_history({})
    plt.close("all")


def test_compare_histories_and_image_figures():
    fig = plots.compare_histories({"a": HISTORY, "b": FakeHistory()}, metric="val_loss")
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(KeyError, match="mae"):
        plots.compare_histories({"a": HISTORY}, metric="mae")
    images = np.random.default_rng(0).integers(0, 255, (5, 8, 8), dtype=np.uint8)
    grid = plots.show_images(images, titles=list("abcde"), ncols=3)
    assert len(grid.axes) == 6 and grid.axes[0].get_title() == "a"
    with pytest.raises(ValueError, match="titles"):
        plots.show_images(images, titles=["a"])
    with pytest.raises(ValueError, match="No images"):
        plots.show_images([])
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    pred = plots.show_predictions(images[:2], probs, ["cat", "dog"], true_labels=[0, 0])
    assert pred.axes[0].get_title().startswith("cat (90%)")
    assert pred.axes[0].title.get_color() == plots.CORRECT_COLOR and pred.axes[1].title.get_color() == plots.WRONG_COLOR
    with pytest.raises(ValueError, match="probabilities"):
        plots.show_predictions(images[:2], probs, ["a", "b", "c"])
    bars = plots.plot_probabilities([0.2, 0.7, 0.1], ["Cat", "Dog", "Other"])
    assert len(bars.axes[0].patches) == 3
    with pytest.raises(ValueError):
        plots.plot_probabilities([0.5, 0.5], ["Cat", "Dog", "Other"])
    plt.close("all")


# ===================================================================================== training
def test_seed_everything_makes_runs_repeat():
    import tensorflow as tf

    from helpers.training import seed_everything

    seed_everything(7)
    a = (np.random.random(3), tf.random.uniform((3,)).numpy())
    seed_everything(7)
    b = (np.random.random(3), tf.random.uniform((3,)).numpy())
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def _tiny_fit(epochs, callback):
    import keras

    from helpers.training import seed_everything

    seed_everything(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse", metrics=["mae"])
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    model.fit(x, x.sum(axis=1), epochs=epochs, batch_size=8, verbose=0, callbacks=[callback])


def test_epoch_line_prints_exactly_one_line_per_epoch(capsys):
    from helpers.training import EpochLine

    _tiny_fit(3, EpochLine())
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines, 1):
        assert re.fullmatch(rf"epoch {i}/3  loss \d+\.\d{{4}}  mae \d+\.\d{{4}}  \(\d+\.\d s\)", line), line


def test_epoch_line_every_n_keeps_the_last(capsys):
    from helpers.training import EpochLine

    _tiny_fit(5, EpochLine(every=2))
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[1] for line in lines] == ["2/5", "4/5", "5/5"]


# ====================================================================================== sources
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


def test_keras_cache_dir_follows_keras_home(fresh_keras_home):
    assert sources.keras_cache_dir() == fresh_keras_home
    target = sources.keras_cache_file("datasets", "x.npz")
    assert target == fresh_keras_home / "datasets" / "x.npz" and target.parent.is_dir() and not target.exists()


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


# ========================================================================================= data
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


def test_unknown_dataset_and_source_are_rejected():
    with pytest.raises(ValueError, match="Unknown dataset 'mnsit'.*mnist.*fashion_mnist.*cifar10.*boston_housing"):
        data.load_dataset("mnsit")
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


# ================================================================================ image folders
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
