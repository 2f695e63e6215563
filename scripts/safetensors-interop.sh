#!/usr/bin/env bash
# A checkpoint written by `./bandlimit train` read by Hugging Face's Python `safetensors` (and
# a plain numpy parse of the format), written back by `safetensors.numpy.save_file`, and
# evaluated again by `./bandlimit eval`: both evaluations must print the same accuracy.
# `safetensors` and numpy are installed offline from the image's wheel folders into
# target/safetensors-venv; where they cannot be, the check says "skipped" and why.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="$root/target/safetensors-interop"
venv="$root/target/safetensors-venv"
mkdir -p "$out"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import safetensors, numpy' 2>/dev/null; then
  rm -rf "$venv"
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q safetensors numpy; } > "$out/pip.log" 2>&1; then
    echo "safetensors interop: skipped: Python's safetensors could not be installed here ($(tail -1 "$out/pip.log"))"
    exit 0
  fi
fi
./bandlimit train --rho 0.5 --epochs 1 --train-limit 512 --batch 32 --no-progress --out "$out/run" > "$out/train.log"
"$venv/bin/python" scripts/safetensors_interop.py "$out/run/model.safetensors" "$out/python.safetensors"
a=$(./bandlimit eval --checkpoint "$out/run/model.safetensors" | head -1)
b=$(./bandlimit eval --checkpoint "$out/python.safetensors" | head -1)
echo "java-written:   $a"
echo "python-written: $b"
if [ "${a##*test accuracy}" != "${b##*test accuracy}" ]; then
  echo "safetensors interop: FAILED: the accuracies differ" >&2
  exit 1
fi
echo "safetensors interop: OK (read and rewritten by safetensors $("$venv/bin/python" -c 'import safetensors; print(safetensors.__version__)'))"
