"""Generated malformed recipes: every one is accepted or refused with a zoo error, never another exception."""

import pytest
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


BOUNDED = r"""
import resource, sys, tempfile, os
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB for the whole interpreter
import zoo
import zoo.cli.dataflags  # the --set parser
folder = tempfile.mkdtemp()
texts = [
    *('name = "' + "a" * 10**k + '"\n' for k in range(2, 7)),  # 100 to 1,000,000 characters
    *('name = "n"\nv = ' + "[" * 10**k + "]" * 10**k + "\n" for k in range(1, 6)),  # nested arrays
    *("name = \"n\"\n" + "".join(f"[t{i}]\n" for i in range(10**k)) for k in range(1, 5)),  # many tables
    'name = "n"\n[train]\nseed = 99999999999999999999\n',
    'name = "n"\n[train]\nsteps_per_execution = 1000000000\n',
]
for number, text in enumerate(texts):
    path = os.path.join(folder, f"r{number}.toml")
    with open(path, "w") as handle:
        handle.write(text)
    try:
        zoo.get_recipe(path)
    except zoo.RecipeError as error:
        assert len(str(error)) < 5000, str(error)[:200]
    else:
        raise AssertionError(f"recipe {number} was accepted")
for value in ("[" * 100000 + "]" * 100000, "9" * 100000):
    try:
        zoo.get_recipe("fashion_mlp", **dict([zoo.cli.dataflags.parse_override("train.seed=" + value)]))
    except zoo.RecipeError:
        pass
print("bounded", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "MB")
"""


def test_huge_names_and_deep_nesting_end_in_a_recipe_error_within_bounded_memory():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", BOUNDED], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "bounded" in done.stdout, done.stderr[-3000:]


def test_a_name_is_at_most_64_characters():
    assert parse_recipe({"name": "a" * 64}).name == "a" * 64
    with pytest.raises(zoo.RecipeError, match="at most 64"):
        parse_recipe({"name": "a" * 65})
