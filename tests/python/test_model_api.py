"""The Sequential model API end to end: the documented contract, in float32 and float64."""

import numpy as np
import pytest

import eigennet as en

DTYPES = ["float32", "float64"]


@pytest.fixture(scope="module")
def digits():
    X, y = en.load_digits()
    return en.train_test_split(X / 16.0, y, test_size=0.25, seed=0)


def contract_model(dtype="float32", seed=42, **overrides):
    kwargs = dict(input_dim=64, updater=en.Adam(learning_rate=1e-3), l2=1e-4, seed=seed, dtype=dtype)
    kwargs.update(overrides)
    return en.Sequential(
        [
            en.Dense(64, activation="relu"),
            en.Dense(32, activation="tanh", weight_init="xavier"),
            en.Output(10, activation="softmax", loss="mcxent"),
        ],
        **kwargs,
    )


def small_classifier(dtype="float64", seed=0, **kwargs):
    return en.Sequential(
        [en.Dense(6, activation="tanh"), en.Output(3, activation="softmax", loss="mcxent")],
        input_dim=4, seed=seed, dtype=dtype, **kwargs,
    )


def toy_data(n=30, d=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, classes, size=n)
    return X, y


# ---------------------------------------------------------------------------------------------- contract
@pytest.mark.parametrize("dtype", DTYPES)
def test_contract_end_to_end(digits, dtype, tmp_path, capsys):
    X, Xv, y, yv = digits
    model = contract_model(dtype)
    history = model.fit(X, y, epochs=20, batch_size=32, validation_data=(Xv, yv), verbose=0)
    assert capsys.readouterr().out == ""
    assert history.epoch == list(range(1, 21))
    assert set(history.history) == {"loss", "val_loss", "val_accuracy"}
    assert all(len(v) == 20 for v in history.history.values())
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]

    proba = model.predict_proba(Xv)
    assert proba.shape == (len(Xv), 10)
    assert proba.dtype == np.dtype(dtype)
    assert (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    labels = model.predict(Xv)
    assert labels.shape == (len(Xv),)
    np.testing.assert_array_equal(labels, proba.argmax(axis=1))

    metrics = model.evaluate(Xv, yv)
    assert set(metrics) == {"loss", "accuracy"}
    assert metrics["accuracy"] == pytest.approx(np.mean(labels == yv))
    assert metrics["accuracy"] >= 0.93, metrics
    assert metrics["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-6)
    assert metrics["accuracy"] == pytest.approx(history.history["val_accuracy"][-1])

    path = tmp_path / "digits.enet"
    model.save(str(path))
    same = en.load(str(path))
    assert same.dtype == dtype
    np.testing.assert_array_equal(same.predict_proba(Xv), proba)
    np.testing.assert_array_equal(same.predict(Xv), labels)

    W = model.get_param(0, "W")
    assert W.shape == (64, 64) and W.dtype == np.dtype(dtype)
    assert model.get_param(0, "b").shape == (64,)
    assert model.get_param(1, "W").shape == (64, 32)
    assert model.get_param(2, "W").shape == (32, 10)
    assert model.get_param(2, "b").shape == (10,)
    model.set_param(0, "W", W)
    np.testing.assert_array_equal(model.predict_proba(Xv), proba)

    theta = model.params()
    assert theta.shape == (64 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10,) == (model.num_params,)
    g = model.compute_gradients(X[:8], y[:8])
    assert g.shape == theta.shape and np.isfinite(g).all() and np.abs(g).max() > 0
    text = model.summary()
    assert "total parameters: 6,570" in text
    assert capsys.readouterr().out.strip() == text.strip()


@pytest.mark.parametrize("dtype", DTYPES)
def test_full_batch_and_online_training(digits, dtype):
    X, Xv, y, yv = digits
    X, y = X[:200], y[:200]
    full = contract_model(dtype)
    before = full.params()
    h = full.fit(X, y, epochs=3, batch_size=len(X), verbose=0)
    assert full.iteration == 3  # one step per epoch
    assert np.isfinite(h.history["loss"]).all()
    assert not np.array_equal(full.params(), before)

    online = contract_model(dtype)
    h = online.fit(X, y, epochs=2, batch_size=1, verbose=0)
    assert online.iteration == 2 * len(X)  # one step per sample
    assert h.history["loss"][1] < h.history["loss"][0]

    larger = contract_model(dtype)
    larger.fit(X, y, epochs=1, batch_size=10 * len(X), verbose=0)  # clipped to the data size
    assert larger.iteration == 1
    np.testing.assert_array_equal(larger.params(), _fit_params(contract_model(dtype), X, y, batch_size=len(X)))


def _fit_params(model, X, y, **kwargs):
    model.fit(X, y, verbose=0, **kwargs)
    return model.params()


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_hot_labels_train_exactly_like_integer_labels(digits, dtype):
    X, _, y, _ = digits
    X, y = X[:300], y[:300]
    one_hot = np.eye(10)[y]
    a = _fit_params(contract_model(dtype), X, y, epochs=2, batch_size=16)
    b = _fit_params(contract_model(dtype), X, one_hot, epochs=2, batch_size=16)
    c = _fit_params(contract_model(dtype), X, one_hot.astype(np.float32), epochs=2, batch_size=16)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    model = contract_model(dtype)
    assert model.evaluate(X, y) == model.evaluate(X, one_hot)


def test_shuffle_false_keeps_the_order():
    X, y = toy_data(n=24)
    params = [_fit_params(small_classifier(), X, y, epochs=3, batch_size=5, shuffle=False) for _ in range(2)]
    np.testing.assert_array_equal(params[0], params[1])
    shuffled = _fit_params(small_classifier(), X, y, epochs=3, batch_size=5, shuffle=True)
    assert not np.allclose(shuffled, params[0])
    reversed_order = _fit_params(small_classifier(), X[::-1], y[::-1], epochs=3, batch_size=5, shuffle=False)
    assert not np.allclose(reversed_order, params[0])

    # shuffle=False is plain SGD over the batches in the given order.
    lr = 0.05
    model = small_classifier(updater=en.SGD(learning_rate=lr))
    reference = small_classifier(updater=en.SGD(learning_rate=lr))
    model.fit(X, y, epochs=2, batch_size=5, shuffle=False, verbose=0)
    for _ in range(2):
        for start in range(0, len(X), 5):
            g = reference.compute_gradients(X[start:start + 5], y[start:start + 5])
            reference.set_params(reference.params() - lr * g)
    np.testing.assert_allclose(model.params(), reference.params(), rtol=1e-12, atol=1e-14)


def test_shuffle_true_is_deterministic_for_a_seed():
    X, y = toy_data(n=40)
    a = _fit_params(small_classifier(seed=5), X, y, epochs=3, batch_size=7, shuffle=True)
    b = _fit_params(small_classifier(seed=5), X, y, epochs=3, batch_size=7, shuffle=True)
    np.testing.assert_array_equal(a, b)


def test_verbose_output(capsys):
    X, y = toy_data()
    model = small_classifier()
    model.fit(X, y, epochs=3, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""

    model.fit(X, y, epochs=3, verbose=1, validation_data=(X[:10], y[:10]))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines):
        assert line.startswith(f"epoch {4 + i}/6")
        assert "loss" in line and "val_loss" in line and "val_accuracy" in line
    model.fit(X, y, epochs=2)  # verbose=1 is the default
    assert len(capsys.readouterr().out.strip().splitlines()) == 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_seed_controls_everything(digits, dtype):
    X, _, y, _ = digits
    X, y = X[:400], y[:400]
    a = _fit_params(contract_model(dtype, seed=7), X, y, epochs=2)
    b = _fit_params(contract_model(dtype, seed=7), X, y, epochs=2)
    assert a.tobytes() == b.tobytes()
    c = _fit_params(contract_model(dtype, seed=8), X, y, epochs=2)
    assert not np.allclose(a, c)
    assert not np.array_equal(contract_model(dtype, seed=7).params(), contract_model(dtype, seed=8).params())
    assert contract_model(dtype, seed=7).get_config()["seed"] == 7


def test_seed_none_draws_and_records_a_seed():
    a, b = small_classifier(seed=None), small_classifier(seed=None)
    assert isinstance(a.seed, int) and a.get_config()["seed"] == a.seed
    assert a.seed != b.seed
    np.testing.assert_array_equal(small_classifier(seed=a.seed).params(), a.params())


def test_has_bias_false():
    with_bias = en.Sequential([en.Dense(5), en.Output(3)], input_dim=4, seed=0)
    without = en.Sequential([en.Dense(5, has_bias=False), en.Output(3, has_bias=False)], input_dim=4, seed=0)
    assert with_bias.num_params == 4 * 5 + 5 + 5 * 3 + 3
    assert without.num_params == 4 * 5 + 5 * 3
    assert without.params().shape == (without.num_params,)
    assert without.get_param(0, "W").shape == (4, 5)
    with pytest.raises(ValueError, match=r'no parameter "b".*W'):
        without.get_param(0, "b")
    with pytest.raises(ValueError, match=r'no parameter "b".*W'):
        without.set_param(1, "b", np.zeros(3))
    X, y = toy_data(n=10)
    without.fit(X, y, epochs=2, verbose=0)
    # No bias: a zero input gives zero pre-activations everywhere, so uniform probabilities.
    np.testing.assert_allclose(without.predict_proba(np.zeros((1, 4))), np.full((1, 3), 1 / 3), rtol=1e-6)
    assert "Dense" in without.summary()


def test_summary_lists_layers_and_total(capsys):
    model = en.Sequential(
        [en.Dense(7, activation="relu"), en.ActivationLayer("tanh"), en.Dense(5, has_bias=False),
         en.Output(2, activation="sigmoid", loss="xent")],
        input_dim=3,
    )
    text = model.summary()
    printed = capsys.readouterr().out
    assert text.strip() == printed.strip()
    for word in ("Dense", "Activation", "Output", "XENT", "RELU", "TANH", "SIGMOID", "(None, 7)", "(None, 2)"):
        assert word in text, word
    total = 3 * 7 + 7 + 7 * 5 + 5 * 2 + 2
    assert model.num_params == total
    assert f"total parameters: {total:,}" in text
    with pytest.raises(RuntimeError, match="not built"):
        en.Sequential([en.Output(2)]).summary()


# ---------------------------------------------------------------------------------------------- parameters
def test_get_and_set_param_shapes():
    model = small_classifier()
    W = model.get_param(0, "W")
    assert W.shape == (4, 6)
    new_W = np.arange(24, dtype=np.float64).reshape(4, 6) / 10
    model.set_param(0, "W", new_W)
    np.testing.assert_array_equal(model.get_param(0, "W"), new_W)
    model.set_param(-1, "b", [1.0, 2.0, 3.0])  # negative index, list input
    np.testing.assert_array_equal(model.get_param(1, "b"), [1.0, 2.0, 3.0])
    got = model.get_param(0, "W")
    got[:] = 0  # a copy: the model is unaffected
    np.testing.assert_array_equal(model.get_param(0, "W"), new_W)
    with pytest.raises(ValueError, match=r"shape \(4, 6\).*\(6, 4\)"):
        model.set_param(0, "W", new_W.T)
    with pytest.raises(ValueError, match="shape"):
        model.set_param(0, "W", new_W.ravel())
    with pytest.raises(ValueError, match="shape"):
        model.set_param(0, "b", np.zeros((6, 1)))
    with pytest.raises(ValueError, match="NaN"):
        model.set_param(0, "b", np.full(6, np.nan))
    np.testing.assert_array_equal(model.get_param(0, "W"), new_W)


def test_weight_orientation_matches_x_at_w_plus_b():
    rng = np.random.default_rng(3)
    model = en.Sequential([en.Output(3, activation="identity", loss="mse")], input_dim=5, dtype="float64")
    W = rng.normal(size=(5, 3))
    b = rng.normal(size=3)
    model.set_param(0, "W", W)
    model.set_param(0, "b", b)
    X = rng.normal(size=(7, 5))
    np.testing.assert_allclose(model.predict(X), X @ W + b, rtol=1e-12)
    np.testing.assert_array_equal(model.params(), np.concatenate([W.ravel(), b]))


def test_single_input_feature_keeps_two_dimensional_weights():
    model = en.Sequential([en.Dense(4), en.Output(1, activation="identity", loss="mse")], input_dim=1, dtype="float64")
    assert model.get_param(0, "W").shape == (1, 4)
    assert model.get_param(1, "W").shape == (4, 1)
    assert model.get_param(1, "b").shape == (1,)
    model.set_param(0, "W", np.ones((1, 4)))
    np.testing.assert_array_equal(model.get_param(0, "W"), np.ones((1, 4)))
    with pytest.raises(ValueError, match="shape"):
        model.set_param(0, "W", np.ones(4))


def test_params_round_trip():
    X, y = toy_data()
    model = small_classifier()
    theta = model.params()
    before = model.predict_proba(X)
    theta[:] = 0  # params() is a copy
    np.testing.assert_array_equal(model.predict_proba(X), before)
    theta = model.params()
    offset = model.get_param(0, "W").size
    np.testing.assert_array_equal(theta[:offset], model.get_param(0, "W").ravel())
    model.set_params(theta * 2)
    np.testing.assert_array_equal(model.params(), theta * 2)
    assert not np.allclose(model.predict_proba(X), before)
    model.set_params(list(theta))
    np.testing.assert_array_equal(model.params(), theta)
    np.testing.assert_array_equal(model.predict_proba(X), before)
    with pytest.raises(ValueError, match=rf"\({model.num_params},\)"):
        model.set_params(theta[:-1])
    with pytest.raises(ValueError, match="NaN"):
        model.set_params(np.full_like(theta, np.nan))
    np.testing.assert_array_equal(model.params(), theta)


@pytest.mark.parametrize(
    "output, labels",
    [
        (en.Output(3, activation="softmax", loss="mcxent"), "classes"),
        (en.Output(3, activation="softmax", loss="sparse_mcxent"), "classes"),
        (en.Output(1, activation="sigmoid", loss="xent"), "binary"),
        (en.Output(2, activation="identity", loss="mse"), "regression"),
    ],
)
def test_compute_gradients_matches_finite_differences(output, labels):
    rng = np.random.default_rng(11)
    model = en.Sequential([en.Dense(5, activation="tanh"), output], input_dim=4, l2=1e-2, seed=2, dtype="float64")
    X = rng.normal(size=(8, 4))
    targets = {"classes": rng.integers(0, 3, 8), "binary": rng.integers(0, 2, 8), "regression": rng.normal(size=(8, 2))}
    y = targets[labels]
    theta = model.params()
    g = model.compute_gradients(X, y)
    assert g.shape == theta.shape
    numeric = np.empty_like(theta)
    eps = 1e-6
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        model.set_params(theta + step)
        up = model.score(X, y)
        model.set_params(theta - step)
        down = model.score(X, y)
        numeric[i] = (up - down) / (2 * eps)
    model.set_params(theta)
    np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-8)
    assert np.abs(g).max() > 1e-3
    np.testing.assert_array_equal(model.params(), theta)  # computing gradients does not train


def test_sparse_mcxent_matches_mcxent():
    X, y = toy_data()
    dense = en.Sequential([en.Dense(5), en.Output(3, loss="mcxent")], input_dim=4, seed=1, dtype="float64")
    sparse = en.Sequential([en.Dense(5), en.Output(3, loss="sparse_mcxent")], input_dim=4, seed=1, dtype="float64")
    np.testing.assert_allclose(sparse.compute_gradients(X, y), dense.compute_gradients(X, y), rtol=1e-10)
    assert sparse.score(X, y) == pytest.approx(dense.score(X, y), rel=1e-12)
    sparse.fit(X, y, epochs=30, batch_size=10, verbose=0)
    metrics = sparse.evaluate(X, y)
    assert set(metrics) == {"loss", "accuracy"}
    assert metrics["accuracy"] == pytest.approx(np.mean(sparse.predict(X) == y))
    assert sparse.predict_proba(X).shape == (len(X), 3)
    with pytest.raises(ValueError, match="integer class labels"):
        sparse.fit(X, np.eye(3)[y], verbose=0)


# ---------------------------------------------------------------------------------------------- tasks
@pytest.mark.parametrize("dtype", DTYPES)
def test_regression(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    model = en.Sequential([en.Dense(16, activation="tanh"), en.Output(1, activation="identity", loss="mse")],
                          input_dim=3, updater=en.Adam(learning_rate=1e-2), seed=0, dtype=dtype)
    history = model.fit(X, y, epochs=40, batch_size=20, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    pred = model.predict(X)
    assert pred.shape == (200,)
    metrics = model.evaluate(X, y)
    assert set(metrics) == {"loss", "mse", "mae"}
    assert metrics["mse"] == pytest.approx(np.mean((pred - y) ** 2), rel=1e-4)
    assert metrics["mae"] == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-4)
    assert metrics["mse"] < 0.1
    model.fit(X, y.reshape(-1, 1), epochs=0)  # (n, 1) targets are accepted too
    np.testing.assert_array_equal(model.predict(X), pred)
    with pytest.raises(TypeError, match="classifier"):
        model.predict_proba(X)


def test_binary_classification():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = en.Sequential([en.Dense(8, activation="tanh"), en.Output(1, "sigmoid", "xent")], input_dim=2,
                          updater=en.Adam(learning_rate=0.02), seed=0)
    model.fit(X, y, epochs=30, batch_size=16, verbose=0)
    proba = model.predict_proba(X)
    assert proba.shape == (120, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    labels = model.predict(X)
    assert labels.shape == (120,) and set(np.unique(labels)) <= {0, 1}
    np.testing.assert_array_equal(labels, (proba[:, 1] >= 0.5).astype(int))
    metrics = model.evaluate(X, y)
    assert metrics["accuracy"] >= 0.9
    assert metrics["accuracy"] == pytest.approx(np.mean(labels == y))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.fit(X, y * 2, verbose=0)


def test_continued_fit_accumulates_counters():
    X, y = toy_data(n=30)
    model = small_classifier()
    assert (model.epoch, model.iteration) == (0, 0)
    first = model.fit(X, y, epochs=2, batch_size=7, verbose=0)
    assert (model.epoch, model.iteration) == (2, 2 * 5)
    second = model.fit(X, y, epochs=3, batch_size=10, verbose=0)
    assert (model.epoch, model.iteration) == (5, 10 + 3 * 3)
    assert first.epoch == [1, 2] and second.epoch == [3, 4, 5]
    model.fit(X, y, epochs=0, verbose=0)
    assert (model.epoch, model.iteration) == (5, 19)
    # Continuing equals training in one go.
    once = small_classifier()
    once.fit(X, y, epochs=4, batch_size=7, verbose=0)
    twice = small_classifier()
    twice.fit(X, y, epochs=1, batch_size=7, verbose=0)
    twice.fit(X, y, epochs=3, batch_size=7, verbose=0)
    np.testing.assert_array_equal(once.params(), twice.params())


def test_input_dim_inferred_on_first_fit():
    X, y = toy_data(d=5)
    model = en.Sequential([en.Dense(4), en.Output(3)], seed=0)
    assert not model.built
    with pytest.raises(RuntimeError, match="not built"):
        model.predict(X)
    model.fit(X, y, epochs=1, verbose=0)
    assert model.built and model.input_dim == 5
    assert model.get_param(0, "W").shape == (5, 4)
    with pytest.raises(ValueError, match="expects 5"):
        model.predict(X[:, :4])


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_end_to_end(dtype, tmp_path):
    X, y = toy_data()
    model = small_classifier(dtype=dtype, updater=en.Adam(learning_rate=0.01))
    assert model.dtype == dtype
    model.fit(X.astype(np.float32), y, epochs=5, verbose=0)
    for array in (model.params(), model.get_param(0, "W"), model.predict_proba(X), model.compute_gradients(X, y),
                  *model.updater_state().values()):
        assert array.dtype == np.dtype(dtype)
    model.save(tmp_path / "m.enet")
    loaded = en.load(tmp_path / "m.enet")
    assert loaded.dtype == dtype and loaded.params().dtype == np.dtype(dtype)
    np.testing.assert_array_equal(loaded.params(), model.params())
    assert en.Sequential([en.Output(2)], dtype=np.float64).dtype == "float64"


# ---------------------------------------------------------------------------------------------- datasets
def test_bundled_datasets():
    X, y = en.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.array_equal(X, np.round(X))
    assert np.array_equal(np.unique(y), np.arange(10))
    X, y = en.load_iris()
    assert X.shape == (150, 4) and np.array_equal(np.bincount(y), [50, 50, 50])
    assert 0 < X.min() and X.max() < 10


def test_train_test_split():
    X, y = en.load_digits()
    X_train, X_test, y_train, y_test = en.train_test_split(X, y, test_size=0.25, seed=0)
    assert len(X_train) + len(X_test) == len(X) and len(X_test) == 450
    assert len(y_train) == len(X_train) and len(y_test) == len(X_test)
    # Stratified: each class keeps its share; the rows stay paired with their labels.
    np.testing.assert_allclose(np.bincount(y_test) / np.bincount(y), 0.25, atol=0.01)
    rows = {row.tobytes(): label for row, label in zip(X, y)}
    assert all(rows[row.tobytes()] == label for row, label in zip(X_test, y_test))
    same = en.train_test_split(X, y, test_size=0.25, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(same, (X_train, X_test, y_train, y_test)))
    other = en.train_test_split(X, y, test_size=0.25, seed=1)
    assert not np.array_equal(other[3], y_test)
    one_hot = en.train_test_split(X, np.eye(10)[y], test_size=0.25, seed=0)
    assert one_hot[3].shape == (450, 10)
    np.testing.assert_array_equal(np.bincount(one_hot[3].argmax(axis=1)), np.bincount(y_test))  # stratified too
    # Continuous targets cannot be stratified; they still get a test set of the asked size.
    targets = np.random.default_rng(0).normal(size=100)
    _, X_test, _, t_test = en.train_test_split(X[:100], targets, test_size=0.2)
    assert len(X_test) == len(t_test) == 20
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        en.train_test_split(X[:10], y[:9])
    with pytest.raises(ValueError, match=r"test_size must be in \(0, 1\)"):
        en.train_test_split(X, y, test_size=1.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output", [en.Output(10, "softmax", "mcxent"), en.Output(10, "sigmoid", "xent")],
                         ids=["softmax", "sigmoid"])
def test_predictions_are_repeatable(dtype, output):
    """The same input always gives bit-identical output, wherever the arrays lie in memory
    (vectorized exp rounds differently on unaligned buffer heads)."""
    rng = np.random.default_rng(5)
    model = en.Sequential([en.Dense(16, activation="tanh"), output], input_dim=8, seed=0, dtype=dtype)
    X = rng.normal(size=(333, 8))
    first = model.predict_output(X)
    for shift in range(1, 9):  # copies of X at different offsets from an allocation's start
        buffer = np.empty(X.size + shift, dtype=np.float64)
        copy = buffer[shift:].reshape(X.shape)
        copy[:] = X
        for _ in range(3):
            assert model.predict_output(copy).tobytes() == first.tobytes(), shift


def test_prediction_reads_ready_arrays_in_place_and_converts_the_rest_to_the_same_result():
    model = en.Sequential([en.Dense(8, activation="tanh"), en.Output(3, activation="softmax", loss="mcxent")],
                          input_dim=5, seed=0, dtype="float32")
    net = model._network()
    ready = np.random.default_rng(0).standard_normal((7, 5)).astype(np.float32)
    expected = model.predict_output(ready)
    assert net.predict_if_ready(ready) is not None
    np.testing.assert_array_equal(net.predict_if_ready(ready), expected)
    others = {
        "float64": ready.astype(np.float64),
        "fortran order": np.asfortranarray(ready),
        "strided view": np.repeat(ready, 2, axis=1)[:, ::2],
        "list": ready.tolist(),
    }
    for name, X in others.items():
        assert net.predict_if_ready(X) is None, name
        np.testing.assert_array_equal(model.predict_output(X), expected, err_msg=name)
    for X in (ready[0], ready[:0], ready[:, :4], ready.reshape(1, 7, 5)):
        assert net.predict_if_ready(X) is None
        with pytest.raises(ValueError, match="X"):
            model.predict_output(X)
    bad = ready.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        model.predict_output(bad)
