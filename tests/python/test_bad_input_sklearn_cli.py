"""Bad input to the scikit-learn wrappers (scikit-learn conventions: ValueError, NotFittedError before
fit) and to the command line (exit code 1 and one line naming the argument, or 2 for usage errors)."""

import re

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from eigennet.cli import main
from eigennet.sklearn import EigenNetClassifier, EigenNetRegressor

N, D = 40, 6


def sample_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, D)), np.arange(N) % 3


def nan_at_first(X):
    out = X.copy()
    out[0, 0] = np.nan
    return out


# Each case: (id, estimator factory, function of (X, y) giving fit's (X, y), exception type, message pattern).
FIT_CASES = [
    ("hidden_zero", lambda: EigenNetClassifier(hidden_layer_sizes=(0,)), None, ValueError, "hidden_layer_sizes"),
    ("hidden_text", lambda: EigenNetClassifier(hidden_layer_sizes="a"), None, ValueError, "hidden_layer_sizes"),
    ("activation_typo", lambda: EigenNetClassifier(activation="rleu"), None, ValueError,
     r'unknown activation "rleu"; did you mean "RELU"'),
    ("updater_typo", lambda: EigenNetClassifier(updater="adma"), None, ValueError, 'unknown updater "adma"'),
    ("learning_rate_negative", lambda: EigenNetClassifier(learning_rate=-1), None, ValueError, "learning_rate=-1"),
    ("l2_negative", lambda: EigenNetRegressor(l2=-1), None, ValueError, "l2 must be finite and >= 0"),
    ("dropout_above_one", lambda: EigenNetClassifier(dropout=1.5, hidden_layer_sizes=(4, 4)), None, ValueError,
     "dropout must be in"),
    ("epochs_negative", lambda: EigenNetClassifier(epochs=-1), None, ValueError, "epochs must be an integer >= 0"),
    ("epochs_fraction", lambda: EigenNetRegressor(epochs=1.5), None, ValueError, "epochs must be an integer"),
    ("batch_size_zero", lambda: EigenNetClassifier(batch_size=0), None, ValueError, "batch_size must be a positive"),
    ("batch_size_text", lambda: EigenNetClassifier(batch_size="big"), None, ValueError, "batch_size must be"),
    ("algorithm_typo", lambda: EigenNetClassifier(algorithm="lbgfs"), None, ValueError, r'did you mean "LBFGS"'),
    ("dtype_half", lambda: EigenNetClassifier(dtype="float16"), None, ValueError, "dtype must be"),
    ("random_state_text", lambda: EigenNetClassifier(random_state="x"), None, ValueError, "random_state must be"),
    ("verbose_text", lambda: EigenNetClassifier(verbose="x"), None, ValueError, "verbose must be 0, 1 or 2"),
    ("shuffle_text", lambda: EigenNetRegressor(shuffle="x"), None, ValueError, "shuffle must be True or False"),
    ("warm_start_text", lambda: EigenNetClassifier(warm_start="x"), None, ValueError, "warm_start must be"),
    ("X_nan", EigenNetClassifier, lambda X, y: (nan_at_first(X), y), ValueError, "Input X contains NaN"),
    ("X_inf", EigenNetRegressor, lambda X, y: (np.where(X > 2, np.inf, X), X[:, 0]), ValueError,
     "Input X contains infinity"),
    ("X_one_dimensional", EigenNetClassifier, lambda X, y: (X[:, 0], y), ValueError, "Expected 2D array"),
    ("X_three_dimensional", EigenNetClassifier, lambda X, y: (X[None], y), ValueError, "dim 3"),
    ("X_complex", EigenNetClassifier, lambda X, y: (X.astype(complex), y), ValueError, "Complex data not supported"),
    ("X_no_samples", EigenNetClassifier, lambda X, y: (X[:0], y[:0]), ValueError, "0 sample"),
    ("X_no_features", EigenNetRegressor, lambda X, y: (X[:, :0], X[:, 0]), ValueError, "0 feature"),
    ("y_too_short", EigenNetClassifier, lambda X, y: (X, y[:-1]), ValueError, "inconsistent numbers of samples"),
    ("y_continuous_for_classifier", EigenNetClassifier, lambda X, y: (X, X[:, 0]), ValueError,
     "Unknown label type: continuous"),
    ("y_nan", EigenNetRegressor, lambda X, y: (X, np.where(y == 1, np.nan, y)), ValueError, "Input y contains NaN"),
    ("y_strings_for_regressor", EigenNetRegressor, lambda X, y: (X, np.array(["a", "b", "c"])[y]), ValueError,
     "could not convert string to float"),
    ("y_one_hot_for_classifier", EigenNetClassifier, lambda X, y: (X, np.eye(3)[y]), ValueError,
     "y should be a 1d array"),
]


@pytest.mark.parametrize("case", FIT_CASES, ids=[c[0] for c in FIT_CASES])
def test_bad_estimator_settings_and_training_data(case):
    _, factory, make, error, pattern = case
    X, y = sample_data()
    estimator = factory()
    estimator.set_params(epochs=estimator.epochs if case[0].startswith("epochs") else 1)
    bad_X, bad_y = make(X, y) if make is not None else (X, y if isinstance(estimator, EigenNetClassifier)
                                                         else X[:, 0])
    with pytest.raises(error, match=pattern):
        estimator.fit(bad_X, bad_y)
    assert not hasattr(estimator, "model_")


SETTING_CASES = [case for case in FIT_CASES if case[2] is None]


@pytest.mark.parametrize("case", SETTING_CASES, ids=[c[0] for c in SETTING_CASES])
def test_a_failed_refit_keeps_the_fitted_estimator(case):
    """A refit with a bad setting raises before anything is reset: the fitted network, classes_ and
    loss curve stay as they were and still predict."""
    name, factory, _, error, pattern = case
    X, y = sample_data()
    bad = factory()
    good_class = type(bad)
    estimator = good_class(hidden_layer_sizes=(4,), epochs=2, random_state=0)
    targets = y if good_class is EigenNetClassifier else X[:, 0]
    estimator.fit(X, targets)
    before = (estimator.model_, estimator.model_.params().copy(), list(estimator.loss_curve_),
              estimator.predict(X))
    classes = getattr(estimator, "classes_", None)
    changed = {key: value for key, value in bad.get_params().items() if value != good_class().get_params()[key]}
    estimator.set_params(**changed)
    with pytest.raises(error, match=pattern):
        estimator.fit(X, targets)
    assert estimator.model_ is before[0]
    np.testing.assert_array_equal(estimator.model_.params(), before[1])
    assert estimator.loss_curve_ == before[2]
    if classes is not None:
        np.testing.assert_array_equal(estimator.classes_, classes)
    np.testing.assert_array_equal(estimator.predict(X), before[3])


PREDICT_CASES = [
    ("wrong_width", lambda X: X[:, :3], "X has 3 features, but .* is expecting 6"),
    ("nan", nan_at_first, "Input X contains NaN"),
    ("three_dimensional", lambda X: X[None], "dim 3"),
    ("one_dimensional", lambda X: X[0], "Expected 2D array"),
]


@pytest.mark.parametrize("estimator_class", [EigenNetClassifier, EigenNetRegressor])
@pytest.mark.parametrize("case", PREDICT_CASES, ids=[c[0] for c in PREDICT_CASES])
def test_bad_prediction_input_leaves_the_estimator_unchanged(case, estimator_class):
    _, make, pattern = case
    X, y = sample_data()
    estimator = estimator_class(hidden_layer_sizes=(4,), epochs=2, random_state=0)
    estimator.fit(X, y if estimator_class is EigenNetClassifier else X[:, 0])
    params = estimator.model_.params().copy()
    with pytest.raises(ValueError, match=pattern):
        estimator.predict(make(X))
    np.testing.assert_array_equal(estimator.model_.params(), params)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function", "score"])
def test_unfitted_estimators_raise_not_fitted_error(method):
    X, y = sample_data()
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(EigenNetClassifier(), method)(*args)
    if method in ("predict", "score"):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            getattr(EigenNetRegressor(), method)(*args)


def test_partial_fit_label_errors():
    X, y = sample_data()
    with pytest.raises(ValueError, match="classes must be passed to the first call of partial_fit"):
        EigenNetClassifier().partial_fit(X, y)
    estimator = EigenNetClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, y)
    params = estimator.model_.params().copy()
    with pytest.raises(ValueError, match=r"y contains labels not in classes_: \[10"):
        estimator.partial_fit(X, y + 10)
    np.testing.assert_array_equal(estimator.model_.params(), params)


def test_a_single_class_classifier_predicts_that_class():
    X, _ = sample_data()
    estimator = EigenNetClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, np.full(N, "only"))
    assert (estimator.predict(X) == "only").all()


# ---------------------------------------------------------------------------------------------- command line
@pytest.fixture
def workspace(tmp_path):
    rng = np.random.default_rng(1)
    lines = ["a,b,label"] + [f"{x:.3f},{z:.3f},{int(x > 0)}" for x, z in rng.normal(size=(30, 2))]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "text.csv").write_text("a,b,label\n1,x,0\n2,3,1\n")
    (tmp_path / "garbage.enet").write_bytes(b"not a model")
    assert main(["train", "--data", str(tmp_path / "data.csv"), "--epochs", "1", "-q",
                 "-o", str(tmp_path / "m.enet")]) == 0
    return tmp_path


# Each case: (id, arguments with {d} for the workspace, exit code, pattern of the one-line error).
CLI_CASES = [
    ("train_missing_data", ["train", "--data", "{d}/none.csv"], 1, "no such file: .*none.csv"),
    ("train_directory_as_data", ["train", "--data", "{d}"], 1, "no such file"),
    ("train_unknown_label_column", ["train", "--data", "{d}/data.csv", "--label-column", "lable"], 1,
     "no column 'lable'; columns are a, b, label"),
    ("train_text_feature", ["train", "--data", "{d}/text.csv"], 1, "feature columns must be numeric"),
    ("train_epochs_zero", ["train", "--data", "{d}/data.csv", "--epochs", "0"], 1,
     "--epochs and --batch-size must be positive"),
    ("train_epochs_text", ["train", "--data", "{d}/data.csv", "--epochs", "many"], 2, "--epochs: invalid int value"),
    ("train_algorithm_typo", ["train", "--data", "{d}/data.csv", "--algorithm", "lbgfs"], 1,
     "--algorithm: unknown algorithm 'lbgfs'"),
    ("train_activation_typo", ["train", "--data", "{d}/data.csv", "--activation", "rleu"], 1,
     'unknown activation "rleu"; did you mean "RELU"'),
    ("train_hidden_text", ["train", "--data", "{d}/data.csv", "--hidden", "a,b"], 1, "--hidden"),
    ("train_validation_split", ["train", "--data", "{d}/data.csv", "--validation-split", "1.5"], 1,
     r"--validation-split must be a fraction in \(0, 1\)"),
    ("train_output_missing_directory", ["train", "--data", "{d}/data.csv", "--epochs", "1", "-q",
                                        "-o", "{d}/no/m.enet"], 1, "could not create"),
    ("train_dtype", ["train", "--data", "{d}/data.csv", "--dtype", "float16"], 2, "--dtype: invalid choice"),
    ("info_missing_model", ["info", "{d}/none.enet"], 1, "no model file at"),
    ("info_garbage_model", ["info", "{d}/garbage.enet"], 1, r"garbage.enet: header length \d+ does not fit the file"),
    ("evaluate_missing_data", ["evaluate", "{d}/m.enet", "--data", "{d}/none.csv"], 1, "no such file"),
    ("evaluate_unknown_label_column", ["evaluate", "{d}/m.enet", "--data", "{d}/data.csv", "--label-column", "z"], 1,
     "no column 'z'"),
    ("predict_text_feature", ["predict", "{d}/m.enet", "--data", "{d}/text.csv"], 1, "text.csv: .*numeric"),
    ("predict_directory_model", ["predict", "{d}", "--data", "{d}/data.csv"], 1, "no model file at"),
    ("export_missing_model", ["export-onnx", "{d}/none.enet"], 1, "no model file at"),
    ("export_opset_text", ["export-onnx", "{d}/m.enet", "--opset", "x"], 2, "--opset: invalid int value"),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_bad_command_lines_fail_with_one_line(case, workspace, capsys):
    _, arguments, expected_code, pattern = case
    argv = [a.format(d=workspace) for a in arguments]
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == expected_code, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    if expected_code == 1:
        assert len(err.strip().splitlines()) == 1, err
        assert last.startswith(f"eigennet {argv[0]}: error: "), last
    assert re.search(pattern, last), last
