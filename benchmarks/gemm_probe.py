"""GEMM probe: eigennet's product path against the BLAS libraries installed in this environment.

    python benchmarks/gemm_probe.py                 # 1 and 2 threads, 3 rounds x 5 repeats
    pip install scipy-openblas32 mkl                # optional: add OpenBLAS and MKL to the comparison

Compiles benchmarks/gemm_probe.cpp against eigennet's own product code (cpp/src/product.hpp, the
path every Dense layer takes) at the instruction-set level eigennet loaded, and times the matrix
products of one W1 and one W3 training step and of a W1 batch-32 prediction, product by product,
next to the SGEMM of every BLAS it finds: OpenBLAS (scipy-openblas32), MKL (mkl), and the MKL
linked into PyTorch (its Fortran sgemm_). Prints a Markdown table of milliseconds per product and
GFLOP/s (medians), with each BLAS's time as a ratio to eigennet's (above 1: eigennet faster).
Each backend runs in a process of its own (a BLAS's spinning threads would otherwise take a core
from the next one timed), in rounds that alternate between the backends.
"""

from __future__ import annotations

import argparse
import glob
import os
import pathlib
import subprocess
import sys
import sysconfig
import statistics
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARCH = {"avx512": "x86-64-v4", "avx2": "x86-64-v3", "generic": "x86-64-v2"}


def eigen_include() -> str:
    for site in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        found = glob.glob(os.path.join(site, "cmeel.prefix", "include", "eigen3"))
        if found:
            return found[0]
    if os.path.isdir("/usr/include/eigen3"):
        return "/usr/include/eigen3"
    sys.exit("Eigen headers not found: pip install cmeel-eigen (or install a system Eigen 3.4)")


def compile_probe(directory: str, isa: str) -> str:
    binary = os.path.join(directory, "gemm_probe")
    command = ["g++", "-std=c++17", "-O3", "-DNDEBUG", f"-march={MARCH[isa]}", "-pthread",
               # libgomp for MKL's GNU threading layer; eigennet itself does not use OpenMP, so Eigen
               # must not parallelize the small products either
               "-fopenmp", "-DEIGEN_DONT_PARALLELIZE", f"-I{ROOT / 'cpp' / 'include'}", f"-I{ROOT / 'cpp' / 'src'}",
               f"-I{eigen_include()}", str(ROOT / "benchmarks" / "gemm_probe.cpp"),
               str(ROOT / "cpp" / "src" / "threads.cpp"), str(ROOT / "cpp" / "src" / "parallel.cpp"), "-ldl", "-o", binary]
    subprocess.run(command, check=True)
    return binary


def blas_libraries() -> tuple[list[str], dict[str, str]]:
    """The BLAS backends found, as probe arguments, and the environment they need."""
    specs, env = [], {}
    try:
        import scipy_openblas32

        library = glob.glob(os.path.join(scipy_openblas32.get_lib_dir(), "lib" + scipy_openblas32.get_library() + ".so*"))[0]
        specs.append(f"openblas={library}:scipy_cblas_sgemm:scipy_openblas_set_num_threads")
    except ImportError:
        pass
    mkl = sorted(glob.glob(os.path.join(sys.prefix, "lib", "libmkl_rt.so*")))
    if mkl:
        specs.append(f"mkl={mkl[0]}:cblas_sgemm:MKL_Set_Num_Threads")
        env["MKL_THREADING_LAYER"] = "GNU"  # the probe's own libgomp, no Intel OpenMP needed
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [os.path.dirname(mkl[0]), os.environ.get("LD_LIBRARY_PATH")]))
    try:
        import torch

        library = os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so")
        if os.path.exists(library):
            specs.append(f"torch-mkl={library}:sgemm_")
    except ImportError:
        pass
    return specs, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of one process per backend, interleaved (default 3)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per product in each process (default 5)")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    args = parser.parse_args()

    import eigennet

    isa = eigennet.build_info()["isa"]
    specs, extra_env = blas_libraries()
    with tempfile.TemporaryDirectory() as directory:
        binary = compile_probe(directory, isa)
        for threads in [int(t) for t in args.threads.split(",")]:
            # Each BLAS with its own thread defaults (eigennet's workers are not OpenMP's).
            env = dict(os.environ, OMP_NUM_THREADS=str(threads), **extra_env)
            # samples[(workload, product, m, n, k)][backend] = seconds per call, every repeat of every round
            samples: dict[tuple[str, ...], dict[str, list[float]]] = {}
            for _ in range(args.rounds):
                for spec in [None, *specs]:
                    command = [binary, str(threads), str(args.repeats)] + ([spec] if spec else [])
                    run = subprocess.run(command, env=env, capture_output=True, text=True)
                    if run.returncode != 0:
                        sys.exit(f"gemm_probe failed ({run.returncode}): {run.stderr.strip()}")
                    for line in run.stdout.strip().splitlines():
                        workload, product, m, n, k, label, *seconds = line.split("\t")
                        samples.setdefault((workload, product, m, n, k), {}).setdefault(label, []).extend(
                            float(x) for x in seconds)
            print_table(samples, threads, isa)


def print_table(samples: dict[tuple[str, ...], dict[str, list[float]]], threads: int, isa: str) -> None:
    labels = list(next(iter(samples.values())))
    print(f"\n### {threads} thread(s), eigennet {isa} build\n")
    print("| workload | product | m x n x k | " + " | ".join(f"{label} ms (GFLOP/s)" for label in labels)
          + "".join(f" | {label} / eigennet" for label in labels[1:]) + " |")
    print("|" + "---|" * (3 + 2 * len(labels) - 1))
    totals: dict[str, dict[str, float]] = {}
    for (workload, product, m, n, k), by_label in samples.items():
        flops = 2.0 * int(m) * int(n) * int(k)
        seconds = {label: statistics.median(values) for label, values in by_label.items()}
        for label, s in seconds.items():
            totals.setdefault(workload, {}).setdefault(label, 0.0)
            totals[workload][label] += s
        print(f"| {workload} | {product} | {m} x {n} x {k} | "
              + " | ".join(f"{seconds[l] * 1e3:.3f} ({flops / seconds[l] / 1e9:.0f})" for l in labels)
              + "".join(f" | {seconds[l] / seconds['eigennet']:.2f}x" for l in labels[1:]) + " |")
    for workload, seconds in totals.items():
        print(f"| **{workload}** | all products | | "
              + " | ".join(f"**{seconds[l] * 1e3:.3f}**" for l in labels)
              + "".join(f" | **{seconds[l] / seconds['eigennet']:.2f}x**" for l in labels[1:]) + " |")


if __name__ == "__main__":
    main()
