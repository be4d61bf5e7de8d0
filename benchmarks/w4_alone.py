"""W4's W1 network at batch 32, each library alone in a fresh process (no other thread pools).

    python benchmarks/w4_alone.py            # eigennet and PyTorch (inference_mode), 1 and 2 threads, 2 rounds

run.py's W4 interleaves the peers in one process, where their thread pools share the cores: after
a PyTorch call its OpenMP threads keep spinning, and NumPy's OpenBLAS threads likewise. This script
measures the same prediction with only one library loaded, 2,000 timed calls after 200 warm-ups.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np


def measure(library: str, threads: int) -> str:
    X = np.random.default_rng(0).random((32, 784), dtype=np.float32)
    if library == "pytorch":
        import torch

        torch.set_num_threads(threads)
        net = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                                  torch.nn.ReLU(), torch.nn.Linear(256, 10), torch.nn.Softmax(dim=1))

        def predict() -> np.ndarray:
            with torch.inference_mode():
                return net(torch.from_numpy(X)).numpy()
    else:
        import eigennet as en

        en.set_num_threads(threads)
        model = en.Sequential([en.Dense(512, activation="relu"), en.Dense(256, activation="relu"),
                               en.Output(10, "softmax", "mcxent")], input_dim=784, seed=1, dtype="float32")
        model.fit(X, np.arange(32) % 10, epochs=1, verbose=0)

        def predict() -> np.ndarray:
            return model.predict_output(X)
    for _ in range(200):
        predict()
    times = []
    for _ in range(2000):
        start = time.perf_counter()
        predict()
        times.append(time.perf_counter() - start)
    return f"| {library} | {threads} | {statistics.median(times) * 1e6:.1f} | {min(times) * 1e6:.1f} |"


def main() -> None:
    if len(sys.argv) == 3:
        print(measure(sys.argv[1], int(sys.argv[2])))
        return
    print("| library | threads | µs median | µs min |\n|---|---|---|---|")
    for _ in range(2):
        for library in ("eigennet", "pytorch"):
            for threads in (1, 2):
                out = subprocess.run([sys.executable, __file__, library, str(threads)], capture_output=True,
                                     text=True, check=True).stdout
                print(out.strip())


if __name__ == "__main__":
    main()
