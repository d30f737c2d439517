"""zoo.Classifier and zoo.Regressor: scikit-learn's estimator contract over zoo's recipes."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import zoo

SMALL = {"model.hidden": [16], "train.jit_compile": "off"}


def _pets(rows=120, seed=0):
    rng = np.random.default_rng(seed)
    weight = rng.normal(10, 3, rows)
    frame = pd.DataFrame({"weight": weight, "colour": rng.choice(["red", "blue"], rows), "age": rng.random(rows)})
    return frame, np.where(weight > 10, "heavy", "light")


@pytest.mark.slow
def test_data_loaded_with_no_test_split_trains_and_tests_nothing(tiny_recipe, tmp_path):
    x = np.random.default_rng(0).random((60, 4), dtype=np.float32)
    splits = zoo.load_data((x, (x[:, 0] > 0.5).astype(int)), test_size=0)
    assert splits.sizes == {"train": 54, "validation": 6, "test": 0}
    result = zoo.train(zoo.get_recipe(tiny_recipe, epochs=1), data=splits, out_dir=tmp_path / "run", verbose=0)
    assert result.test == {} and result.metrics["test_accuracy"] is None
    with pytest.raises(zoo.DataError, match="digits has its own test split; test_size applies to data without one"):
        zoo.load_data("digits", test_size=0)
    with pytest.raises(zoo.DataError, match="test_size = 1 is not allowed; expected a fraction >= 0 and < 1"):
        zoo.load_data((x, x[:, 0] > 0.5), test_size=1)


@pytest.mark.slow
def test_a_classifier_takes_a_dataframe_keeps_its_labels_and_works_in_a_pipeline():
    frame, labels = _pets()
    model = zoo.Classifier(overrides=SMALL, epochs=10, random_state=0)
    assert model.get_params()["epochs"] == 10 and clone(model).get_params() == model.get_params()
    model.fit(frame, labels)
    assert model.classes_.tolist() == ["heavy", "light"] and model.n_features_in_ == 3
    assert set(model.predict(frame.head(5))) <= {"heavy", "light"}
    probabilities = model.predict_proba(frame.head(5))
    assert probabilities.shape == (5, 2) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert model.score(frame, labels) > 0.8
    with pytest.raises(zoo.DataError, match="X has 2 columns; the estimator was fitted on 3"):
        model.predict(frame[["weight", "age"]])
    # New rows whose dtypes differ from the fitted frame's go in as the model takes each column (TensorFlow
    # failed inside the model: "Cast string to float is not supported").
    assert len(model.predict(frame.head(3).assign(colour=[1, 2, 3]))) == 3
    with pytest.raises(zoo.DataError, match="column 'weight' is treated as numeric but line 3 holds 'n/a'"):
        model.predict(frame.head(3).assign(weight=["9.5", "n/a", "11"]))
    # Inside a Pipeline, with a step before it, and under a grid search of its own parameters.
    pipe = make_pipeline(FunctionTransformer(lambda f: f.assign(age=f.age * 2)), zoo.Classifier(overrides=SMALL))
    search = GridSearchCV(pipe, {"classifier__epochs": [1]}, cv=2, refit=False).fit(frame, labels)
    assert search.cv_results_["params"] == [{"classifier__epochs": 1}]
    assert all(0 <= score <= 1 for score in search.cv_results_["mean_test_score"])


@pytest.mark.slow
def test_cross_validation_scores_within_noise_of_zoo_train():
    x, y = load_breast_cancer(return_X_y=True)
    options = {"overrides": {**SMALL, "model.hidden": [32]}, "epochs": 10, "random_state": 0}
    folds = cross_val_score(zoo.Classifier(**options), x, y, cv=2)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])]).assign(target=y)
    recipe = zoo.get_recipe("tabular", **options["overrides"], **{"train.seed": 0})
    trained = zoo.train(recipe, data=zoo.load_data(frame, target="target"), epochs=10, verbose=0)
    assert folds.mean() > 0.9 and abs(folds.mean() - trained.test["accuracy"]) < 0.04, (folds, trained.test)


@pytest.mark.slow
def test_a_regressor_fits_arrays_and_scores_r2():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = 3 * x[:, 0] - x[:, 1] + rng.normal(0, 0.1, 200)
    model = zoo.Regressor(overrides=SMALL, epochs=20, random_state=0).fit(x, y)
    assert model.predict(x[:4]).shape == (4,) and model.score(x, y) > 0.8


def test_a_single_class_or_mismatched_target_is_one_clear_error():
    frame, labels = _pets(rows=20)
    with pytest.raises(zoo.DataError, match="y holds one class"):
        zoo.Classifier().fit(frame, np.full(20, "heavy"))
    with pytest.raises(zoo.DataError, match=r"y has 19 targets; expected one per row of X \(20 rows\)"):
        zoo.Regressor().fit(frame, np.ones(19))


# scikit-learn's own checks that need no trained net (the rest train one net or more each, about four
# minutes for the two estimators; `zoo experiment estimator_checks` runs them all and commits the verdicts).
QUICK_CHECKS = (
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_estimators_unfitted",
    "check_requires_y_none",
    "check_fit2d_1sample",
    "check_estimators_empty_data_messages",
    "check_complex_data",
    "check_estimator_sparse_array",
    "check_estimator_sparse_matrix",
)


@pytest.mark.parametrize("check", QUICK_CHECKS)
@pytest.mark.parametrize("estimator", [zoo.Classifier, zoo.Regressor], ids=["Classifier", "Regressor"])
def test_scikit_learns_checks_that_need_no_training_pass(estimator, check):
    import warnings

    from sklearn.utils import estimator_checks

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(estimator_checks, check)(estimator.__name__, estimator(epochs=1))


def test_a_classifier_refuses_a_continuous_target_as_scikit_learn_does():
    from sklearn.utils.estimator_checks import check_classifiers_regression_target

    check_classifiers_regression_target("Classifier", zoo.Classifier(epochs=1))


def test_table_rows_with_gaps_fit_and_predict_but_infinities_and_nan_pixels_are_refused():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    y = (x[:, 0] > 0).astype(int)
    x[rng.random(x.shape) < 0.1] = np.nan  # about 18 gaps, in every column
    model = zoo.Classifier(overrides={"model.hidden": [8], "train.jit_compile": "off"}, epochs=1, random_state=0)
    assert model.__sklearn_tags__().input_tags.allow_nan
    proba = model.fit(x, y).predict_proba(np.array([[np.nan, np.nan, np.nan], [1.0, np.nan, 0.0]]))
    assert proba.shape == (2, 2) and np.isfinite(proba).all()
    x[0, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        zoo.Classifier(epochs=1).fit(x, y)
    images = np.zeros((8, 4, 4, 1))
    images[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        zoo.Classifier(epochs=1).fit(images, np.arange(8) % 2)


@pytest.mark.slow
def test_a_regressor_takes_a_datetime_column_and_new_rows_dates_as_text():
    days = pd.date_range("2024-01-01", periods=80, freq="D")
    frame = pd.DataFrame({"day": days, "rain": np.random.default_rng(0).random(80)})
    model = zoo.Regressor(overrides=SMALL, epochs=2, random_state=0).fit(frame, np.arange(80.0))
    as_text = model.predict(frame.head(3).assign(day=days[:3].strftime("%Y-%m-%d")))
    assert np.allclose(as_text, model.predict(frame.head(3)), atol=1e-5)
    # Fitted on dates spelled day first, it reads new rows' dates that way (02.01.2024 alone could be 1 February).
    spelled = frame.assign(day=days.strftime("%d.%m.%Y"))
    model = zoo.Regressor(overrides=SMALL, epochs=2, random_state=0).fit(spelled, np.arange(80.0))
    assert np.allclose(model.predict(spelled.head(3)), model.predict(frame.head(3)), atol=1e-5)


@pytest.mark.slow
def test_a_table_the_reader_has_notes_on_warns_as_scikit_learn_does():
    """`zoo train` prints what it made of a table; an estimator prints nothing, so prices written "$1,234.50"
    (text: 64 one-hot categories and an unseen slot) went by without a word."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"price": [f"${v:,.2f}" for v in rng.random(100) * 5000], "rooms": rng.integers(1, 6, 100)})
    with pytest.warns(UserWarning, match=r"X: price: 100 distinct values in 100 rows.*numbers with other characters"):
        zoo.Regressor(overrides=SMALL, epochs=1, random_state=0).fit(frame, rng.random(100))
