#!/usr/bin/env bash
# Fuzzes the model-file loader (tests/fuzz/fuzz_model_loader.cpp) with libFuzzer under ASan and
# UBSan for a bounded time, starting from the checked-in corpus tests/fuzz/corpus.
#
#   scripts/fuzz.sh [SECONDS]        default 120
#
# Fails on any finding: a crash, a sanitizer report, an exception other than FormatError, an input
# running longer than 10 s, or a process above 2 GB (the loader must not allocate without bound).
# The failing input is written to $FUZZ_WORK/artifacts (crash-*, timeout-*, oom-*, leak-*); keep it
# as a regression test with `cp $FUZZ_WORK/artifacts/* tests/fuzz/corpus/` once fixed. Inputs that
# reached new code are left in $FUZZ_WORK/new, outside the repository; fold the useful ones into
# the corpus with
#   build/fuzz/tests/fuzz/eigennet_fuzz_model_loader -merge=1 tests/fuzz/corpus $FUZZ_WORK/new
# FUZZ_WORK defaults to a fresh directory under /tmp. Needs clang with libFuzzer (CLANGXX=... to pick
# one); installs it with apt-get when no usable clang++ is found (CI runs as root on a fresh machine).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}

# Whether $1 can link a libFuzzer binary with the sanitizers (the runtimes are a separate package
# on Debian and Ubuntu).
can_fuzz() {
  local dir
  dir=$(mktemp -d)
  printf '#include <cstddef>\n#include <cstdint>\nextern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n' >"$dir/t.cpp"
  "$1" -fsanitize=fuzzer,address,undefined "$dir/t.cpp" -o "$dir/t" >/dev/null 2>&1
  local status=$?
  rm -rf "$dir"
  return $status
}

clangxx=${CLANGXX:-}
if [ -z "$clangxx" ]; then
  for candidate in clang++ clang++-14 clang++-15 clang++-16 clang++-17 clang++-18; do
    if command -v "$candidate" >/dev/null && can_fuzz "$candidate"; then clangxx=$candidate; break; fi
  done
fi
if [ -z "$clangxx" ]; then
  echo "fuzz.sh: installing clang with libFuzzer and the sanitizer runtimes"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang >/dev/null
  clangxx=clang++
  if ! can_fuzz "$clangxx"; then
    major=$("$clangxx" -dumpversion | cut -d. -f1)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "libclang-rt-$major-dev" >/dev/null
  fi
  can_fuzz "$clangxx" || { echo "fuzz.sh: $clangxx cannot build a libFuzzer binary" >&2; exit 1; }
fi

prefix=$(python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# EIGENNET_ARCH empty: the fuzz binary need not be tuned to this CPU.
cmake -S . -B build/fuzz "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$clangxx" \
  -DEIGENNET_FUZZ=ON -DEIGENNET_ARCH= -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build build/fuzz -j 2 --target eigennet_fuzz_model_loader

work=${FUZZ_WORK:-$(mktemp -d /tmp/eigennet-fuzz.XXXXXX)}
mkdir -p "$work/new" "$work/artifacts"
log="$work/fuzz.log"
echo "fuzz.sh: fuzzing for ${seconds}s; new inputs in $work/new, findings in $work/artifacts, log $log"
status=0
# Sanitizer reports abort (so libFuzzer records the input); a leak check at exit would flag
# the network the loader returns only if it really leaked, so it stays on.
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  build/fuzz/tests/fuzz/eigennet_fuzz_model_loader \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=65536 \
  -dict=tests/fuzz/model.dict -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
  "$work/new" tests/fuzz/corpus >"$log" 2>&1 || status=$?

executions=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
tail -n 5 "$log"
echo "fuzz.sh: ${executions:-unknown} executions in ${seconds}s; $(find "$work/new" -type f | wc -l) new inputs in $work/new"
findings=$(find "$work/artifacts" -type f | wc -l)
if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ]; then
  grep -m 5 -E 'ERROR|runtime error|eigennet fuzz finding|Test unit written' "$log" || true
  echo "fuzz.sh: FAILED (exit status $status, $findings findings in $work/artifacts)" >&2
  exit 1
fi
