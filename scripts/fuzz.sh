#!/usr/bin/env bash
# The long run of the C ABI's fuzz driver (cpp/fuzz/driver.h says what each call checks): builds
# fuzz_abi with a CMake preset (release unless FUZZ_PRESET says otherwise, e.g. sanitize for
# ASan + UBSan) and runs CALLS seeded calls from SEED; prints the driver's summary line and exits
# non-zero on any failure (the failure names the seed and call index to reproduce it with).
# Usage: scripts/fuzz.sh [CALLS] [SEED]          (defaults: 100000 calls, seed 1)
#        FUZZ_TIME_LIMIT=120 scripts/fuzz.sh ...  (stop after that many seconds; the run says so)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
calls="${1:-100000}"
seed="${2:-1}"
preset="${FUZZ_PRESET:-release}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target fuzz_abi >/dev/null
args=(--seed "$seed" --calls "$calls")
[ -n "${FUZZ_TIME_LIMIT:-}" ] && args+=(--time-limit "$FUZZ_TIME_LIMIT")
# The sanitizers stop at their first report, as the sanitize test preset does.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1}"
exec "build/$preset/fuzz_abi" "${args[@]}"
