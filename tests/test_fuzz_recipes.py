"""Generated malformed recipes: every one is accepted or refused with a zoo error, never another exception."""

import tomllib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zoo
from zoo.recipes.keys import SCHEMA
from zoo.recipes.recipe import get_recipe, parse_recipe
from zoo.recipes.registry import read_recipe_file

# Values of every type TOML can hold, and then some that it cannot.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["elu", "adam", "cnn", "mlp", "fashion_mnist", "digits", "1cycle"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
known_keys = st.sampled_from([(section, key) for section, fields in SCHEMA.items() for key in fields])
any_key = st.one_of(known_keys, st.tuples(st.sampled_from(list(SCHEMA) + ["bogus"]), st.text(max_size=10)))


@st.composite
def recipes(draw):
    data = {"name": draw(st.one_of(st.just("fuzzed"), scalars))}
    for section, key in draw(st.lists(any_key, max_size=8)):
        target = data if not section else data.setdefault(section, {})
        if isinstance(target, dict):
            target[key] = draw(values)
    if draw(st.booleans()):
        data[draw(st.sampled_from(list(SCHEMA)[1:]))] = draw(values)  # a section that is not a table
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes())
def test_generated_recipes_end_in_a_recipe_or_a_zoo_error(data):
    try:
        recipe = parse_recipe(data, source="fuzz")
    except zoo.ZooError:
        return
    assert tomllib.loads(recipe.to_toml())["name"] == recipe.name  # what was accepted round-trips


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_as_a_recipe_file_end_in_a_zoo_error(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fuzz") / "recipe.toml"
    path.write_bytes(raw)
    try:
        get_recipe(path)
    except zoo.ZooError:
        pass
    else:
        read_recipe_file(path)  # only a valid recipe gets here
