#!/usr/bin/env bash
# Images per second of data-parallel training and of inference with 1 and with 2 local workers
# (Spark local[1] with one training worker, local[2] with two; SparkCheck on seeded synthetic
# 28x28 images, the MNIST CNN, Adam, batch 64), and the bytes all-reduced per step: each
# configuration run `repeats` times (fresh JVMs, alternating), medians reported. The native
# library uses both cores in either case (its own threads). Run it when nothing else runs (benchmarks are noisy on 2 cores).
#   scripts/spark-bench.sh [items] [rho] [repeats]   (defaults 8192, 0.5, 3; needs `mvn install`)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/java.sh
source scripts/lib/spark.sh
find_java25
spark_classpath
items="${1:-8192}"
rho="${2:-0.5}"
repeats="${3:-3}"
out="$root/build/spark-bench"
rm -rf "$out" && mkdir -p "$out"
for r in $(seq 1 "$repeats"); do
  for workers in 1 2; do
    echo "== run $r: local[$workers], $workers worker(s), $items images, rho $rho =="
    "$JAVA" -Xmx4g $opens --enable-native-access=ALL-UNNAMED -Dspark.driver.host=127.0.0.1 \
        -cp "$home/jars/*:$lib_jar:$spark_jar" dev.bandlimit.spark.SparkCheck --master "local[$workers]" \
        --workers "$workers" --items "$items" --test-items 2048 --epochs 1 --batch 64 --rho "$rho" 2>&1 \
        | grep -E '^(RESULT|CHECK|  step|  prepared)' | tee "$out/workers$workers-run$r.txt"
  done
done
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
get() { cat "$out"/workers$1-run*.txt | sed -n "s/.*RESULT $2 .* $3=\([^ ]*\).*/\1/p" | median; }
echo
echo "medians of $repeats runs, $items images, rho $rho, batch 64:"
echo "| workers | train images/s (median step) | median step ms | all-reduce ms/step | bytes sent/step/worker | end-to-end train images/s | predict images/s |"
echo "|---|---|---|---|---|---|---|"
for w in 1 2; do
  echo "| $w | $(get $w train images_per_s) | $(get $w train median_step_ms) | $(get $w train allreduce_ms_median) | $(get $w train bytes_per_step_per_worker) | $(get $w train wall_images_per_s) | $(get $w predict images_per_s) |"
done
