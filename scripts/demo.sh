#!/usr/bin/env bash
# The main job (until the Java binding lands): builds the release library and runs the rho
# sweep on one ResNet-18/CIFAR layer (N=32, C=F=64, 32x32, 3x3, pad 1).
# Usage: scripts/demo.sh [repeats]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release --target bl_demo >/dev/null
exec build/release/bl_demo "$@"
