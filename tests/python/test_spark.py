"""Spark training (eigennet.spark) on a local Spark inside the test process.

The oracle throughout is single-machine eigennet training computed in the test: parameter averaging
of plain SGD with one step per round is mini-batch SGD on the union of the workers' batches.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import eigennet as en

# pyspark is a test dependency (the spark extra); a missing one fails here rather than skipping.
from pyspark.ml.functions import array_to_vector
from pyspark.sql import SparkSession

from eigennet.spark import SearchResult, SparkTrainer, search


@pytest.fixture(scope="module")
def spark():
    # Python workers must run this interpreter, which has eigennet installed.
    previous = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    # local[2,3]: two task slots, and a failed task is tried up to 3 times (local mode does not
    # retry with local[2]), which the worker-failure test relies on.
    session = (SparkSession.builder.master("local[2,3]").appName("eigennet-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if previous is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = previous


def _net(updater, dtype="float64", seed=7, input_dim=5, hidden=6, outputs=3):
    return en.Sequential([en.Dense(hidden, activation="tanh"), en.Output(outputs, activation="softmax", loss="mcxent")],
                         input_dim=input_dim, updater=updater, seed=seed, dtype=dtype)


def _vector_frame(spark, X, y):
    """A DataFrame with a Spark ML vector column "features" and an integer column "label"."""
    rows = spark.createDataFrame([(row.tolist(), int(label)) for row, label in zip(X, y)],
                                 "features array<double>, label long")
    return rows.select(array_to_vector("features").alias("features"), "label")


def _shards(rng, sizes, width=5, classes=3):
    return [(rng.normal(size=(n, width)), rng.integers(0, classes, size=n)) for n in sizes]


def test_sgd_two_workers_match_single_machine_sgd_with_double_batch(spark):
    rng = np.random.default_rng(0)
    batch, rounds = 8, 4
    (X0, y0), (X1, y1) = _shards(rng, [batch * rounds, batch * rounds])
    distributed = _net(en.SGD(learning_rate=0.2))
    single = en.from_bytes(distributed.to_bytes())
    start = distributed.params()
    rdd = spark.sparkContext.parallelize([(X0, y0), (X1, y1)], 2)
    trainer = SparkTrainer(distributed, batch_size_per_worker=batch, averaging_frequency=1, num_workers=2)
    trainer.fit(rdd, epochs=2, verbose=0)

    # Single-machine batch i is worker 0's batch i followed by worker 1's batch i.
    order = np.concatenate([np.r_[i * batch:(i + 1) * batch] + offset
                            for i in range(rounds) for offset in (0, batch * rounds)])
    X, y = np.concatenate([X0, X1])[order], np.concatenate([y0, y1])[order]
    single.fit(X, y, epochs=2, batch_size=2 * batch, shuffle=False, verbose=0)

    assert np.abs(distributed.params() - start).max() > 1e-3  # training moved the parameters
    np.testing.assert_allclose(distributed.params(), single.params(), rtol=0, atol=1e-12)
    assert distributed.iteration == single.iteration == 2 * rounds
    assert distributed.epoch == 2
    assert [s["examples"] for s in trainer.stats] == [2 * batch] * (2 * rounds)
    assert trainer.history.history["examples"] == [2 * batch * rounds] * 2
    for stats in trainer.stats:
        assert stats["workers"] == 2 and stats["steps"] == 1
        for key in ("compute_seconds", "broadcast_seconds", "aggregation_seconds"):
            assert 0 <= stats[key] <= stats["wall_seconds"] + stats["compute_seconds"]
    assert trainer.summary()["rounds"] == 2 * rounds


def test_unequal_shards_are_weighted_by_examples_seen(spark):
    rng = np.random.default_rng(1)
    (X0, y0), (X1, y1) = _shards(rng, [10, 6])
    distributed = _net(en.SGD(learning_rate=0.3))
    single = en.from_bytes(distributed.to_bytes())
    rdd = spark.sparkContext.parallelize([(X0, y0), (X1, y1)], 2)
    trainer = SparkTrainer(distributed, batch_size_per_worker=4, averaging_frequency=1, num_workers=2)
    trainer.fit(rdd, epochs=1, verbose=0)
    # Rounds: 4 + 4 rows, 4 + 2 rows, then 2 + 0 (worker 1 has run out and sits out).
    batches = [(np.concatenate([X0[0:4], X1[0:4]]), np.concatenate([y0[0:4], y1[0:4]])),
               (np.concatenate([X0[4:8], X1[4:6]]), np.concatenate([y0[4:8], y1[4:6]])),
               (X0[8:10], y0[8:10])]
    single.fit_batches(batches, epochs=1, verbose=0)
    np.testing.assert_allclose(distributed.params(), single.params(), rtol=0, atol=1e-12)
    assert [s["examples"] for s in trainer.stats] == [8, 6, 2]
    assert [s["workers"] for s in trainer.stats] == [2, 2, 1]


def test_adam_state_is_the_example_weighted_mean_of_the_workers(spark):
    rng = np.random.default_rng(2)
    (X0, y0), (X1, y1) = _shards(rng, [8, 6])
    distributed = _net(en.Adam(learning_rate=0.05))
    start = distributed.to_bytes()
    rdd = spark.sparkContext.parallelize([(X0, y0), (X1, y1)], 2)
    trainer = SparkTrainer(distributed, batch_size_per_worker=4, averaging_frequency=2,
                           average_updater_state=True, num_workers=2)
    trainer.fit(rdd, epochs=1, verbose=0)
    assert len(trainer.stats) == 1

    workers = [en.from_bytes(start), en.from_bytes(start)]
    workers[0].fit(X0, y0, epochs=1, batch_size=4, shuffle=False, verbose=0)
    workers[1].fit(X1, y1, epochs=1, batch_size=4, shuffle=False, verbose=0)  # batches of 4 and 2
    weights = np.array([8.0, 6.0]) / 14.0
    expected_params = weights[0] * workers[0].params() + weights[1] * workers[1].params()
    np.testing.assert_allclose(distributed.params(), expected_params, rtol=0, atol=1e-13)
    state = distributed.updater_state()
    assert sorted(state) == ["m", "v"]
    for name in ("m", "v"):
        expected = weights[0] * workers[0].updater_state()[name] + weights[1] * workers[1].updater_state()[name]
        assert np.abs(expected).max() > 0
        np.testing.assert_allclose(state[name], expected, rtol=1e-12, atol=1e-15)
    assert distributed.iteration == 2  # each worker took 2 steps


def test_without_updater_state_averaging_the_driver_state_is_untouched(spark):
    rng = np.random.default_rng(3)
    model = _net(en.Adam(learning_rate=0.05))
    before = model.updater_state()
    rdd = spark.sparkContext.parallelize(_shards(rng, [8, 8]), 2)
    SparkTrainer(model, batch_size_per_worker=4, averaging_frequency=2, average_updater_state=False,
                 num_workers=2).fit(rdd, epochs=1, verbose=0)
    for name, values in model.updater_state().items():
        np.testing.assert_array_equal(values, before[name])
    assert model.iteration == 2


def _fail_first_attempt(marker_path, failing_round, failing_partition):
    """A task hook that raises in one task of one round on its first attempt only (a worker failure
    Spark retries). A closure, so that cloudpickle ships it by value to the Python workers."""

    def hook(round_number, partition):
        from pyspark import TaskContext

        if (round_number, partition) == (failing_round, failing_partition) and TaskContext.get().attemptNumber() == 0:
            with open(marker_path, "w") as marker:
                marker.write("failed once")
            raise RuntimeError("injected worker failure")

    return hook


def test_a_failed_task_is_retried_and_training_gives_the_same_result(spark, tmp_path):
    rng = np.random.default_rng(4)
    shards = _shards(rng, [24, 24])
    rdd = spark.sparkContext.parallelize(shards, 2)
    reference = _net(en.Adam(learning_rate=0.05))
    failing = en.from_bytes(reference.to_bytes())
    SparkTrainer(reference, batch_size_per_worker=4, averaging_frequency=2, num_workers=2).fit(rdd, epochs=1, verbose=0)
    marker = tmp_path / "failed"
    trainer = SparkTrainer(failing, batch_size_per_worker=4, averaging_frequency=2, num_workers=2)
    trainer.fit(rdd, epochs=1, verbose=0, _task_hook=_fail_first_attempt(str(marker), 2, 1))
    assert marker.read_text() == "failed once"
    assert len(trainer.stats) == 3
    np.testing.assert_allclose(failing.params(), reference.params(), rtol=0, atol=1e-14)
    assert failing.iteration == reference.iteration == 6


def test_learning_on_digits_matches_single_machine_accuracy(spark):
    X, y = en.load_digits()
    X_train, X_test, y_train, y_test = en.train_test_split(X / 16.0, y, 0.25, seed=0)

    def make():
        return en.Sequential([en.Dense(32, activation="relu"), en.Output(10, activation="softmax", loss="mcxent")],
                             input_dim=64, updater=en.Adam(learning_rate=0.01), seed=3)

    df = _vector_frame(spark, X_train, y_train)
    assert type(df.schema["features"].dataType).__name__ == "VectorUDT"
    distributed = make()
    trainer = SparkTrainer(distributed, batch_size_per_worker=16, averaging_frequency=22, num_workers=2)
    history = trainer.fit(df, epochs=10, shuffle=True, verbose=0)
    single = make()
    single.fit(X_train, y_train, epochs=10, batch_size=32, verbose=0)
    spark_accuracy = distributed.evaluate(X_test, y_test)["accuracy"]
    single_accuracy = single.evaluate(X_test, y_test)["accuracy"]
    assert single_accuracy > 0.9
    print(f"\nspark accuracy {spark_accuracy:.4f}, single-machine {single_accuracy:.4f}, rounds {len(trainer.stats)}")
    assert spark_accuracy >= single_accuracy - 0.01, (spark_accuracy, single_accuracy)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert sum(history.history["examples"]) == 10 * len(X_train)
    assert distributed.epoch == 10 and distributed.dtype == "float32"


def test_array_column_training_then_save_load_predict(spark, tmp_path):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(64, 5))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    df = spark.createDataFrame([([float(v) for v in row], int(label)) for row, label in zip(X, y)], ["x", "target"])
    model = _net(en.Adam(learning_rate=0.05), dtype="float32", input_dim=None)
    assert not model.built
    SparkTrainer(model, batch_size_per_worker=8, averaging_frequency=2).fit(
        df, features_col="x", label_col="target", epochs=5, verbose=0)
    assert model.input_dim == 5  # built from the width of the first row
    assert model.evaluate(X, y)["accuracy"] > 0.7
    path = tmp_path / "model.bin"
    model.save(path)
    loaded = en.load(path)
    np.testing.assert_array_equal(loaded.predict_output(X), model.predict_output(X))
    assert loaded.iteration == model.iteration > 0 and loaded.epoch == 5 and loaded.dtype == "float32"


def test_bad_arguments_raise_clear_errors(spark):
    model = _net(en.SGD(learning_rate=0.1))
    with pytest.raises(ValueError, match="batch_size_per_worker"):
        SparkTrainer(model, batch_size_per_worker=0)
    with pytest.raises(ValueError, match="averaging_frequency"):
        SparkTrainer(model, averaging_frequency=0)
    with pytest.raises(TypeError, match="batch_size_per_worker"):
        SparkTrainer(model, batch_size_per_worker=2.5)
    with pytest.raises(TypeError, match="model must be an eigennet Sequential"):
        SparkTrainer("not a model")
    df = spark.createDataFrame([([0.1, 0.2, 0.3, 0.4, 0.5], 1)], ["features", "label"])
    trainer = SparkTrainer(model, num_workers=1)
    with pytest.raises(ValueError, match="label_col='y' is not a column"):
        trainer.fit(df, label_col="y", verbose=0)
    with pytest.raises(TypeError, match="df must be a Spark DataFrame"):
        trainer.fit(np.zeros((4, 5)), verbose=0)
    narrow = spark.createDataFrame([([0.1, 0.2], 1)], ["features", "label"])
    with pytest.raises(ValueError, match="features column 'features' has 2 features, but the model expects 5"):
        trainer.fit(narrow, verbose=0)
    bad_label = spark.createDataFrame([([0.1, 0.2, 0.3, 0.4, 0.5], 7)], ["features", "label"])
    with pytest.raises(ValueError, match="label column 'label' contains label 7"):
        trainer.fit(bad_label, verbose=0)
    with pytest.raises(ValueError, match="epochs"):
        trainer.fit(df, epochs=-1, verbose=0)
    assert model.iteration == 0  # nothing trained by the failed calls


def test_search_matches_the_same_trials_run_locally(spark):
    X, y = en.load_digits()
    X, y = X[:450] / 16.0, y[:450]
    df = _vector_frame(spark, X, y)

    def model_fn(hidden, learning_rate):
        return en.Sequential([en.Dense(hidden, activation="relu"), en.Output(10, activation="softmax", loss="mcxent")],
                             input_dim=64, updater=en.Adam(learning_rate=learning_rate), seed=11, dtype="float64")

    grid = {"hidden": [4, 24], "learning_rate": [0.001, 0.02]}
    fit_params = {"epochs": 4, "batch_size": 32}
    result = search(model_fn, grid, df, cv=3, fit_params=fit_params, seed=5)
    assert isinstance(result, SearchResult) and len(result.results) == 4

    # The documented folds: a seeded permutation cut in 3; each model trains on the other rows in order.
    folds = np.array_split(np.random.default_rng(5).permutation(len(X)), 3)
    for trial in result.results:
        local_scores = []
        for fold in folds:
            train = np.setdiff1d(np.arange(len(X)), fold)
            model = model_fn(**trial["params"])
            model.fit(X[train], y[train], verbose=0, **fit_params)
            local_scores.append(model.evaluate(X[fold], y[fold])["accuracy"])
        np.testing.assert_allclose(trial["fold_scores"], local_scores, rtol=0, atol=1e-12)
        assert trial["mean_score"] == pytest.approx(np.mean(local_scores), abs=1e-12)
        assert trial["seconds"] > 0
    scores = [trial["mean_score"] for trial in result.results]
    assert max(scores) - min(scores) > 0.05  # the grid matters, so the argmax is meaningful
    assert result.best_score == max(scores)
    assert result.best_params == result.results[int(np.argmax(scores))]["params"]
    refit = model_fn(**result.best_params)
    refit.fit(X, y, verbose=0, **fit_params)
    np.testing.assert_allclose(result.best_model.predict_output(X), refit.predict_output(X), rtol=0, atol=1e-10)
    table = result.to_pandas()
    assert list(table.columns[:3]) == ["trial", "param_hidden", "param_learning_rate"]
    assert len(table) == 4 and table["mean_score"].idxmax() == result.best_index


def test_random_search_draws_n_trials_and_checks_arguments(spark):
    X, y = en.load_digits()
    X, y = X[:150] / 16.0, y[:150]

    def model_fn(hidden):
        return en.Sequential([en.Dense(hidden, activation="relu"), en.Output(10, activation="softmax", loss="mcxent")],
                             input_dim=64, updater=en.Adam(learning_rate=0.01), seed=1)

    result = search(model_fn, df=(X, y), n_trials=2, cv=2, param_distributions={"hidden": [8, 16, 32]},
                    fit_params={"epochs": 1}, spark=spark, refit=False)
    assert len(result.results) == 2 and result.best_model is None
    assert all(trial["params"]["hidden"] in (8, 16, 32) for trial in result.results)
    with pytest.raises(ValueError, match="exactly one of param_grid and param_distributions"):
        search(model_fn, df=(X, y), spark=spark)
    with pytest.raises(ValueError, match="cv must be an integer >= 2"):
        search(model_fn, {"hidden": [8]}, (X, y), cv=1, spark=spark)
    with pytest.raises(ValueError, match="n_trials=3 is more than the 1 combinations"):
        search(model_fn, {"hidden": [8]}, (X, y), n_trials=3, spark=spark)
    with pytest.raises(ValueError, match="param_distributions needs n_trials"):
        search(model_fn, df=(X, y), param_distributions={"hidden": [8]}, spark=spark)


def test_an_rdd_with_other_partitioning_is_rebalanced_into_num_workers_partitions(spark):
    rng = np.random.default_rng(6)
    (X, y), = _shards(rng, [600])
    model = _net(en.SGD(learning_rate=0.1))
    trainer = SparkTrainer(model, batch_size_per_worker=50, averaging_frequency=2, num_workers=2)
    history = trainer.fit(spark.sparkContext.parallelize([(X, y)], 1), epochs=1, verbose=0)
    assert history.history["examples"] == [600]
    assert trainer.stats[0]["workers"] == 2  # the single block was cut and spread over both workers
    assert sum(s["examples"] for s in trainer.stats) == 600
    with pytest.raises(ValueError, match=r"RDD elements must be \(X, y\) pairs"):
        trainer.fit(spark.sparkContext.parallelize([X[:4], X[4:8]], 2), verbose=0)
    nulls = spark.createDataFrame([([0.1, 0.2, 0.3, 0.4, 0.5], None)], "features array<double>, label long")
    with pytest.raises(ValueError, match="label column 'label' has a null value"):
        trainer.fit(nulls, verbose=0)
