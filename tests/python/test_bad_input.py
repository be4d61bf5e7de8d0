"""Bad input raises a clear ValueError/TypeError naming the problem, and leaves the model untouched;
unusual but valid arrays (views, read-only, other dtypes) are accepted."""

import numpy as np
import pytest

import eigennet as en

N, D, K = 40, 6, 10


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D))
    y = np.arange(N) % K
    return X, y


def classifier(dtype="float32", **kwargs):
    return en.Sequential(
        [en.Dense(8, activation="relu"), en.Output(K, activation="softmax", loss="mcxent")],
        input_dim=D, updater=en.Adam(learning_rate=0.01), seed=0, dtype=dtype, **kwargs,
    )


def snapshot(model):
    return (model.params().copy(), {k: v.copy() for k, v in model.updater_state().items()}, model.iteration,
            model.epoch)


def assert_unchanged(model, before):
    params, state, iteration, epoch = before
    np.testing.assert_array_equal(model.params(), params)
    assert model.updater_state().keys() == state.keys()
    for key in state:
        np.testing.assert_array_equal(model.updater_state()[key], state[key])
    assert (model.iteration, model.epoch) == (iteration, epoch)


def with_value(array, index, value, dtype=None):
    out = np.array(array, dtype=dtype if dtype is not None else np.result_type(array, type(value)))
    out[index] = value
    return out


# Each case: (id, function of (X, y) giving fit's (X, y, kwargs), exception type, message pattern).
FIT_CASES = [
    ("too_few_features", lambda X, y: (X[:, :4], y, {}), ValueError, "has 4 features, but the model expects 6"),
    ("too_many_features", lambda X, y: (np.hstack([X, X]), y, {}), ValueError, "has 12 features"),
    ("one_dimensional_X", lambda X, y: (X[0], y[:1], {}), ValueError, r"2-D.*reshape\(1, -1\)"),
    ("three_dimensional_X", lambda X, y: (X[None], y, {}), ValueError, r"2-D .*shape \(1, 40, 6\)"),
    ("scalar_X", lambda X, y: (np.float64(1.0), y, {}), ValueError, "2-D"),
    ("empty_X", lambda X, y: (X[:0], y[:0], {}), ValueError, "no samples"),
    ("nan_in_X", lambda X, y: (with_value(X, (3, 2), np.nan), y, {}), ValueError, "X contains NaN or infinity"),
    ("inf_in_X", lambda X, y: (with_value(X, (0, 0), -np.inf), y, {}), ValueError, "X contains NaN or infinity"),
    ("nan_in_y", lambda X, y: (X, with_value(y, 5, np.nan), {}), ValueError, "y contains NaN or infinity"),
    ("inf_in_one_hot_y", lambda X, y: (X, with_value(np.eye(K)[y], (1, 1), np.inf), {}), ValueError,
     "y contains NaN or infinity"),
    ("label_equal_to_class_count", lambda X, y: (X, with_value(y, 7, K), {}), ValueError,
     r"label 10, but the output layer has 10 classes \(labels must be integers 0..9\)"),
    ("negative_label", lambda X, y: (X, with_value(y, 0, -1), {}), ValueError, "label -1"),
    ("huge_label", lambda X, y: (X, with_value(y, 0, 2**40), {}), ValueError, "label"),
    ("non_integer_label", lambda X, y: (X, with_value(y, 2, 1.5), {}), ValueError, "integer class labels"),
    ("y_too_short", lambda X, y: (X, y[:-1], {}), ValueError, "X has 40 samples but y has 39"),
    ("y_too_long", lambda X, y: (X, np.append(y, 0), {}), ValueError, "X has 40 samples but y has 41"),
    ("y_wrong_columns", lambda X, y: (X, np.eye(K + 1)[y], {}), ValueError, "11 columns but the output layer has 10"),
    ("y_three_dimensional", lambda X, y: (X, np.eye(K)[y][None], {}), ValueError, "1-D or 2-D"),
    ("complex_X", lambda X, y: (X.astype(complex), y, {}), TypeError, "X must hold real numbers, got dtype complex128"),
    ("object_X", lambda X, y: (X.astype(object), y, {}), TypeError, "X must hold real numbers, got dtype object"),
    ("string_X", lambda X, y: (X.astype(str), y, {}), TypeError, "X must hold real numbers"),
    ("ragged_X", lambda X, y: ([[1.0, 2.0], [3.0]], y[:2], {}), ValueError, "X could not be converted"),
    ("complex_y", lambda X, y: (X, y.astype(complex), {}), TypeError, "y must hold real numbers"),
    ("string_y", lambda X, y: (X, y.astype(str), {}), TypeError, "y must hold real numbers"),
    ("object_y", lambda X, y: (X, y.astype(object), {}), TypeError, "y must hold real numbers"),
    ("batch_size_zero", lambda X, y: (X, y, {"batch_size": 0}), ValueError, "batch_size must be an integer >= 1"),
    ("batch_size_negative", lambda X, y: (X, y, {"batch_size": -5}), ValueError, "batch_size"),
    ("batch_size_float", lambda X, y: (X, y, {"batch_size": 8.0}), ValueError, "batch_size must be an integer"),
    ("epochs_negative", lambda X, y: (X, y, {"epochs": -1}), ValueError, "epochs must be an integer >= 0"),
    ("epochs_bool", lambda X, y: (X, y, {"epochs": True}), ValueError, "epochs"),
    ("validation_not_a_pair", lambda X, y: (X, y, {"validation_data": X}), ValueError,
     "validation_data must be a tuple"),
    ("validation_wrong_features", lambda X, y: (X, y, {"validation_data": (X[:, :3], y)}), ValueError,
     "validation X has 3 features"),
    ("validation_bad_label", lambda X, y: (X, y, {"validation_data": (X, with_value(y, 0, K))}), ValueError,
     "validation y contains label 10"),
    ("validation_nan", lambda X, y: (X, y, {"validation_data": (with_value(X, (0, 0), np.nan), y)}), ValueError,
     "validation X contains NaN"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", FIT_CASES, ids=[c[0] for c in FIT_CASES])
def test_bad_fit_input_raises_and_leaves_the_model_unchanged(data, case, dtype):
    _, make, error, pattern = case
    X, y = data
    model = classifier(dtype)
    model.fit(X, y, epochs=1, batch_size=8, verbose=0)  # non-trivial updater state and counters
    before = snapshot(model)
    bad_X, bad_y, kwargs = make(X, y)
    with pytest.raises(error, match=pattern):
        model.fit(bad_X, bad_y, verbose=0, **kwargs)
    assert_unchanged(model, before)
    model.fit(X, y, epochs=1, batch_size=8, verbose=0)  # still usable
    assert model.epoch == 2


PREDICT_CASES = [c for c in FIT_CASES if c[0].endswith("_X") and c[0] not in ("ragged_X",)]


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_output"])
@pytest.mark.parametrize("case", PREDICT_CASES, ids=[c[0] for c in PREDICT_CASES])
def test_bad_prediction_input(data, case, method):
    _, make, error, pattern = case
    X, y = data
    bad_X, _, _ = make(X, y)
    with pytest.raises(error, match=pattern):
        getattr(classifier(), method)(bad_X)


@pytest.mark.parametrize("method", ["evaluate", "score", "compute_gradients"])
def test_bad_labels_in_evaluate_score_and_gradients(data, method):
    X, y = data
    model = classifier()
    before = snapshot(model)
    for bad_y, pattern in [(with_value(y, 0, K), "label 10"), (y[:-1], "40 samples but y has 39"),
                           (with_value(y, 0, np.nan), "NaN"), (with_value(y, 0, 0.5), "integer class labels")]:
        with pytest.raises(ValueError, match=pattern):
            getattr(model, method)(X, bad_y)
    with pytest.raises(ValueError, match="no samples"):
        getattr(model, method)(X[:0], y[:0])
    assert_unchanged(model, before)


def test_regression_targets_are_checked():
    model = en.Sequential([en.Dense(4), en.Output(2, activation="identity", loss="mse")], input_dim=3, seed=0)
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"shape \(5,\).*2 outputs"):
        model.fit(X, np.zeros(5), verbose=0)
    with pytest.raises(ValueError, match="3 columns but the output layer has 2"):
        model.fit(X, np.zeros((5, 3)), verbose=0)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X, np.full((5, 2), np.inf), verbose=0)


# ---------------------------------------------------------------------------------------------- building
@pytest.mark.parametrize(
    "build, pattern",
    [
        (lambda: en.Dense(8, activation="rleu"), r'unknown activation "rleu"; did you mean "RELU"'),
        (lambda: en.Output(3, activation="sofmax"), r'did you mean "SOFTMAX"'),
        (lambda: en.Output(3, loss="mcxnet"), r'unknown loss "mcxnet"; did you mean "MCXENT"'),
        (lambda: en.Output(3, loss="sparse_mcxnt"), r'did you mean "SPARSE_MCXENT"'),
        (lambda: en.Sequential([en.Output(3)], updater="adma"), r'unknown updater "adma"; did you mean'),
        (lambda: en.Sequential([en.Output(3)], updater="nestrovs"), r'did you mean "NESTEROVS"'),
        (lambda: en.Dense(8, weight_init="xavire"), r'unknown weight init "xavire"; did you mean "XAVIER"'),
    ],
)
def test_unknown_names_suggest_the_closest(build, pattern):
    with pytest.raises(ValueError, match=pattern):
        build()


@pytest.mark.parametrize("units", [0, -1, -100, 10**12, 2**31 + 1])
@pytest.mark.parametrize("layer", [en.Dense, en.Output])
def test_bad_units(layer, units):
    with pytest.raises(ValueError, match=rf"units must be between 1 and 2\*\*31, got {units}"):
        layer(units)


@pytest.mark.parametrize("units", [2.5, "8", None, True])
def test_units_must_be_an_integer(units):
    with pytest.raises(TypeError, match="units must be an integer"):
        en.Dense(units)


def test_layer_order_and_loss():
    with pytest.raises(ValueError, match=r"layer 0 \(Output\) has a loss and must be the last layer"):
        en.Sequential([en.Output(3), en.Dense(3)])
    with pytest.raises(ValueError, match=r"layer 1 \(LossLayer\) has a loss"):
        en.Sequential([en.Dense(3), en.LossLayer(), en.Output(2)])
    with pytest.raises(ValueError, match="last layer must carry a loss.*got Dense"):
        en.Sequential([en.Dense(3), en.Dense(2)])
    with pytest.raises(ValueError, match="at least one layer"):
        en.Sequential([])
    with pytest.raises(TypeError, match="not an eigennet layer"):
        en.Sequential(["Dense", en.Output(2)])


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"l2": -1e-4}, ValueError, "l2 must be finite and >= 0, got -0.0001"),
        ({"l1": -1}, ValueError, "l1 must be finite and >= 0"),
        ({"l2": float("nan")}, ValueError, "l2 must be finite"),
        ({"weight_decay": float("inf")}, ValueError, "weight_decay must be finite"),
        ({"l2": "0.1"}, TypeError, "l2 must be a number"),
        ({"dtype": "float16"}, ValueError, r'dtype must be "float32" or "float64", got .float16.'),
        ({"dtype": np.int32}, ValueError, "dtype must be"),
        ({"dtype": "double precision"}, ValueError, "dtype must be"),
        ({"seed": -1}, ValueError, r"seed must be an integer in \[0, 2\*\*53\)"),
        ({"seed": 1.5}, ValueError, "seed must be an integer"),
        ({"input_dim": 0}, ValueError, "input_dim must be a positive integer"),
        ({"input_dim": 2.0}, ValueError, "input_dim must be a positive integer"),
        ({"updater": 3}, TypeError, "updater must be an Updater"),
        ({"regularize_bias": 1}, TypeError, "regularize_bias must be True or False"),
    ],
)
def test_bad_model_settings(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        en.Sequential([en.Dense(4), en.Output(2)], **{"input_dim": 3, **kwargs})


def test_bad_updater_hyperparameters():
    with pytest.raises(TypeError, match="unexpected hyperparameter"):
        en.Adam(lr=0.1)
    with pytest.raises(TypeError, match="must be a number"):
        en.SGD(learning_rate="fast")


# ---------------------------------------------------------------------------------------------- parameters
def test_bad_parameter_access():
    model = classifier()
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"layer 0 parameter W has shape \(6, 8\), got an array of shape \(8, 6\)"):
        model.set_param(0, "W", np.zeros((8, 6)))
    with pytest.raises(ValueError, match=r"has shape \(8,\)"):
        model.set_param(0, "b", np.zeros(9))
    with pytest.raises(ValueError, match="NaN"):
        model.set_param(1, "W", np.full((8, K), np.nan))
    with pytest.raises(TypeError, match="real numbers"):
        model.set_param(0, "b", np.zeros(8, dtype=complex))
    with pytest.raises(ValueError, match=r'layer 0 \(Dense\) has no parameter "gamma"; it has W, b'):
        model.get_param(0, "gamma")
    with pytest.raises(ValueError, match=r"layer index 2 out of range: the model has 2 layers"):
        model.get_param(2, "W")
    with pytest.raises(IndexError, match="out of range"):  # also an IndexError
        model.get_param(-3, "W")
    with pytest.raises(ValueError, match="out of range"):
        model.set_param(5, "W", np.zeros((6, 8)))
    with pytest.raises(TypeError, match="layer must be an integer index"):
        model.get_param("0", "W")
    with pytest.raises(ValueError, match=r"theta must have shape \(146,\)"):
        model.set_params(np.zeros(10))
    with pytest.raises(ValueError, match="NaN"):
        model.set_params(np.full(model.num_params, np.inf))
    assert_unchanged(model, before)


def test_activation_layer_has_no_parameters():
    model = en.Sequential([en.Dense(4), en.ActivationLayer("tanh"), en.Output(2)], input_dim=3)
    with pytest.raises(ValueError, match="it has no parameters"):
        model.get_param(1, "W")


# ---------------------------------------------------------------------------------------------- accepted input
def input_variants(X):
    big = np.zeros((X.shape[0] * 2, X.shape[1] * 3))
    big[::2, ::3] = X
    strided = big[::2, ::3]
    read_only = X.copy()
    read_only.setflags(write=False)
    reversed_rows = X[::-1][::-1]
    yield "fortran", np.asfortranarray(X), X
    yield "strided", strided, X
    yield "read_only", read_only, X
    yield "negative_stride", X[::-1], np.ascontiguousarray(X[::-1])
    yield "double_reversed", reversed_rows, X
    yield "list", X.tolist(), X
    yield "float16", X.astype(np.float16), X.astype(np.float16).astype(np.float64)
    yield "float32", X.astype(np.float32), X.astype(np.float32).astype(np.float64)
    yield "int", np.rint(X * 3).astype(np.int32), np.rint(X * 3)
    yield "uint8", (np.abs(X) * 10).astype(np.uint8), (np.abs(X) * 10).astype(np.uint8).astype(np.float64)
    yield "bool", X > 0, (X > 0).astype(np.float64)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unusual_arrays_give_the_same_predictions(data, dtype):
    X, y = data
    model = classifier(dtype)
    model.fit(X, y, epochs=2, verbose=0)
    seen = 0
    for name, variant, equivalent in input_variants(X):
        expected = model.predict_proba(np.array(equivalent, dtype=np.float64))
        np.testing.assert_array_equal(model.predict_proba(variant), expected, err_msg=name)
        np.testing.assert_array_equal(model.predict(variant), expected.argmax(axis=1), err_msg=name)
        assert model.evaluate(variant, y) == model.evaluate(np.array(equivalent, dtype=np.float64), y), name
        seen += 1
    assert seen == 11


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unusual_arrays_train_like_plain_arrays(data, dtype):
    X, y = data
    original = X.copy()
    reference = classifier(dtype)
    reference.fit(X, y, epochs=2, batch_size=8, verbose=0)
    variants = {
        "strided": np.repeat(X, 2, axis=0)[::2],
        "fortran": np.asfortranarray(X),
        "read_only": np.array(X),
    }
    variants["read_only"].setflags(write=False)
    read_only_y = y.copy()
    read_only_y.setflags(write=False)
    for name, variant in variants.items():
        model = classifier(dtype)
        model.fit(variant, read_only_y, epochs=2, batch_size=8, verbose=0)
        np.testing.assert_array_equal(model.params(), reference.params(), err_msg=name)
    # Labels in other dtypes: float, bool-free ints of any width, one-hot as ints.
    for labels in (y.astype(np.float32), y.astype(np.uint8), y.astype(np.int16), np.eye(K, dtype=np.int8)[y],
                   y.tolist(), y[::-1][::-1]):
        model = classifier(dtype)
        model.fit(X, labels, epochs=2, batch_size=8, verbose=0)
        np.testing.assert_array_equal(model.params(), reference.params())
    np.testing.assert_array_equal(X, original)  # the caller's arrays are never modified


def test_boolean_labels_for_a_binary_classifier():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 3))
    y = X[:, 0] > 0
    a = en.Sequential([en.Output(1, "sigmoid", "xent")], input_dim=3, seed=0)
    b = en.Sequential([en.Output(1, "sigmoid", "xent")], input_dim=3, seed=0)
    a.fit(X, y, epochs=3, verbose=0)
    b.fit(X, y.astype(np.int64), epochs=3, verbose=0)
    np.testing.assert_array_equal(a.params(), b.params())


@pytest.mark.parametrize("dtype", ["float32", "float64", ">f4", "float16"])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("size", [7, (1 << 20) + 3, 3 << 20])
def test_the_finiteness_check_agrees_with_numpy_for_every_array_kind(dtype, layout, size):
    """The core checks C-contiguous native float arrays in place (split across threads above 65,536
    values); every other array goes through NumPy. Both must find a single NaN or infinity anywhere."""
    from eigennet.model import _all_finite

    base = np.random.default_rng(0).standard_normal((size, 2)).astype(dtype)
    as_layout = {"C": lambda a: a, "F": np.asfortranarray, "strided": lambda a: a[::2]}[layout]
    rows = as_layout(base).shape[0]
    assert _all_finite(as_layout(base)) is True
    for position in (0, rows // 2, rows - 1):
        for bad in (np.nan, np.inf, -np.inf):
            spoiled = base.copy()
            spoiled[2 * position if layout == "strided" else position, 1] = bad
            assert _all_finite(as_layout(spoiled)) is False, (position, bad)
