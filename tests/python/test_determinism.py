"""Same seed gives bit-identical training, whatever the thread count (see docs/determinism.md)."""

import numpy as np
import pytest

import eigennet as en


@pytest.fixture
def restore_threads():
    before = en.get_num_threads()
    yield
    en.set_num_threads(before)


def train(dtype, updater, algorithm="sgd", threads=None, n_features=16, width=32):
    if threads is not None:
        en.set_num_threads(threads)
    X = np.random.default_rng(1).normal(size=(96, n_features))
    y = np.arange(96) % 4
    model = en.Sequential(
        [en.Dense(width, activation="relu", dropout=0.1), en.Dropout(0.2), en.GaussianNoise(0.1),
         en.Output(4, activation="softmax", loss="mcxent")],
        input_dim=n_features, updater=updater, seed=7, dtype=dtype)
    kwargs = {"max_iterations": 10} if algorithm != "sgd" else {"batch_size": 16}
    model.fit(X, y, epochs=3, shuffle=True, verbose=0, algorithm=algorithm, **kwargs)
    return model


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("updater, algorithm", [
    (lambda: en.SGD(learning_rate=0.05), "sgd"),
    (lambda: en.Adam(learning_rate=0.01), "sgd"),
    (lambda: en.Adam(), "lbfgs"),
], ids=["sgd", "adam", "lbfgs"])
def test_same_seed_and_thread_count_train_bit_identically(dtype, updater, algorithm):
    first = train(dtype, updater(), algorithm)
    second = train(dtype, updater(), algorithm)
    np.testing.assert_array_equal(first.params(), second.params())
    for key, value in first.updater_state().items():
        np.testing.assert_array_equal(second.updater_state()[key], value)
    assert (first.iteration, first.epoch) == (second.iteration, second.epoch) and first.epoch == 3


def test_a_different_seed_gives_different_training():
    a = train("float64", en.SGD(learning_rate=0.05))
    X = np.random.default_rng(1).normal(size=(96, 16))
    b = en.Sequential([en.Dense(32, activation="relu", dropout=0.1), en.Dropout(0.2), en.GaussianNoise(0.1),
                       en.Output(4, activation="softmax", loss="mcxent")], input_dim=16,
                      updater=en.SGD(learning_rate=0.05), seed=8, dtype="float64")
    b.fit(X, np.arange(96) % 4, epochs=3, batch_size=16, verbose=0)
    assert not np.array_equal(a.params(), b.params())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("updater", [lambda: en.SGD(learning_rate=0.05), lambda: en.Adam(learning_rate=0.01)],
                         ids=["sgd", "adam"])
def test_moderate_sizes_train_bit_identically_on_one_and_two_threads(dtype, updater, restore_threads):
    # Random streams (initialisation, shuffling, dropout masks, noise) do not depend on the thread count.
    one = train(dtype, updater(), threads=1, n_features=64, width=1024)
    two = train(dtype, updater(), threads=2, n_features=64, width=1024)
    np.testing.assert_array_equal(one.params(), two.params())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("algorithm", ["sgd", "lbfgs"])
def test_deep_products_train_bit_identically_on_any_thread_count(dtype, algorithm, restore_threads):
    # Products over 2048 inputs are large enough to be split across threads, and deep enough that
    # Eigen blocks their inner dimension. eigennet splits only the output dimensions, in blocks
    # aligned to the GEMM kernel's register tiles, so each element's sum runs in the same order on
    # any thread count (3 threads on fewer cores still splits unevenly and finishes blocks out of order).
    def run(threads):
        en.set_num_threads(threads)
        rng = np.random.default_rng(1)
        X = rng.normal(size=(200, 2048))
        model = en.Sequential([en.Dense(515, activation="tanh"), en.Dense(300, activation="relu"),
                               en.Output(10, "softmax", "mcxent")],
                              input_dim=2048, updater=en.Adam(learning_rate=1e-3), seed=3, dtype=dtype)
        kwargs = {"max_iterations": 4} if algorithm == "lbfgs" else {"batch_size": 100}
        model.fit(X, np.arange(200) % 10, epochs=2, verbose=0, algorithm=algorithm, **kwargs)
        return model.params(), model.predict_proba(X)

    one = run(1)
    for threads in (2, 3):
        params, proba = run(threads)
        np.testing.assert_array_equal(params, one[0])
        np.testing.assert_array_equal(proba, one[1])


def test_pretraining_is_bit_identical_on_any_thread_count(restore_threads):
    def run(threads):
        en.set_num_threads(threads)
        X = np.random.default_rng(2).random(size=(256, 1024))
        model = en.Sequential([en.AutoEncoder(600, corruption_level=0.2), en.Output(3)], input_dim=1024, seed=5)
        model.pretrain(X, epochs=1, batch_size=128, verbose=0)
        return model.params()

    one = run(1)
    np.testing.assert_array_equal(run(2), one)
