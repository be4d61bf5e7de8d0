#!/usr/bin/env bash
# Runs the whole test suite: the C++ core with ctest, then the Python package with pytest.
# Needs the package and its test extras installed: pip install ".[test]"
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build/ctest "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build build/ctest -j 2
ctest --test-dir build/ctest --output-on-failure
python -m pytest tests/python "$@"
