"""The shape of the package: recipes without TensorFlow, a quiet console, research code apart, small modules."""

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import zoo
from zoo.nets.factories import ACTIVATION_LAYERS, INITIALIZERS, OPTIMIZERS
from zoo.recipes.stacks import ACTIVATIONS
from zoo.recipes.stacks import INITIALIZERS as INIT_WORDS
from zoo.recipes.stacks import OPTIMIZERS as OPTIMIZER_WORDS

PACKAGE = Path(zoo.__file__).parent
NOISE = ("I0000", "E0000", "cuInit", "oneDNN custom operations")


def _python(code: str, **env) -> subprocess.CompletedProcess:
    return _pythons([code], [env])[0]


def _pythons(codes: list[str], envs: list[dict] | None = None) -> list[subprocess.CompletedProcess]:
    """Run each code in a fresh interpreter, all at once: most of each run is TensorFlow's import. The
    environment is a new user's: without the TensorFlow settings zoo makes when this process imports it."""
    made = ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")
    environment = {key: value for key, value in os.environ.items() if key not in made}
    started = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**environment, **env},
        )
        for code, env in zip(codes, envs or [{}] * len(codes))
    ]
    done = []
    for process in started:
        out, err = process.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done


def _loaded(*codes: str, modules: tuple[str, ...]) -> list[list[str]]:
    """For each code, run alone in a fresh interpreter: which of `modules` it loaded."""
    report = "\nimport sys; print(' '.join(m for m in " + repr(modules) + " if m in sys.modules))"
    done = _pythons([code + report for code in codes])
    assert all(run.returncode == 0 for run in done), [run.stderr[-2000:] for run in done]
    return [run.stdout.split() for run in done]


def test_reading_recipes_loads_no_tensorflow():
    code = (
        "import zoo, zoo.recipes.recipe, zoo.recipes.keys, zoo.recipes.stacks, zoo.recipes.catalog\n"
        "import zoo.reports.records, zoo.reports.report\n"
        "recipe = zoo.get_recipe('fashion_mlp', dropout=0.3); recipe.to_toml(); zoo.list_recipes()"
    )
    assert _loaded(code, modules=("tensorflow", "keras", "torch")) == [[]]


def test_zoo_list_is_quick_and_quiet(tmp_path):
    started = time.perf_counter()
    done = _python("import sys; from zoo.cli.main import main; sys.exit(main(['list']))")
    seconds = time.perf_counter() - started
    assert done.returncode == 0 and "fashion_mlp" in done.stdout
    assert done.stderr == ""
    assert seconds < 1.5, f"zoo list took {seconds:.2f} s"


@pytest.mark.slow
def test_library_core_never_imports_the_experiments_or_torch_and_a_users_log_level_is_kept():
    core = [
        info.name
        for info in __import__("pkgutil").walk_packages(zoo.__path__, "zoo.")
        if not info.name.startswith("zoo.experiments") and not info.name.endswith(("__main__", "cli"))
    ]
    # One interpreter (most of its time is TensorFlow's import): zoo's console imports TensorFlow at the user's
    # own log level; `import tensorflow` itself imports jax where jax is installed (tf.lite's utilities do), so
    # what counts is that zoo imports nothing beyond what TensorFlow and Keras had already loaded.
    watched = ("zoo.experiments", "torch", "jax")
    code = "import importlib, json, os, sys\nfrom zoo.reports.console import quiet_tensorflow\nquiet_tensorflow()\n"
    code += "level = os.environ['TF_CPP_MIN_LOG_LEVEL']\nimport tensorflow, keras\n"
    code += "from zoo.reports.records import versions\nonednn = versions()['onednn']\n"
    code += f"before = [m for m in {watched!r} if m in sys.modules]\n"
    code += "".join(f"importlib.import_module({name!r})\n" for name in core)
    code += "import zoo; [getattr(zoo, name) for name in zoo.__all__]\n"
    code += f"print(json.dumps([level, onednn, [m for m in {watched!r} if m in sys.modules and m not in before]]))"
    (done,) = _pythons([code], [{"TF_CPP_MIN_LOG_LEVEL": "0", "TF_ENABLE_ONEDNN_OPTS": "0"}])
    assert done.returncode == 0, done.stderr[-2000:]
    level, onednn, by_zoo = __import__("json").loads(done.stdout.splitlines()[-1])
    assert level == "0", "zoo overrode the user's own TensorFlow log level"
    assert onednn is False, "zoo overrode the user's own TF_ENABLE_ONEDNN_OPTS"
    assert by_zoo == []


def test_public_names_are_not_shadowed_by_modules():
    import importlib
    import pkgutil
    import types

    for info in pkgutil.walk_packages(zoo.__path__, "zoo."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    for name in zoo.__all__:
        assert not isinstance(getattr(zoo, name), types.ModuleType), f"zoo.{name} is a module, not the API's {name}"


@pytest.mark.slow
def test_commands_and_the_api_print_no_tensorflow_start_up_lines(tiny_recipe_file, tmp_path):
    train = (
        "import sys; from zoo.cli.main import main; "
        f"sys.exit(main(['train', {str(tiny_recipe_file)!r}, '--epochs', '1', '--out', {str(tmp_path / 'run')!r}]))"
    )
    # `zoo list`, then the Python API in the same interpreter: its first TensorFlow-needing name imports it quietly.
    api = (
        "import os, sys, zoo; from zoo.cli.main import main; code = main(['list']); "
        "zoo.build(zoo.get_recipe('mlp', hidden=[4]), input_shape=(8, 8, 1), num_classes=3); "
        "from zoo.reports.records import versions; print(versions()['onednn']); "
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL']); sys.exit(code)"
    )
    # `zoo show` with --data reads the data, which loads TensorFlow (it once did so unfiltered).
    (tmp_path / "t.csv").write_text("size,kind\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(20)))
    show = (
        "import sys; from zoo.cli.main import main; "
        f"sys.exit(main(['show', 'tabular', '--data', {str(tmp_path / 't.csv')!r}, '--target', 'kind']))"
    )
    runs = _pythons([api, train, show])
    for done in runs:
        assert done.returncode == 0, done.stderr
        noisy = [line for line in done.stderr.splitlines() if any(word in line for word in NOISE)]
        assert noisy == [], noisy
    # With no level of the user's, zoo sets TensorFlow's to 2 (test_library_core_...: one is kept).
    assert runs[0].stdout.strip().splitlines()[-1] == "2"
    # And TensorFlow's oneDNN kernels, off by default on CPUs without AVX-512-class features, are on.
    assert runs[0].stdout.strip().splitlines()[-2] == "True", runs[0].stdout
    assert (tmp_path / "run" / "metrics.json").is_file()


def test_real_errors_pass_the_noise_filter():
    from zoo.reports.console import filter_noise

    text = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1.5  7 cpu_feature_guard.cc:227] This TensorFlow binary is optimized\n"
        "E0000 00:00:1.8  7 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\n"
        "E0000 00:00:1.9  7 some_kernel.cc:10] out of memory allocating tensor\n"
    )
    assert filter_noise(text) == "E0000 00:00:1.9  7 some_kernel.cc:10] out of memory allocating tensor\n"


def _sizes():
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text()
        yield path, "module", len(source.splitlines()), 400
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path, f"function {node.name}", node.end_lineno - node.lineno + 1, 60


def test_no_module_over_400_lines_and_no_function_over_60():
    too_big = [
        f"{path.relative_to(PACKAGE.parent)} {what}: {lines} lines (limit {limit})"
        for path, what, lines, limit in _sizes()
        if lines > limit
    ]
    assert too_big == []


def test_plots_never_touch_pyplot_or_the_backend():
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text()
        assert (
            "matplotlib.use(" not in source and "matplotlib.pyplot" not in source and "import pyplot" not in source
        ), path


def test_factory_tables_cover_every_word():
    assert set(ACTIVATION_LAYERS) == set(ACTIVATIONS)
    assert set(INITIALIZERS) == set(INIT_WORDS)
    assert set(OPTIMIZERS) == set(OPTIMIZER_WORDS)


def test_versions_name_the_code_that_ran():
    from zoo.reports.records import versions

    found = versions()
    assert found["zoo"] == zoo.__version__ != "0+unknown"
    assert found["git"] is None or len(found["git"]["commit"]) == 40


def test_the_named_baseline_stack_and_zoo_baseline_build_the_same_layers():
    from zoo.nets.plain import baseline_recipe
    from zoo.recipes.recipe import parse_recipe

    plain_recipe = parse_recipe({"name": "plain", "model": {"hidden": [16, 8]}})  # sets no [stack] key itself
    named = parse_recipe({"name": "plain", "model": {"hidden": [16, 8]}, "stack": {"name": "baseline"}})
    assert named.to_dict()["stack"] == baseline_recipe(plain_recipe).to_dict()["stack"]
    described = [
        [type(layer).__name__ for layer in zoo.nets.network.leaf_layers(model)]
        for model in (zoo.build(named), zoo.baseline(plain_recipe))
    ]
    assert described[0] == described[1] and "BatchNorm" not in described[0]


def test_the_folder_list_shows_the_architecture():
    """Packages by role, each one a layer of the import-linter contract (CI runs lint-imports)."""
    import tomllib

    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= 8, f"{len(modules)} modules directly in zoo/: {modules}; put them in a package by role"
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    contract = tomllib.loads(pyproject.read_text())["tool"]["importlinter"]["contracts"][0]
    layered = {name.strip().removeprefix("zoo.") for layer in contract["layers"] for name in layer.split("|")}
    assert set(packages) <= layered, f"packages outside the layers contract: {set(packages) - layered}"


def test_results_record_the_commit_of_a_checkout():
    from zoo.reports import records

    # Run from a checkout, zoo finds the repository two folders above zoo/reports/; installed, there is none.
    assert records._CHECKOUT == Path(records.__file__).resolve().parents[2]
    found = records.git_commit(Path(__file__).resolve().parents[1])  # this test's own checkout
    assert found is not None and len(found["commit"]) == 40 and isinstance(found["uncommitted_changes"], bool)


def test_only_changes_outside_the_committed_results_make_a_run_uncommitted(tmp_path):
    import subprocess

    from zoo.reports import records

    def git(*argv):
        subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", *argv], check=True)

    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "results.json").write_text("{}")
    (tmp_path / "recipe.toml").write_text("a = 1")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first")
    (tmp_path / "benchmarks" / "results" / "results.json").write_text('{"rows": 1}')  # a run's own output
    records.git_commit.cache_clear()  # a process asks once; this test asks again after each change
    assert records.git_commit(tmp_path)["uncommitted_changes"] is False
    (tmp_path / "recipe.toml").write_text("a = 2")  # what a run reads
    records.git_commit.cache_clear()
    assert records.git_commit(tmp_path)["uncommitted_changes"] is True
    records.git_commit.cache_clear()


def test_in_process_tests_train_without_xla_unless_marked():
    # conftest's rule (XLA's compile costs more than a test's short run); the next test is its other half.
    model = zoo.build(zoo.get_recipe("mlp", hidden=[4]), input_shape=(8, 8, 1), num_classes=3)
    assert model.jit_compile is False


@pytest.mark.xla
def test_a_test_marked_xla_gets_xla_as_users_do():
    model = zoo.build(zoo.get_recipe("mlp", hidden=[4]), input_shape=(8, 8, 1), num_classes=3)
    assert model.jit_compile is True
