"""helpers.taught.fine_tuning: the freezing loop notebook 11 writes on its page (section 3)."""

import keras
import pytest

from helpers.taught.fine_tuning import freeze_all_but
from tiny_models import tiny_cnn




def test_last_layers_train_and_batchnorm_stays_frozen():
    model = tiny_cnn()
    names = freeze_all_but(model, last=3)
    assert names == ["block2_conv", "block2_pool"]  # BatchNorm stays frozen
    assert [w.name for w in model.trainable_weights] == ["kernel", "bias"]
    assert sum(int(w.numpy().size) for w in model.trainable_weights) == 3 * 3 * 4 * 8 + 8


def test_from_layer_and_a_model_frozen_as_a_whole():
    model = tiny_cnn()
    model.trainable = False
    names = freeze_all_but(model, from_layer="block2", keep_batchnorm_frozen=False)
    assert model.trainable and names == ["block2_conv", "block2_bn", "block2_pool"]
    assert not model.get_layer("block1_conv").trainable
    assert freeze_all_but(model, last=0) == [] and freeze_all_but(model, last=7) == [
        "img", "block1_conv", "block1_pool", "block2_conv", "block2_pool"]


def test_bad_arguments_name_the_fix():
    model = tiny_cnn()
    with pytest.raises(ValueError, match="exactly one"):
        freeze_all_but(model)
    with pytest.raises(ValueError, match="exactly one"):
        freeze_all_but(model, last=1, from_layer="block2")
    with pytest.raises(ValueError, match="between 0 and 7"):
        freeze_all_but(model, last=8)
    with pytest.raises(ValueError, match="No layer name starts with 'block9'.*'img' to 'block2_pool'"):
        freeze_all_but(model, from_layer="block9")
