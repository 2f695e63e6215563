#!/usr/bin/env bash
# The native demo (C++ only, no JVM): the rho sweep of `./bandlimit demo`, run by bl_demo.
# Usage: scripts/demo.sh [repeats]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release --target bl_demo >/dev/null
exec build/release/bl_demo "$@"
