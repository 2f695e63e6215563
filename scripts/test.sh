#!/usr/bin/env bash
# The project's test command: builds the native core and runs every native test twice,
# once in the release build and once under AddressSanitizer + UndefinedBehaviorSanitizer.
# Usage: scripts/test.sh            (both)
#        scripts/test.sh release    (one preset: release or sanitize)
set -euo pipefail
cd "$(dirname "$0")/.."
presets=("${@:-release sanitize}")
for preset in ${presets[@]}; do
  echo "== native tests: $preset =="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset" -j 2
done
