"""Side-by-side benchmarks of eigennet against PyTorch, scikit-learn, SciPy and NumPy.

    python benchmarks/run.py                    # full run (several minutes)
    python benchmarks/run.py --quick            # smoke run (about a minute)
    python benchmarks/run.py --only W4,W6       # a subset of the workloads (updates their sections)
    python benchmarks/run.py --wheel dist/eigennet-0.1.0-*.whl --measure-build   # add wheel size, build time

Workloads (synthetic data, fixed seeds; float32 unless stated):

  W1-W3  training throughput, samples/s per epoch at 1 and 2 threads, Adam, one epoch per call:
         W1 784-512-256-10 relu/softmax, batch 128, 60,000 samples; W2 20-64-64-1 relu/sigmoid,
         batch 32, 100,000 samples; W3 784-2048-2048-10 relu/softmax, batch 256, 12,800 samples.
         Peers: eigennet, PyTorch eager (torch.optim.Adam), PyTorch fused Adam, scikit-learn
         MLPClassifier.partial_fit and a NumPy MLP (the last two only for W1 and W2). The 2-thread
         table also times eigennet at 1 thread, interleaved with the rest (its ratio: 2t / 1t).
  W4     predict latency from Python (microseconds per call) of the W1 and W2 networks at batch 1 and
         32, 1 and 2 threads: eigennet predict_output / predict_proba on a C-contiguous float32 array,
         PyTorch eager under torch.no_grad() and torch.inference_mode() (NumPy in, NumPy out, output
         activation included), and a NumPy forward pass, all with the same weights. Each peer is timed
         in its own fresh process, in rounds of one process per peer in turn.
  W5     full-batch L-BFGS on L2-regularized logistic regression, 100,000 x 100 float64 (10,000 with
         --quick), l2 = 1e-4: wall time to tolerance (max |gradient| <= 1e-6) at 1 and 2 threads of
         eigennet (float64 and float32 models, algorithm="lbfgs"), scipy.optimize.minimize(method=
         "L-BFGS-B") on a vectorized NumPy objective (float64 and float32) and scikit-learn
         LogisticRegression(solver="lbfgs"), all from zero with matched stop rules; iterations,
         function evaluations, stop reason, and every final point judged by one float64 objective
         against a tight reference solution.
  W6     footprint: `import eigennet` / `import torch` / `import numpy` wall time in fresh
         subprocesses, the size of the installed extension modules (_core*.so), the wheel size
         (--wheel), peak RSS while training one W1 epoch (each library alone in a subprocess), and
         the time of `pip wheel . --no-deps` (--measure-build; slow).
  W7     stability: five consecutive W1 epochs on one model (eigennet and PyTorch eager), and W1
         under contention: 2 threads with one busy-loop process running, as a fraction of the
         1-thread rate without the busy loop, both in this process and with each library alone in a
         subprocess (where it starts its OpenMP runtime with its own defaults).

Peers run interleaved (A B C A B C ...) and are repeated, in one process except where stated (W4
times each peer in its own process: in a shared one, the thread pools a library leaves spinning after
its calls would take a core from the next library's calls); medians and min-max are written to
benchmarks/RESULTS.md. A run of some of the workloads (--only) replaces only their sections of an
existing report, marked with when and how they were measured, and keeps the rest.
Ratios are eigennet/peer for throughput (higher is better for eigennet) and peer/eigennet for
latency, time and memory (higher is better for eigennet).

PyTorch runs on its OpenMP runtime with that runtime's defaults (or what the environment sets);
eigennet's worker threads are its own, with no OpenMP setting. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import glob
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

# The environment before any library had a chance to change it; subprocesses start from it so that
# each library there starts its runtime with its own defaults.
_ORIGINAL_ENV = dict(os.environ)

# Imported by import_frameworks (torch first, then eigennet); None when absent or not requested.
torch = None
en = None
sklearn = None
MLPClassifier = None
ConvergenceWarning = None
threadpool_limits = None
OPENMP_WAITING_AT_TORCH_IMPORT: Optional[str] = None

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def import_frameworks(use_torch: bool = True, use_eigennet: bool = True, use_sklearn: bool = True) -> None:
    """Import the peers (torch first; its OpenMP settings are read from the environment then)."""
    global torch, en, sklearn, MLPClassifier, ConvergenceWarning, threadpool_limits, OPENMP_WAITING_AT_TORCH_IMPORT
    if use_torch:
        OPENMP_WAITING_AT_TORCH_IMPORT = openmp_waiting()
        try:
            import torch as _torch

            torch = _torch
        except ImportError:  # the suite reports what it can
            torch = None
    if use_eigennet:
        import eigennet as _en

        en = _en
    if use_sklearn:
        try:
            import sklearn as _sklearn
            from sklearn.exceptions import ConvergenceWarning as _cw
            from sklearn.neural_network import MLPClassifier as _mlp

            sklearn, MLPClassifier, ConvergenceWarning = _sklearn, _mlp, _cw
        except ImportError:
            sklearn = None
    try:  # limits NumPy's (and scikit-learn's) BLAS threads like the others'
        from threadpoolctl import threadpool_limits as _limits

        threadpool_limits = _limits
    except ImportError:
        threadpool_limits = None


# ---------------------------------------------------------------------------- workloads
WORKLOADS = {
    # name: (layer widths, hidden activation, output, batch, samples)
    "W1": ([784, 512, 256, 10], "relu", "softmax", 128, 60_000),
    "W2": ([20, 64, 64, 1], "relu", "sigmoid", 32, 100_000),
    "W3": ([784, 2048, 2048, 10], "relu", "softmax", 256, 12_800),
}
SECTIONS = ("W1-W3", "W4", "W5", "W6", "W7")

# W5: L2-regularized logistic regression, minimize mean log-loss + 0.5 * l2 * ||w||^2 (bias not penalized)
LBFGS_SAMPLES, LBFGS_QUICK_SAMPLES, LBFGS_FEATURES = 100_000, 10_000, 100
LBFGS_L2 = 1e-4
LBFGS_TOLERANCE = 1e-6           # stop when max |gradient| <= tolerance * max(1, |f|) (here |f| < 1)
LBFGS_FUNCTION_TOLERANCE = 1e-12  # eigennet's default relative-decrease rule; SciPy's ftol has the same form
LBFGS_MEMORY = 10                # pairs kept: eigennet's and SciPy's default
LBFGS_MAX_ITERATIONS = 1000


def make_data(widths: List[int], out: str, n: int, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """float32 features drawn directly in float32 (no float64 temporary inflating the peak RSS)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, widths[0]), dtype=np.float32)
    if out == "softmax":
        y = rng.integers(0, widths[-1], n)
    else:
        y = (rng.random(n) < 0.5).astype(np.int64)
    return X, y


def eigennet_model(widths, act, out):
    layers = [en.Dense(w, activation=act) for w in widths[1:-1]]
    layers.append(en.Output(widths[-1], activation=out, loss="mcxent" if out == "softmax" else "xent"))
    return en.Sequential(layers, input_dim=widths[0], updater=en.Adam(learning_rate=1e-3), seed=0)


def eigennet_trainer(widths, act, out, batch, X, y) -> Callable[[], None]:
    model = eigennet_model(widths, act, out)
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


# ---------------------------------------------------------------------------- predictors (W4)
def latency_input(widths: List[int], batch: int) -> np.ndarray:
    """W4's batch for a network; seeded, so the benchmark process and every worker predict the same X."""
    return np.random.default_rng(1).standard_normal((batch, widths[0]), dtype=np.float32)


def predictors(widths, act, out, X) -> Dict[str, Callable[[], object]]:
    """Forward passes of one network with eigennet's initial weights (seeded: the same in every process).

    Every peer takes the float32 NumPy batch X and returns a NumPy array of output activations. Building
    them calls none of them (see largest_disagreement), so a W4 worker starts only its peer's threads."""
    model = eigennet_model(widths, act, out)
    Ws = [model.get_param(i, "W") for i in range(len(widths) - 1)]  # (n_in, n_out)
    bs = [model.get_param(i, "b") for i in range(len(widths) - 1)]
    runners: Dict[str, Callable[[], object]] = {
        "eigennet predict_output": lambda: model.predict_output(X),
    }
    if out == "softmax" or widths[-1] == 1:
        runners["eigennet predict_proba"] = lambda: model.predict_proba(X)

    def numpy_forward() -> np.ndarray:
        h = X
        for W, b in zip(Ws[:-1], bs[:-1]):
            h = np.maximum(h @ W + b, 0)
        z = h @ Ws[-1] + bs[-1]
        if out == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        return 1 / (1 + np.exp(-z))

    if torch is not None:
        modules = []
        for i, (W, b) in enumerate(zip(Ws, bs)):
            linear = torch.nn.Linear(*W.shape)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                linear.bias.copy_(torch.from_numpy(b))
            modules.append(linear)
            if i < len(Ws) - 1:
                modules.append(torch.nn.ReLU())
        modules.append(torch.nn.Softmax(dim=1) if out == "softmax" else torch.nn.Sigmoid())
        net = torch.nn.Sequential(*modules).eval()

        def torch_no_grad() -> np.ndarray:
            with torch.no_grad():
                return net(torch.from_numpy(X)).numpy()

        def torch_inference_mode() -> np.ndarray:
            with torch.inference_mode():
                return net(torch.from_numpy(X)).numpy()

        runners["pytorch no_grad"] = torch_no_grad
        runners["pytorch inference_mode"] = torch_inference_mode
    runners["numpy"] = numpy_forward
    return runners


def largest_disagreement(runners: Dict[str, Callable[[], object]]) -> float:
    """Largest absolute difference of a peer's output activations from eigennet predict_output's."""
    reference = runners["eigennet predict_output"]()
    return max(float(np.abs(np.asarray(f()) - reference).max())
               for name, f in runners.items() if name != "eigennet predict_proba")


# ---------------------------------------------------------------------------- harness
def at_one_thread(run: Callable[[], None], threads: int) -> Callable[[], None]:
    """`run` with eigennet on one thread, then back on `threads`."""
    def call() -> None:
        en.set_num_threads(1)
        try:
            run()
        finally:
            en.set_num_threads(threads)
    return call


def interleaved(runners: Dict[str, Callable[[], None]], repeats: int, warmup: bool = True,
                settle: float = 0.0) -> Dict[str, List[float]]:
    """Seconds per call of each runner, called in turn (A B C A B C ...) after one warm-up call each,
    `settle` seconds of sleep before each timed call."""
    times: Dict[str, List[float]] = {name: [] for name in runners}
    if warmup:
        for run in runners.values():
            run()
    for _ in range(repeats):
        for name, run in runners.items():
            time.sleep(settle)
            times[name].append(_timed(run))
    return times


def _timed(f: Callable[[], object]) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def openmp_waiting() -> str:
    """How libgomp's idle threads wait, as set in this process's environment."""
    policy, spins = os.environ.get("OMP_WAIT_POLICY"), os.environ.get("GOMP_SPINCOUNT")
    if policy is None and spins is None:
        return "OMP_WAIT_POLICY and GOMP_SPINCOUNT unset"
    return ", ".join(f"{k}={v}" for k, v in (("OMP_WAIT_POLICY", policy), ("GOMP_SPINCOUNT", spins)) if v is not None)


def set_threads(n: int) -> None:
    """Threads for eigennet (Eigen), PyTorch (intra-op) and the BLAS under NumPy and scikit-learn."""
    if en is not None:
        en.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    if threadpool_limits is not None:
        threadpool_limits(limits=n, user_api="blas")


def gemm_rate() -> float:
    """Best GFLOP/s of a 1024^3 float32 matrix product among NumPy, PyTorch and eigennet's own Eigen
    GEMM (a bias-free identity layer of 1024 units on 1024 samples) at the current threads."""
    a = np.random.default_rng(0).standard_normal((1024, 1024), dtype=np.float32)
    best = 0.0
    candidates = [lambda: a @ a]
    if torch is not None:
        ta = torch.from_numpy(a)
        candidates.append(lambda: ta @ ta)
    layer = en.Sequential([en.Output(1024, activation="identity", loss="mse", has_bias=False)], input_dim=1024, seed=0)
    candidates.append(lambda: layer.predict_output(a))
    for f in candidates:
        f()
        t = min(_timed(f) for _ in range(15))
        best = max(best, 2 * 1024**3 / t / 1e9)
    return best


@contextlib.contextmanager
def busy_loop() -> Iterator[subprocess.Popen]:
    """One competing process spinning on a core for the duration of the block."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"], env=_ORIGINAL_ENV)
    try:
        time.sleep(0.3)  # let it start spinning
        yield proc
    finally:
        proc.kill()
        proc.wait()


def run_worker(spec: dict, mode: str = "--worker") -> Any:
    """Run `spec` in a fresh interpreter with the original environment (see worker_main, or
    latency_worker_main for mode "--w4-worker"); the JSON on the last line of its output."""
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), mode, json.dumps(spec)],
                          env=_ORIGINAL_ENV, capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"worker {spec} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return json.loads(lines[-1])


def worker_main(spec: dict) -> int:
    """Train W1 with one library alone in this process; print a JSON line with rate and memory.

    spec: framework ("eigennet" or "pytorch"), threads, samples, warmup (a short warm-up fit on
    another model first), epochs."""
    framework = spec["framework"]
    import_frameworks(use_torch=framework == "pytorch", use_eigennet=framework == "eigennet", use_sklearn=False)
    set_threads(spec["threads"])
    widths, act, out, batch, _ = WORKLOADS["W1"]
    X, y = make_data(widths, out, spec["samples"])

    def trainer(Xs, ys):
        if framework == "eigennet":
            return eigennet_trainer(widths, act, out, batch, Xs, ys)
        return torch_trainer(widths, act, out, batch, Xs, ys, fused=False)

    if spec.get("warmup"):
        trainer(X[: batch * 8], y[: batch * 8])()
    run = trainer(X, y)
    rss_setup = _memory_kb("VmRSS")
    rates = [len(X) / _timed(run) for _ in range(spec.get("epochs", 1))]
    print(json.dumps({
        "rates": rates,
        "rss_setup_kb": rss_setup,
        "peak_kb": _memory_kb("VmHWM"),
        "openmp_waiting": openmp_waiting(),
    }))
    return 0


def latency_worker_main(spec: dict) -> int:
    """Time one W4 peer alone in this process; print the seconds of each timed call as a JSON list.

    spec: network (a WORKLOADS name), batch, threads, peer (a name from predictors), warmup and calls.
    Only this peer is called, so no other library's threads are running or spinning between its calls."""
    peer = spec["peer"]
    # eigennet is loaded by every peer for its initial weights; torch only by the PyTorch peers.
    import_frameworks(use_torch=peer.startswith("pytorch"), use_eigennet=True, use_sklearn=False)
    set_threads(spec["threads"])
    widths, act, out, _, _ = WORKLOADS[spec["network"]]
    run = predictors(widths, act, out, latency_input(widths, spec["batch"]))[peer]
    for _ in range(spec["warmup"]):  # caches, thread pools, lazily built kernels
        run()
    times: List[float] = []
    clock = time.perf_counter
    gc.collect()
    gc.disable()
    try:
        for _ in range(spec["calls"]):
            start = clock()
            run()
            times.append(clock() - start)
    finally:
        gc.enable()
    print(json.dumps(times))
    return 0


def latency_in_processes(network: str, batch: int, threads: int, peers: Sequence[str], calls: int, rounds: int,
                         warmup: int) -> Dict[str, List[float]]:
    """Seconds of at least `calls` predict calls per peer, each peer in its own fresh process
    (latency_worker_main), `rounds` rounds of one process per peer in turn (A B C A B C ...)."""
    times: Dict[str, List[float]] = {peer: [] for peer in peers}
    for _ in range(rounds):
        for peer in peers:
            spec = {"network": network, "batch": batch, "threads": threads, "peer": peer, "warmup": warmup,
                    "calls": -(-calls // rounds)}
            times[peer].extend(run_worker(spec, mode="--w4-worker"))
    return times


def _memory_kb(field: str) -> int:
    """VmRSS (resident now) or VmHWM (resident peak) of this process, in KiB.

    The peak is VmHWM rather than getrusage's ru_maxrss: Linux carries ru_maxrss across fork + exec,
    so in a subprocess it is at least the parent's resident size at the fork (here: the benchmark
    process with all peers loaded). Without /proc, ru_maxrss is the fallback."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ---------------------------------------------------------------------------- report
def stats(values: Sequence[float], scale: float = 1.0, fmt: str = ",.0f") -> str:
    """'median (min-max)' of values * scale."""
    v = [x * scale for x in values]
    return f"{statistics.median(v):{fmt}} ({min(v):{fmt}}-{max(v):{fmt}})"


class Report:
    """Markdown lines for RESULTS.md; table rows are echoed to stdout as they are added.

    With ``merge`` (a run of some of the sections, ``--only``), save() rewrites only those sections'
    "## ..." blocks of an existing report and keeps the rest of it (header, other sections, total
    time); each updated block then starts with a line saying when and how it was measured
    (``provenance``). Without an existing report to merge into, the whole report is written."""

    def __init__(self, path: str, merge: Optional[Sequence[str]] = None, provenance: str = "") -> None:
        self.path = path
        self.lines: List[str] = []
        self.merge = list(merge) if merge is not None else None
        self.provenance = provenance
        self.marks: List[Tuple[str, int]] = []  # (section name, index of its first line in self.lines)

    def begin(self, section: str) -> None:
        """The lines added from now on belong to `section` (one of SECTIONS)."""
        self.marks.append((section, len(self.lines)))

    def text(self, *lines: str, echo: bool = True) -> None:
        self.lines.extend(lines)
        if echo:
            print("\n".join(lines), flush=True)

    def table(self, *headers: str) -> Callable[..., None]:
        self.text("", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers))

        def row(*cells: object) -> None:
            self.text("| " + " | ".join(str(c) for c in cells) + " |")

        return row

    def save(self) -> None:
        # The design choices and their measurements (benchmarks/CHOICES.md) close every report, so a
        # new run keeps them.
        choices = os.path.join(os.path.dirname(os.path.abspath(__file__)), "CHOICES.md")
        tail = ""
        if os.path.exists(choices):
            with open(choices, encoding="utf-8") as f:
                tail = "\n" + f.read()
        body = "\n".join(self.lines)
        if self.merge is not None:
            merged = self._merged()
            if merged is not None:
                body = merged
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(body + "\n" + tail)

    def _section_blocks(self) -> Dict[str, List[str]]:
        """This run's lines of each section, the provenance line after its "## " heading."""
        blocks: Dict[str, List[str]] = {}
        for i, (name, start) in enumerate(self.marks):
            end = self.marks[i + 1][1] if i + 1 < len(self.marks) else len(self.lines)
            block = list(self.lines[start:end])
            while block and not block[0].strip():
                block.pop(0)
            while block and not block[-1].strip():
                block.pop()
            if block and block[0].startswith("## ") and self.provenance:
                block[1:1] = ["", self.provenance]
            blocks[name] = block
        return blocks

    def _merged(self) -> Optional[str]:
        """The existing report with this run's sections swapped in; None if there is none to merge into."""
        try:
            with open(self.path, encoding="utf-8") as f:
                old = f.read().splitlines()
        except OSError:
            return None
        if not old or old[0] != "# Benchmark results":
            return None
        if "## Choices recorded" in old:  # the CHOICES.md tail, appended afresh by save()
            old = old[: old.index("## Choices recorded")]
        while old and not old[-1].strip():
            old.pop()
        footer: List[str] = []
        if old and old[-1].startswith("Total benchmark time"):
            footer = ["", old.pop()]
        # split into the preamble and "## <name> ..." blocks keyed by <name> (W1-W3, W4, ...)
        keys: List[Optional[str]] = [None]
        chunks: List[List[str]] = [[]]
        for line in old:
            if line.startswith("## "):
                keys.append(line[3:].split()[0] if line[3:].split() else "")
                chunks.append([])
            chunks[-1].append(line)
        for name, block in self._section_blocks().items():
            if name in keys:
                chunks[keys.index(name)] = block + [""]
                continue
            order = SECTIONS.index(name) if name in SECTIONS else len(SECTIONS)
            at = next((i for i, k in enumerate(keys) if k in SECTIONS and SECTIONS.index(k) > order), len(chunks))
            if at == len(chunks) and chunks[-1] and chunks[-1][-1].strip():
                chunks[-1].append("")
            keys.insert(at, name)
            chunks.insert(at, block + [""])
        lines = [line for chunk in chunks for line in chunk]
        while lines and not lines[-1].strip():
            lines.pop()
        return "\n".join(lines + footer)


@dataclasses.dataclass
class Settings:
    quick: bool
    scale: float            # fraction of the samples of W1-W3
    repeats: int            # interleaved repeats of W1-W3
    settle: float           # seconds of idle before each timed W1-W3 epoch (see section_training)
    latency_calls: int      # timed calls per peer and W4 configuration, over all rounds
    latency_rounds: int     # W4 rounds of one fresh process per peer
    latency_warmup: int     # untimed calls at the start of each W4 process
    import_repeats: int     # fresh interpreters per import in W6
    w1_samples: int         # W1 samples for W6 (RSS) and W7
    contention_repeats: int
    lbfgs_samples: int      # W5 rows of X
    lbfgs_repeats: int      # interleaved repeats of the W5 solves
    wheel: Optional[str]
    measure_build: bool


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


def openmp_runtimes() -> List[str]:
    """OpenMP runtime libraries mapped into this process."""
    found = set()
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                name = os.path.basename(path)
                if name.startswith(("libgomp", "libiomp", "libomp")) and ".so" in name:
                    found.add(path)
    except OSError:
        pass
    return sorted(found)


def versions() -> List[str]:
    out = [f"Python {platform.python_version()}", f"eigennet {en.__version__}", f"NumPy {np.__version__}"]
    if torch is not None:
        out.append(f"PyTorch {torch.__version__}")
    if sklearn is not None:
        out.append(f"scikit-learn {sklearn.__version__}")
    try:
        import scipy

        out.append(f"SciPy {scipy.__version__}")
    except ImportError:
        pass
    return out


def load_average() -> Tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


class OtherCpu:
    """Average number of cores that other processes kept busy between construction and stop():
    the machine's busy time from /proc/stat minus this process's own CPU time, over the wall time.
    None without /proc/stat."""

    def __init__(self) -> None:
        self.start = (self._busy(), self._own(), time.perf_counter())

    @staticmethod
    def _busy() -> Optional[float]:
        try:
            with open("/proc/stat", encoding="ascii") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        # user nice system idle iowait irq softirq steal ...: all but idle and iowait
        return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def stop(self) -> Optional[float]:
        busy, own, wall = self._busy(), self._own(), time.perf_counter()
        if busy is None or self.start[0] is None or wall <= self.start[2]:
            return None
        return max(0.0, ((busy - self.start[0]) - (own - self.start[1])) / (wall - self.start[2]))


def header(report: Report, s: Settings) -> None:
    isa = getattr(en._core, "ISA", None)
    runtimes = openmp_runtimes()
    policy = OPENMP_WAITING_AT_TORCH_IMPORT or "torch not imported"
    report.text(
        "# Benchmark results", "",
        f"- Machine: {machine()}",
        f"- Versions: {', '.join(versions())}",
        f"- eigennet extension: {'instruction-set build ' + isa if isa else 'single build'}; "
        f"OpenMP {'yes' if en._core.has_openmp() else 'no'}",
        f"- Mode: {'quick (smaller data, fewer repeats: smoke test only)' if s.quick else 'full'}; "
        f"W1-W3 {s.repeats} interleaved repeats after one warm-up",
        "- Threads: eigennet's products and updates run on its own worker threads (idle workers poll "
        "for 50 us, then sleep; no OpenMP team). PyTorch's OpenMP runtime at torch import: "
        f"{policy}" + (" (libgomp's default: spin about 300,000 iterations, then sleep)" if "unset" in policy else "")
        + ". W4, W6 and the 'alone' rows of W7 run each library in its own process.",
        f"- OpenMP runtimes mapped in the benchmark process: {', '.join(runtimes) or 'none'}.",
        "- NumPy's and scikit-learn's BLAS threads are limited like the others' (threadpoolctl)"
        if threadpool_limits is not None else "- threadpoolctl missing: NumPy's BLAS uses its default threads",
        "- Ratios: eigennet/peer for throughput, peer/eigennet for latency, time and memory; "
        "above 1 means eigennet is better. Values are median (min-max).",
    )


# ---------------------------------------------------------------------------- sections
def section_training(report: Report, s: Settings) -> None:
    report.text("", "## W1-W3 training throughput (samples/s per epoch)", "",
                f"One epoch per timed call, the peers in turn (A B C A B C ...) after a warm-up epoch each, "
                f"{s.repeats} repeats; {s.settle:g} s of idle before each timed epoch, so that it starts on idle "
                "cores rather than beside the threads the previous peer left spinning (OpenBLAS and OpenMP "
                "threads spin for a while after their last work).")
    for threads in (1, 2):
        set_threads(threads)
        rate = gemm_rate()
        report.text("", f"### {threads} thread(s)", "", f"Best 1024^3 fp32 GEMM on this machine: {rate:.0f} GFLOP/s")
        row = report.table("workload", "peer", "samples/s median (min-max)", "eigennet / peer")
        for name, (widths, act, out, batch, n) in WORKLOADS.items():
            n = max(batch * 2, int(n * s.scale))
            X, y = make_data(widths, out, n)
            runners = {"eigennet": eigennet_trainer(widths, act, out, batch, X, y)}
            if threads > 1:
                # The 1-thread rate again, interleaved with the 2-thread one: the tables of the two
                # thread counts are minutes apart, longer than this machine's throughput holds steady.
                runners["eigennet at 1 thread"] = at_one_thread(eigennet_trainer(widths, act, out, batch, X, y), threads)
            if torch is not None:
                runners["pytorch eager"] = torch_trainer(widths, act, out, batch, X, y, fused=False)
                runners["pytorch fused Adam"] = torch_trainer(widths, act, out, batch, X, y, fused=True)
            if name != "W3":
                if sklearn is not None:
                    runners["scikit-learn"] = sklearn_trainer(widths, act, out, batch, X, y)
                runners["numpy"] = numpy_trainer(widths, act, out, batch, X, y)
            rates = {k: [n / t for t in v] for k, v in interleaved(runners, s.repeats, settle=s.settle).items()}
            ours = statistics.median(rates["eigennet"])
            for peer, r in rates.items():
                ratio = "—" if peer == "eigennet" else f"{ours / statistics.median(r):.2f}x"
                row(f"{name} {'-'.join(map(str, widths))} b{batch}", peer, stats(r), ratio)
            if name == "W1":
                # Forward, weight-gradient and input-gradient products, except the first layer's input
                # gradient, which no peer computes (the data needs no gradient).
                flops = 6 * sum(a * b for a, b in zip(widths[:-1], widths[1:])) - 2 * widths[0] * widths[1]
                bound = rate * 1e9 / flops
                row(f"W1 GEMM-only bound at {rate:.0f} GFLOP/s", "—", f"{bound:,.0f}", f"eigennet at {100 * ours / bound:.0f}%")
        report.save()


def section_latency(report: Report, s: Settings) -> None:
    per_process = -(-s.latency_calls // s.latency_rounds)
    report.text("", "## W4 predict latency from Python (microseconds per call)", "",
                f"Each peer is timed in its own fresh process ({s.latency_warmup} warm-up calls, then "
                f"{per_process} calls timed one by one), in {s.latency_rounds} round(s) of one process per peer "
                f"in turn (A B C A B C ...): {per_process * s.latency_rounds} calls per peer and configuration. "
                "In one shared process the thread pools a library leaves spinning after its calls (PyTorch's "
                "OpenMP team, NumPy's OpenBLAS threads) take a core from the next library's calls. NumPy array "
                "in, NumPy array of output activations out (softmax / sigmoid included); the same weights in "
                "every peer. Ratio = peer median / eigennet predict_output median.")
    row = report.table("network", "batch", "threads", "peer", "µs/call median (min-max)", "p90", "peer / eigennet")
    notes = []
    for threads in (1, 2):
        set_threads(threads)
        for name in ("W1", "W2"):
            widths, act, out, _, _ = WORKLOADS[name]
            for batch in (1, 32):
                runners = predictors(widths, act, out, latency_input(widths, batch))
                disagreement = largest_disagreement(runners)  # checked here; the workers only time
                if disagreement > 1e-4:
                    notes.append(f"{name} b{batch}: peers disagree with eigennet by up to {disagreement:.2e}")
                times = latency_in_processes(name, batch, threads, list(runners), s.latency_calls,
                                             s.latency_rounds, s.latency_warmup)
                ours = statistics.median(times["eigennet predict_output"])
                for peer, t in times.items():
                    ratio = "—" if peer == "eigennet predict_output" else f"{statistics.median(t) / ours:.2f}x"
                    p90 = np.percentile(t, 90) * 1e6
                    row(f"{name} {'-'.join(map(str, widths))}", batch, threads, peer, stats(t, 1e6, ",.1f"), f"{p90:,.1f}", ratio)
    report.text("", "All peers computed the same outputs (max abs difference <= 1e-4)." if not notes else "; ".join(notes))
    report.save()


def lbfgs_data(n: int, d: int = LBFGS_FEATURES, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """X standard normal (float64), true w ~ N(0, 1/d), y ~ Bernoulli(sigmoid(X w)) as 0/1 int64."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d) / np.sqrt(d)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w)))).astype(np.int64)
    return X, y


def logistic_objective(X: np.ndarray, y: np.ndarray, l2: float) -> Callable[[np.ndarray], Tuple[float, np.ndarray]]:
    """theta = [w, b] -> (mean log-loss + 0.5 l2 ||w||^2, gradient), vectorized NumPy in X's dtype.

    The loss is log(1 + e^z) - y z with z = X w + b; for a float32 X the products, the loss and the
    gradient are computed in float32 and the value and gradient handed back as float64 (SciPy's
    L-BFGS-B works in float64)."""
    n = X.shape[0]
    dtype = X.dtype
    yf = y.astype(dtype)

    def f(theta: np.ndarray) -> Tuple[float, np.ndarray]:
        w = theta[:-1].astype(dtype, copy=False)
        z = X @ w
        z += dtype.type(theta[-1])
        loss = float(np.mean(np.logaddexp(0, z) - yf * z)) + 0.5 * l2 * float(theta[:-1] @ theta[:-1])
        r = 1 / (1 + np.exp(-z))  # sigmoid
        r -= yf
        r /= n
        grad = np.empty(len(theta))
        grad[:-1] = X.T @ r
        grad[:-1] += l2 * theta[:-1]
        grad[-1] = float(r.sum())
        return loss, grad

    return f


def _short_stop(message: str) -> str:
    """SciPy's L-BFGS-B messages in eigennet's words."""
    m = message.upper()
    if "PROJECTED GRADIENT" in m or "PGTOL" in m:
        return "gradient tolerance reached"
    if "REDUCTION OF F" in m or "FACTR" in m:
        return "function tolerance reached"
    if "ITERATION" in m and "LIMIT" in m:
        return "max iterations reached"
    return message.lower()


@contextlib.contextmanager
def _recording_minimize(results: List[object]) -> Iterator[None]:
    """scipy.optimize.minimize, also keeping each OptimizeResult (to read scikit-learn's nfev and
    message, which it does not expose; untimed diagnostic runs only)."""
    import scipy.optimize

    original = scipy.optimize.minimize

    def minimize(*args, **kwargs):
        result = original(*args, **kwargs)
        results.append(result)
        return result

    scipy.optimize.minimize = minimize
    try:
        yield
    finally:
        scipy.optimize.minimize = original


def _sklearn_loss_is_mean() -> Optional[bool]:
    """Whether scikit-learn's lbfgs objective is mean(log-loss) + 1/(2 C n) ||w||^2 (True: since the
    LinearModelLoss rewrite, the gradient tolerance `tol` then applies to our objective's gradient as
    is) or sum(log-loss) + 1/(2 C) ||w||^2 (False: n times ours). Probed on two samples; None if unknown."""
    try:
        from sklearn._loss.loss import HalfBinomialLoss
        from sklearn.linear_model._linear_loss import LinearModelLoss
    except ImportError:
        return None
    X = np.array([[1.0], [-2.0]])
    y = np.array([1.0, 0.0])
    coef = np.array([0.3, 0.1])
    try:
        value = LinearModelLoss(base_loss=HalfBinomialLoss(), fit_intercept=True).loss(coef, X, y, l2_reg_strength=0.0)
    except TypeError:
        return None
    z = X[:, 0] * coef[0] + coef[1]
    total = float(np.sum(np.logaddexp(0, z) - y * z))
    if np.isclose(value, total / len(y), rtol=1e-12):
        return True
    if np.isclose(value, total, rtol=1e-12):
        return False
    return None


def section_lbfgs(report: Report, s: Settings) -> None:
    report.text("", "## W5 full-batch L-BFGS logistic regression (time to tolerance)")
    try:
        import scipy.optimize
    except ImportError:
        row = report.table("workload", "status")
        row("W5", "not run: SciPy is not installed")
        report.save()
        return
    n, d, l2, tol = s.lbfgs_samples, LBFGS_FEATURES, LBFGS_L2, LBFGS_TOLERANCE
    X, y = lbfgs_data(n, d)
    X32 = X.astype(np.float32)
    objective = logistic_objective(X, y, l2)  # the one shared float64 objective every result is judged by
    objective32 = logistic_objective(X32, y, l2)
    x0 = np.zeros(d + 1)
    loads = [load_average()]
    other_cpu: Dict[int, Optional[float]] = {}

    # reference: a very tight SciPy solve, polished by Newton steps (exact Hessian; d + 1 = 101 unknowns)
    ref = scipy.optimize.minimize(objective, x0, jac=True, method="L-BFGS-B",
                                  options={"gtol": 1e-13, "ftol": 0.0, "maxiter": 10_000, "maxcor": 20}).x
    for _ in range(2):
        f_ref, g_ref = objective(ref)
        z = X @ ref[:-1] + ref[-1]
        p = 1 / (1 + np.exp(-z))
        weights = p * (1 - p) / n
        A = np.hstack([X, np.ones((n, 1))])
        H = A.T @ (A * weights[:, None])
        H[np.arange(d), np.arange(d)] += l2
        ref = ref - np.linalg.solve(H, g_ref)
        del A
    f_ref, g_ref = objective(ref)

    sklearn_mean = None
    LogisticRegression = None
    if sklearn is not None:
        from sklearn.linear_model import LogisticRegression

        sklearn_mean = _sklearn_loss_is_mean()
    # scikit-learn's tol bounds max |projected gradient| of its own objective; when that objective is
    # n times ours (older releases), the same point needs n times the tolerance.
    sklearn_tol = tol if sklearn_mean in (True, None) else tol * n

    def eigennet_solver(dtype: str, Xd: np.ndarray) -> Callable[[], dict]:
        def run() -> dict:
            model = en.Sequential([en.Output(1, activation="sigmoid", loss="xent", weight_init="zero")],
                                  l2=l2, dtype=dtype, seed=0)
            history = model.fit(Xd, y, algorithm="lbfgs", max_iterations=LBFGS_MAX_ITERATIONS, tolerance=tol,
                                verbose=0, optimizer_options={"lbfgs_memory": LBFGS_MEMORY,
                                                              "function_tolerance": LBFGS_FUNCTION_TOLERANCE})
            info = history.optimizer[-1]
            return {"theta": model.params().astype(np.float64), "iterations": info["iterations"],
                    "evaluations": info["function_evaluations"], "stop": info["stop_reason"]}
        return run

    def scipy_solver(f: Callable) -> Callable[[], dict]:
        def run() -> dict:
            res = scipy.optimize.minimize(f, np.zeros(d + 1), jac=True, method="L-BFGS-B",
                                          options={"gtol": tol, "ftol": LBFGS_FUNCTION_TOLERANCE,
                                                   "maxcor": LBFGS_MEMORY, "maxiter": LBFGS_MAX_ITERATIONS})
            return {"theta": res.x, "iterations": int(res.nit), "evaluations": int(res.nfev),
                    "stop": _short_stop(str(res.message))}
        return run

    def sklearn_solver() -> Callable[[], dict]:
        def run() -> dict:
            clf = LogisticRegression(C=1.0 / (l2 * n), solver="lbfgs", tol=sklearn_tol, max_iter=LBFGS_MAX_ITERATIONS)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X, y)
            return {"theta": np.concatenate([clf.coef_.ravel(), clf.intercept_]), "iterations": int(clf.n_iter_[0]),
                    "evaluations": None, "stop": None}
        return run

    solvers: Dict[str, Callable[[], dict]] = {
        "eigennet float64": eigennet_solver("float64", X),
        "eigennet float32": eigennet_solver("float32", X32),
        "scipy L-BFGS-B, NumPy float64": scipy_solver(objective),
        "scipy L-BFGS-B, NumPy float32": scipy_solver(objective32),
    }
    if LogisticRegression is not None:
        solvers["scikit-learn lbfgs (float64)"] = sklearn_solver()

    results: Dict[int, Dict[str, dict]] = {}
    times: Dict[int, Dict[str, List[float]]] = {}
    for threads in (1, 2):
        last: Dict[str, dict] = {}

        def keep(name: str, run: Callable[[], dict]) -> Callable[[], None]:
            def call() -> None:
                last[name] = run()
            return call

        # BLAS and OpenMP threads (scikit-learn's loss uses OpenMP) for the peers, then eigennet's own
        with threadpool_limits(limits=threads) if threadpool_limits is not None else contextlib.nullcontext():
            set_threads(threads)
            meter = OtherCpu()
            times[threads] = interleaved({name: keep(name, run) for name, run in solvers.items()}, s.lbfgs_repeats)
            other_cpu[threads] = meter.stop()
            if "scikit-learn lbfgs (float64)" in solvers:  # an untimed extra run to read nfev and the stop message
                recorded: List[object] = []
                with _recording_minimize(recorded):
                    extra = solvers["scikit-learn lbfgs (float64)"]()
                if recorded:
                    extra["evaluations"] = int(recorded[-1].nfev)
                    extra["stop"] = _short_stop(str(recorded[-1].message))
                last["scikit-learn lbfgs (float64)"] = extra
        results[threads] = last
        loads.append(load_average())

    busy_note = ", ".join(f"{t} thread(s) {c:.2f}" for t, c in other_cpu.items() if c is not None)
    if sklearn is None:
        sklearn_note = "scikit-learn is not installed."
    elif sklearn_mean is True:
        sklearn_note = (f"scikit-learn {sklearn.__version__} minimizes mean log-loss + ||w||^2 / (2 C n), which is our "
                        "objective itself (checked on a two-sample probe of its loss), so its tol (a bound on max "
                        f"|projected grad| of that objective) is {sklearn_tol:g} too, with no factor n; its ftol is "
                        "fixed at 64 eps = 1.4e-14 and its line search allows 50 evaluations (SciPy's default 20, "
                        "eigennet's 40).")
    elif sklearn_mean is False:
        sklearn_note = (f"scikit-learn {sklearn.__version__} minimizes sum log-loss + ||w||^2 / (2 C), n times our "
                        f"objective, so its tol is tolerance * n = {sklearn_tol:g}.")
    else:
        sklearn_note = (f"the scale of scikit-learn {sklearn.__version__}'s objective could not be probed; its tol is "
                        f"{sklearn_tol:g} (right if it minimizes the mean loss, as releases since 1.2 do).")
    report.text(
        "",
        f"Minimize mean log-loss + 0.5 * l2 * ||w||^2 (bias not penalized), l2 = {l2:g}, over X {n:,} x {d} "
        f"(standard normal, seed 0), true w ~ N(0, 1/{d}), y ~ Bernoulli(sigmoid(X w)); every solver starts "
        f"from w = 0, b = 0 and keeps {LBFGS_MEMORY} L-BFGS pairs. Wall time of one solve from Python (model "
        "or estimator construction, input checks and the solve), median (min-max) of "
        f"{s.lbfgs_repeats} interleaved repeats after one warm-up, at 1 and 2 threads (eigennet's threads, "
        "and BLAS/OpenMP threads of NumPy, SciPy and scikit-learn through threadpoolctl).",
        "",
        "Stop rules, matched: eigennet stops when max |grad| <= tolerance * max(1, |f|) with tolerance "
        f"{tol:g}; f stays below 1 here (log 2 at the start), so this is max |grad| <= {tol:g}. SciPy's "
        f"L-BFGS-B stops when max |projected grad| <= gtol (no bounds: max |grad|), gtol = {tol:g}, and when "
        "(f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) <= ftol, the same form as eigennet's function_tolerance; both "
        f"are {LBFGS_FUNCTION_TOLERANCE:g}. scikit-learn: C = 1 / (l2 n) gives the same minimizer; "
        + sklearn_note,
        "",
        "Every final point is judged by one float64 NumPy objective: f, f - f* and max |grad| there, and "
        "max |theta - theta*| over the 101 parameters, where theta* is a SciPy solve with gtol 1e-13, ftol 0, "
        f"polished by two Newton steps (f* = {f_ref:.15g}, max |grad(theta*)| = {np.abs(g_ref).max():.1e}). "
        "The float32 rows compute the objective and gradient in float32 (eigennet's float32 model; a NumPy "
        "objective on a float32 copy of X for SciPy, whose L-BFGS-B itself works in float64); a float32 gradient "
        f"carries rounding near {tol:g}, so they may stop on the function rule before the gradient rule. "
        "'ms / f eval' is the median solve time over the function (and gradient) evaluations, everything else "
        "included. Ratios are peer time / eigennet time (above 1: eigennet faster), against eigennet float64 "
        "and float32 at the same thread count.",
        "",
        f"Load average (1 min) before W5: {loads[0][0]:.2f} (after its 1- and 2-thread parts, which count this "
        f"benchmark's own threads: {', '.join(f'{l[0]:.2f}' for l in loads[1:])})"
        + (f"; cores kept busy by other processes while the solves ran (machine CPU time minus this process's, "
           f"over wall time, {os.cpu_count()} cores): {busy_note}" if busy_note else "")
        + (". Measured under load (load average above 1.5: other jobs were running on this machine), so times "
           "are noisy; medians are reported." if loads[0][0] > 1.5 else "."),
    )
    row = report.table("solver", "threads", "ms median (min-max)", "iterations", "f evals", "ms / f eval", "stop",
                       "f (float64)", "f - f*", "max abs grad", "max abs (theta - theta*)",
                       "peer / eigennet f64", "peer / eigennet f32")
    for threads in (1, 2):
        t = times[threads]
        ours64 = statistics.median(t["eigennet float64"])
        ours32 = statistics.median(t["eigennet float32"])
        for name, r in results[threads].items():
            f_val, g = objective(r["theta"])
            med = statistics.median(t[name])
            evals = r["evaluations"]
            row(name, threads, stats(t[name], 1e3, ",.1f"), r["iterations"], "—" if evals is None else evals,
                "—" if not evals else f"{med * 1e3 / evals:,.1f}", r["stop"] or "—",
                f"{f_val:.12f}", f"{f_val - f_ref:.1e}", f"{np.abs(g).max():.1e}",
                f"{np.abs(r['theta'] - ref).max():.1e}",
                "—" if name == "eigennet float64" else f"{med / ours64:.2f}x",
                "—" if name == "eigennet float32" else f"{med / ours32:.2f}x")
    if "scikit-learn lbfgs (float64)" in solvers:
        report.text("", "scikit-learn's function evaluations and stop reason come from one extra, untimed fit "
                        "that records the result of its scipy.optimize.minimize call.")
    report.save()


def _import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    proc = subprocess.run([sys.executable, "-c", code], env=_ORIGINAL_ENV, capture_output=True, text=True,
                          cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        raise RuntimeError(f"import {module} failed: {proc.stderr.strip()[-1000:]}")
    return float(proc.stdout.strip().splitlines()[-1])


def extension_files() -> List[str]:
    """The eigennet extension modules (_core*.so) in every directory of the package (editable installs
    keep them apart from the sources)."""
    files = set()
    for directory in list(getattr(en, "__path__", [])) + [os.path.dirname(en.__file__)]:
        files.update(os.path.realpath(p) for p in glob.glob(os.path.join(directory, "_core*.so")))
        files.update(os.path.realpath(p) for p in glob.glob(os.path.join(directory, "_core*.pyd")))
    return sorted(files)


def section_footprint(report: Report, s: Settings) -> None:
    report.text("", "## W6 footprint")

    # import time: a fresh interpreter per measurement, one discarded warm-up round (warm file cache)
    modules = ["eigennet"] + (["torch"] if torch is not None else []) + ["numpy"]
    times: Dict[str, List[float]] = {m: [] for m in modules}
    for i in range(s.import_repeats + 1):
        for m in modules:
            t = _import_seconds(m)
            if i:
                times[m].append(t)
    report.text("", f"Import wall time, measured inside a fresh interpreter (median of {s.import_repeats}, "
                    "warm file cache); `import eigennet` includes NumPy's import.")
    row = report.table("import", "ms median (min-max)", "peer / eigennet")
    ours = statistics.median(times["eigennet"])
    for m, t in times.items():
        ratio = "—" if m == "eigennet" else f"{statistics.median(t) / ours:.2f}x"
        row(f"import {m}", stats(t, 1e3, ",.0f"), ratio)
    report.save()

    # sizes
    row = report.table("artifact", "size")
    files = extension_files()
    for path in files:
        row(f"extension {os.path.basename(path)}", f"{os.path.getsize(path) / 2**20:.2f} MiB")
    row(f"installed extension total ({len(files)} file(s) in {', '.join(sorted({os.path.dirname(f) for f in files}))})",
        f"{sum(os.path.getsize(f) for f in files) / 2**20:.2f} MiB")
    if s.wheel:
        row(f"wheel {os.path.basename(s.wheel)}", f"{os.path.getsize(s.wheel) / 2**20:.2f} MiB")
    if s.measure_build:
        seconds, wheel = measure_build()
        row("`pip wheel . --no-deps` (clean build dir, with build isolation)", f"{seconds:.0f} s" if seconds else "failed")
        if wheel:
            row(f"built wheel {os.path.basename(wheel)}", f"{os.path.getsize(wheel) / 2**20:.2f} MiB")
    report.save()

    # peak RSS while training one W1 epoch, each library alone
    report.text("", f"Resident memory training one W1 epoch ({s.w1_samples:,} samples, batch 128, 1 thread), "
                    "each library alone in a fresh process; setup = VmRSS after imports, data and model creation; "
                    "peak = VmHWM, the process's resident high-water mark (getrusage's ru_maxrss is not used: "
                    "Linux carries it over from the parent through fork + exec, so it reports the benchmark "
                    "process's own peak).")
    row = report.table("library", "RSS after setup (MiB)", "peak RSS (MiB)", "peak - setup (MiB)", "peer / eigennet (peak)", "peer / eigennet (peak - setup)")
    results = {fw: run_worker({"framework": fw, "threads": 1, "samples": s.w1_samples, "epochs": 1})
               for fw in (["eigennet"] + (["pytorch"] if torch is not None else []))}
    base = results["eigennet"]
    for fw, r in results.items():
        grow, base_grow = r["peak_kb"] - r["rss_setup_kb"], base["peak_kb"] - base["rss_setup_kb"]
        ratios = ("—", "—") if fw == "eigennet" else (
            f"{r['peak_kb'] / base['peak_kb']:.2f}x", f"{grow / base_grow:.2f}x" if base_grow > 0 else "—")
        row(fw, f"{r['rss_setup_kb'] / 1024:,.0f}", f"{r['peak_kb'] / 1024:,.0f}", f"{grow / 1024:,.0f}", *ratios)
    data_mib = s.w1_samples * 784 * 4 / 2**20
    report.text("", f"(The W1 features alone are {data_mib:,.0f} MiB.)")
    report.save()


def measure_build() -> Tuple[Optional[float], Optional[str]]:
    """Seconds of `pip wheel . --no-deps` with a fresh build directory, and the wheel (kept in
    $TMPDIR/eigennet-benchmark-wheel); (None, None) if the build fails."""
    out = tempfile.mkdtemp(prefix="eigennet-wheel-")
    keep = os.path.join(tempfile.gettempdir(), "eigennet-benchmark-wheel")
    try:
        cmd = [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", out,
               f"--config-settings=build-dir={os.path.join(out, 'build')}"]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, env=_ORIGINAL_ENV, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            print(f"pip wheel failed: {proc.stderr.strip()[-2000:]}", file=sys.stderr)
            return None, None
        wheels = glob.glob(os.path.join(out, "eigennet-*.whl"))
        if not wheels:
            return seconds, None
        os.makedirs(keep, exist_ok=True)
        wheel = shutil.copy(wheels[0], keep)
        return seconds, wheel
    finally:
        shutil.rmtree(out, ignore_errors=True)


def section_stability(report: Report, s: Settings) -> None:
    widths, act, out, batch, _ = WORKLOADS["W1"]
    X, y = make_data(widths, out, s.w1_samples)
    report.text("", "## W7 stability", "",
                f"Five consecutive W1 epochs on one model ({s.w1_samples:,} samples, batch 128, 1 thread, "
                "interleaved eigennet / PyTorch, no warm-up): samples/s per epoch.")
    set_threads(1)
    runners = {"eigennet": eigennet_trainer(widths, act, out, batch, X, y)}
    if torch is not None:
        runners["pytorch eager"] = torch_trainer(widths, act, out, batch, X, y, fused=False)
    rates = {k: [len(X) / t for t in v] for k, v in interleaved(runners, 5, warmup=False).items()}
    row = report.table("library", *[f"epoch {i}" for i in range(1, 6)], "epoch5 / epoch1", "eigennet / peer (median)")
    ours = statistics.median(rates["eigennet"])
    for name, r in rates.items():
        ratio = "—" if name == "eigennet" else f"{ours / statistics.median(r):.2f}x"
        row(name, *[f"{v:,.0f}" for v in r], f"{r[-1] / r[0]:.2f}", ratio)
    report.save()

    # contention: 2 threads with one busy loop, relative to 1 thread without it
    report.text("", f"W1 under contention ({s.w1_samples:,} samples, {s.contention_repeats} repeat(s)): each repeat "
                    "measures 1 and 2 threads, then 2 threads with one `python -c \"while True: pass\"` process "
                    "running (samples/s). 'shared process' = this process (interleaved; its OpenMP "
                    "runtime is described in the header); 'alone' = the library alone in a fresh process with its own defaults "
                    "(short warm-up fit first). '2t busy / 1t' pairs the runs of one repeat.")
    row = report.table("library", "process", "1 thread", "2 threads", "2 threads + busy loop",
                       "2t / 1t", "2t busy / 1t: median (worst)", "eigennet / peer (2t busy)")
    shared: Dict[str, Dict[str, List[float]]] = {k: {"1": [], "2": [], "busy": []} for k in runners}
    for threads in (1, 2):  # warm-up at both thread counts
        set_threads(threads)
        for run in runners.values():
            run()
    for _ in range(s.contention_repeats):
        for threads in (1, 2):
            set_threads(threads)
            for name, t in interleaved(runners, 1, warmup=False).items():
                shared[name][str(threads)].append(len(X) / t[0])
        with busy_loop():
            for name, t in interleaved(runners, 1, warmup=False).items():
                shared[name]["busy"].append(len(X) / t[0])
    alone: Dict[str, Dict[str, List[float]]] = {}
    policies: Dict[str, Optional[str]] = {}
    for fw in (["eigennet"] + (["pytorch"] if torch is not None else [])):
        alone[fw] = {"1": [], "2": [], "busy": []}
        for _ in range(s.contention_repeats):
            for threads in (1, 2):
                r = run_worker({"framework": fw, "threads": threads, "samples": s.w1_samples, "warmup": True})
                alone[fw][str(threads)].append(r["rates"][0])
            with busy_loop():
                r = run_worker({"framework": fw, "threads": 2, "samples": s.w1_samples, "warmup": True})
            alone[fw]["busy"].append(r["rates"][0])
            policies[fw] = r["openmp_waiting"]
    groups = [("shared", name, "shared process", v) for name, v in shared.items()]
    groups += [("alone", "pytorch eager" if fw == "pytorch" else fw,
                f"alone ({policies[fw]})" if fw == "pytorch" else "alone", v) for fw, v in alone.items()]
    for kind, name, process, v in groups:
        own = next(g[3] for g in groups if g[0] == kind and g[1] == "eigennet")
        frac = [b / one for b, one in zip(v["busy"], v["1"])]
        ratio = "—" if name == "eigennet" else f"{statistics.median(own['busy']) / statistics.median(v['busy']):.2f}x"
        row(name, process, stats(v["1"]), stats(v["2"]), stats(v["busy"]),
            f"{statistics.median(v['2']) / statistics.median(v['1']):.2f}",
            f"{statistics.median(frac):.2f} ({min(frac):.2f})", ratio)
    report.save()


# ---------------------------------------------------------------------------- main
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer repeats (a smoke test)")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved repeats of W1-W3 (and W7 contention)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {', '.join(SECTIONS)}; a subset updates only those "
                             "sections of an existing --output report (the rest of it is kept)")
    parser.add_argument("--lbfgs-repeats", type=int, default=None, help="interleaved repeats of the W5 solves")
    parser.add_argument("--wheel", default=None, help="a wheel file whose size W6 reports")
    parser.add_argument("--measure-build", action="store_true", help="time `pip wheel . --no-deps` in W6 (slow)")
    parser.add_argument("--output", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md"))
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # internal: see worker_main
    parser.add_argument("--w4-worker", default=None, help=argparse.SUPPRESS)  # internal: see latency_worker_main
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(json.loads(args.worker))
    if args.w4_worker:
        return latency_worker_main(json.loads(args.w4_worker))
    only = {x.strip().upper() for x in args.only.split(",") if x.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    if args.wheel and not os.path.isfile(args.wheel):
        parser.error(f"--wheel: no such file {args.wheel}")

    import_frameworks()
    s = Settings(
        quick=args.quick,
        scale=0.03 if args.quick else 1.0,
        repeats=args.repeats or (2 if args.quick else 5),
        settle=0.02 if args.quick else 0.3,
        latency_calls=100 if args.quick else 2000,
        latency_rounds=1 if args.quick else 3,
        latency_warmup=20 if args.quick else 200,
        import_repeats=2 if args.quick else 7,
        w1_samples=1500 if args.quick else WORKLOADS["W1"][4],
        contention_repeats=args.repeats or (1 if args.quick else 3),
        lbfgs_samples=LBFGS_QUICK_SAMPLES if args.quick else LBFGS_SAMPLES,
        lbfgs_repeats=args.lbfgs_repeats or (3 if args.quick else 21),
        wheel=args.wheel,
        measure_build=args.measure_build,
    )
    # A run of some of the sections updates just those sections of an existing report (see Report).
    partial = only != set(SECTIONS)
    provenance = ""
    if partial:
        provenance = (f"_Section measured by `benchmarks/run.py --only {','.join(x for x in SECTIONS if x in only)}"
                      f"{' --quick' if args.quick else ''}` on {time.strftime('%Y-%m-%d %H:%M %Z')} "
                      f"({'quick: smoke test only' if args.quick else 'full settings'}; "
                      f"{', '.join(versions())}; load average at start "
                      f"{' / '.join(f'{x:.2f}' for x in load_average())}); the header above describes the "
                      "last full run._")
    report = Report(args.output, merge=sorted(only, key=SECTIONS.index) if partial else None, provenance=provenance)
    header(report, s)
    start = time.perf_counter()
    for name, section in (("W1-W3", section_training), ("W4", section_latency), ("W5", section_lbfgs),
                          ("W6", section_footprint), ("W7", section_stability)):
        if name in only:
            began = time.perf_counter()
            report.begin(name)
            section(report, s)
            print(f"[{name} took {time.perf_counter() - began:.0f} s]", flush=True)
    if not partial:
        report.text("", f"Total benchmark time: {time.perf_counter() - start:.0f} s")
    report.save()
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
