"""The per-instruction-set extension modules and thread settings."""

import importlib.util
import json
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import eigennet as en
from eigennet import _core

LEVELS = ("avx512", "avx2", "generic")
X86 = platform.machine().lower() in ("x86_64", "amd64")

PROBE = r"""
import json, sys
import numpy as np
import eigennet as en
from eigennet import _core
X, y = en.load_digits()
X = X[:300] / 16.0
model = en.Sequential([en.Dense(32, activation="relu"), en.Output(10)], input_dim=64,
                      updater=en.Adam(learning_rate=1e-2), seed=5, dtype=sys.argv[1])
model.fit(X, y[:300], epochs=3, batch_size=32, verbose=0)
print(json.dumps({"isa": _core.ISA, "out": model.predict_output(X[:20]).tolist()}))
"""


def run_probe(isa, dtype):
    env = dict(os.environ, EIGENNET_ISA=isa)
    done = subprocess.run([sys.executable, "-c", PROBE, dtype], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def built_levels():
    return {lvl for lvl in LEVELS if importlib.util.find_spec(f"eigennet._core_{lvl}") is not None}


def usable_levels():
    flags = set()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            flags = {flag for line in f if line.startswith("flags") for flag in line.split(":", 1)[1].split()}
    levels = ["generic"]
    if {"avx2", "fma"} <= flags:
        levels.append("avx2")
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"} <= flags:
        levels.append("avx512")
    return levels


@pytest.mark.skipif(not X86, reason="the instruction-set levels are x86-64 ones")
def test_wheel_has_every_level_and_loads_the_best():
    built = built_levels()
    # An editable development install may be built for one level only (EIGENNET_PYTHON_VARIANTS);
    # a regular install, as in CI, carries all three.
    if not os.environ.get("EIGENNET_DEV_SINGLE_ISA"):
        assert set(LEVELS) <= built, f"extension modules present: {sorted(built)}"
    best = next(level for level in LEVELS if level in usable_levels() and level in built)
    assert _core.ISA == best


@pytest.mark.skipif(not X86, reason="the instruction-set levels are x86-64 ones")
@pytest.mark.parametrize("dtype, tolerance", [("float32", 2e-4), ("float64", 1e-10)])
def test_every_level_trains_to_the_same_results(dtype, tolerance):
    levels = [lvl for lvl in usable_levels() if lvl in built_levels()]
    assert levels, "no loadable extension module"
    results = {lvl: run_probe(lvl, dtype) for lvl in levels}
    reference = np.array(results[levels[0]]["out"])
    for lvl, result in results.items():
        assert result["isa"] == lvl
        np.testing.assert_allclose(np.array(result["out"]), reference, rtol=tolerance, atol=tolerance)


def test_unknown_isa_is_refused():
    env = dict(os.environ, EIGENNET_ISA="sse1")
    done = subprocess.run([sys.executable, "-c", "import eigennet"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "EIGENNET_ISA='sse1' is not one of avx512, avx2, generic" in done.stderr


def test_format_error_is_shown_as_eigennet_format_error():
    assert en.FormatError.__module__ == "eigennet"
    assert issubclass(en.FormatError, ValueError)


def _train(threads, dtype="float64"):
    previous = en.get_num_threads()
    en.set_num_threads(threads)
    try:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(512, 300))
        y = rng.integers(0, 5, 512)
        # Wide enough that the 300x512x256 products cross the threading threshold.
        model = en.Sequential([en.Dense(512, activation="relu"), en.Output(5)], input_dim=300,
                              updater=en.Adam(learning_rate=1e-3), seed=9, dtype=dtype)
        model.fit(X, y, epochs=2, batch_size=256, verbose=0)
        return model.params()
    finally:
        en.set_num_threads(previous)


def test_thread_count_setting_round_trips_and_rejects_bad_values():
    previous = en.get_num_threads()
    try:
        en.set_num_threads(1)
        assert en.get_num_threads() == 1
        en.set_num_threads(3)
        assert en.get_num_threads() == 3
    finally:
        en.set_num_threads(previous)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            en.set_num_threads(bad)


def test_same_threads_bit_identical_and_other_thread_counts_within_rounding():
    one = _train(1)
    np.testing.assert_array_equal(one, _train(1))
    two = _train(2)
    np.testing.assert_array_equal(two, _train(2))
    np.testing.assert_allclose(two, one, rtol=1e-9, atol=1e-12)


def test_build_info_reports_the_loaded_level():
    info = en.build_info()
    assert info["isa"] == _core.ISA
    assert info["num_threads"] == en.get_num_threads()
    assert info["eigen_version"].startswith("3.")
    assert info["openmp"] is False  # the core runs its own worker threads (cpp/src/parallel.cpp)
    if info["isa"] == "avx512":
        assert "AVX512" in info["simd"]
    elif info["isa"] == "avx2":
        assert "AVX2" in info["simd"] and "AVX512" not in info["simd"]
    else:
        assert "AVX" not in info["simd"]


@pytest.mark.parametrize("setting, expected", [
    ("3", 3), ("1", 1), ("2,1", 2),       # a count, or a list whose first entry is the count
    ("0", None), ("abc", None), ("", None),  # anything else: one thread per CPU this process may use
    (None, None),
])
def test_default_thread_count_follows_omp_num_threads_else_the_allowed_cpus(setting, expected):
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if setting is not None:
        env["OMP_NUM_THREADS"] = setting
    out = subprocess.run([sys.executable, "-c", "import eigennet as en; print(en.get_num_threads())"],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert int(out) == (expected if expected is not None else len(os.sched_getaffinity(0)))
