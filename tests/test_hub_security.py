"""The hub cannot be bypassed: unlisted files, paths outside the folder, wrong names, broken manifests, unsafe layers."""

import json
import shutil

import keras
import pytest

import zoo
from zoo.hub import IntegrityError, load_pretrained, save_pretrained, save_run, sha256, verify


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, digits):
    recipe = zoo.get_recipe("fashion_mlp", name="digits_mlp", dataset="digits", validation_size=200, hidden=[16],
                            batch_size=16, epochs=1)
    return zoo.train(recipe, data=digits, out_dir=tmp_path_factory.mktemp("run") / "run", verbose=0)


@pytest.fixture
def hub(trained_run, tmp_path):
    save_run(trained_run.run_dir, root=tmp_path)
    return tmp_path


def _rewrite_manifest(hub, change):
    manifest = json.loads((hub / "manifest.json").read_text())
    change(manifest)
    (hub / "manifest.json").write_text(json.dumps(manifest))


def test_a_file_missing_from_the_manifest_is_never_loaded(hub):
    _rewrite_manifest(hub, lambda m: m.pop("digits_mlp/model.keras"))
    with pytest.raises(IntegrityError, match=r"does not list digits_mlp/model\.keras"):
        load_pretrained("digits_mlp", root=hub)


def test_another_models_file_under_this_name_is_refused(hub, trained_run, tmp_path_factory):
    # A second model, saved properly under its own name, then copied over digits_mlp's folder with its hashes.
    other_root = tmp_path_factory.mktemp("other")
    save_pretrained(trained_run.model, "other_mlp", {"name": "other_mlp", "recipe": {"train": {"optimizer": "adam",
                    "learning_rate": 0.001}}}, root=other_root)
    for filename in ("model.keras", "card.json"):
        shutil.copyfile(other_root / "other_mlp" / filename, hub / "digits_mlp" / filename)
    _rewrite_manifest(hub, lambda m: m.update({f"digits_mlp/{f}": sha256(hub / "digits_mlp" / f)
                                              for f in ("model.keras", "card.json")}))
    with pytest.raises(IntegrityError, match="describes 'other_mlp', not 'digits_mlp'"):
        load_pretrained("digits_mlp", root=hub)


def test_manifest_paths_stay_inside_the_folder(hub, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("not a model")
    _rewrite_manifest(hub, lambda m: m.update({"digits_mlp/../../" + outside.parent.name + "/secret.txt": sha256(outside)}))
    with pytest.raises(IntegrityError, match="which is outside"):
        verify("digits_mlp", hub)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"digits_mlp/model.keras": 5}', "\udcff".encode("utf-8",
                                  "surrogateescape").decode("latin-1")])
def test_a_malformed_manifest_is_an_integrity_error(hub, text):
    (hub / "manifest.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(IntegrityError, match=r"manifest\.json"):
        load_pretrained("digits_mlp", root=hub)


def test_a_lambda_layer_is_refused_even_with_its_hash_listed(hub):
    inputs = keras.Input((8, 8, 1))
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2)(inputs)))
    sneaky = keras.Model(inputs, outputs)
    sneaky.save(hub / "digits_mlp" / "model.keras")
    _rewrite_manifest(hub, lambda m: m.update({"digits_mlp/model.keras": sha256(hub / "digits_mlp" / "model.keras")}))
    with pytest.raises(IntegrityError, match="Keras refuses to load it safely"):
        load_pretrained("digits_mlp", root=hub)


def test_keras_is_new_enough_for_the_safe_mode_fixes():
    major, minor = (int(part) for part in keras.__version__.split(".")[:2])
    assert (major, minor) >= (3, 14), f"Keras {keras.__version__} has known safe_mode bypasses; zoo needs >= 3.14"
