#!/usr/bin/env bash
# Unpacks NVIDIA's wheels from the machine image into build/cuda-deps (a wheel is a zip), where
# CMake's BL_WITH_CUDA looks: cuFFT (include/cufft.h, lib/libcufft.so.*), which the CUDA backend
# links, and cuDNN's headers and loader library (libcudnn.so.9), which the GPU benchmark's cuDNN
# timer links. Proprietary: never committed (build/ is ignored).
# Usage: scripts/cuda-deps.sh [--cudnn-all] [cufft-wheel]
#   --cudnn-all: all of cuDNN's libraries (~900 MB; what running the cuDNN timer needs: the GPU
#   check passes it), not only the loader.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cudnn_all=0
if [ "${1:-}" = --cudnn-all ]; then cudnn_all=1; shift; fi
find_wheel() { (find / -name "$1" -not -path '/proc/*' 2>/dev/null || true) | sort | tail -n 1; }
wheel="${1:-$(find_wheel 'nvidia_cufft*.whl')}"
dest="$root/build/cuda-deps"
mkdir -p "$dest/nvidia"
# Where the wheels are installed instead (a machine whose Python holds nvidia-cufft and
# nvidia-cudnn-cu13, such as the lent GPU machine): link their folders in place of unpacking.
link_installed() {  # $1: a file inside the package's include folder, $2: the name under build/cuda-deps/nvidia
  local header
  header="$( (find / -path /proc -prune -o -path "*-packages/nvidia/*/include/$1" -print 2>/dev/null || true) | head -n 1)"
  [ -n "$header" ] || return 1
  ln -sfn "$(dirname "$(dirname "$header")")" "$dest/nvidia/$2"
  echo "$2: linked the installed $(dirname "$(dirname "$header")")"
}
if [ -z "$wheel" ] || [ ! -f "$wheel" ]; then
  link_installed cufft.h cu13 || { echo "no nvidia_cufft wheel or installed cuFFT on this machine" >&2; exit 1; }
  link_installed cudnn.h cudnn || echo "no installed cuDNN: the GPU benchmark runs without cuDNN"
  exit 0
fi
python3 -m zipfile -e "$wheel" "$dest"
# The wheel's folder is nvidia/cufft (CUDA 12 wheels) or nvidia/cu13 (CUDA 13 wheels).
header="$(find "$dest/nvidia" -name cufft.h | head -n 1)"
[ -n "$header" ] || { echo "$wheel holds no cufft.h" >&2; exit 1; }
echo "cuFFT from $(basename "$wheel") unpacked: configure with -DBL_CUFFT_ROOT=$(dirname "$(dirname "$header")")"

cudnn="$(find_wheel 'nvidia_cudnn_cu13*.whl')"
if [ -z "$cudnn" ]; then
  echo "no nvidia_cudnn_cu13 wheel on this machine: the GPU benchmark runs without cuDNN"
  exit 0
fi
python3 - "$cudnn" "$dest" "$cudnn_all" <<'PY'
import sys, zipfile
wheel, dest, everything = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if "/include/" in n or n.endswith("/lib/libcudnn.so.9")
             or (everything and "/lib/" in n)]
    z.extractall(dest, names)
print(f"cuDNN from {wheel.split('/')[-1]}: {len(names)} files unpacked" + (" (all libraries)" if everything else " (headers and loader)"))
PY
