"""Repeated fit/predict/evaluate/save/load/to_bytes/from_bytes must not grow the process.

The loop runs in a fresh interpreter so that memory other tests left behind (caches, imported
modules, pytest's own records) cannot mask or fake growth. Resident set size is read from
/proc/self/statm after a warm-up (first-touch allocations, the allocator's arenas, lazily imported
submodules) and again at the end. The bound is derived from the model: leaking even one parameter
vector per iteration would exceed it several times over. Run with -s to see the figures.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

WARMUP = 100
ITERATIONS = 400

LOOP = textwrap.dedent(
    """
    import json, os, sys, tempfile
    import numpy as np
    import eigennet as en

    warmup, iterations = int(sys.argv[1]), int(sys.argv[2])
    page = os.sysconf("SC_PAGESIZE")

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 32))
    y = rng.integers(0, 3, size=64)
    model = en.Sequential([en.Dense(64, activation="relu"), en.Output(3)], input_dim=32,
                          updater=en.Adam(), seed=0, dtype="float64")
    directory = tempfile.TemporaryDirectory()
    path = os.path.join(directory.name, "model.enm")

    def one_round(model):
        model.fit(X, y, epochs=1, batch_size=16, verbose=0)
        model.predict(X)
        model.evaluate(X, y)
        model.save(path)
        loaded = en.load(path)
        loaded.predict(X[:4])
        again = en.from_bytes(loaded.to_bytes())
        again.predict(X[:4])
        # Carry the reloaded model on, so that objects made by loading are trained too.
        return again

    for _ in range(warmup):
        model = one_round(model)
    start = rss()
    for _ in range(iterations):
        model = one_round(model)
    end = rss()
    n_params = model.num_params
    print(json.dumps({"start": start, "end": end, "n_params": n_params}))
    """
)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads resident set size from Linux /proc")
def test_repeated_train_save_load_cycle_keeps_resident_memory_flat():
    out = subprocess.run([sys.executable, "-c", LOOP, str(WARMUP), str(ITERATIONS)], capture_output=True,
                         text=True, timeout=300, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    # 32*64 + 64 + 64*3 + 3 parameters in float64; Adam keeps two more vectors of that size.
    n_params = 32 * 64 + 64 + 64 * 3 + 3
    assert figures["n_params"] == n_params
    one_vector = n_params * 8
    growth = figures["end"] - figures["start"]
    per_iteration = growth / ITERATIONS
    print(f"\nRSS after {WARMUP} warm-up rounds: {figures['start'] / 2**20:.1f} MiB; after {ITERATIONS} more: "
          f"{figures['end'] / 2**20:.1f} MiB; growth {growth / 2**10:.0f} KiB "
          f"({per_iteration:.0f} bytes/round; one parameter vector is {one_vector} bytes)")
    # A leak of one parameter vector per round grows RSS by one_vector * ITERATIONS (about 7 MiB);
    # a quarter of that leaves room for allocator noise and still catches it.
    assert growth < one_vector * ITERATIONS / 4, figures
