"""Training on Apache Spark: data-parallel parameter averaging and distributed parameter search.

Needs the optional extra ``pip install eigennet[spark]`` (PySpark, which needs Java 17 or later).

* :class:`SparkTrainer` trains one model on data that stays in Spark, with the semantics of DL4J's
  ``ParameterAveragingTrainingMaster``: each round the driver broadcasts the parameters (and
  updater state), every worker trains ``averaging_frequency`` mini-batches of its partition in the
  C++ core, and the driver averages the results weighted by the examples each worker saw.
* :func:`search` runs a grid or random parameter search with cross-validation, one trial per Spark
  task, for data sets small enough to fit in one executor's memory.

See the "Distributed training" page of the documentation for the cost model of a round.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional, Tuple

import numpy as np

from . import _core
from .model import History, Sequential, from_bytes

__all__ = ["SparkTrainer", "SearchResult", "search"]


def _pyspark() -> Any:
    try:
        import pyspark
    except ImportError:  # pragma: no cover - pyspark is a test dependency
        raise ImportError("eigennet.spark needs PySpark: pip install eigennet[spark] (and Java 17 or later)") from None
    return pyspark


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value}")
    return int(value)


def _is_dataframe(data: Any) -> bool:
    from pyspark.sql import DataFrame

    return isinstance(data, DataFrame)


def _is_rdd(data: Any) -> bool:
    from pyspark import RDD

    return isinstance(data, RDD)


def _spark_context(data: Any) -> Any:
    if _is_rdd(data):
        return data.context
    try:
        return data.sparkSession.sparkContext
    except Exception:
        raise TypeError("eigennet.spark needs a classic SparkSession with a SparkContext "
                        "(Spark Connect sessions have none)") from None


def _check_columns(df: Any, features_col: Any, label_col: Any) -> None:
    for value, name in ((features_col, "features_col"), (label_col, "label_col")):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a column name, got {type(value).__name__}")
        if value not in df.columns:
            raise ValueError(f"{name}={value!r} is not a column of the DataFrame (columns: {df.columns})")


# ---------------------------------------------------------------------------- data blocks
# Workers hold their partition as one (X, y) pair of numpy arrays: a record is (X, Y, error), where
# error is a message string when the partition's data cannot be used. Returning the message instead
# of raising keeps Spark from retrying a deterministic data error and lets the driver raise a plain
# ValueError naming the column.

def _feature_row(value: Any) -> np.ndarray:
    if hasattr(value, "toArray"):  # pyspark.ml.linalg DenseVector / SparseVector
        return value.toArray()
    return np.asarray(value, dtype=np.float64)


def _rows_to_block(features_col: str, label_col: str, rows: Iterable[Any]) -> Iterator[Tuple[Any, Any, Any]]:
    features, labels = [], []
    for row in rows:
        if row[0] is None or row[1] is None:
            column = f"features column {features_col!r}" if row[0] is None else f"label column {label_col!r}"
            yield None, None, f"{column} has a null value"
            return
        try:
            features.append(_feature_row(row[0]))
        except (TypeError, ValueError) as exc:
            yield None, None, f"features column {features_col!r} must hold vectors or arrays of numbers: {exc}"
            return
        label = row[1]
        labels.append(label.toArray() if hasattr(label, "toArray") else label)
    if not features:
        yield None, None, None
        return
    widths = {f.shape for f in features}
    if len(widths) != 1 or len(next(iter(widths))) != 1:
        yield None, None, (f"features column {features_col!r} must hold vectors of one length, "
                           f"got shapes {sorted(widths)[:4]}")
        return
    try:
        y = np.asarray(labels)
    except ValueError as exc:
        yield None, None, f"label column {label_col!r}: {exc}"
        return
    yield np.stack(features), y, None


def _pairs_to_block(blocks: Iterable[Any]) -> Iterator[Tuple[Any, Any, Any]]:
    xs, ys = [], []
    for item in blocks:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            yield None, None, f"RDD elements must be (X, y) pairs of arrays, got a {type(item).__name__}"
            return
        X, y = np.asarray(item[0]), np.asarray(item[1])
        if X.ndim != 2 or y.ndim not in (1, 2) or X.shape[0] != y.shape[0]:
            yield None, None, (f"RDD elements must be (X, y) pairs with X of shape (n, n_features) and y of "
                               f"n rows, got X {X.shape} and y {y.shape}")
            return
        xs.append(X)
        ys.append(y)
    if not xs:
        yield None, None, None
        return
    if len({x.shape[1] for x in xs}) != 1:
        yield None, None, f"the X blocks of a partition have different widths: {sorted({x.shape[1] for x in xs})}"
        return
    yield np.concatenate(xs), np.concatenate(ys), None


def _keyed_chunks(chunk_rows: int, partition: int, items: Iterable[Any]) -> Iterator[Tuple[int, Any]]:
    """Cuts the (X, y) blocks of a partition into chunks of at most ``chunk_rows`` rows, keyed by a
    counter that starts at the partition's index, so that a repartition balances rows."""
    key = partition
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2 or not hasattr(item[0], "__len__"):
            yield key, item  # reported by _pairs_to_block
            key += 1
            continue
        X, y = item
        for start in range(0, max(len(X), 1), chunk_rows):
            yield key, (X[start:start + chunk_rows], y[start:start + chunk_rows])
            key += 1


def _chunk_partition(key: int) -> int:
    return key


def _convert_block(template: Any, features_name: str, label_name: str,
                   records: Iterable[Tuple[Any, Any, Any]]) -> Iterator[Tuple[Any, Any, Any]]:
    """Raw (X, y) -> arrays in the model's dtype (normalized, labels one-hot as ``fit`` does)."""
    model = from_bytes(template.value)
    for X, y, error in records:
        if error is not None or X is None:
            yield X, y, error
            continue
        try:
            X_arr = model._features(X, f"features column {features_name!r}")
            Y_arr = model._targets(y, X_arr.shape[0], f"label column {label_name!r}")
        except (ValueError, TypeError) as exc:
            yield None, None, str(exc)
            continue
        yield X_arr, Y_arr, None


def _raw_blocks(data: Any, features_col: str, label_col: str, partitions: Optional[int]) -> Any:
    """An RDD with one raw (X, y, error) record per partition, in ``partitions`` partitions if given."""
    if _is_dataframe(data):
        _check_columns(data, features_col, label_col)
        frame = data.select(features_col, label_col)
        if type(data.schema[features_col].dataType).__name__ == "VectorUDT":
            # Unpacked to an array in the JVM: much cheaper than deserializing Vector rows in Python.
            from pyspark.ml.functions import vector_to_array

            frame = data.select(vector_to_array(features_col).alias(features_col), label_col)
        if partitions is not None and frame.rdd.getNumPartitions() != partitions:
            frame = frame.repartition(partitions)
        return frame.rdd.mapPartitions(functools.partial(_rows_to_block, features_col, label_col))
    if _is_rdd(data):
        rdd = data
        if partitions is not None and rdd.getNumPartitions() != partitions:
            # Chunks dealt round-robin by key: RDD.repartition would move pickled batches of up to
            # ten elements, which leaves partitions empty when there are few large blocks.
            rdd = rdd.mapPartitionsWithIndex(functools.partial(_keyed_chunks, 128)).partitionBy(
                partitions, _chunk_partition).values()
        return rdd.mapPartitions(_pairs_to_block)
    raise TypeError(f"df must be a Spark DataFrame or an RDD of (X, y) array pairs, got {type(data).__name__}")


def _first_width(data: Any, features_col: str) -> int:
    if _is_dataframe(data):
        row = data.select(features_col).first()
        if row is None:
            raise ValueError("the DataFrame is empty")
        return int(_feature_row(row[0]).shape[0])
    first = data.first()
    if not isinstance(first, (tuple, list)) or len(first) != 2 or np.asarray(first[0]).ndim != 2:
        raise ValueError("RDD elements must be (X, y) pairs with X of shape (n, n_features)")
    return int(np.asarray(first[0]).shape[1])


# ---------------------------------------------------------------------------- one round on a worker
def _use_task_cpus() -> None:
    """Tasks share an executor's cores: the core gets the cores Spark gave the task, so that
    concurrent tasks do not oversubscribe them."""
    from pyspark import TaskContext

    context = TaskContext.get()
    if context is not None:
        _core.set_num_threads(max(1, int(context.cpus())))


def _train_partition(template: Any, state: Any, return_state: bool, round_in_epoch: int, rows_per_round: int,
                     batch_size: int, shuffle_seed: Optional[Tuple[int, int]], task_hook: Optional[Callable[[int, int], None]], global_round: int,
                     partition: int, records: Iterable[Tuple[Any, Any, Any]]) -> Iterator["_RoundResult"]:
    """Trains one worker's share of a round and yields its partial result (see _combine_results),
    or nothing when the partition has no rows left in this round."""
    started = time.perf_counter()
    params, updater_state, iteration, epoch = state.value
    model_bytes = template.value
    if task_hook is not None:
        task_hook(global_round, partition)
    for X, Y, _ in records:
        if X is None:
            continue
        n_rows = X.shape[0]
        start = round_in_epoch * rows_per_round
        if start >= n_rows:
            continue
        stop = min(start + rows_per_round, n_rows)
        if shuffle_seed is not None:
            order = np.random.default_rng([*shuffle_seed, partition]).permutation(n_rows)[start:stop]
            X_round, Y_round = X[order], Y[order]
        else:
            X_round, Y_round = X[start:stop], Y[start:stop]
        _use_task_cpus()
        # A fresh model per task, so that a retried task starts from exactly the same state.
        model = from_bytes(model_bytes)
        net = model._network()
        net.set_params(params)
        for name, values in updater_state.items():
            net.set_updater_state(name, values)
        net.iteration = iteration
        net.epoch = epoch
        load_seconds = time.perf_counter() - started
        compute_start = time.perf_counter()
        steps, loss_sum = 0, 0.0
        for offset in range(0, stop - start, batch_size):
            X_batch = X_round[offset:offset + batch_size]
            loss_sum += float(net.train_batch(X_batch, Y_round[offset:offset + batch_size])) * X_batch.shape[0]
            steps += 1
        compute_seconds = time.perf_counter() - compute_start
        # Sent back in the model's dtype (half the bytes of float64 for float32 models); the
        # weighting by examples happens in float64 when partial results are combined.
        updater_result = dict(net.updater_state()) if return_state else {}
        yield _RoundResult(examples=stop - start, params=net.params(), updater_state=updater_result, steps=steps,
                           compute_seconds=compute_seconds, load_seconds=load_seconds, loss_sum=loss_sum,
                           compute_seconds_sum=compute_seconds, workers=1, weighted=False)


class _RoundResult(NamedTuple):
    """One worker's result of a round, or several combined. A worker's own result holds its vectors
    as they are (``weighted`` False); a combined one holds the float64 sums of the vectors times
    each worker's examples. Steps and times are the maximum over workers (the slowest worker sets
    the round's pace); examples, loss_sum, compute_seconds_sum and workers are sums."""

    examples: int
    params: np.ndarray
    updater_state: Dict[str, np.ndarray]
    steps: int
    compute_seconds: float
    load_seconds: float
    loss_sum: float
    compute_seconds_sum: float
    workers: int
    weighted: bool


def _weighted_sums(part: _RoundResult) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
    if part.weighted:
        return part.params, part.updater_state
    n = float(part.examples)
    return (part.params.astype(np.float64) * n,
            {name: v.astype(np.float64) * n for name, v in part.updater_state.items()})


def _combine_results(left: _RoundResult, right: _RoundResult) -> _RoundResult:
    left_params, left_state = _weighted_sums(left)
    right_params, right_state = _weighted_sums(right)
    return _RoundResult(
        examples=left.examples + right.examples,
        params=left_params + right_params,
        updater_state={name: left_state[name] + right_state[name] for name in left_state},
        steps=max(left.steps, right.steps),
        compute_seconds=max(left.compute_seconds, right.compute_seconds),
        load_seconds=max(left.load_seconds, right.load_seconds),
        loss_sum=left.loss_sum + right.loss_sum,
        compute_seconds_sum=left.compute_seconds_sum + right.compute_seconds_sum,
        workers=left.workers + right.workers,
        weighted=True,
    )


# ---------------------------------------------------------------------------- the trainer
class SparkTrainer:
    """Data-parallel training of a :class:`~eigennet.Sequential` on Spark by parameter averaging
    (DL4J ``ParameterAveragingTrainingMaster``).

    Parameters
    ----------
    model: the model to train; :meth:`fit` leaves it trained on the driver, usable like any other.
    batch_size_per_worker: rows of one mini-batch on one worker (an averaging round of ``W`` workers
        uses up to ``W * batch_size_per_worker * averaging_frequency`` examples).
    averaging_frequency: mini-batches each worker trains between two averagings.
    average_updater_state: average the updater state (Adam's moments, ...) with the parameters,
        weighted like them. If False, the driver's updater state is never changed: every worker
        starts every round from the state the model had when ``fit`` began (no difference for
        plain SGD).
    num_workers: partitions the data is split into, one worker task each per round; None uses
        Spark's default parallelism (one per slot).

    Each round, the driver broadcasts the parameters, updater state and counters; every worker
    trains on the next ``batch_size_per_worker * averaging_frequency`` rows of its partition with
    the model's updater in the C++ core; the driver sets the model's parameters (and updater state)
    to the mean of the workers' weighted by the examples each saw, and advances the model's
    iteration counter by the largest number of steps a worker took. An epoch is
    ``ceil(largest partition / (batch_size_per_worker * averaging_frequency))`` rounds; a partition
    that has run out of rows sits out the remaining rounds of the epoch.

    After :meth:`fit`, ``stats`` holds one dict per round: ``round``, ``epoch``, ``examples``,
    ``workers`` (tasks that trained), ``steps``, ``loss`` (example-weighted mean of the step
    losses), ``compute_seconds`` (training time in the core of the slowest worker),
    ``compute_seconds_sum`` (summed over workers), ``broadcast_seconds`` (the driver's broadcast of
    the state plus the slowest worker's time to read it and load it into its model),
    ``aggregation_seconds`` (the rest of the Spark job: task launch, result transfer and tree
    reduction, plus the averaging on the driver) and
    ``wall_seconds``; ``history`` is the per-epoch :class:`~eigennet.History` (``loss``,
    ``examples``, ``seconds``).
    """

    def __init__(self, model: Sequential, batch_size_per_worker: int = 32, averaging_frequency: int = 5,
                 average_updater_state: bool = True, num_workers: Optional[int] = None) -> None:
        if not isinstance(model, Sequential):
            raise TypeError(f"model must be an eigennet Sequential, got {type(model).__name__}")
        self.model = model
        self.batch_size_per_worker = _positive_int(batch_size_per_worker, "batch_size_per_worker")
        self.averaging_frequency = _positive_int(averaging_frequency, "averaging_frequency")
        if not isinstance(average_updater_state, bool):
            raise TypeError("average_updater_state must be True or False")
        self.average_updater_state = average_updater_state
        self.num_workers = None if num_workers is None else _positive_int(num_workers, "num_workers")
        self.stats: List[Dict[str, Any]] = []
        self.history = History()

    def fit(self, df: Any, features_col: str = "features", label_col: str = "label", epochs: int = 1,
            shuffle: bool = False, seed: Optional[int] = None, verbose: int = 1,
            _task_hook: Optional[Callable[[int, int], None]] = None) -> History:
        """Train the model for ``epochs`` epochs on ``df``; returns the per-epoch history.

        ``df`` is a Spark DataFrame whose ``features_col`` holds Spark ML vectors or arrays of
        numbers and whose ``label_col`` holds what ``Sequential.fit`` takes as labels (class
        indices, or arrays for one-hot labels and multi-output targets), or an RDD whose elements
        are ``(X, y)`` pairs of numpy arrays (blocks of rows). The data is repartitioned into
        ``num_workers`` partitions (unless it has that many already, in which case the partitions
        and their row order are kept), converted once per partition into arrays of the model's
        dtype and cached in Spark; it is never collected on the driver.

        ``shuffle=True`` visits each partition's rows in a new order every epoch, drawn from
        ``seed`` (default: the model's seed), the epoch and the partition. ``verbose=1`` shows a
        tqdm progress bar over the rounds with the last round's loss and timings, ``verbose=0``
        nothing. A model that is not built yet is built from the width of the first row; a
        model's normalizer must be fitted beforehand (``model.normalizer.fit(sample)``).

        Spark retries a failed task only when its maximum task failures is above 1 (on a cluster
        ``spark.task.maxFailures``, 4 by default; in local mode the master ``local[N,F]``, e.g.
        ``local[2,3]``). A retried task recomputes the same result from the same broadcast state.
        """
        _pyspark()
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be an integer >= 0, got {epochs!r}")
        if not isinstance(shuffle, bool):
            raise TypeError("shuffle must be True or False")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        if not (_is_dataframe(df) or _is_rdd(df)):
            raise TypeError(f"df must be a Spark DataFrame or an RDD of (X, y) array pairs, got {type(df).__name__}")
        if _is_dataframe(df):
            _check_columns(df, features_col, label_col)
        model = self.model
        if model.normalizer is not None and not model.normalizer.fitted:
            raise ValueError("the model's normalizer is not fitted: fit it on a sample of the data first "
                             "(model.normalizer.fit(X_sample)), so that all workers use the same statistics")
        if not model.built:
            model.build(_first_width(df, features_col))
        sc = _spark_context(df)
        workers = self.num_workers or int(sc.defaultParallelism)
        template = sc.broadcast(model.to_bytes())
        blocks = _raw_blocks(df, features_col, label_col, workers).mapPartitions(
            functools.partial(_convert_block, template, features_col, label_col))
        blocks.cache()
        try:
            return self._fit_blocks(sc, blocks, template, int(epochs), shuffle, seed, verbose, _task_hook)
        finally:
            blocks.unpersist()
            template.destroy()

    def _fit_blocks(self, sc: Any, blocks: Any, template: Any, epochs: int, shuffle: bool, seed: Optional[int],
                    verbose: int, task_hook: Any) -> History:
        from tqdm.auto import tqdm

        partition_rows = blocks.map(lambda record: (0 if record[0] is None else record[0].shape[0], record[2])).collect()
        for _, error in partition_rows:
            if error is not None:
                raise ValueError(error)
        largest = max((rows for rows, _ in partition_rows), default=0)
        if largest == 0:
            raise ValueError("the data has no rows")
        model = self.model
        net = model._network()
        rows_per_round = self.batch_size_per_worker * self.averaging_frequency
        rounds_per_epoch = math.ceil(largest / rows_per_round)
        shuffle_base = (model.seed if seed is None else int(seed)) if shuffle else None
        dtype = model._np_dtype
        history = History()
        bar = tqdm(total=epochs * rounds_per_epoch, unit="round", disable=not verbose, leave=True)
        try:
            for _ in range(epochs):
                epoch_number = int(net.epoch) + 1
                epoch_start = time.perf_counter()
                epoch_examples, epoch_loss = 0, 0.0
                shuffle_seed = None if shuffle_base is None else (shuffle_base, epoch_number)
                for round_in_epoch in range(rounds_per_epoch):
                    round_stats = self._round(sc, blocks, template, round_in_epoch, rows_per_round, shuffle_seed,
                                              task_hook, epoch_number, dtype)
                    epoch_examples += round_stats["examples"]
                    epoch_loss += round_stats["loss"] * round_stats["examples"]
                    bar.update(1)
                    bar.set_postfix(epoch=epoch_number, loss=f"{round_stats['loss']:.4f}",
                                    compute=f"{round_stats['compute_seconds']:.3f}s",
                                    bcast=f"{round_stats['broadcast_seconds']:.3f}s",
                                    agg=f"{round_stats['aggregation_seconds']:.3f}s", refresh=False)
                net.epoch = epoch_number
                metrics = {"loss": epoch_loss / epoch_examples, "examples": epoch_examples,
                           "seconds": time.perf_counter() - epoch_start}
                history._record(epoch_number, metrics)
                self.history._record(epoch_number, metrics)
                if not math.isfinite(metrics["loss"]):
                    raise FloatingPointError(f"the training loss became {metrics['loss']} in epoch {epoch_number}; "
                                             "lower the learning rate or check the data scaling")
        finally:
            bar.close()
        return history

    def _round(self, sc: Any, blocks: Any, template: Any, round_in_epoch: int, rows_per_round: int,
               shuffle_seed: Optional[Tuple[int, int]], task_hook: Any, epoch_number: int, dtype: Any) -> Dict[str, Any]:
        model = self.model
        net = model._network()
        global_round = len(self.stats) + 1
        wall_start = time.perf_counter()
        state = sc.broadcast((net.params(), model.updater_state(), int(net.iteration), int(net.epoch)))
        broadcast_seconds = time.perf_counter() - wall_start
        job_start = time.perf_counter()
        trainer = functools.partial(_train_partition, template, state, self.average_updater_state,
                                    round_in_epoch, rows_per_round,
                                    self.batch_size_per_worker, shuffle_seed, task_hook, global_round)
        try:
            result = blocks.mapPartitionsWithIndex(trainer).treeReduce(_combine_results, depth=2)
        finally:
            state.destroy()
        job_seconds = time.perf_counter() - job_start
        average_start = time.perf_counter()
        examples, steps = result.examples, result.steps
        compute, load = result.compute_seconds, result.load_seconds
        weighted_params, weighted_state = _weighted_sums(result)
        net.set_params(np.ascontiguousarray(weighted_params / examples, dtype=dtype))
        if self.average_updater_state:
            for name, values in weighted_state.items():
                net.set_updater_state(name, np.ascontiguousarray(values / examples, dtype=dtype))
        net.iteration = int(net.iteration) + int(steps)
        average_seconds = time.perf_counter() - average_start
        stats = {
            "round": global_round, "epoch": epoch_number, "examples": int(examples), "workers": int(result.workers),
            "steps": int(steps), "loss": result.loss_sum / examples,
            "compute_seconds": compute, "compute_seconds_sum": result.compute_seconds_sum,
            "broadcast_seconds": broadcast_seconds + load,
            "aggregation_seconds": max(0.0, job_seconds - compute - load) + average_seconds,
            "wall_seconds": time.perf_counter() - wall_start,
        }
        self.stats.append(stats)
        return stats

    def summary(self) -> Dict[str, Any]:
        """Totals over all rounds so far: rounds, examples, and the seconds spent in compute (slowest
        worker per round), broadcast, aggregation and in all (wall)."""
        keys = ("examples", "compute_seconds", "broadcast_seconds", "aggregation_seconds", "wall_seconds")
        totals: Dict[str, Any] = {"rounds": len(self.stats)}
        for key in keys:
            totals[key] = sum(s[key] for s in self.stats)
        return totals

    def __repr__(self) -> str:
        return (f"SparkTrainer(batch_size_per_worker={self.batch_size_per_worker}, "
                f"averaging_frequency={self.averaging_frequency}, average_updater_state={self.average_updater_state}, "
                f"num_workers={self.num_workers})")


# ---------------------------------------------------------------------------- parameter search
_SCORINGS = ("accuracy", "neg_loss")


def _score(model: Sequential, scoring: Any, X: np.ndarray, y: np.ndarray) -> float:
    if callable(scoring):
        return float(scoring(model, X, y))
    metrics = model.evaluate(X, y)
    return metrics["accuracy"] if scoring == "accuracy" else -metrics["loss"]


def _train_and_score(model_fn: Callable[..., Sequential], params: Dict[str, Any], fit_params: Dict[str, Any],
                     scoring: Any, X: np.ndarray, y: np.ndarray, train: np.ndarray,
                     validation: np.ndarray) -> float:
    model = model_fn(**params)
    if not isinstance(model, Sequential):
        raise TypeError(f"model_fn returned a {type(model).__name__}, not an eigennet Sequential")
    model.fit(X[train], y[train], **fit_params)
    return _score(model, scoring, X[validation], y[validation])


def _run_trial(model_fn: Callable[..., Sequential], fit_params: Dict[str, Any], scoring: Any, data: Any,
               trial: Tuple[int, Dict[str, Any]]) -> Dict[str, Any]:
    """One trial on an executor: every fold's model trained and scored in turn."""
    index, params = trial
    _use_task_cpus()
    X, y, folds = data.value
    started = time.perf_counter()
    scores = []
    for fold in folds:
        train = np.ones(X.shape[0], dtype=bool)
        train[fold] = False
        scores.append(_train_and_score(model_fn, params, fit_params, scoring, X, y, train, fold))
    return {"trial": index, "params": params, "mean_score": float(np.mean(scores)),
            "std_score": float(np.std(scores)), "fold_scores": scores, "seconds": time.perf_counter() - started}


def _refit(model_fn: Callable[..., Sequential], params: Dict[str, Any], fit_params: Dict[str, Any], data: Any,
           _: Any) -> bytes:
    _use_task_cpus()
    X, y, _folds = data.value
    model = model_fn(**params)
    model.fit(X, y, **fit_params)
    return model.to_bytes()


def _grid_trials(param_grid: Any) -> List[Dict[str, Any]]:
    grids = param_grid if isinstance(param_grid, (list, tuple)) else [param_grid]
    trials: List[Dict[str, Any]] = []
    for grid in grids:
        if not isinstance(grid, dict) or not grid:
            raise TypeError("param_grid must be a non-empty dict of name -> list of values (or a list of such dicts)")
        names = sorted(grid)
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"param_grid keys must be parameter names, got {name!r}")
            if isinstance(grid[name], (str, bytes)) or not hasattr(grid[name], "__iter__") or len(list(grid[name])) == 0:
                raise ValueError(f"param_grid[{name!r}] must be a non-empty list of values")
        for values in itertools.product(*(list(grid[name]) for name in names)):
            trials.append(dict(zip(names, values)))
    return trials


def _sampled_trials(param_distributions: Any, n_trials: int, seed: int) -> List[Dict[str, Any]]:
    if not isinstance(param_distributions, dict) or not param_distributions:
        raise TypeError("param_distributions must be a non-empty dict of name -> list of values or a "
                        "distribution with an rvs(random_state=...) method (e.g. from scipy.stats)")
    rng = np.random.RandomState(seed)
    names = sorted(param_distributions)
    for name in names:
        spec = param_distributions[name]
        if not hasattr(spec, "rvs") and (isinstance(spec, (str, bytes)) or not hasattr(spec, "__len__") or len(spec) == 0):
            raise ValueError(f"param_distributions[{name!r}] must be a non-empty list or have an rvs method")
    trials = []
    for _ in range(n_trials):
        trial = {}
        for name in names:
            spec = param_distributions[name]
            if hasattr(spec, "rvs"):
                value = spec.rvs(random_state=rng)
                trial[name] = value.item() if isinstance(value, np.generic) else value
            else:
                trial[name] = list(spec)[rng.randint(len(spec))]
        trials.append(trial)
    return trials


def _collect_arrays(df: Any, features_col: str, label_col: str) -> Tuple[np.ndarray, np.ndarray]:
    if isinstance(df, tuple) and len(df) == 2:
        X, y = np.asarray(df[0]), np.asarray(df[1])
        if X.ndim != 2 or X.shape[0] != y.shape[0]:
            raise ValueError(f"df as (X, y) needs X of shape (n, n_features) and y of n rows, got {X.shape}, {y.shape}")
        return X, y
    records = _raw_blocks(df, features_col, label_col, None).collect()
    errors = [error for _, _, error in records if error is not None]
    if errors:
        raise ValueError(errors[0])
    blocks = [(X, y) for X, y, _ in records if X is not None]
    if not blocks:
        raise ValueError("df has no rows")
    return np.concatenate([X for X, _ in blocks]), np.concatenate([y for _, y in blocks])


class SearchResult:
    """What :func:`search` returns.

    ``results`` lists one dict per trial, in trial order: ``trial``, ``params``, ``mean_score``,
    ``std_score``, ``fold_scores`` and ``seconds`` (the trial's training and scoring time on its
    executor). ``best_index`` is the position of the highest ``mean_score`` (the first on ties),
    ``best_params`` and ``best_score`` its parameters and score, ``best_model`` the model built
    with them and trained on all the data (None when ``refit=False``).
    """

    def __init__(self, results: List[Dict[str, Any]], best_model: Optional[Sequential]) -> None:
        self.results = results
        self.best_index = int(np.argmax([r["mean_score"] for r in results]))
        self.best_model = best_model

    @property
    def best_params(self) -> Dict[str, Any]:
        """Parameters of the best trial."""
        return dict(self.results[self.best_index]["params"])

    @property
    def best_score(self) -> float:
        """Mean cross-validation score of the best trial."""
        return float(self.results[self.best_index]["mean_score"])

    def to_pandas(self) -> Any:
        """The results as a pandas DataFrame: a ``param_<name>`` column per parameter, then
        ``mean_score``, ``std_score``, ``split<k>_score`` per fold and ``seconds``."""
        import pandas as pd

        rows = []
        for result in self.results:
            row = {"trial": result["trial"]}
            row.update({f"param_{name}": value for name, value in result["params"].items()})
            row.update({"mean_score": result["mean_score"], "std_score": result["std_score"]})
            row.update({f"split{k}_score": s for k, s in enumerate(result["fold_scores"])})
            row["seconds"] = result["seconds"]
            rows.append(row)
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        return f"SearchResult(trials={len(self.results)}, best_score={self.best_score:.4f}, best_params={self.best_params})"


def search(model_fn: Callable[..., Sequential], param_grid: Any = None, df: Any = None,
           n_trials: Optional[int] = None, cv: int = 3, *, param_distributions: Any = None,
           features_col: str = "features", label_col: str = "label", fit_params: Optional[Dict[str, Any]] = None,
           scoring: Any = "accuracy", seed: int = 0, spark: Any = None, refit: bool = True) -> SearchResult:
    """Parameter search with cross-validation, one trial per Spark task.

    ``model_fn(**params)`` returns a new, untrained :class:`~eigennet.Sequential` for one set of
    parameters (give it a fixed ``seed`` for reproducible scores); it must be picklable (PySpark
    ships functions and lambdas with cloudpickle). Either ``param_grid`` (a dict of name -> list
    of values, or a list of such dicts: every combination, or ``n_trials`` of them drawn without
    replacement) or ``param_distributions`` (a dict of name -> list, drawn uniformly, or an object
    with ``rvs(random_state=...)`` such as a scipy.stats distribution; ``n_trials`` required).

    ``df`` is a Spark DataFrame (``features_col``, ``label_col``), an RDD of ``(X, y)`` array
    pairs, or an ``(X, y)`` tuple of arrays (then ``spark``, a SparkSession, or the active session
    runs the trials). Unlike :class:`SparkTrainer`, the search collects the data on the driver once
    and broadcasts it to the executors: it is for data that fits in one executor's memory.

    ``cv`` folds: the rows are permuted with ``numpy.random.default_rng(seed).permutation(n)`` and
    split with ``numpy.array_split`` into ``cv`` folds; fold k's model trains on the other rows in
    their original order. Each fold's model is fitted with ``model.fit(X_train, y_train,
    **fit_params)`` (default ``{"epochs": 10, "batch_size": 32, "verbose": 0}``) and scored on the
    fold by ``scoring``: "accuracy", "neg_loss" (minus ``evaluate``'s loss) or a picklable
    ``scoring(model, X, y) -> float``; higher is better. With ``refit`` the best parameters are
    trained on all rows on an executor and returned as ``best_model``.
    """
    pyspark = _pyspark()
    if not callable(model_fn):
        raise TypeError(f"model_fn must be a function returning a Sequential, got {type(model_fn).__name__}")
    if (param_grid is None) == (param_distributions is None):
        raise ValueError("give exactly one of param_grid and param_distributions")
    if n_trials is not None:
        n_trials = _positive_int(n_trials, "n_trials")
    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv < 2:
        raise ValueError(f"cv must be an integer >= 2 (the number of folds), got {cv!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not (callable(scoring) or scoring in _SCORINGS):
        raise ValueError(f"scoring must be one of {_SCORINGS} or a function (model, X, y) -> float, got {scoring!r}")
    fit_params = {"epochs": 10, "batch_size": 32, "verbose": 0} if fit_params is None else dict(fit_params)
    if not isinstance(fit_params, dict):
        raise TypeError("fit_params must be a dict of Sequential.fit arguments")
    fit_params.setdefault("verbose", 0)
    if param_grid is not None:
        trials = _grid_trials(param_grid)
        if n_trials is not None:
            if n_trials > len(trials):
                raise ValueError(f"n_trials={n_trials} is more than the {len(trials)} combinations of param_grid")
            chosen = np.random.default_rng(seed).choice(len(trials), size=n_trials, replace=False)
            trials = [trials[i] for i in sorted(chosen)]
    else:
        if n_trials is None:
            raise ValueError("param_distributions needs n_trials (the number of draws)")
        trials = _sampled_trials(param_distributions, n_trials, int(seed))
    if df is None:
        raise ValueError("search needs the data: df (a Spark DataFrame, an RDD of (X, y) pairs or an (X, y) tuple)")
    if isinstance(df, tuple):
        if spark is None:
            spark = pyspark.sql.SparkSession.getActiveSession()
        if spark is None:
            raise ValueError("df is an (X, y) tuple and there is no active SparkSession: pass spark=")
        sc = spark.sparkContext
    elif _is_dataframe(df) or _is_rdd(df):
        sc = _spark_context(df)
    else:
        raise TypeError(f"df must be a Spark DataFrame, an RDD of (X, y) pairs or an (X, y) tuple, got {type(df).__name__}")
    X, y = _collect_arrays(df, features_col, label_col)
    if X.shape[0] < cv:
        raise ValueError(f"cv={cv} folds need at least {cv} rows, the data has {X.shape[0]}")
    folds = np.array_split(np.random.default_rng(seed).permutation(X.shape[0]), cv)
    probe = model_fn(**trials[0])
    if not isinstance(probe, Sequential):
        raise TypeError(f"model_fn returned a {type(probe).__name__}, not an eigennet Sequential")
    if scoring == "accuracy" and not probe.is_classifier:
        raise ValueError(f'scoring="accuracy" needs a classifier; model_fn builds a {probe.task} model '
                         '(use scoring="neg_loss" or a function)')
    data = sc.broadcast((X, y, folds))
    try:
        results = sc.parallelize(list(enumerate(trials)), len(trials)).map(
            functools.partial(_run_trial, model_fn, fit_params, scoring, data)).collect()
        results.sort(key=lambda r: r["trial"])
        best_model = None
        if refit:
            best = results[int(np.argmax([r["mean_score"] for r in results]))]["params"]
            model_bytes = sc.parallelize([0], 1).map(
                functools.partial(_refit, model_fn, best, fit_params, data)).collect()[0]
            best_model = from_bytes(model_bytes)
    finally:
        data.destroy()
    return SearchResult(results, best_model)
