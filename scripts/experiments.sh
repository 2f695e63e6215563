#!/usr/bin/env bash
# The paper's experiments, full runs, one after another (docs/EXPERIMENTS.md quotes them):
#   scripts/experiments.sh [OUT] [extra options for every experiment, e.g. --dataset idx --data DIR]
# Each writes OUT/NAME/results.json, summary.md and PNGs (OUT defaults to runs/experiments).
# Run on an otherwise idle machine: "cost" times training steps.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${1:-runs/experiments}"
shift || true
for name in accuracy mismatch energy noise timeseries cost; do
  echo "== experiment $name ($(date -u +%H:%M:%S)) =="
  ./bandlimit experiment "$name" --out "$out" "$@" | grep -v '^epoch '
done
