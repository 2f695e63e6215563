#!/usr/bin/env bash
# Unpacks NVIDIA's cuFFT wheel from the machine image into build/cuda-deps (a wheel is a zip), so
# that CMake's BL_WITH_CUDA finds include/cufft.h and lib/libcufft.so.*. Proprietary: never
# committed (build/ is ignored). Usage: scripts/cuda-deps.sh [wheel]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
wheel="${1:-$( (find / -name 'nvidia_cufft*.whl' -not -path '/proc/*' 2>/dev/null || true) | sort | tail -n 1)}"
[ -n "$wheel" ] && [ -f "$wheel" ] || { echo "no nvidia_cufft wheel found on this machine" >&2; exit 1; }
dest="$root/build/cuda-deps"
mkdir -p "$dest"
python3 -m zipfile -e "$wheel" "$dest"
# The wheel's folder is nvidia/cufft (CUDA 12 wheels) or nvidia/cu13 (CUDA 13 wheels).
header="$(find "$dest/nvidia" -name cufft.h | head -n 1)"
[ -n "$header" ] || { echo "$wheel holds no cufft.h" >&2; exit 1; }
echo "cuFFT from $(basename "$wheel") unpacked: configure with -DBL_CUFFT_ROOT=$(dirname "$(dirname "$header")")"
