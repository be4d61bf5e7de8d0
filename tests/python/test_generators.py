"""Sequential.fit_batches (training from iterables / generators of batches) and fit(class_weight=...)."""

import numpy as np
import pytest

import eigennet as en
from eigennet.callbacks import Callback
from eigennet.data import as_normalizer


def _data(n=200, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1).astype(np.int64)
    return X, np.minimum(y, k - 1)


def _model(dtype="float32", normalizer=None, **kw):
    return en.Sequential([en.Dense(8, activation="tanh", dropout=0.1), en.Output(3)], input_dim=5, seed=3,
                         dtype=dtype, updater=en.Adam(learning_rate=0.01), normalizer=normalizer, **kw)


def _chunks(X, y, b):
    return [(X[i:i + b], y[i:i + b]) for i in range(0, len(X), b)]


# ---------------------------------------------------------------------- equivalence with fit
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("source", ["function", "list"])
def test_batches_equal_fit_without_shuffle_bit_for_bit(dtype, source):
    X, y = _data(n=203)  # last batch shorter
    reference = _model(dtype)
    h_ref = reference.fit(X, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    streamed = _model(dtype)
    chunks = _chunks(X, y, 16)
    batches = (lambda: iter(chunks)) if source == "function" else chunks
    h = streamed.fit_batches(batches, epochs=3, verbose=0)
    assert np.array_equal(reference.params(), streamed.params())
    assert h.history["loss"] == h_ref.history["loss"]
    assert h.epoch == h_ref.epoch == [1, 2, 3]
    assert streamed.epoch == reference.epoch == 3
    assert streamed.iteration == reference.iteration == 3 * len(chunks)
    ref_state, state = reference.updater_state(), streamed.updater_state()
    assert ref_state.keys() == state.keys()
    assert all(np.array_equal(ref_state[key], state[key]) for key in ref_state)


def test_epoch_counter_continues_across_calls_and_with_fit():
    X, y = _data()
    model = _model()
    model.fit(X, y, epochs=2, verbose=0)
    h = model.fit_batches(_chunks(X, y, 50), epochs=2, verbose=0)
    assert h.epoch == [3, 4] and model.epoch == 4
    assert model.fit(X, y, epochs=1, verbose=0).epoch == [5]


def test_streamed_from_generator_function_reading_chunks(tmp_path):
    X, y = _data(n=1000)
    path = tmp_path / "data.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%.9g")
    calls = []

    def read_chunks(rows=128):
        calls.append(1)
        with open(path) as f:
            while True:
                lines = [line for _, line in zip(range(rows), f)]
                if not lines:
                    return
                block = np.loadtxt(lines, delimiter=",", ndmin=2)
                yield block[:, :-1], block[:, -1].astype(np.int64)

    X_file = np.loadtxt(path, delimiter=",")[:, :-1]
    model = _model(normalizer="standardize")
    model.normalizer.fit(X_file)  # whole-data statistics, fitted beforehand
    history = model.fit_batches(read_chunks, epochs=4, validation_data=(X, y), verbose=0)
    assert len(calls) == 4 and model.epoch == 4 and model.iteration == 4 * 8
    assert len(history.history["loss"]) == 4 and "val_accuracy" in history.history
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.evaluate(X, y)["accuracy"] > 0.7


def test_unfitted_normalizer_is_fitted_on_first_batch():
    X, y = _data()
    model = _model(normalizer="standardize")
    model.fit_batches(_chunks(X, y, 40), verbose=0)
    reference = as_normalizer("standardize")
    reference.fit(X[:40])
    assert np.allclose(model.normalizer.transform(X, dtype=np.float64), reference.transform(X, dtype=np.float64))


def test_builds_unbuilt_model_and_accepts_callbacks():
    X, y = _data()
    model = en.Sequential([en.Dense(6, activation="relu"), en.Output(3)], seed=0)
    seen = []

    class Record(Callback):
        def on_epoch_end(self, epoch, logs):
            seen.append((epoch, self.params["n_samples"], sorted(logs)))
            if epoch == 2:
                self.model.stop_training = True

    h = model.fit_batches(lambda: iter(_chunks(X, y, 64)), epochs=5, verbose=0, callbacks=[Record()])
    assert model.input_dim == 5
    assert h.epoch == [1, 2] and model.epoch == 2
    assert seen == [(1, 200, ["loss"]), (2, 200, ["loss"])]


def test_one_shot_generator_with_two_epochs_raises():
    X, y = _data()
    model = _model()
    generator = (pair for pair in _chunks(X, y, 50))
    before = model.params()
    with pytest.raises(ValueError, match="one-shot iterator.*epochs=2"):
        model.fit_batches(generator, epochs=2, verbose=0)
    assert np.array_equal(model.params(), before) and model.epoch == 0
    # one epoch from a one-shot generator is fine
    model.fit_batches(generator, epochs=1, verbose=0)
    assert model.epoch == 1


def test_function_returning_same_iterator_raises():
    X, y = _data()
    shared = iter(_chunks(X, y, 50))
    with pytest.raises(ValueError, match="same iterator|no batches"):
        _model().fit_batches(lambda: shared, epochs=2, verbose=0)


@pytest.mark.parametrize("bad, message", [
    (lambda X, y: (X[:, :4], y), "batch 2: .*4 features"),
    (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 7, np.nan, X), y), "batch 2: .*NaN"),
    (lambda X, y: (X, y + 5), "batch 2: .*label"),
    (lambda X, y: (X, y[:-1]), "batch 2: .*samples"),
    (lambda X, y: X, "batch 2: .*pair"),
])
def test_bad_batch_names_index_and_leaves_model_usable(bad, message):
    X, y = _data()
    chunks = _chunks(X, y, 40)
    chunks[2] = bad(*chunks[2])
    model = _model()
    with pytest.raises(ValueError, match=message):
        model.fit_batches(chunks, epochs=1, verbose=0)
    assert model.epoch == 0 and model.iteration == 2  # the two good batches were trained on
    assert np.isfinite(model.params()).all()
    model.fit(X, y, epochs=1, verbose=0)
    assert model.epoch == 1 and np.isfinite(model.predict_proba(X)).all()


def test_bad_arguments():
    X, y = _data()
    model = _model()
    with pytest.raises(TypeError, match="fit_batches"):
        model.fit(_chunks(X, y, 50))
    with pytest.raises(TypeError, match="fit\\(X, y\\)"):
        model.fit_batches(X)
    with pytest.raises(TypeError, match="iterable"):
        model.fit_batches(42)
    with pytest.raises(ValueError, match="no batches"):
        model.fit_batches([], verbose=0)
    with pytest.raises(ValueError, match="balanced"):
        model.fit_batches(_chunks(X, y, 50), class_weight="balanced", verbose=0)
    with pytest.raises(ValueError, match="epochs"):
        model.fit_batches(_chunks(X, y, 50), epochs=-1)
    assert model.fit_batches(_chunks(X, y, 50), epochs=0).epoch == []


# ---------------------------------------------------------------------- class weights
def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("loss", ["mcxent", "negativeloglikelihood"])
def test_class_weight_step_matches_numpy_oracle(loss):
    X, y = _data(n=60)
    X = X.astype(np.float64)
    weights = {0: 0.5, 1: 2.0, 2: 3.5}
    lr = 0.3
    model = en.Sequential([en.Output(3, loss=loss)], input_dim=5, seed=0, dtype="float64",
                          updater=en.SGD(learning_rate=lr))
    W, b = model.get_param(0, "W"), model.get_param(0, "b")
    w = np.array([weights[c] for c in y])
    P = _softmax(X @ W + b)
    Y = np.eye(3)[y]
    expected_loss = np.mean(w * -np.log(P[np.arange(len(y)), y]))
    dZ = (P - Y) * w[:, None] / len(y)
    history = model.fit(X, y, epochs=1, batch_size=len(y), shuffle=False, verbose=0, class_weight=weights)
    assert history.history["loss"][0] == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(model.get_param(0, "W"), W - lr * X.T @ dZ, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.get_param(0, "b"), b - lr * dZ.sum(axis=0), rtol=1e-12, atol=1e-14)


def test_class_weight_same_in_fit_batches_and_uniform_is_noop():
    X, y = _data()
    weights = {0: 1.0, 2: 4.0}  # class 1 defaults to 1
    a, b = _model(), _model()
    a.fit(X, y, epochs=2, batch_size=25, shuffle=False, verbose=0, class_weight=weights)
    b.fit_batches(_chunks(X, y, 25), epochs=2, verbose=0, class_weight=weights)
    assert np.array_equal(a.params(), b.params())
    c, d = _model(), _model()
    c.fit(X, y, epochs=1, verbose=0, class_weight={0: 1, 1: 1, 2: 1})
    d.fit(X, y, epochs=1, verbose=0)
    assert np.array_equal(c.params(), d.params())


def test_balanced_matches_sklearn():
    compute_class_weight = pytest.importorskip("sklearn.utils.class_weight").compute_class_weight
    X, y = _data()
    expected = compute_class_weight("balanced", classes=np.unique(y), y=y)
    assert len(expected) == 3
    a, b = _model("float64"), _model("float64")
    a.fit(X, y, epochs=1, batch_size=32, verbose=0, class_weight="balanced")
    b.fit(X, y, epochs=1, batch_size=32, verbose=0, class_weight=dict(enumerate(expected)))
    assert np.array_equal(a.params(), b.params())
    c = _model("float64")
    c.fit(X, np.eye(3)[y], epochs=1, batch_size=32, verbose=0, class_weight="balanced")  # one-hot labels
    assert np.array_equal(a.params(), c.params())


def test_class_weight_raises_minority_recall():
    rng = np.random.default_rng(7)
    n_major, n_minor = 950, 50
    X = np.vstack([rng.normal(0, 1, size=(n_major, 2)), rng.normal(1.5, 1, size=(n_minor, 2))])
    y = np.r_[np.zeros(n_major, int), np.ones(n_minor, int)]

    def recall(class_weight):
        model = en.Sequential([en.Dense(8, activation="tanh"), en.Output(2)], input_dim=2, seed=0,
                              updater=en.Adam(learning_rate=0.01))
        model.fit(X, y, epochs=30, batch_size=32, verbose=0, class_weight=class_weight)
        return np.mean(model.predict(X[y == 1]) == 1)

    plain, weighted = recall(None), recall("balanced")
    assert weighted > plain + 0.3 and weighted > 0.6


@pytest.mark.parametrize("output, labels, message", [
    (en.Output(3, loss="sparse_mcxent"), "int", "SPARSE_MCXENT"),
    (en.Output(1, activation="sigmoid", loss="xent"), "binary", "XENT.*loss weights"),
    (en.Output(1, activation="identity", loss="mse"), "float", "MCXENT"),
])
def test_class_weight_unsupported_losses(output, labels, message):
    X, y = _data()
    target = {"int": y, "binary": (y > 0).astype(float), "float": y.astype(float)}[labels]
    model = en.Sequential([output], input_dim=5, seed=0)
    with pytest.raises(ValueError, match=message):
        model.fit(X, target, verbose=0, class_weight={0: 2.0})


@pytest.mark.parametrize("class_weight, error", [
    ({3: 1.0}, ValueError), ({0: -1.0}, ValueError), ({0: float("nan")}, ValueError), ({"a": 1.0}, ValueError),
    ("heavy", ValueError), ([1, 2, 3], TypeError),
])
def test_class_weight_bad_values(class_weight, error):
    X, y = _data()
    model = _model()
    with pytest.raises(error, match="class_weight"):
        model.fit(X, y, verbose=0, class_weight=class_weight)
    assert model.epoch == 0
