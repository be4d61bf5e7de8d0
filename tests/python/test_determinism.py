"""Same seed and thread count give bit-identical training; the thread count changes only the
summation order of large matrix products (see docs/determinism.md, whose numbers these tests check)."""

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
    # Random streams (initialisation, shuffling, dropout masks, noise) do not depend on the thread
    # count, and products with up to a few hundred inputs per layer keep their summation order.
    one = train(dtype, updater(), threads=1, n_features=64, width=1024)
    two = train(dtype, updater(), threads=2, n_features=64, width=1024)
    np.testing.assert_array_equal(one.params(), two.params())


@pytest.mark.parametrize("dtype, tolerance", [("float32", 1e-4), ("float64", 1e-12)])
def test_deep_products_agree_across_thread_counts_to_rounding(dtype, tolerance, restore_threads):
    # With 2048 inputs the parallel product splits the sum differently, so the last bits can differ;
    # docs/determinism.md gives the measured size of the difference.
    def run(threads):
        en.set_num_threads(threads)
        X = np.random.default_rng(1).normal(size=(256, 2048))
        model = en.Sequential([en.Dense(512, activation="tanh"), en.Output(10, "softmax", "mcxent")],
                              input_dim=2048, updater=en.Adam(learning_rate=1e-3), seed=3, dtype=dtype)
        model.fit(X, np.arange(256) % 10, epochs=2, batch_size=128, verbose=0)
        return model.params().astype(np.float64)

    one, two = run(1), run(2)
    assert np.max(np.abs(one - two)) <= tolerance
    np.testing.assert_array_equal(run(2), two)  # and the same thread count is still exact
