#!/usr/bin/env bash
# Issue 10's step-time benchmark: one training step of the demo's MNIST CNN from Java (JMH's
# MnistStep: forward, loss, backward, Adam; band-limited at rho 0, 0.5, 0.75) side by side
# with PyTorch's CPU build on the same model with dense convolutions (scripts/pytorch_step.py),
# same batch (64), same threads. PyTorch runs twice before JMH and once after (the median of the
# three is quoted, all three are printed), so that a change of load during the run shows. Prints
# one table; docs/TRAINING.md quotes it.
#
# PyTorch is a yardstick, never a dependency: it is installed offline from the machine image's
# wheel folder (`pip config list` names it; ../shared/docs/BUILD-NOTES.md) into target/torch-venv.
# Without the wheel the PyTorch column says so and the rest still runs.
#
# Usage: scripts/training-bench.sh [threads]   (default: 2; run it on an otherwise idle machine)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads="${1:-2}"
out="$root/target/training-bench"
mkdir -p "$out"

venv="$root/target/torch-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  wheel=""
  for dir in $(pip config list 2>/dev/null | sed -n "s/.*find-links='\(.*\)'/\1/p") /opt/wheels; do
    for w in "$dir"/torch-*+cpu-*.whl; do [ -f "$w" ] && wheel="$w" && break 2; done
  done
  if [ -n "$wheel" ]; then
    echo "training-bench: installing $(basename "$wheel") into $venv (offline) ..." >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "$wheel" numpy > "$out/pip.log" 2>&1 || { tail -5 "$out/pip.log" >&2; wheel=""; }
  fi
  [ -n "$wheel" ] || echo "training-bench: no PyTorch CPU wheel found; the PyTorch rows are skipped" >&2
fi

pytorch() {
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    "$venv/bin/python" "$root/scripts/pytorch_step.py" --threads "$threads" | tee -a "$out/pytorch.txt" >&2
  fi
}

: > "$out/pytorch.txt"
echo "training-bench: load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.txt" >&2
"$root/scripts/jmh.sh" -l > /dev/null  # builds the benchmarks jar now, not between timings
pytorch
pytorch
"$root/scripts/jmh.sh" -f 1 -wi 3 -i 5 -p rho=0,0.5,0.75 -prof dev.bandlimit.jmh.OpTimersProfiler \
  -rf json -rff "$out/jmh.json" MnistStep > "$out/jmh.txt"
pytorch
echo "training-bench: load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt" >&2

python3 - "$out" "$threads" <<'PY'
import json, re, statistics, sys
out, threads = sys.argv[1], sys.argv[2]
torch = [float(m.group(1)) for m in re.finditer(r"step ([0-9.]+) ms", open(f"{out}/pytorch.txt").read())]
runs = json.load(open(f"{out}/jmh.json"))
ours = {}
for r in runs:
    rho = float(r["params"]["rho"])
    sec = r["secondaryMetrics"]
    ours[rho] = (r["primaryMetric"]["score"], sec.get("conv.share", {}).get("score", float("nan")))
batch = 64
print(f"\n| one training step, batch {batch}, Adam, {threads} threads | ms / step | images/s | vs PyTorch | vs our rho 0 | conv share |")
print("|---|---|---|---|---|---|")
t = statistics.median(torch) if torch else None
if t:
    print(f"| PyTorch CPU, dense convolutions (median of {len(torch)}: {', '.join(f'{x:.2f}' for x in torch)}) "
          f"| {t:.2f} | {batch * 1e3 / t:,.0f} | 1.00x | | |")
base = ours.get(0.0, (None,))[0]
for rho in sorted(ours):
    ms, share = ours[rho]
    vs_torch = f"{t / ms:.2f}x" if t else "n/a"
    vs_base = f"{base / ms:.2f}x" if base else ""
    print(f"| bandlimit, rho {rho:g} | {ms:.2f} | {batch * 1e3 / ms:,.0f} | {vs_torch} | {vs_base} | {share * 100:.0f}% |")
print("\n(images/s = batch / step time; 'vs' columns are speed ratios, > 1 is faster; the JMH log and JSON are in "
      f"{out})")
PY
