"""eigennet.evaluation against scikit-learn's metrics on the same predictions, and the model's
decision threshold."""

import warnings

import numpy as np
import pytest

sklearn_metrics = pytest.importorskip("sklearn.metrics")
from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.exceptions import UndefinedMetricWarning  # noqa: E402

import eigennet as en  # noqa: E402
from eigennet.evaluation import (  # noqa: E402
    BinaryEvaluation,
    ClassificationEvaluation,
    RegressionEvaluation,
    calibration,
    expected_calibration_error,
)

TOL = dict(rtol=1e-12, atol=1e-12)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _multiclass(rng, n=300, k=4, ties=False):
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    proba = _softmax(logits)
    if ties:  # coarse probabilities: many equal values inside rows and across samples
        proba = np.round(proba * 4) / 4
    return y, proba


def _binary(rng, n=400, ties=False):
    y = rng.integers(0, 2, n)
    score = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.2 * (2 * y - 1))))
    if ties:
        score = np.round(score * 10) / 10
    return y, score


def _sk(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------- classification
@pytest.mark.parametrize("ties", [False, True])
def test_multiclass_from_probabilities_matches_sklearn(rng, ties):
    y, proba = _multiclass(rng, ties=ties)
    ev = ClassificationEvaluation(y, proba)
    pred = proba.argmax(axis=1)
    labels = list(range(proba.shape[1]))
    assert ev.accuracy() == pytest.approx(sklearn_metrics.accuracy_score(y, pred), abs=1e-12)
    np.testing.assert_array_equal(ev.confusion_matrix(), sklearn_metrics.confusion_matrix(y, pred, labels=labels))
    for name, fn in (("precision", sklearn_metrics.precision_score), ("recall", sklearn_metrics.recall_score),
                     ("f1", sklearn_metrics.f1_score)):
        for average in (None, "macro", "micro", "weighted"):
            ours = getattr(ev, name)(average)
            theirs = _sk(fn, y, pred, labels=labels, average=average, zero_division=0)
            np.testing.assert_allclose(ours, theirs, **TOL, err_msg=f"{name} {average}")
    for k in (1, 2, 3):
        assert ev.top_k_accuracy(k) == pytest.approx(
            sklearn_metrics.top_k_accuracy_score(y, proba, k=k, labels=labels), abs=1e-12)


def test_multiclass_from_labels_matches_sklearn(rng):
    y = rng.integers(0, 5, 200)
    pred = np.where(rng.random(200) < 0.6, y, rng.integers(0, 5, 200))
    ev = ClassificationEvaluation(y, pred)
    np.testing.assert_array_equal(ev.labels, np.unique(np.r_[y, pred]))
    np.testing.assert_array_equal(ev.confusion_matrix(), sklearn_metrics.confusion_matrix(y, pred))
    assert ev.accuracy() == pytest.approx(sklearn_metrics.accuracy_score(y, pred), abs=1e-12)
    for average in (None, "macro", "micro", "weighted"):
        np.testing.assert_allclose(ev.precision(average), sklearn_metrics.precision_score(
            y, pred, average=average, zero_division=0), **TOL)
        np.testing.assert_allclose(ev.recall(average), sklearn_metrics.recall_score(
            y, pred, average=average, zero_division=0), **TOL)
        np.testing.assert_allclose(ev.f1(average), sklearn_metrics.f1_score(
            y, pred, average=average, zero_division=0), **TOL)
    with pytest.raises(ValueError, match="probabilities"):
        ev.top_k_accuracy(2)


def test_string_labels_and_explicit_order():
    y = np.array(["cat", "dog", "dog", "bird", "cat"])
    pred = np.array(["cat", "cat", "dog", "bird", "bird"])
    order = ["dog", "cat", "bird"]
    ev = ClassificationEvaluation(y, pred, labels=order)
    np.testing.assert_array_equal(ev.confusion_matrix(), sklearn_metrics.confusion_matrix(y, pred, labels=order))
    np.testing.assert_allclose(ev.f1(), sklearn_metrics.f1_score(y, pred, labels=order, average=None), **TOL)
    assert "dog" in ev.stats() and "bird" in ev.stats()


def test_one_hot_truth_and_labels_for_columns(rng):
    y, proba = _multiclass(rng, n=50, k=3)
    one_hot = np.eye(3)[y]
    assert ClassificationEvaluation(one_hot, proba).accuracy() == ClassificationEvaluation(y, proba).accuracy()
    named = ClassificationEvaluation(np.array([10, 20, 30])[y], proba, labels=[10, 20, 30])
    np.testing.assert_array_equal(named.confusion_matrix(), ClassificationEvaluation(y, proba).confusion_matrix())


def test_binary_classification_metrics_match_sklearn(rng):
    y, p = _binary(rng)
    ev = ClassificationEvaluation(y, p.reshape(-1, 1), threshold=0.3)
    pred = (p >= 0.3).astype(int)
    np.testing.assert_array_equal(ev.confusion_matrix(), sklearn_metrics.confusion_matrix(y, pred))
    assert ev.f1(None)[1] == pytest.approx(sklearn_metrics.f1_score(y, pred), abs=1e-12)
    assert ev.precision(None)[1] == pytest.approx(sklearn_metrics.precision_score(y, pred), abs=1e-12)
    # 2-column probabilities (as predict_proba returns) decide by argmax.
    ev2 = ClassificationEvaluation(y, np.column_stack([1 - p, p]))
    assert ev2.accuracy() == pytest.approx(sklearn_metrics.accuracy_score(y, (p > 0.5).astype(int)), abs=1e-12)


def test_class_never_predicted_counts_zero(rng):
    y = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 0, 1])  # class 2 never predicted
    ev = ClassificationEvaluation(y, pred)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn warns only without zero_division; we never warn
        ours = ev.precision()
    assert ours[2] == 0.0
    for average in (None, "macro", "micro", "weighted"):
        np.testing.assert_allclose(ev.precision(average), sklearn_metrics.precision_score(
            y, pred, average=average, zero_division=0), **TOL)
        np.testing.assert_allclose(ev.f1(average), sklearn_metrics.f1_score(
            y, pred, average=average, zero_division=0), **TOL)
    assert "never predicted" in ev.stats()
    # A class absent from y_true (recall 0/0) but listed in labels.
    ev = ClassificationEvaluation(y, pred, labels=[0, 1, 2, 3])
    np.testing.assert_allclose(ev.recall(), sklearn_metrics.recall_score(
        y, pred, labels=[0, 1, 2, 3], average=None, zero_division=0), **TOL)
    np.testing.assert_allclose(ev.f1("macro"), sklearn_metrics.f1_score(
        y, pred, labels=[0, 1, 2, 3], average="macro", zero_division=0), **TOL)


def test_stats_text(rng):
    y, proba = _multiclass(rng, n=60, k=3)
    text = ClassificationEvaluation(y, proba).stats(top_k=2)
    for word in ("Accuracy", "Top-2", "macro", "weighted", "micro", "Confusion Matrix", "support"):
        assert word in text
    assert str(ClassificationEvaluation(y, proba)) == ClassificationEvaluation(y, proba).stats()


# ---------------------------------------------------------------------------- binary decisions
@pytest.mark.parametrize("ties", [False, True])
def test_roc_and_pr_curves_match_sklearn(rng, ties):
    y, p = _binary(rng, ties=ties)
    ev = BinaryEvaluation(y, p)
    for drop in (True, False):
        ours = ev.roc_curve(drop_intermediate=drop)
        theirs = sklearn_metrics.roc_curve(y, p, drop_intermediate=drop)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, **TOL)
    assert ev.auc() == pytest.approx(sklearn_metrics.roc_auc_score(y, p), abs=1e-12)
    for a, b in zip(ev.pr_curve(), sklearn_metrics.precision_recall_curve(y, p)):
        np.testing.assert_allclose(a, b, **TOL)
    assert ev.auprc() == pytest.approx(sklearn_metrics.average_precision_score(y, p), abs=1e-12)
    assert ev.average_precision() == ev.auprc()


def test_binary_confusion_at_threshold_matches_sklearn(rng):
    y, p = _binary(rng, ties=True)  # scores exactly on the threshold count as positive
    for t in (0.2, 0.5, 0.7):
        ev = BinaryEvaluation(y, p, threshold=t)
        pred = (p >= t).astype(int)
        np.testing.assert_array_equal(ev.confusion_matrix(), sklearn_metrics.confusion_matrix(y, pred))
        np.testing.assert_array_equal(ev.predict(), pred)
        assert ev.precision() == pytest.approx(_sk(sklearn_metrics.precision_score, y, pred, zero_division=0))
        assert ev.recall() == pytest.approx(sklearn_metrics.recall_score(y, pred))
        assert ev.f1() == pytest.approx(sklearn_metrics.f1_score(y, pred))
        assert ev.accuracy() == pytest.approx(sklearn_metrics.accuracy_score(y, pred))
        np.testing.assert_array_equal(ev.evaluation().confusion_matrix(), ev.confusion_matrix())
    assert "ROC AUC" in BinaryEvaluation(y, p).stats()


def test_binary_accepts_predict_proba_columns(rng):
    y, p = _binary(rng, n=50)
    a = BinaryEvaluation(y, np.column_stack([1 - p, p]))
    b = BinaryEvaluation(y.astype(float).reshape(-1, 1), p.reshape(-1, 1))
    assert a.auc() == b.auc() == BinaryEvaluation(y.astype(bool), p).auc()


def test_single_class_curves_raise(rng):
    p = rng.random(20)
    with pytest.raises(ValueError, match="no negative"):
        BinaryEvaluation(np.ones(20), p).auc()
    with pytest.raises(ValueError, match="positive"):
        BinaryEvaluation(np.zeros(20), p).auprc()


def test_threshold_for_fpr_holds_on_held_out_data(rng):
    y, p = _binary(rng, n=20000)
    fit = BinaryEvaluation(y[:10000], p[:10000])
    t = fit.threshold_for_fpr(0.1)
    assert 0 < t < 1
    assert fit.false_positive_rate(t) <= 0.1
    # Gaining recall means lowering the threshold to the next positive below it, which breaks the target.
    yf, pf = y[:10000], p[:10000]
    next_positive = pf[(yf == 1) & (pf < t)].max()
    assert fit.false_positive_rate(float(next_positive)) > 0.1
    assert fit.recall(t) == fit.recall(float(np.nextafter(next_positive, 1)))
    held = BinaryEvaluation(y[10000:], p[10000:], threshold=t)
    assert abs(held.false_positive_rate() - 0.1) < 0.02


def test_threshold_for_recall_holds_on_held_out_data(rng):
    y, p = _binary(rng, n=20000)
    fit = BinaryEvaluation(y[:10000], p[:10000])
    t = fit.threshold_for_recall(0.9)
    assert fit.recall(t) >= 0.9
    # Any higher threshold that drops a false positive also drops a true positive below the target.
    yf, pf = y[:10000], p[:10000]
    lowest_negative = pf[(yf == 0) & (pf >= t)].min()
    assert fit.recall(float(np.nextafter(lowest_negative, 1))) < 0.9
    assert fit.false_positive_rate(t) == fit.false_positive_rate(float(lowest_negative))
    held = BinaryEvaluation(y[10000:], p[10000:], threshold=t)
    assert abs(held.recall() - 0.9) < 0.02


def test_threshold_for_cost_is_near_bayes_optimal(rng):
    n = 40000
    p = rng.beta(2, 2, n)
    y = (rng.random(n) < p).astype(int)  # p is calibrated
    cost_fp, cost_fn = 1.0, 4.0
    fit = BinaryEvaluation(y[: n // 2], p[: n // 2])
    t = fit.threshold_for_cost(cost_fp, cost_fn)
    bayes = cost_fp / (cost_fp + cost_fn)
    assert abs(t - bayes) < 0.05
    # Minimal on the fitting half among every threshold...
    grid = np.linspace(0.01, 0.99, 99)
    assert fit.expected_cost(cost_fp, cost_fn, t) <= min(fit.expected_cost(cost_fp, cost_fn, g) for g in grid)
    # ... and close to the Bayes threshold's cost on the held-out half.
    held = BinaryEvaluation(y[n // 2:], p[n // 2:])
    assert held.expected_cost(cost_fp, cost_fn, t) <= held.expected_cost(cost_fp, cost_fn, bayes) * 1.02
    assert held.expected_cost(cost_fp, cost_fn, t) < held.expected_cost(cost_fp, cost_fn, 0.5)


def test_threshold_helpers_edge_cases():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.0, 1.0, 0.5, 1.0])  # a negative at probability exactly 1
    ev = BinaryEvaluation(y, p)
    with pytest.raises(ValueError, match="false positive rate"):
        ev.threshold_for_fpr(0.0)
    t = ev.threshold_for_recall(1.0)
    assert 0 < t <= 0.5 and ev.recall(t) == 1.0
    with pytest.raises(ValueError, match="target"):
        ev.threshold_for_recall(1.5)
    with pytest.raises(ValueError, match="cost_fp"):
        ev.threshold_for_cost(-1, 1)
    with pytest.raises(ValueError, match="negative samples"):
        BinaryEvaluation(np.ones(3), [0.2, 0.5, 0.9]).threshold_for_fpr(0.1)


# ---------------------------------------------------------------------------- regression
@pytest.mark.parametrize("columns", [None, 1, 3])
def test_regression_matches_sklearn(rng, columns):
    shape = (100,) if columns is None else (100, columns)
    y = rng.normal(size=shape)
    pred = y + 0.3 * rng.normal(size=shape)
    ev = RegressionEvaluation(y, pred)
    for name, fn in (("mse", sklearn_metrics.mean_squared_error), ("rmse", sklearn_metrics.root_mean_squared_error),
                     ("mae", sklearn_metrics.mean_absolute_error), ("r2", sklearn_metrics.r2_score)):
        np.testing.assert_allclose(getattr(ev, name)(), fn(y, pred, multioutput="raw_values"), **TOL, err_msg=name)
        assert getattr(ev, name)(average=True) == pytest.approx(fn(y, pred), rel=1e-12, abs=1e-12)
    assert "average" in ev.stats()


def test_r2_constant_column_matches_sklearn(rng):
    y = np.column_stack([np.full(20, 3.0), np.full(20, 2.0), rng.normal(size=20)])
    pred = y.copy()
    pred[:, 1] += 0.1  # constant truth, imperfect prediction -> 0; perfect -> 1
    pred[:, 2] += rng.normal(size=20)
    np.testing.assert_allclose(RegressionEvaluation(y, pred).r2(),
                               sklearn_metrics.r2_score(y, pred, multioutput="raw_values"), **TOL)


# ---------------------------------------------------------------------------- calibration
@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_matches_sklearn(rng, strategy):
    y, p = _binary(rng, n=1000, ties=True)  # values on bin edges
    cal = calibration(y, p, n_bins=10, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy=strategy)
    np.testing.assert_allclose(cal.prob_true, prob_true, **TOL)
    np.testing.assert_allclose(cal.prob_pred, prob_pred, **TOL)
    assert cal.counts.sum() == 1000
    # ECE from the definition, sample by sample.
    edges = cal.bin_edges
    bins = np.clip(np.searchsorted(edges[1:-1], p, side="left"), 0, 9)
    ece = sum(abs(y[bins == b].mean() - p[bins == b].mean()) * (bins == b).sum() / 1000
              for b in range(10) if (bins == b).any())
    assert cal.expected_calibration_error == pytest.approx(ece, abs=1e-12)
    assert expected_calibration_error(y, p, 10, strategy) == cal.expected_calibration_error
    assert cal.maximum_calibration_error >= cal.expected_calibration_error


def test_calibration_of_calibrated_probabilities_is_small(rng):
    p = rng.random(50000)
    y = (rng.random(50000) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.02
    assert expected_calibration_error(y, p ** 3) > 0.1


def test_multiclass_calibration_uses_top_label(rng):
    y, proba = _multiclass(rng, n=500, k=4)
    cal = calibration(y, proba, n_bins=5)
    correct = (proba.argmax(axis=1) == y).astype(int)
    prob_true, prob_pred = calibration_curve(correct, proba.max(axis=1), n_bins=5)
    np.testing.assert_allclose(cal.prob_true, prob_true, **TOL)
    np.testing.assert_allclose(cal.prob_pred, prob_pred, **TOL)


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("make, argument", [
    (lambda: ClassificationEvaluation([0, 1, 1], [0, 1]), "y_true"),
    (lambda: ClassificationEvaluation([0, 1], [[0.5, 1.5], [0.5, 0.5]]), "y_pred"),
    (lambda: ClassificationEvaluation([0, 1], [[np.nan, 1.0], [0.5, 0.5]]), "y_pred"),
    (lambda: ClassificationEvaluation([0, np.nan], [0, 1]), "y_true"),
    (lambda: ClassificationEvaluation([0, 1], [0.2, 0.7]), "y_pred"),
    (lambda: ClassificationEvaluation([0, 3], [[0.5, 0.5], [0.5, 0.5]]), "y_true"),
    (lambda: BinaryEvaluation([0, 1, 1], [0.1, 0.2]), "y_true"),
    (lambda: BinaryEvaluation([0, 1], [0.1, 1.2]), "proba"),
    (lambda: BinaryEvaluation([0, 1], [-0.1, 0.5]), "proba"),
    (lambda: BinaryEvaluation([0, 1], [np.nan, 0.5]), "proba"),
    (lambda: BinaryEvaluation([0, 2], [0.1, 0.5]), "y_true"),
    (lambda: BinaryEvaluation([0, 1], [0.1, 0.5], threshold=1.0), "threshold"),
    (lambda: BinaryEvaluation([0, 1], [0.1, 0.5], threshold=np.nan), "threshold"),
    (lambda: RegressionEvaluation([1.0, 2.0], [1.0, 2.0, 3.0]), "y_true"),
    (lambda: RegressionEvaluation([1.0, np.inf], [1.0, 2.0]), "y_true"),
    (lambda: RegressionEvaluation([1.0, 2.0], [1.0, np.nan]), "y_pred"),
    (lambda: calibration([0, 1], [0.5, 1.5]), "proba"),
    (lambda: calibration([0, 1, 1], [0.5, 0.5]), "y_true"),
    (lambda: calibration([0, 1], [0.5, np.nan]), "proba"),
    (lambda: calibration([0, 1], [0.5, 0.6], n_bins=0), "n_bins"),
])
def test_bad_input_names_the_argument(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


def test_bad_average_and_k(rng):
    y, proba = _multiclass(rng, n=20, k=3)
    ev = ClassificationEvaluation(y, proba)
    with pytest.raises(ValueError, match="average"):
        ev.f1("samples")
    with pytest.raises(ValueError, match="k must"):
        ev.top_k_accuracy(0)


# ---------------------------------------------------------------------------- the model's threshold
def _binary_model(rng, seed=3):
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=300) > 0).astype(int)
    model = en.Sequential([en.Dense(8, activation="tanh"), en.Output(1, activation="sigmoid", loss="XENT")],
                          updater=en.Adam(learning_rate=0.05), seed=seed)
    model.fit(X, y, epochs=20, batch_size=32, verbose=0)
    return model, X, y


def test_model_threshold_changes_predict_and_round_trips(rng, tmp_path):
    model, X, y = _binary_model(rng)
    assert model.threshold == 0.5
    p = model.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(model.predict(X), (p >= 0.5).astype(int))
    model.threshold = 0.9
    np.testing.assert_array_equal(model.predict(X), (p >= 0.9).astype(int))
    assert model.predict(X).sum() < (p >= 0.5).sum()
    path = tmp_path / "m.enet"
    model.save(path)
    loaded = en.load(path)
    assert loaded.threshold == 0.9
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    model.threshold = 0.5
    model.save(path)
    assert en.load(path).threshold == 0.5


@pytest.mark.parametrize("value", [0, 1, 1.5, -0.1, float("nan")])
def test_model_threshold_rejects_values_outside_open_interval(rng, value):
    model = en.Sequential([en.Output(1, activation="sigmoid", loss="XENT")], input_dim=2)
    with pytest.raises(ValueError, match="threshold"):
        model.threshold = value
    with pytest.raises(TypeError, match="threshold"):
        model.threshold = "0.3"
    assert model.threshold == 0.5


def test_model_evaluation_helpers(rng):
    model, X, y = _binary_model(rng)
    binary = model.evaluate_binary(X, y)
    p = model.predict_proba(X)[:, 1].astype(np.float64)
    assert binary.auc() == pytest.approx(sklearn_metrics.roc_auc_score(y, p), abs=1e-12)
    model.threshold = binary.threshold_for_recall(0.95)
    assert BinaryEvaluation(y, p, threshold=model.threshold).recall() >= 0.95
    assert sklearn_metrics.recall_score(y, model.predict(X)) >= 0.95
    ce = model.evaluate_classification(X, y)
    np.testing.assert_array_equal(ce.confusion_matrix(), sklearn_metrics.confusion_matrix(y, model.predict(X)))
    assert model.evaluate(X, y)["accuracy"] == pytest.approx(ce.accuracy(), abs=1e-6)
    with pytest.raises(TypeError, match="regressor"):
        model.evaluate_regression(X, y)


def test_model_multiclass_and_regression_helpers(rng):
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    clf = en.Sequential([en.Dense(8), en.Output(3, activation="softmax", loss="MCXENT")],
                        updater=en.Adam(learning_rate=0.05), seed=1)
    clf.fit(X, y, epochs=5, verbose=0)
    ev = clf.evaluate_classification(X, y)
    expected = sklearn_metrics.confusion_matrix(y, clf.predict(X), labels=[0, 1, 2])
    np.testing.assert_array_equal(ev.confusion_matrix(), expected)
    assert ev.top_k_accuracy(3) == 1.0
    with pytest.raises(TypeError, match="binary"):
        clf.evaluate_binary(X, y)
    Y = np.column_stack([X[:, 0] + X[:, 1], X[:, 2]])
    reg = en.Sequential([en.Dense(8), en.Output(2, activation="identity", loss="MSE")],
                        updater=en.Adam(learning_rate=0.05), seed=1)
    reg.fit(X, Y, epochs=5, verbose=0)
    rev = reg.evaluate_regression(X, Y)
    out = reg.predict(X)
    np.testing.assert_allclose(rev.r2(), sklearn_metrics.r2_score(Y, out, multioutput="raw_values"), rtol=1e-10)
    assert rev.mse(average=True) == pytest.approx(reg.evaluate(X, Y)["mse"], rel=1e-5)


def test_files_without_or_with_a_bad_threshold(rng, tmp_path):
    import json

    model = en.Sequential([en.Output(1, activation="sigmoid", loss="XENT")], input_dim=2, seed=0)
    old = tmp_path / "old.enet"
    model._network().save(str(old), json.dumps({"python": {"metadata": {}}}))  # written before thresholds
    assert en.load(old).threshold == 0.5
    bad = tmp_path / "bad.enet"
    model._network().save(str(bad), json.dumps({"python": {"metadata": {}, "threshold": 2.0}}))
    with pytest.raises(en.FormatError, match="threshold"):
        en.load(bad)


def test_model_evaluate_classification_accepts_one_hot(rng):
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    clf = en.Sequential([en.Output(3, activation="softmax", loss="MCXENT")], input_dim=3, seed=2)
    a = clf.evaluate_classification(X, y)
    b = clf.evaluate_classification(X, np.eye(3)[y])
    np.testing.assert_array_equal(a.confusion_matrix(), b.confusion_matrix())
    assert a.accuracy() == pytest.approx(clf.evaluate(X, y)["accuracy"])
