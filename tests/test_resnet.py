"""The residual recipe kind: its blocks, its checks, and a tiny one trained on digits."""

import keras
import numpy as np
import pytest

import zoo
from zoo.nets.network import estimated_parameters


def _tiny(**overrides):
    return zoo.get_recipe(
        "fashion_resnet",
        **{
            "model.filters": [8, 16],
            "model.blocks_per_stage": 1,
            "dataset": "digits",
            "validation_size": 200,
            **overrides,
        },
    )


def test_residual_block_adds_a_projected_shortcut_only_when_the_shape_changes():
    same = zoo.residual_block(16, input_channels=16)
    wider = zoo.residual_block(32, input_channels=16, strides=2)
    assert "conv_3" not in [layer.name for layer in same.layers]
    assert [layer.name for layer in wider.layers if isinstance(layer, keras.layers.Conv2D)] == [
        "conv_1",
        "conv_2",
        "conv_3",
    ]
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 16)).astype("float32")
    assert tuple(wider(x).shape) == (2, 4, 4, 32) and tuple(same(x).shape) == (2, 8, 8, 16)


def test_shipped_resnet_builds_with_global_pooling_and_its_baseline_keeps_the_shape():
    recipe = zoo.get_recipe("fashion_resnet")
    model = zoo.build(recipe)
    names = [layer.name for layer in model.layers]
    assert names[1] == "stem" and "pool" in names and "flatten" not in names
    stages, blocks = len(recipe.model.filters), recipe.model.blocks_per_stage
    expected = [f"stage_{s}_block_{b}" for s in range(1, stages + 1) for b in range(1, blocks + 1)]
    assert [n for n in names if n.startswith("stage_")] == expected
    kernels = sum(int(np.prod(w.shape)) for w in model.trainable_weights if len(w.shape) > 1)
    assert kernels == estimated_parameters(recipe, (28, 28, 1), 10)
    plain = zoo.baseline(recipe)
    assert not any(isinstance(leaf, keras.layers.BatchNormalization) for leaf in zoo.nets.network.leaf_layers(plain))
    assert plain.output_shape == model.output_shape == (None, 10)


def test_resnet_refuses_what_it_cannot_build():
    with pytest.raises(zoo.RecipeError, match="bn_position = 'after' is not allowed for model.kind = 'resnet'"):
        zoo.build(zoo.get_recipe("fashion_resnet", bn_position="after"))
    with pytest.raises(zoo.RecipeError, match="does not suit model.kind = 'resnet'"):
        zoo.build("fashion_resnet", input_shape=(784,))
    with pytest.raises(zoo.RecipeError, match="blocks_per_stage"):
        zoo.get_recipe("fashion_resnet", blocks_per_stage=0)


@pytest.mark.slow
def test_a_tiny_resnet_learns_digits_and_skips_chain_diagnostics(tmp_path, capsys):
    digits = zoo.load_data("digits", validation_size=200)
    recipe = _tiny(
        **{"train.batch_size": 32, "train.epochs": 4, "train.learning_rate": 1e-2, "regularization.augment": []}
    )
    result = zoo.train(recipe, data=digits, out_dir=tmp_path / "resnet", verbose=2)
    assert result.test["accuracy"] > 0.6, result.test  # chance is 0.1
    assert "a residual net is not one; skipped" in capsys.readouterr().out
    assert "diagnostics" not in result.paths and (tmp_path / "resnet" / "model.keras").is_file()
