"""eigennet.sklearn: scikit-learn estimator conventions, model selection and accuracy against MLPClassifier."""

import pickle
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from scipy.stats import loguniform  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import eigennet as en  # noqa: E402
from eigennet.sklearn import EigenNetClassifier, EigenNetRegressor, expected_failed_checks  # noqa: E402


def _iris():
    X, y = en.load_iris()
    return StandardScaler().fit_transform(X), y


# ---------------------------------------------------------------------- scikit-learn's own checks
@parametrize_with_checks(
    [
        EigenNetClassifier(hidden_layer_sizes=(32,), random_state=0),
        EigenNetRegressor(hidden_layer_sizes=(32,), random_state=0),
        EigenNetClassifier(hidden_layer_sizes=(32,), random_state=0, dtype="float64"),
        EigenNetRegressor(hidden_layer_sizes=(32,), random_state=0, dtype="float64"),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        # checks skipped for a missing optional dependency (pandas, array API) warn SkipTestWarning
        warnings.simplefilter("ignore", sklearn.exceptions.SkipTestWarning)
        check(estimator)


def test_expected_failed_checks_only_for_float32():
    assert expected_failed_checks(EigenNetClassifier(dtype="float64")) == {}
    assert set(expected_failed_checks(EigenNetRegressor())) == {
        "check_methods_subset_invariance", "check_sample_weight_equivalence_on_dense_data"}


# ---------------------------------------------------------------------- accuracy against MLPClassifier
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dataset, margin", [("digits", 0.02), ("iris", 0.03)])
def test_accuracy_against_mlpclassifier(dataset, margin):
    X, y = en.load_digits() if dataset == "digits" else en.load_iris()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    ours = make_pipeline(StandardScaler(), EigenNetClassifier(random_state=0)).fit(X_train, y_train)
    theirs = make_pipeline(StandardScaler(), MLPClassifier(random_state=0)).fit(X_train, y_train)
    ours_acc, theirs_acc = ours.score(X_test, y_test), theirs.score(X_test, y_test)
    print(f"{dataset}: EigenNetClassifier {ours_acc:.4f}, MLPClassifier {theirs_acc:.4f} "
          f"({len(y_test)} test samples)")
    assert ours_acc >= theirs_acc - margin
    assert ours_acc >= (0.95 if dataset == "digits" else 0.9)


# ---------------------------------------------------------------------- estimator conventions
def test_fit_returns_self_and_fitted_attributes():
    X, y = _iris()
    clf = EigenNetClassifier(hidden_layer_sizes=(16,), epochs=5, random_state=0)
    assert clf.fit(X, y) is clf
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.n_features_in_ == 4
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 5 and clf.loss_ == clf.loss_curve_[-1]
    assert isinstance(clf.model_, en.Sequential)
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(clf.decision_function(X), np.log(proba), rtol=1e-6)
    reg = EigenNetRegressor(epochs=2, random_state=0)
    assert reg.fit(X, X[:, 0]) is reg and reg.predict(X).shape == (150,)
    assert reg.fit(X, X[:, :2]).predict(X).shape == (150, 2)


def test_string_labels_and_binary_decision_function():
    X, y = _iris()
    species = np.array(["setosa", "versicolor", "virginica"])
    names = species[y]
    clf = EigenNetClassifier(hidden_layer_sizes=(16,), learning_rate=0.01, epochs=60, random_state=0).fit(X, names)
    np.testing.assert_array_equal(clf.classes_, ["setosa", "versicolor", "virginica"])
    assert clf.score(X, names) > 0.9
    numeric = clone(clf).fit(X, y)
    np.testing.assert_array_equal(clf.predict(X), species[numeric.predict(X)])
    binary = EigenNetClassifier(hidden_layer_sizes=(8,), learning_rate=0.01, epochs=30, random_state=0)
    binary.fit(X[y > 0], names[y > 0])
    scores = binary.decision_function(X[y > 0])
    assert scores.shape == (100,)
    np.testing.assert_array_equal(binary.predict(X[y > 0]), binary.classes_[(scores > 0).astype(int)])


def test_get_set_params_and_clone():
    clf = EigenNetClassifier(hidden_layer_sizes=(8, 4), learning_rate=0.01, l2=1e-4, random_state=3)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (8, 4) and params["l2"] == 1e-4 and params["updater"] == "adam"
    assert clf.set_params(learning_rate=0.1, epochs=3) is clf
    assert clf.learning_rate == 0.1 and clf.epochs == 3
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == clf.get_params()
    X, y = _iris()
    clf.fit(X, y)
    assert not hasattr(clone(clf), "model_")
    with pytest.raises(ValueError, match="Invalid parameter"):
        clf.set_params(no_such_parameter=1)


def test_updater_and_learning_rate_reach_the_model():
    X, y = _iris()
    clf = EigenNetClassifier(hidden_layer_sizes=(4,), updater="nesterovs", learning_rate=0.05, l1=1e-5, l2=1e-3,
                             epochs=1, random_state=0).fit(X, y)
    config = clf.model_.get_config()
    assert config["updater"]["name"] == "NESTEROVS" and config["updater"]["learning_rate"] == 0.05
    assert config["l1"] == 1e-5 and config["l2"] == 1e-3
    clf = EigenNetClassifier(hidden_layer_sizes=(4,), updater=en.RMSProp(rms_decay=0.9), learning_rate=0.02,
                             epochs=1, random_state=0).fit(X, y)
    assert clf.model_.get_config()["updater"]["rms_decay"] == 0.9
    assert clf.model_.get_config()["updater"]["learning_rate"] == 0.02
    clf = EigenNetClassifier(hidden_layer_sizes=(4,), updater=en.SGD(learning_rate=0.3), learning_rate=None,
                             epochs=1).fit(X, y)
    assert clf.model_.get_config()["updater"]["learning_rate"] == 0.3
    EigenNetClassifier(hidden_layer_sizes=(4,), updater="adadelta", epochs=1).fit(X, y)  # no learning rate
    lbfgs = EigenNetClassifier(hidden_layer_sizes=(8,), algorithm="lbfgs", epochs=3, random_state=0).fit(X, y)
    assert lbfgs.score(X, y) > 0.9
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        EigenNetClassifier(hidden_layer_sizes=(0,)).fit(X, y)
    with pytest.raises(ValueError, match="batch_size"):
        EigenNetClassifier(batch_size="big").fit(X, y)


def test_integer_seed_is_reproducible():
    X, y = _iris()
    a = EigenNetClassifier(hidden_layer_sizes=(16,), epochs=10, batch_size=16, random_state=7).fit(X, y)
    b = EigenNetClassifier(hidden_layer_sizes=(16,), epochs=10, batch_size=16, random_state=7).fit(X, y)
    c = EigenNetClassifier(hidden_layer_sizes=(16,), epochs=10, batch_size=16, random_state=8).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))
    np.testing.assert_array_equal(a.predict_proba(X), a.fit(X, y).predict_proba(X))  # refit starts over


def test_partial_fit_and_warm_start():
    X, y = _iris()
    clf = EigenNetClassifier(hidden_layer_sizes=(16,), learning_rate=0.01, batch_size=16, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])  # a class absent from the first batch
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    for _ in range(40):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 41 and clf.model_.epoch == 41
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X[:2], [0, 5])
    warm = EigenNetClassifier(hidden_layer_sizes=(16,), epochs=3, warm_start=True, random_state=0).fit(X, y)
    model = warm.model_
    assert warm.fit(X, y).model_ is model and model.epoch == 6
    reg = EigenNetRegressor(hidden_layer_sizes=(16,), random_state=0)
    for _ in range(3):
        reg.partial_fit(X[:, 1:], X[:, 0])
    assert reg.model_.epoch == 3


# ---------------------------------------------------------------------- sample weights
def test_classifier_sample_weight_equals_repeating_samples():
    X, y = _iris()
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 4, size=len(y))
    kwargs = dict(hidden_layer_sizes=(8,), epochs=20, batch_size=1000, dtype="float64", random_state=0)
    weighted = EigenNetClassifier(**kwargs).fit(X, y, sample_weight=counts)  # full batch: one step per epoch
    repeated = EigenNetClassifier(**kwargs).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-9, atol=1e-12)
    # uniform weights of any scale are no weights
    plain = EigenNetClassifier(**kwargs).fit(X, y)
    np.testing.assert_array_equal(EigenNetClassifier(**kwargs).fit(X, y, sample_weight=np.full(150, 3.0))
                                  .predict_proba(X), plain.predict_proba(X))


def test_classifier_sample_weight_scales_loss_and_gradient():
    X, y = _iris()
    clf = EigenNetClassifier(hidden_layer_sizes=(8,), epochs=0, dtype="float64", random_state=0).fit(X, y)
    w = np.linspace(0.5, 2.0, 150)
    Y = clf._targets(np.asarray(y), w)
    one_hot = clf._targets(np.asarray(y), None)
    per_sample = [clf.model_.compute_gradients(X[i:i + 1], one_hot[i:i + 1]) for i in range(150)]
    expected = sum(wi * g for wi, g in zip(w, per_sample)) / 150
    np.testing.assert_allclose(clf.model_.compute_gradients(X, Y), expected, rtol=1e-10, atol=1e-14)
    losses = np.array([clf.model_.score(X[i:i + 1], one_hot[i:i + 1]) for i in range(150)])
    np.testing.assert_allclose(clf.model_.score(X, Y), np.mean(w * losses), rtol=1e-12)


def test_regressor_sample_weight():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=120)
    counts = rng.integers(0, 4, size=120)
    kwargs = dict(hidden_layer_sizes=(8,), epochs=20, batch_size=1000, dtype="float64", random_state=0)
    weighted = EigenNetRegressor(**kwargs).fit(X, y, sample_weight=counts)
    assert weighted.weighted_
    repeated = EigenNetRegressor(**kwargs).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-9, atol=1e-12)
    # with mini-batches too, weights of 1 (up to rounding) train the plain network's exact path
    kwargs["batch_size"] = 16
    plain = EigenNetRegressor(**kwargs).fit(X, y)
    near_one = np.ones(120)
    near_one[0] += 1e-12
    np.testing.assert_allclose(EigenNetRegressor(**kwargs).fit(X, y, sample_weight=near_one).predict(X),
                               plain.predict(X), rtol=1e-9, atol=1e-12)
    assert not EigenNetRegressor(**kwargs).fit(X, y, sample_weight=np.ones(120)).weighted_
    # a zero weight removes a sample's influence
    outlier = np.vstack([X, [[0.0, 0.0, 0.0]]])
    w = np.r_[np.ones(120), 0.0]
    w[0] = 2.0
    a = EigenNetRegressor(**kwargs).fit(outlier, np.r_[y, 1e3], sample_weight=w)
    b = EigenNetRegressor(**kwargs).fit(outlier, np.r_[y, -1e3], sample_weight=w)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-12)
    # partial_fit with weights needs the weighted network from the first call
    reg = EigenNetRegressor(**kwargs).partial_fit(X, y)
    with pytest.raises(ValueError, match="non-uniform sample_weight"):
        reg.partial_fit(X, y, sample_weight=counts)
    with pytest.raises(ValueError):
        EigenNetRegressor(**kwargs).fit(X, y, sample_weight=-np.ones(120))


# ---------------------------------------------------------------------- pickling
def test_pickle_round_trip(tmp_path):
    X, y = _iris()
    clf = EigenNetClassifier(hidden_layer_sizes=(16,), epochs=5, random_state=0).fit(X, y)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    assert copy.model_.epoch == 5
    copy.partial_fit(X, y)  # training goes on from the restored updater state
    clf.partial_fit(X, y)
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    w = np.linspace(0.5, 1.5, 150)
    reg = EigenNetRegressor(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X[:, 1:], X[:, 0], sample_weight=w)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(X[:, 1:]), reg.predict(X[:, 1:]))
    assert "model_" not in pickle.loads(pickle.dumps(EigenNetClassifier())).__dict__
    assert isinstance(clf.model_, en.Sequential)  # pickling left the estimator alone


# ---------------------------------------------------------------------- model selection
def test_pipeline_and_cross_val_score():
    X, y = en.load_iris()
    pipe = Pipeline([("scale", StandardScaler()),
                     ("net", EigenNetClassifier(hidden_layer_sizes=(16,), learning_rate=0.01, epochs=100,
                                                random_state=0))])
    scores = cross_val_score(pipe, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0))
    assert scores.shape == (5,) and scores.mean() > 0.9
    reg = make_pipeline(StandardScaler(), EigenNetRegressor(hidden_layer_sizes=(16,), learning_rate=0.01, epochs=100,
                                                                   batch_size=16, random_state=0))
    r2 = cross_val_score(reg, X[:, 1:], X[:, 0], cv=KFold(3, shuffle=True, random_state=0))
    assert r2.mean() > 0.5


def test_grid_search():
    X, y = en.load_iris()
    pipe = make_pipeline(StandardScaler(), EigenNetClassifier(epochs=40, random_state=0))
    grid = GridSearchCV(pipe, {
        "eigennetclassifier__hidden_layer_sizes": [(8,), (16, 8)],
        "eigennetclassifier__learning_rate": [1e-3, 1e-2],
        "eigennetclassifier__l2": [0.0, 1e-3],
    }, cv=3)
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 8
    assert grid.best_score_ > 0.85
    assert grid.best_estimator_.score(X, y) > 0.9


def test_randomized_search():
    X, y = _iris()
    search = RandomizedSearchCV(
        EigenNetClassifier(epochs=40, random_state=0),
        {"hidden_layer_sizes": [(8,), (32,), (16, 16)], "learning_rate": loguniform(1e-3, 1e-1),
         "l2": loguniform(1e-6, 1e-2)},
        n_iter=5, cv=3, random_state=0,
    )
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 5
    assert search.best_score_ > 0.85
    assert 1e-3 <= search.best_params_["learning_rate"] <= 1e-1


def test_dataframe_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = _iris()
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    clf = EigenNetClassifier(hidden_layer_sizes=(4,), epochs=2, random_state=0).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["sl", "sw", "pl", "pw"])


def test_not_fitted_and_bad_input():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        EigenNetClassifier().predict(np.zeros((2, 3)))
    X, y = _iris()
    clf = EigenNetClassifier(hidden_layer_sizes=(4,), epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="Unknown label type"):
        EigenNetClassifier().fit(X, X[:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        EigenNetClassifier(hidden_layer_sizes=(4,), epochs=1).fit(X, y)  # no warnings of its own
