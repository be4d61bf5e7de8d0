#!/usr/bin/env bash
# Runs the tests under AddressSanitizer + UndefinedBehaviorSanitizer (GCC is enough):
#
#   scripts/sanitize.sh [cpp|python|all] [PYTEST_ARGS...]      default: all
#
#  cpp     configures build/asan with -DEIGENNET_SANITIZE=ON (the C++ core, its ctest tests and the
#          fuzz-corpus replay) and runs ctest with leak detection on.
#  python  builds the extension with the same flags into a wheel (build/asan-py, one instruction-set
#          variant), installs it into the virtual environment build/asan-venv, which also sees this
#          Python's site-packages (for the test dependencies), and runs the Python suite there with
#          the ASan runtime preloaded. The install of this Python is not touched.
#
# Every report aborts the process, so a finding fails the run. Needs what scripts/test.sh needs
# (pip install ".[test]") plus g++ and cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
[ $# -gt 0 ] && shift  # the rest goes to pytest
case "$what" in cpp|python|all) ;; *) echo "usage: $0 [cpp|python|all]" >&2; exit 2 ;; esac

prefix=$(python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# -O1: the usual sanitizer compromise; Eigen at -O0 makes the tests many times slower, -O2 only
# lengthens the build.
flags="-O1 -g"
# Two compile jobs, also for the wheel's build (ninja would otherwise start one per core + 2).
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
# halt_on_error/abort: a runtime error stops the test instead of being printed and ignored.
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1

if [ "$what" != python ]; then
  start=$SECONDS
  cmake -S . -B build/asan "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" \
    -DEIGENNET_SANITIZE=ON -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build build/asan
  # detect_stack_use_after_return and check_initialization_order catch what plain ASan misses;
  # leak detection is on: these are our own processes from start to exit.
  ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1 \
    ctest --test-dir build/asan --output-on-failure
  echo "sanitize.sh: C++ tests clean under ASan+UBSan ($((SECONDS - start)) s including the build)"
fi

if [ "$what" != cpp ]; then
  start=$SECONDS
  venv=build/asan-venv
  [ -x "$venv/bin/python" ] || python -m venv "$venv"
  py="$venv/bin/python"
  # The test dependencies come from this Python's site-packages, added after the venv's own by
  # sitecustomize below (--system-site-packages would reach the base interpreter's, not those of a
  # virtual environment this script runs in).
  site=$("$py" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  cat >"$site/sitecustomize.py" <<PY
import site, sys
site.addsitedir("$prefix")
# An editable install there (pip install -e .) registers an import hook that would win over this
# venv's ASan build; drop it.
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("_editable_skbc_eigennet")]
PY
  # The build backend without isolation, so the wheel builds from what is installed here (Eigen
  # from this Python's cmeel-eigen, passed as CMAKE_PREFIX_PATH since the venv's own site-packages
  # lacks it); CI's `pip install ".[test]"` builds in isolation and leaves the backend out.
  "$py" -c "import scikit_build_core, pybind11" 2>/dev/null || "$py" -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12"
  rm -rf build/asan-wheel
  # One variant, the level this CPU would load from a full install (the tests' float tolerances
  # are set for the levels that run here; the generic level rounds float32 differently enough to
  # fail an ONNX comparison at rtol 1e-5). The flags are those python/eigennet/_core.py checks.
  variant="generic:"
  if [ "$(uname -m)" = x86_64 ]; then
    variant="generic:x86-64-v2"
    cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
    has_all() { local f; for f in "$@"; do [[ $cpu_flags == *" $f "* ]] || return 1; done; }
    if has_all avx512f avx512bw avx512cd avx512dq avx512vl avx2 fma bmi2; then
      variant="avx512:x86-64-v4"
    elif has_all avx2 fma bmi1 bmi2 f16c movbe; then
      variant="avx2:x86-64-v3"
    fi
  fi
  "$py" -m pip wheel . -q --no-deps --no-build-isolation -w build/asan-wheel \
    -Cbuild-dir=build/asan-py -Ccmake.build-type=RelWithDebInfo -Ccmake.define.CMAKE_PREFIX_PATH="$prefix" \
    -Ccmake.define.pybind11_DIR="$("$py" -m pybind11 --cmakedir)" \
    -Ccmake.define.CMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" -Ccmake.define.EIGENNET_SANITIZE=ON \
    -Ccmake.define.EIGENNET_PYTHON_VARIANTS="$variant"
  "$py" -m pip install -q --no-deps --force-reinstall build/asan-wheel/eigennet-*.whl
  # The interpreter itself is not instrumented, so the ASan runtime must be loaded first; and
  # libstdc++ with it, or ASan's __cxa_throw interceptor finds no real __cxa_throw (python does not
  # link libstdc++) and aborts at the first C++ exception of any extension (matplotlib's, ours).
  preload="$(c++ -print-file-name=libasan.so) $(c++ -print-file-name=libstdc++.so)"
  # detect_leaks=0: CPython, numpy and torch keep their global state until exit by design, which
  # LeakSanitizer would report by the thousand; leaks of ours are the C++ run's job (leak
  # detection on) and test_memory_growth's in the plain run.
  # allocator_may_return_null=1: tests asking for absurd sizes expect MemoryError/bad_alloc, as
  # with glibc, not an ASan abort.
  # alloc_dealloc_mismatch=0: uninstrumented third-party libraries (torch) mix malloc and delete
  # internally; our own code is checked for that in the C++ run.
  asan_options=abort_on_error=1:detect_leaks=0:allocator_may_return_null=1:alloc_dealloc_mismatch=0
  # Left out, each for a stated reason:
  #  test_memory_growth: ASan keeps freed memory in quarantine on purpose, so RSS grows.
  #  test_cpp_embedding: builds and runs the C++ core with its own compiler flags; it never loads
  #    the ASan extension (the C++ run above covers the core).
  #  test_spark: the JVM would inherit the preloaded ASan runtime, whose SIGSEGV handling clashes
  #    with the JVM's own.
  #  test_interrupt: asserts that a subprocess stops within seconds of a SIGINT, a timing bound
  #    that ASan's slowdown on a busy machine can break (it passed in 2.3 s on an idle one); it
  #    checks signal handling, not memory, and runs in the plain suite.
  deselect=(--ignore=tests/python/test_memory_growth.py --ignore=tests/python/test_cpp_embedding.py
            --ignore=tests/python/test_spark.py --ignore=tests/python/test_interrupt.py)
  # The venv's ASan build must be the one imported, not this Python's own install.
  LD_PRELOAD="$preload" ASAN_OPTIONS="$asan_options" "$py" -c "import eigennet, sys
assert eigennet.__file__.startswith(sys.prefix), eigennet.__file__
print('sanitize.sh: testing', eigennet.__file__, 'built for', eigennet.build_info()['isa'])"
  # EIGENNET_DEV_SINGLE_ISA=1: test_native accepts a build with one instruction-set level.
  EIGENNET_DEV_SINGLE_ISA=1 LD_PRELOAD="$preload" ASAN_OPTIONS="$asan_options" \
    "$py" -m pytest tests/python -q -x "${deselect[@]}" "$@"
  echo "sanitize.sh: Python suite clean against the ASan extension ($((SECONDS - start)) s including the build)"
fi
