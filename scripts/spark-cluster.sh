#!/usr/bin/env bash
# The Spark module on a real standalone cluster on this machine: starts a Spark master and two
# workers (one core, 2 GiB each) on 127.0.0.1, runs dev.bandlimit.spark.SparkCheck against it as an
# application (its jars shipped to the executors with spark.jars; executors on Java 25 with
# --enable-native-access), then stops everything. The check trains the MNIST CNN with two workers
# (checkpoints every 8 steps), predicts a held-out set, and compares the 1- and 2-worker loss curves
# of a CNN without batch norm. Bounded: every wait has a deadline and the run is under `timeout`.
#   scripts/spark-cluster.sh            (needs `mvn install` of java/lib and java/spark first)
# The cluster's Spark comes from Maven (the spark-sql_2.13 dependency of java/spark and its own
# dependencies, copied into java/spark/target/spark-home/jars): no Spark download.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/java.sh
source scripts/lib/spark.sh
find_java25
require_maven
limit="${SPARK_CHECK_TIMEOUT:-600}"

spark_classpath

run="$root/build/spark-cluster"
rm -rf "$run" && mkdir -p "$run/work" "$run/checkpoints"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
port=$(free_port)
master="spark://127.0.0.1:$port"
# SPARK_SCALA_VERSION: the launcher otherwise looks for a Spark source build to learn it.
export SPARK_HOME="$home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1 SPARK_WORKER_DIR="$run/work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 2
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  # Executors are the workers' children: none may outlive the check.
  pkill -f "CoarseGrainedExecutorBackend.*$port" 2>/dev/null || true
}
trap cleanup EXIT

wait_for() {  # file pattern count seconds
  local deadline=$((SECONDS + $4))
  local n
  while n=$(grep -c "$2" "$1" 2>/dev/null || true); [ "${n:-0}" -lt "$3" ]; do
    if [ $SECONDS -ge $deadline ]; then echo "spark-cluster: no '$2' in $1 within $4 s:" >&2; tail -20 "$1" >&2; exit 1; fi
    sleep 1
  done
}

echo "== Spark standalone master on $master =="
"$JAVA" -Xmx512m $opens -cp "$home/jars/*" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$port" --webui-port "$(free_port)" >"$run/master.log" 2>&1 &
pids+=($!)
wait_for "$run/master.log" "I have been elected leader" 1 60
for w in 1 2; do
  echo "== worker $w (1 core, 2 GiB) =="
  "$JAVA" -Xmx512m $opens -cp "$home/jars/*" org.apache.spark.deploy.worker.Worker \
      --host 127.0.0.1 --cores 1 --memory 2g --webui-port "$(free_port)" --work-dir "$run/work" "$master" \
      >"$run/worker$w.log" 2>&1 &
  pids+=($!)
done
wait_for "$run/master.log" "Registering worker" 2 60

echo "== spark-submit of SparkCheck to the cluster (at most $limit s) =="
# What bin/spark-submit does (bin/spark-class): Spark's launcher prints a NUL and a newline, then
# the driver's command, NUL separated (the exit code appended last); then it runs. So the line in
# docs/SPARK.md is what runs here.
mapfile -d '' command < <("$JAVA" -Xmx128m -cp "$home/jars/*" org.apache.spark.launcher.Main \
    org.apache.spark.deploy.SparkSubmit --master "$master" --deploy-mode client \
    --conf spark.driver.extraJavaOptions=--enable-native-access=ALL-UNNAMED \
    --conf spark.executor.extraJavaOptions=--enable-native-access=ALL-UNNAMED \
    --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 \
    --driver-memory 2g --executor-memory 1g --executor-cores 1 --total-executor-cores 2 \
    --jars "$lib_jar" --class dev.bandlimit.spark.SparkCheck "$spark_jar" \
    --workers 2 --items "${SPARK_CHECK_ITEMS:-1024}" --epochs 1 --batch 64 --rho 0.5 \
    --checkpoints "$run/checkpoints" --every 8 --compare "$@"; printf '%d\0' $?)
launcher_rc=${command[-1]}
unset 'command[-1]'
command=("${command[@]:1}")
command[0]="${command[0]#$'\n'}"
[ "$launcher_rc" = 0 ] || { echo "spark-cluster: Spark's launcher failed ($launcher_rc): ${command[*]}" >&2; exit 1; }
set +e
timeout "$limit" "${command[@]}" 2>&1 | tee "$run/driver.log"
rc=${PIPESTATUS[0]}
set -e
ls "$run/checkpoints"
n_exec=$(find "$run/work" -name stderr | wc -l)
echo "executors launched by the workers: $n_exec"
if [ "$rc" -ne 0 ]; then
  echo "spark-cluster: FAIL (rc $rc); executor logs under $run/work" >&2
  find "$run/work" -name stderr -exec tail -20 {} \; >&2
  exit 1
fi
[ "$n_exec" -ge 2 ] || { echo "spark-cluster: FAIL: the work ran on $n_exec executors, not the workers' two" >&2; exit 1; }
# Each executor JVM loaded the native library itself, from the jar it was shipped (extracted
# under its cache folder), not from a path of the driver's.
driver_pid=$(sed -n 's/^RESULT driver pid=\([0-9]*\).*/\1/p' "$run/driver.log")
n_native=$(grep '^RESULT executor pid=' "$run/driver.log" | grep -v "pid=$driver_pid " | grep -c 'library=.*/bandlimit/[0-9a-f]*/libbandlimit.so' || true)
[ "$n_native" -ge 2 ] || { echo "spark-cluster: FAIL: $n_native executor JVMs report the native library from the jar" >&2; exit 1; }
echo "spark-cluster: PASS"
