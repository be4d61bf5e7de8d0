"""Side-by-side benchmarks of eigennet against PyTorch, scikit-learn and NumPy.

    python benchmarks/run.py            # full run (several minutes)
    python benchmarks/run.py --quick    # smoke run (about a minute)

Peers run interleaved (A B C A B C ...) in one process, each repeated; medians and min-max are
written to benchmarks/RESULTS.md with the ratio eigennet/peer. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Tuple

import numpy as np

import eigennet as en

try:
    import torch
except ImportError:  # the suite reports what it can
    torch = None
try:
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
except ImportError:
    sklearn = None


# ---------------------------------------------------------------------------- workloads
WORKLOADS = {
    # name: (layer widths, hidden activation, output, batch, samples)
    "W1": ([784, 512, 256, 10], "relu", "softmax", 128, 60_000),
    "W2": ([20, 64, 64, 1], "relu", "sigmoid", 32, 100_000),
    "W3": ([784, 2048, 2048, 10], "relu", "softmax", 256, 12_800),
}


def make_data(widths: List[int], out: str, n: int, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, widths[0])).astype(np.float32)
    if out == "softmax":
        y = rng.integers(0, widths[-1], n)
    else:
        y = (rng.random(n) < 0.5).astype(np.int64)
    return X, y


def eigennet_trainer(widths, act, out, batch, X, y) -> Callable[[], None]:
    layers = [en.Dense(w, activation=act) for w in widths[1:-1]]
    layers.append(en.Output(widths[-1], activation=out, loss="mcxent" if out == "softmax" else "xent"))
    model = en.Sequential(layers, input_dim=widths[0], updater=en.Adam(learning_rate=1e-3), seed=0)
    return lambda: model.fit(X, y, epochs=1, batch_size=batch, verbose=0)


def torch_trainer(widths, act, out, batch, X, y, fused: bool) -> Callable[[], None]:
    torch.manual_seed(0)
    modules = []
    for a, b in zip(widths[:-2], widths[1:-1]):
        modules += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    modules.append(torch.nn.Linear(widths[-2], widths[-1]))
    net = torch.nn.Sequential(*modules)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True) if fused else torch.optim.Adam(net.parameters(), lr=1e-3)
    Xt = torch.from_numpy(X)
    if out == "softmax":
        yt = torch.from_numpy(y)
        loss_fn = torch.nn.CrossEntropyLoss()
    else:
        yt = torch.from_numpy(y.astype(np.float32)).reshape(-1, 1)
        loss_fn = torch.nn.BCEWithLogitsLoss()

    def run() -> None:
        perm = torch.randperm(len(Xt))
        for start in range(0, len(Xt), batch):
            idx = perm[start : start + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    return run


def sklearn_trainer(widths, act, out, batch, X, y) -> Callable[[], None]:
    import warnings

    model = MLPClassifier(hidden_layer_sizes=tuple(widths[1:-1]), activation="relu", solver="adam",
                          learning_rate_init=1e-3, batch_size=batch, max_iter=1, random_state=0)
    classes = np.unique(y)

    def run() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(X, y, classes=classes)

    return run


def numpy_trainer(widths, act, out, batch, X, y) -> Callable[[], None]:
    """A plain NumPy MLP with ReLU, softmax/sigmoid cross-entropy and Adam (float32)."""
    rng = np.random.default_rng(0)
    Ws = [(rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32) for a, b in zip(widths[:-1], widths[1:])]
    bs = [np.zeros(b, np.float32) for b in widths[1:]]
    params = Ws + bs
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    state = {"t": 0}
    k = widths[-1]
    Y = np.eye(k, dtype=np.float32)[y] if out == "softmax" else y.astype(np.float32).reshape(-1, 1)

    def run() -> None:
        perm = rng.permutation(len(X))
        for start in range(0, len(X), batch):
            idx = perm[start : start + batch]
            xb, yb = X[idx], Y[idx]
            acts = [xb]
            for W, b in zip(Ws[:-1], bs[:-1]):
                acts.append(np.maximum(acts[-1] @ W + b, 0))
            z = acts[-1] @ Ws[-1] + bs[-1]
            if out == "softmax":
                e = np.exp(z - z.max(axis=1, keepdims=True))
                p = e / e.sum(axis=1, keepdims=True)
            else:
                p = 1 / (1 + np.exp(-z))
            d = (p - yb) / len(idx)
            grads_W, grads_b = [None] * len(Ws), [None] * len(bs)
            for i in range(len(Ws) - 1, -1, -1):
                grads_W[i] = acts[i].T @ d
                grads_b[i] = d.sum(axis=0)
                if i:
                    d = (d @ Ws[i].T) * (acts[i] > 0)
            state["t"] += 1
            t = state["t"]
            for j, (p_, g) in enumerate(zip(params, grads_W + grads_b)):
                m[j] *= 0.9
                m[j] += 0.1 * g
                v[j] *= 0.999
                v[j] += 0.001 * g * g
                p_ -= (1e-3 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)) * m[j] / (np.sqrt(v[j]) + 1e-8)

    return run


# ---------------------------------------------------------------------------- harness
def interleaved(runners: Dict[str, Callable[[], None]], repeats: int) -> Dict[str, List[float]]:
    times: Dict[str, List[float]] = {name: [] for name in runners}
    for name, run in runners.items():  # warm-up
        run()
    for _ in range(repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def set_threads(n: int) -> None:
    en.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)


def gemm_rate(threads: int) -> float:
    """Best GFLOP/s of a 1024^3 float32 matrix product among NumPy and PyTorch."""
    a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    best = 0.0
    candidates = [lambda: a @ a]
    if torch is not None:
        ta = torch.from_numpy(a)
        candidates.append(lambda: ta @ ta)
    for f in candidates:
        f()
        t = min(_timed(f) for _ in range(5))
        best = max(best, 2 * 1024**3 / t / 1e9)
    return best


def _timed(f: Callable[[], object]) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def machine() -> str:
    model = flags = "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                model = line.split(":", 1)[1].strip()
            if line.startswith("Flags"):
                fl = line.split(":", 1)[1].split()
                flags = " ".join(f for f in fl if f.startswith(("avx", "fma", "sse4")))
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores; SIMD flags: {flags}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer repeats")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "RESULTS.md"))
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    scale = 0.1 if args.quick else 1.0
    lines = ["# Benchmark results", "", f"Machine: {machine()}", "",
             f"Versions: Python {platform.python_version()}, eigennet {en.__version__}, NumPy {np.__version__}"
             + (f", PyTorch {torch.__version__}" if torch else "") + (f", scikit-learn {sklearn.__version__}" if sklearn else ""),
             "", f"Mode: {'quick' if args.quick else 'full'}, {repeats} interleaved repeats after one warm-up; "
             "samples/s per epoch, median (min-max); ratio = eigennet median / peer median (higher is better for eigennet).", ""]
    for threads in (1, 2):
        set_threads(threads)
        rate = gemm_rate(threads)
        lines += [f"## {threads} thread(s)", "", f"Best 1024^3 fp32 GEMM on this machine: {rate:.0f} GFLOP/s", "",
                  "| workload | peer | samples/s median (min-max) | eigennet / peer |", "|---|---|---|---|"]
        for name, (widths, act, out, batch, n) in WORKLOADS.items():
            n = max(batch * 4, int(n * scale))
            X, y = make_data(widths, out, n)
            runners = {"eigennet": eigennet_trainer(widths, act, out, batch, X, y)}
            if torch is not None:
                runners["pytorch eager"] = torch_trainer(widths, act, out, batch, X, y, fused=False)
                runners["pytorch fused Adam"] = torch_trainer(widths, act, out, batch, X, y, fused=True)
            if name != "W3":
                if sklearn is not None:
                    runners["scikit-learn"] = sklearn_trainer(widths, act, out, batch, X, y)
                runners["numpy"] = numpy_trainer(widths, act, out, batch, X, y)
            times = interleaved(runners, repeats)
            rates = {k: [n / t for t in v] for k, v in times.items()}
            ours = statistics.median(rates["eigennet"])
            for peer, r in rates.items():
                med = statistics.median(r)
                ratio = "—" if peer == "eigennet" else f"{ours / med:.2f}x"
                lines.append(f"| {name} {'-'.join(map(str, widths))} b{batch} | {peer} | {med:,.0f} ({min(r):,.0f}-{max(r):,.0f}) | {ratio} |")
            if name == "W1":
                flops = 6 * sum(a * b for a, b in zip(widths[:-1], widths[1:]))  # forward + two backward products
                bound = rate * 1e9 / flops
                lines.append(f"| W1 GEMM-only bound at {rate:.0f} GFLOP/s | — | {bound:,.0f} | eigennet at {100 * ours / bound:.0f}% |")
            print("\n".join(lines[-len(rates) - 1 :]), flush=True)
        lines.append("")
    with open(args.output, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
