#!/usr/bin/env bash
# The GPU check, one command for a machine with an NVIDIA GPU (the `device` machine is lent for
# minutes): builds the library with the CUDA backend once, runs the cross-backend tests (every
# case of test_backend_ops on CUDA next to the CPU paths), then times the CUDA backend's passes
# on the ResNet-18/CIFAR suite, a large kernel and a long 1D layer at rho 0 / 0.5 / 0.75 / 0.9,
# (bl_pass_time --cuda: device buffers, each call timed to bl_context_synchronize, medians), and
# prints a markdown table for docs/GPU.md.
#
# Side by side with the paper's method on the same GPU (BL_METHOD_PAPER_BASELINE: power-of-two
# FFT sizes, 4-mult products; its spectra are stored compact like ours) and with cuDNN
# (bl_cudnn_time: its fastest algorithm by cudnnFind*, fp32 FMA math; rate-independent).
#
# Usage: scripts/gpu-check.sh [reps]      (default 20 timed calls per pass)
# On the lent device machine: carry build/carry (the tests' nlohmann/json header; docs/GPU.md).
# Output: test results and the table on stdout; with $OUT set (the device machine's return folder)
# also $OUT/gpu-table.md, the test and memcheck logs and nvidia-smi's report.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
reps="${1:-20}"
build="$root/build/gpu"

echo "== machine =="
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: not available"
nvcc --version | tail -n 2 || true

echo "== build (CUDA backend) =="
[ -f "$root/build/cuda-deps/nvidia/cudnn/lib/libcudnn_cnn.so.9" ] || scripts/cuda-deps.sh --cudnn-all
export LD_LIBRARY_PATH="$root/build/cuda-deps/nvidia/cudnn/lib:$root/build/cuda-deps/nvidia/cu13/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBL_WITH_CUDA=ON | grep -E "BL_WITH_CUDA|bench:" || true
cmake --build "$build" -j "$(nproc)"
[ -f "$build/libbandlimit_cuda.so" ] || { echo "libbandlimit_cuda.so was not built (see BL_WITH_CUDA above)"; exit 1; }

echo "== cross-backend tests =="
status=0
for t in test_cuda_maps test_backend_ops test_layers_backends test_errors; do
  if "$build/$t" > "$build/$t.log" 2>&1; then
    echo "$t: passed ($(grep -c 'skipped: cuda' "$build/$t.log" || true) 'skipped: cuda' lines)"
  else
    status=1
    echo "$t: FAILED"; grep -E "FAILED|error" "$build/$t.log" | head -n 40
  fi
done
grep -m1 "skipped: cuda" "$build/test_backend_ops.log" && echo "(the CUDA target was skipped: the table below will fail too)"

if command -v compute-sanitizer >/dev/null; then
  echo "== compute-sanitizer memcheck, small layers, every pass =="
  for pass in 0 1 2; do
    compute-sanitizer --tool memcheck --error-exitcode 9 "$build/bl_pass_time" --cuda 2 8 8 9 3 0.5 "$pass" 1 >/dev/null 2>"$build/memcheck-$pass.log" \
      && echo "2D pass $pass: clean" || { status=1; echo "2D pass $pass: memcheck FAILED"; head -n 30 "$build/memcheck-$pass.log"; }
    compute-sanitizer --tool memcheck --error-exitcode 9 "$build/bl_pass_time" --cuda --1d 2 4 4 100 9 0.5 "$pass" 1 >/dev/null 2>"$build/memcheck-1d-$pass.log" \
      && echo "1D pass $pass: clean" || { status=1; echo "1D pass $pass: memcheck FAILED"; head -n 30 "$build/memcheck-1d-$pass.log"; }
  done
  # The layer kernels (every op, small shapes) under memcheck too.
  compute-sanitizer --tool memcheck --error-exitcode 9 "$build/test_layers_backends" >/dev/null 2>"$build/memcheck-layers.log" \
    && echo "layer kernels: clean" || { status=1; echo "layer kernels: memcheck FAILED"; head -n 30 "$build/memcheck-layers.log"; }
else
  echo "== compute-sanitizer: not on this machine (skipped) =="
fi

echo "== CUDA passes: ours, the paper's method (bl_pass_time --cuda [--paper]) and cuDNN (bl_cudnn_time, fp32 FMA math), median of $reps =="
table="| layer | rho | ours fwd / bwd-data / bwd-weights ms | paper's method fwd / bwd-data / bwd-weights ms | vs paper (sum) | cuDNN fwd / bwd-data / bwd-weights ms | vs cuDNN (sum) |
|---|---|---|---|---|---|---|"
# One layer at one rate: ours, then the baseline (BL_METHOD_PAPER_BASELINE: power-of-two
# lengths >= padded input + kernel - 1, 4-mult products), every pass; appends a row.
row_for() {
  local name="$1" rho="$2"; shift 2
  local ours="" paper="" so=0 sp=0 ms
  for pass in 0 1 2; do
    ms=$("$build/bl_pass_time" --cuda "$@" "$rho" "$pass" "$reps" 2>&1 | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
    ours="$ours${ours:+ / }${ms:-error}"; so=$(python3 -c "print($so + ${ms:-0})")
    ms=$("$build/bl_pass_time" --cuda --paper "$@" "$rho" "$pass" "$reps" 2>&1 | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
    paper="$paper${paper:+ / }${ms:-error}"; sp=$(python3 -c "print($sp + ${ms:-0})")
  done
  local ratio cudnn_ratio
  ratio=$(python3 -c "print(f'{$sp / $so:.2f}x' if $so > 0 else 'n/a')")
  cudnn_ratio=$(python3 -c "print(f'{$cudnn_sum / $so:.2f}x' if $so > 0 and $cudnn_sum > 0 else 'n/a')")
  table="$table
| $name | $rho | $ours | $paper | $ratio | $cudnn_ms | $cudnn_ratio |"
}
layers=("32 64 64 32 3|ResNet C=F=64 32x32"
        "32 128 128 16 3|ResNet C=F=128 16x16"
        "32 256 256 8 3|ResNet C=F=256 8x8"
        "32 512 512 4 3|ResNet C=F=512 4x4"
        "8 16 16 64 31|k=31 64x64 C=F=16 N=8")
# cuDNN's dense passes of one layer (rate-independent): sets cudnn_ms and cudnn_sum.
cudnn_for() {
  cudnn_ms=""; cudnn_sum=0
  local ms
  for pass in 0 1 2; do
    ms=""
    [ -x "$build/bl_cudnn_time" ] && ms=$("$build/bl_cudnn_time" "$@" "$pass" "$reps" 2>&1 | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p')
    cudnn_ms="$cudnn_ms${cudnn_ms:+ / }${ms:-n/a}"; cudnn_sum=$(python3 -c "print($cudnn_sum + ${ms:-0})")
  done
}
for spec in "${layers[@]}"; do
  dims="${spec%%|*}"; name="${spec#*|}"
  # shellcheck disable=SC2086
  cudnn_for $dims
  for rho in 0 0.5 0.75 0.9; do
    # shellcheck disable=SC2086
    row_for "$name" "$rho" $dims
  done
done
cudnn_for --1d 8 16 16 4096 1024
for rho in 0 0.5 0.75 0.9; do
  row_for "1D L=4096 K=1024 C=F=16 N=8" "$rho" --1d 8 16 16 4096 1024
done
echo "$table"
if [ -n "${OUT:-}" ]; then
  # What comes back from a lent device machine (at most 8 files): the table, the test and
  # memcheck logs in one file, nvidia-smi's report.
  echo "$table" > "$OUT/gpu-table.md"
  for f in "$build"/*.log; do echo "===== $(basename "$f")"; cat "$f"; done > "$OUT/gpu-logs.txt" 2>/dev/null || true
  nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
fi
exit $status
