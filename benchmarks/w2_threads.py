"""W2 at 1 and 2 threads, interleaved on one model (1 2 2 1 1 2 ...), to compare the two thread
counts without the drift of a machine between the minutes-apart blocks of run.py.

    python benchmarks/w2_threads.py [--repeats 7]

W2: 20-64-64-1, relu / sigmoid + XENT, Adam 1e-3, batch 32, 100,000 synthetic samples per epoch.
Prints samples/s per thread count (median, min, max) and the ratio of the medians.
"""

import argparse
import statistics
import time

import numpy as np

import eigennet as en


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="epochs at each thread count (default 7)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 20), dtype=np.float32)
    y = (rng.random(100_000) < 0.5).astype(np.int64)
    model = en.Sequential([en.Dense(64, activation="relu"), en.Dense(64, activation="relu"),
                           en.Output(1, activation="sigmoid", loss="xent")],
                          input_dim=20, seed=0, updater=en.Adam(learning_rate=1e-3))
    model.fit(X[:3200], y[:3200], batch_size=32, epochs=1, verbose=0)  # warm-up
    rates = {1: [], 2: []}
    for repeat in range(args.repeats):
        for threads in ((1, 2) if repeat % 2 == 0 else (2, 1)):
            en.set_num_threads(threads)
            start = time.perf_counter()
            model.fit(X, y, batch_size=32, epochs=1, verbose=0)
            rates[threads].append(len(X) / (time.perf_counter() - start))
    for threads, values in rates.items():
        print(f"{threads} thread(s): median {statistics.median(values):,.0f} samples/s "
              f"(min {min(values):,.0f}, max {max(values):,.0f})")
    print(f"2 threads / 1 thread (medians): {statistics.median(rates[2]) / statistics.median(rates[1]):.2f}")


if __name__ == "__main__":
    main()
