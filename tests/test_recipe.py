"""Recipes: parsing, defaults, overrides, the registry, and every kind of bad input."""

import pytest
import tomllib

import zoo
from zoo.cli.dataflags import parse_override
from zoo.recipes.recipe import apply_overrides, parse_recipe
from zoo.recipes.registry import read_recipe_file


def test_shipped_recipes_are_registered_and_described():
    names = zoo.list_recipes()
    assert {"fashion_mlp", "fashion_deep_mlp", "fashion_cnn", "fashion_selu"} <= set(names)
    for name in names:
        recipe = zoo.get_recipe(name)
        assert recipe.name == name, f"{recipe.source}: name must match the file name"
        assert len(recipe.description) > 20


def test_list_recipes_pattern():
    assert zoo.list_recipes("fashion_*mlp") == ["fashion_deep_mlp", "fashion_mlp"]
    assert zoo.list_recipes("nothing*") == []


def test_deep_recipe_has_at_least_20_hidden_layers():
    assert len(zoo.get_recipe("fashion_deep_mlp").model.hidden) >= 20


def test_omitted_keys_take_the_named_stack():
    selu = parse_recipe({"name": "s", "stack": {"name": "self_normalizing"}})
    assert (selu.stack.init, selu.stack.activation, selu.stack.batch_norm, selu.stack.dropout_kind) == (
        "lecun_normal",
        "selu",
        False,
        "alpha",
    )
    assert selu.train.optimizer == "adam"
    plain = parse_recipe({"name": "p", "stack": {"name": "baseline"}})
    assert plain.train.optimizer == "sgd" and plain.stack.activation == "sigmoid"
    default = parse_recipe({"name": "d"})
    assert (default.stack.init, default.stack.activation, default.stack.batch_norm) == ("he_normal", "elu", True)


def test_overrides_from_python():
    recipe = zoo.get_recipe("fashion_mlp", dropout=0.3, **{"train.epochs": 4, "model.hidden": [10]})
    assert recipe.stack.dropout == 0.3 and recipe.train.epochs == 4 and recipe.model.hidden == [10]
    # Overriding a recipe object works too, and leaves the original alone.
    again = zoo.get_recipe(recipe, epochs=1)
    assert again.train.epochs == 1 and recipe.train.epochs == 4
    assert recipe.replace(**{"train.epochs": 2}).train.epochs == 2 and zoo.get_recipe(recipe) is recipe
    # One spelling: "section.key" (and the bare key where it is unambiguous); "section__key" is refused by name.
    with pytest.raises(zoo.RecipeError, match=r"key = 'model__hidden' is not allowed \(did you mean 'model.hidden'"):
        zoo.get_recipe("fashion_mlp", model__hidden=[10])


def test_ints_are_accepted_where_numbers_are_wanted():
    assert zoo.get_recipe("fashion_mlp", learning_rate=1).train.learning_rate == 1.0


def test_to_toml_round_trips(tmp_path):
    recipe = zoo.get_recipe("fashion_cnn", dropout=0.1)
    path = tmp_path / "copy.toml"
    path.write_text(recipe.to_toml())
    assert zoo.get_recipe(path).to_dict() == recipe.to_dict()


def test_recipe_sections_are_read_only():
    recipe = zoo.get_recipe("fashion_mlp")
    with pytest.raises(AttributeError):
        recipe.stack.dropout = 0.9


@pytest.mark.parametrize(
    "text, expected",
    [
        ("stack.dropout=0.3", ("stack.dropout", 0.3)),
        ("model.hidden=[64, 64]", ("model.hidden", [64, 64])),
        ("stack.activation=relu", ("stack.activation", "relu")),
        ("stack.batch_norm=false", ("stack.batch_norm", False)),
        ('description="a b"', ("description", "a b")),
    ],
)
def test_parse_override(text, expected):
    assert parse_override(text) == expected


# ---- bad input: each message names the key, the value and what is allowed ----


def test_unknown_recipe_suggests_close_names():
    with pytest.raises(zoo.RecipeError, match=r"unknown recipe 'fashon_mlp' \(did you mean 'fashion_mlp'"):
        zoo.get_recipe("fashon_mlp")


def test_missing_recipe_file():
    with pytest.raises(zoo.RecipeError, match="does not exist"):
        zoo.get_recipe("/nowhere/mine.toml")


def test_malformed_toml_names_file_and_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('name = "broken"\n[stack]\ndropout = 0.2.3\n')
    with pytest.raises(zoo.RecipeError, match=r"broken\.toml: malformed TOML: .*line 3"):
        read_recipe_file(path)


def test_unknown_key_lists_allowed():
    with pytest.raises(zoo.RecipeError, match=r"\[stack\] key = 'dropuot' is not allowed \(did you mean 'dropout'"):
        parse_recipe({"name": "x", "stack": {"dropuot": 0.2}})
    with pytest.raises(zoo.RecipeError, match="key = 'modle'.*allowed: .*model"):
        parse_recipe({"name": "x", "modle": {}})


@pytest.mark.parametrize(
    "section, key, value, message",
    [
        ("stack", "dropout", 1.0, r"stack\.dropout = 1\.0 is out of range; expected a number >= 0 and < 1"),
        ("stack", "dropout", -0.1, r"stack\.dropout = -0\.1 is out of range"),
        ("stack", "dropout", "high", r"stack\.dropout = 'high' has the wrong type; expected a number"),
        (
            "stack",
            "activation",
            "elo",
            r"stack\.activation = 'elo' is not allowed \(did you mean 'elu'\?\); allowed: sigmoid",
        ),
        ("stack", "batch_norm", 1, r"stack\.batch_norm = 1 has the wrong type; expected true or false"),
        ("train", "epochs", 0, r"train\.epochs = 0 is out of range; expected an integer >= 1"),
        ("train", "epochs", True, r"train\.epochs = True has the wrong type"),
        ("train", "epochs", 2.5, r"train\.epochs = 2\.5 has the wrong type; expected an integer"),
        ("train", "optimizer", "adamm", r"train\.optimizer = 'adamm' is not allowed \(did you mean 'adam'"),
        ("train", "learning_rate", 0, r"train\.learning_rate = 0\.0 is out of range; expected a number > 0"),
        ("model", "hidden", [100, 0], r"model\.hidden\[1\] = 0 is out of range"),
        ("model", "hidden", 100, r"model\.hidden = 100 is not allowed; expected a list"),
        (
            "model",
            "kind",
            "transformer",
            r"model\.kind = 'transformer' is not allowed.*; allowed: mlp, cnn, resnet, rnn",
        ),
        ("regularization", "l2", -1, r"regularization\.l2 = -1\.0 is out of range"),
        ("baseline", "learning_rates", [], r"baseline\.learning_rates = \[\] is too short"),
    ],
)
def test_bad_values_name_key_value_and_allowed(section, key, value, message):
    with pytest.raises(zoo.RecipeError, match=message):
        parse_recipe({"name": "x", section: {key: value}}, source="")


def test_bad_top_level_values():
    with pytest.raises(zoo.RecipeError, match="the key 'name' is required"):
        parse_recipe({})
    with pytest.raises(zoo.RecipeError, match=r"dataset = 'cifar' is not allowed; allowed: fashion_mnist, digits"):
        parse_recipe({"name": "x", "dataset": "cifar"})
    with pytest.raises(zoo.RecipeError, match="name = 'My Net' is not allowed"):
        parse_recipe({"name": "My Net"})
    with pytest.raises(zoo.RecipeError, match=r"model = 3 is not allowed; expected a \[model\] table"):
        parse_recipe({"name": "x", "model": 3})


def test_error_names_the_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\n[train]\nepochs = -1\n')
    with pytest.raises(zoo.RecipeError, match=r"mine\.toml: train\.epochs = -1 is out of range"):
        zoo.get_recipe(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("stack.dropout", "does not parse; expected key=value"),
        ("=3", "does not parse; expected key=value"),
        ("model.hidden=[1, 2", r"is not a TOML value"),
    ],
)
def test_bad_set_does_not_parse(text, message):
    with pytest.raises(zoo.RecipeError, match=message):
        parse_override(text)


def test_bad_override_keys():
    with pytest.raises(zoo.RecipeError, match=r"\[stack\] key = 'drop' is not allowed"):
        apply_overrides({}, {"stack.drop": 1})
    with pytest.raises(zoo.RecipeError, match=r"section = 'stak' is not allowed \(did you mean 'stack'"):
        apply_overrides({}, {"stak.dropout": 1})
    with pytest.raises(zoo.RecipeError, match=r"key = 'dropuot' is not allowed \(did you mean 'stack.dropout'"):
        apply_overrides({}, {"dropuot": 1})


GENERIC = {
    "fashion_mlp": "mlp",
    "fashion_cnn": "cnn",
    "fashion_cnn_tiny": "cnn",
    "fashion_resnet": "resnet",
    "fashion_deep_mlp": "deep_mlp",
    "fashion_selu": "selu_mlp",
}


@pytest.mark.parametrize("name", zoo.list_recipes("fashion_*"))
def test_every_benchmarked_recipe_extends_its_generic_one(name):
    from zoo.paths import shipped_dir

    raw = tomllib.loads((shipped_dir("recipes") / f"{name}.toml").read_text())
    assert raw.get("extends") == GENERIC[name], f"{name}.toml should start from {GENERIC.get(name)}.toml"
    assert zoo.get_recipe(GENERIC[name]).dataset == "any", "a generic recipe trains on any data"
    recipe, parent = zoo.get_recipe(name).to_dict(), zoo.get_recipe(GENERIC[name]).to_dict()
    # The file holds only what differs: every key it sets has a value of its own.
    for section, values in raw.items():
        if isinstance(values, dict) and section != "tune":
            same = [
                key
                for key, value in values.items()
                if zoo.get_recipe(name).to_dict()[section][key] == parent[section][key]
            ]
            assert same == [], f"{name}.toml repeats {section}.{same} from {GENERIC[name]}.toml"
    assert recipe["name"] == name


def test_extends_merges_chains_and_names_where_each_key_came_from(tmp_path):
    (tmp_path / "base.toml").write_text('name = "base"\nextends = "cnn"\n[train]\nepochs = 3\nbatch_size = 16\n')
    (tmp_path / "child.toml").write_text('name = "child"\nextends = "base.toml"\n[train]\nepochs = 5\n')
    recipe = zoo.get_recipe(tmp_path / "child.toml", dropout=0.4)
    assert (recipe.model.kind, recipe.train.epochs, recipe.train.batch_size) == ("cnn", 5, 16)
    origins = recipe.origins
    assert (origins["train.epochs"], origins["train.batch_size"], origins["model.kind"]) == (
        "child.toml",
        "base.toml",
        "cnn.toml",
    )
    assert origins["stack.dropout"] == "override" and origins["stack.activation"] == "stack 'default'"
    assert origins["regularization.l1"] == "default"
    assert zoo.get_recipe(recipe, epochs=7).origins["train.epochs"] == "override"


@pytest.mark.parametrize(
    "text, message",
    [
        ('name = "a"\nextends = "a.toml"\n', r"extends goes round in a circle \(a.toml -> a.toml\)"),
        ('name = "a"\nextends = "cnnn"\n', r"unknown recipe 'cnnn' \(did you mean 'cnn'"),
        ('name = "a"\nextends = 3\n', "extends = 3 is not allowed; expected the name of a shipped recipe"),
        ('extends = "cnn"\n', "a recipe that extends 'cnn' still needs a name of its own"),
        ('name = "a"\nextends = "missing.toml"\n', r"recipe file '.*missing.toml' does not exist"),
    ],
)
def test_a_broken_extends_is_named(tmp_path, text, message):
    (tmp_path / "a.toml").write_text(text)
    with pytest.raises(zoo.RecipeError, match=message):
        zoo.get_recipe(tmp_path / "a.toml")


def test_show_prints_where_each_key_came_from_and_hides_keys_the_kind_never_reads(capsys):
    from zoo.cli.main import main

    assert main(["show", "fashion_cnn"]) == 0
    out = capsys.readouterr().out
    assert "epochs = 14  # fashion_cnn.toml" in out and 'kind = "cnn"  # cnn.toml' in out
    assert "filters = [32, 64]  # cnn.toml" in out and "cell =" not in out and "recurrent =" not in out
    assert "activation = \"swish\"  # stack 'modern'" in out  # fashion_cnn names the modern stack
    assert main(["show", "fashion_mlp"]) == 0
    out = capsys.readouterr().out
    assert "filters" not in out and "cell" not in out and "hidden = [1024, 1024]  # fashion_mlp.toml" in out
    assert zoo.get_recipe(tomllib.loads(out.split("\n", 1)[1])["name"]).name == "fashion_mlp", (
        "what show prints is TOML"
    )


def test_model_kinds_agree_with_the_keys_help():
    from zoo.recipes.keys import MODEL_KINDS, SCHEMA

    for key, field in SCHEMA["model"].items():
        said = field.help.split(":")[0] if ":" in field.help else ""
        kinds = tuple(kind for kind in ("mlp", "cnn", "resnet", "rnn") if kind in said)
        assert MODEL_KINDS.get(key, ()) == kinds, key


def test_a_variant_naming_another_stack_takes_that_stacks_keys_and_keeps_the_recipes_own():
    # The levers experiment makes its modern-stack variant from a Recipe object; the named stack's keys once
    # stayed those of the stack the recipe was resolved with (SELU, LeCun init, Adam: a "modern" run that was not).
    for name in ("fashion_selu", "fashion_mlp", "fashion_cnn"):
        from_object = zoo.get_recipe(zoo.get_recipe(name), **{"stack.name": "modern"})
        from_file = zoo.get_recipe(name, **{"stack.name": "modern"})
        assert from_object == from_file and from_object.origins == from_file.origins, name
        assert (from_object.stack.activation, from_object.train.optimizer) == ("swish", "adamw")
        assert from_object.stack.dropout == zoo.get_recipe(name).stack.dropout, "a key the recipe set stays"
    seeded = zoo.get_recipe(zoo.get_recipe("fashion_selu", **{"stack.name": "modern"}), **{"train.seed": 2})
    assert seeded.stack.activation == "swish", "a later override keeps the stack named before"
