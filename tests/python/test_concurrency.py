"""Threads: predict is safe from many threads on one model; a second concurrent fit is refused."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import eigennet as en


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_from_many_threads_matches_serial_results(dtype):
    rng = np.random.default_rng(0)
    model = en.Sequential([en.Dense(64, activation="relu"), en.BatchNormalization(), en.Dense(32, activation="tanh"),
                           en.Output(5)], input_dim=20, seed=1, dtype=dtype)
    model.fit(rng.normal(size=(256, 20)), rng.integers(0, 5, 256), epochs=2, verbose=0)
    inputs = [rng.normal(size=(int(n), 20)) for n in rng.integers(1, 3000, size=48)]
    serial = [model.predict_output(X) for X in inputs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(model.predict_output, inputs))
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


def test_a_second_concurrent_fit_is_refused_and_the_first_completes():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2_000, 20)).astype(np.float32)
    y = rng.integers(0, 2, 2_000)
    model = en.Sequential([en.Dense(64, activation="relu"), en.Output(2)], input_dim=20, seed=2)
    inside_training = threading.Event()
    attempted = threading.Event()

    def hold_the_first_step(iteration, logs):
        # Runs inside the C++ training loop (which holds the model's training guard); waiting here
        # lets the main thread try a second fit at a known moment.
        if iteration == 1:
            inside_training.set()
            attempted.wait(timeout=60)

    worker_errors = []

    def first_fit():
        try:
            model.fit(X, y, epochs=2, batch_size=32, verbose=0,
                      callbacks=[en.callbacks.LambdaCallback(on_iteration_end=hold_the_first_step)])
        except Exception as exc:  # reported by the assertion below
            worker_errors.append(exc)

    worker = threading.Thread(target=first_fit)
    worker.start()
    assert inside_training.wait(timeout=60)
    before = model.params()
    try:
        with pytest.raises(ValueError, match="already being trained in another thread"):
            model.fit(X[:100], y[:100], epochs=1, verbose=0)
    finally:
        attempted.set()
        worker.join()
    assert not worker_errors, worker_errors
    assert model.epoch == 2
    assert not np.array_equal(model.params(), before)  # the first fit went on training
