"""The hub cannot be bypassed: unlisted files, paths outside the folder, wrong names, broken manifests, unsafe
layers."""

import json
import shutil

import keras
import pytest

import zoo
from zoo.hub.saved import (
    IntegrityError,
    list_pretrained,
    load_pretrained,
    model_files,
    save_pretrained,
    save_run,
    sha256,
    verify,
)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, digits):
    recipe = zoo.get_recipe(
        "fashion_mlp", name="digits_mlp", dataset="digits", validation_size=200, hidden=[16], batch_size=16, epochs=1
    )
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
    key = str(model_files("digits_mlp", hub)["model.keras"].relative_to(hub))
    _rewrite_manifest(hub, lambda m: m.pop(key))
    with pytest.raises(IntegrityError, match=r"does not list digits_mlp/model\.keras"):
        load_pretrained("digits_mlp", root=hub)


def test_another_models_file_under_this_name_is_refused(hub, trained_run, tmp_path_factory):
    # A second model, saved properly under its own name, then copied over digits_mlp's folder with its hashes.
    other_root = tmp_path_factory.mktemp("other")
    save_pretrained(
        trained_run.model,
        "other_mlp",
        {"name": "other_mlp", "recipe": {"train": {"optimizer": "adam", "learning_rate": 0.001}}},
        root=other_root,
    )
    mine, theirs = model_files("digits_mlp", hub), model_files("other_mlp", other_root)
    for filename in ("model.keras", "card.json"):
        shutil.copyfile(theirs[filename], mine[filename])
    _rewrite_manifest(hub, lambda m: m.update({str(path.relative_to(hub)): sha256(path) for path in mine.values()}))
    with pytest.raises(IntegrityError, match="describes 'other_mlp', not 'digits_mlp'"):
        load_pretrained("digits_mlp", root=hub)


def test_manifest_paths_stay_inside_the_folder(hub, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("not a model")
    _rewrite_manifest(
        hub, lambda m: m.update({"digits_mlp/../../" + outside.parent.name + "/secret.txt": sha256(outside)})
    )
    with pytest.raises(IntegrityError, match="which is outside"):
        verify("digits_mlp", hub)


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[1, 2]",
        '{"digits_mlp/model.keras": 5}',
        "\udcff".encode("utf-8", "surrogateescape").decode("latin-1"),
    ],
)
def test_a_malformed_manifest_is_an_integrity_error(hub, text):
    (hub / "manifest.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(IntegrityError, match=r"manifest\.json"):
        load_pretrained("digits_mlp", root=hub)


def test_a_lambda_layer_is_refused_even_with_its_hash_listed(hub):
    inputs = keras.Input((8, 8, 1))
    outputs = keras.layers.Dense(10, activation="softmax")(
        keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2)(inputs))
    )
    sneaky = keras.Model(inputs, outputs)
    path = model_files("digits_mlp", hub)["model.keras"]
    sneaky.save(path)
    _rewrite_manifest(hub, lambda m: m.update({str(path.relative_to(hub)): sha256(path)}))
    with pytest.raises(IntegrityError, match="Keras refuses to load it safely"):
        load_pretrained("digits_mlp", root=hub)


def test_keras_is_new_enough_for_the_safe_mode_fixes():
    major, minor = (int(part) for part in keras.__version__.split(".")[:2])
    assert (major, minor) >= (3, 14), f"Keras {keras.__version__} has known safe_mode bypasses; zoo needs >= 3.14"


def test_saving_again_needs_force_and_names_both_accuracies(hub, trained_run):
    from zoo.errors import RunError

    with pytest.raises(
        RunError,
        match=r"already holds digits_mlp \(test accuracy 0\.\d{4}\); the new model scored 0\.\d{4}"
        r"\. Pass --force",
    ):
        save_run(trained_run.run_dir, root=hub)
    old = model_files("digits_mlp", hub)
    trained_run.model.get_layer("hidden_1").set_weights(
        [w * 0.5 for w in trained_run.model.get_layer("hidden_1").get_weights()]
    )
    folder = save_pretrained(
        trained_run.model, "digits_mlp", json.loads(old["card.json"].read_text()), root=hub, force=True
    )
    assert model_files("digits_mlp", hub)["model.keras"].parent == folder != old["model.keras"].parent
    assert not old["model.keras"].exists(), "the replaced version's files are removed"
    verify("digits_mlp", hub)


def test_a_crash_at_any_step_of_a_save_leaves_a_loadable_model(hub, trained_run, monkeypatch):
    """Fail each file operation of a replacing save in turn: the old or the new version always verifies."""
    import zoo.hub.saved as hub_module
    from zoo.errors import RunError

    # Another card: a new version (a version's folder is named by its files; the same files are no change).
    card = {**json.loads(model_files("digits_mlp", hub)["card.json"].read_text()), "date": "a later day"}
    real_write_json, real_rename = hub_module.write_json, hub_module.Path.rename
    for failing in ("card", "rename", "manifest"):

        def broken_write_json(path, data, failing=failing):
            if (failing == "card" and path.name == "card.json") or (
                failing == "manifest" and path.name == "manifest.json"
            ):
                raise OSError(28, "No space left on device")
            real_write_json(path, data)

        def broken_rename(self, target, failing=failing):
            if failing == "rename":
                raise OSError(28, "No space left on device")
            return real_rename(self, target)

        monkeypatch.setattr(hub_module, "write_json", broken_write_json)
        monkeypatch.setattr(hub_module.Path, "rename", broken_rename)
        before = model_files("digits_mlp", hub)["model.keras"]
        with pytest.raises(RunError, match="No space left on device; the previous version, if any, is untouched"):
            save_pretrained(trained_run.model, "digits_mlp", card, root=hub, force=True)
        monkeypatch.undo()
        assert model_files("digits_mlp", hub)["model.keras"] == before
        verify("digits_mlp", hub)
        leftovers = [
            p
            for p in hub.rglob("*")
            if p.name.startswith(".") or (p.is_dir() and p.parent.name == "digits_mlp" and p != before.parent)
        ]
        assert leftovers == [], f"{failing}: {leftovers}"


def test_save_goes_to_the_checkout_the_env_or_the_users_folder(monkeypatch, tmp_path):
    from zoo.hub.saved import save_root

    monkeypatch.setenv("ZOO_SAVED_MODELS", str(tmp_path / "mine"))
    assert save_root() == tmp_path / "mine"
    monkeypatch.delenv("ZOO_SAVED_MODELS")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    where = save_root()
    assert "site-packages" not in str(where)
    assert where == tmp_path / "data" / "zoo" / "saved_models" or (where.parent / ".git").exists()


def test_a_save_never_hides_a_shipped_model_without_force(trained_run, tmp_path):
    from zoo.paths import shipped_dir

    shipped = json.loads(model_files("fashion_mlp", shipped_dir("saved_models"))["card.json"].read_text())
    with pytest.raises(zoo.RunError, match=r"zoo ships a model named fashion_mlp \(test accuracy 0\.9\d+\)"):
        save_run(trained_run.run_dir, root=tmp_path / "mine", name="fashion_mlp")
    assert not (tmp_path / "mine" / "fashion_mlp").exists()
    save_run(trained_run.run_dir, root=tmp_path / "mine", name="fashion_mlp", force=True)  # asked for: done
    assert shipped["test_accuracy"] > 0.9


CONCURRENT_SAVES = """
import sys
import zoo
from zoo.hub.saved import save_pretrained
model = zoo.build(zoo.get_recipe("mlp", hidden=[4]), input_shape=(3,), num_classes=2)
for index in range(8):
    name = f"{sys.argv[2]}_{index}"
    card = {"name": name, "test_accuracy": 0.5, "recipe": {"train": {"optimizer": "adam", "learning_rate": 1e-3}}}
    save_pretrained(model, name, card, root=sys.argv[1])
"""


@pytest.mark.slow
def test_concurrent_saves_into_one_collection_all_land(tmp_path):
    import subprocess
    import sys

    savers = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_SAVES, str(tmp_path), name], stderr=subprocess.PIPE, text=True
        )
        for name in ("first", "second")
    ]
    assert [saver.wait(timeout=300) for saver in savers] == [0, 0], [saver.stderr.read()[-2000:] for saver in savers]
    saved = list_pretrained(tmp_path)
    assert len(saved) == 16, f"{16 - len(saved)} saves missing from the manifest"
    for name in saved:
        verify(name, tmp_path)


def test_saving_the_committed_version_again_changes_nothing(hub):
    card = json.loads(model_files("digits_mlp", hub)["card.json"].read_text())
    before = (hub / "manifest.json").read_bytes(), model_files("digits_mlp", hub)
    model = load_pretrained("digits_mlp", root=hub)
    save_pretrained(model, "digits_mlp", card, root=hub, force=True)
    assert ((hub / "manifest.json").read_bytes(), model_files("digits_mlp", hub)) == before
    verify("digits_mlp", hub)


@pytest.mark.parametrize(
    "card, message",
    [
        ("not json {", "card.json is not valid JSON"),
        ("[1, 2]", "holds a list, not a card"),
        ('{"name": "digits_mlp"}', "lacks its recipe"),
        ("[" * 100000 + "]" * 100000, "card.json is not valid JSON"),
    ],
)
def test_a_broken_card_with_its_hash_updated_is_an_integrity_error(hub, card, message):
    path = model_files("digits_mlp", hub)["card.json"]
    path.write_text(card)
    manifest = json.loads((hub / "manifest.json").read_text())
    manifest[str(path.relative_to(hub))] = sha256(path)
    (hub / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError, match=message):
        load_pretrained("digits_mlp", root=hub)


def test_a_deeply_nested_manifest_is_an_integrity_error(tmp_path):
    (tmp_path / "manifest.json").write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(IntegrityError, match="manifest.json is not valid JSON"):
        list_pretrained(tmp_path)


def test_a_head_of_a_billion_classes_is_refused():
    with pytest.raises(zoo.RecipeError, match=r"num_classes = 1000000000 is not allowed; expected .* <= 100000"):
        load_pretrained("fashion_mlp", num_classes=10**9)
