#!/usr/bin/env bash
# Images per second of data-parallel training and of inference on Spark local[2] with 1 and with 2
# workers (SparkCheck on seeded synthetic 28x28 images, the MNIST CNN, Adam, batch 64), and the
# bytes all-reduced per step. Prints each run's RESULT lines, then a table. Run it when nothing
# else runs (benchmarks are noisy on 2 cores).
#   scripts/spark-bench.sh [items] [rho]      (defaults 4096, 0.5; needs `mvn install` first)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/java.sh
source scripts/lib/spark.sh
find_java25
spark_classpath
items="${1:-4096}"
rho="${2:-0.5}"
out="$root/build/spark-bench"
mkdir -p "$out"
for workers in 1 2; do
  echo "== local[2], $workers worker(s), $items images, rho $rho =="
  "$JAVA" -Xmx4g $opens --enable-native-access=ALL-UNNAMED -Dspark.driver.host=127.0.0.1 \
      -cp "$home/jars/*:$lib_jar:$spark_jar" dev.bandlimit.spark.SparkCheck --master 'local[2]' \
      --workers "$workers" --items "$items" --test-items 2048 --epochs 1 --batch 64 --rho "$rho" 2>&1 \
      | grep -E '^(RESULT|CHECK|  step)' | tee "$out/workers$workers.txt"
done
echo
echo "| workers | train images/s (median step) | median step ms | all-reduce ms/step (median) | bytes sent/step/worker | predict images/s |"
echo "|---|---|---|---|---|---|"
for workers in 1 2; do
  f="$out/workers$workers.txt"
  get() { sed -n "s/.*RESULT $1 .* $2=\([^ ]*\).*/\1/p" "$f"; }
  echo "| $workers | $(get train images_per_s) | $(get train median_step_ms) | $(get train allreduce_ms_median) | $(get train bytes_per_step_per_worker) | $(get predict images_per_s) |"
done
