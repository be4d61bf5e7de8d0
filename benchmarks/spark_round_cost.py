"""Cost of one parameter-averaging round of eigennet.spark.SparkTrainer, measured on a local Spark.

    python benchmarks/spark_round_cost.py                    # both networks, local[2]
    python benchmarks/spark_round_cost.py --rounds 3 --master "local[2]"

For the 784-512-256-10 and 784-2048-2048-10 relu/softmax networks (float32, Adam with its state
averaged, so three vectors of the parameter count travel each way), two workers train on synthetic
data generated on the executors (the driver never holds it). Every round's broadcast, compute
(slowest worker) and aggregation seconds come from SparkTrainer.stats; the table shows the median
over the measured rounds (the first round, which starts the Python workers, is dropped). The
per-step compute of one task is what the cost model in docs/distributed.md scales.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

NETWORKS = {"784-512-256-10": (784, [512, 256], 10), "784-2048-2048-10": (784, [2048, 2048], 10)}


def _model(inputs, hidden, outputs, seed):
    import eigennet as en

    layers = [en.Dense(width, activation="relu") for width in hidden]
    layers.append(en.Output(outputs, activation="softmax", loss="mcxent"))
    return en.Sequential(layers, input_dim=inputs, updater=en.Adam(learning_rate=1e-3), seed=seed)


def _synthetic_partition(rows, inputs, outputs, index, _):
    """A partition's rows, made on the executor so the driver never holds the data."""
    rng = np.random.default_rng(index)
    X = rng.random((rows, inputs), dtype=np.float32)
    y = rng.integers(0, outputs, size=rows)
    yield X, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32, help="rows per mini-batch per worker")
    parser.add_argument("--averaging-frequency", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds (one more warm-up round runs first)")
    parser.add_argument("--networks", default=",".join(NETWORKS))
    args = parser.parse_args()

    import functools

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from eigennet.spark import SparkTrainer

    spark = (SparkSession.builder.master(args.master).appName("eigennet-round-cost")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", "2g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    sc = spark.sparkContext
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"Spark {spark.version}, master {args.master}, {args.workers} workers, batch {args.batch_size} per "
          f"worker, averaging frequency {args.averaging_frequency}, float32, Adam (state averaged)")
    print()
    print("| network | parameters | state bytes per worker (params + Adam m, v) | broadcast s | compute s "
          "(slowest worker) | compute s per step | aggregation s | wall s per round |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.networks.split(","):
        inputs, hidden, outputs = NETWORKS[name]
        model = _model(inputs, hidden, outputs, seed=1)
        rows = args.batch_size * args.averaging_frequency * (args.rounds + 1)
        data = sc.parallelize(range(args.workers), args.workers).mapPartitionsWithIndex(
            functools.partial(_synthetic_partition, rows, inputs, outputs))
        trainer = SparkTrainer(model, batch_size_per_worker=args.batch_size,
                               averaging_frequency=args.averaging_frequency, num_workers=args.workers)
        started = time.perf_counter()
        trainer.fit(data, epochs=1, verbose=0)
        measured = trainer.stats[1:]

        def median(key):
            return statistics.median(s[key] for s in measured)

        state_bytes = model.num_params * 4 * 3
        compute = median("compute_seconds")
        print(f"| {name} | {model.num_params:,} | {state_bytes / 1e6:.1f} MB | {median('broadcast_seconds'):.3f} | "
              f"{compute:.3f} | {compute / args.averaging_frequency:.4f} | {median('aggregation_seconds'):.3f} | "
              f"{median('wall_seconds'):.3f} |", flush=True)
        print(f"<!-- {name}: {len(trainer.stats)} rounds in {time.perf_counter() - started:.1f} s -->", file=sys.stderr)
    spark.stop()


if __name__ == "__main__":
    main()
