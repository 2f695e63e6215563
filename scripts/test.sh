#!/usr/bin/env bash
# The project's test command:
#   1. `mvn verify`: builds the native library with CMake, runs the native tests (ctest), the
#      Java tests (JUnit, Surefire) and the jar-alone test (Failsafe);
#   2. the native tests again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the Kotlin and Scala examples (java/examples/), built like outside users' projects against
#      the installed jar;
#   4. a checkpoint written by `train` read and rewritten by Python's `safetensors`, then
#      evaluated again (scripts/safetensors-interop.sh; "skipped" with the reason where the
#      package cannot be installed);
#   5. the native tests and the fuzz driver under ThreadSanitizer (the tsan preset);
#   6. a longer seeded run of the C ABI's fuzz driver in release (scripts/fuzz.sh, bounded by
#      calls and time; ctest runs a short one in every build above);
#   7. the Spark module on a standalone cluster started on 127.0.0.1 (scripts/spark-cluster.sh:
#      a master, two workers, two-worker training with checkpoints, inference, 1 vs 2 workers'
#      loss curves; bounded in time). Its local[2] tests run in stage 1.
# Where nvcc and NVIDIA's cuFFT wheel are present the CUDA backend is compiled too (CMake prints
# "BL_WITH_CUDA: on"); its tests run where a GPU is and say "skipped: cuda: ..." elsewhere.
# Usage: scripts/test.sh             (all)
#        scripts/test.sh java        (1 only)
#        scripts/test.sh sanitize    (2 only)
#        scripts/test.sh examples    (3 only)
#        scripts/test.sh interop     (4 only)
#        scripts/test.sh tsan        (5 only)
#        scripts/test.sh fuzz        (6 only)
#        scripts/test.sh spark       (7 only; needs stage 1's installed jars)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/java.sh
what="${1:-all}"

# The CUDA backend is compiled wherever nvcc and NVIDIA's cuFFT wheel are on the machine (it
# runs only where a GPU is): unpack the wheel into build/cuda-deps once, where CMake looks.
if command -v nvcc >/dev/null && [ ! -d build/cuda-deps/nvidia ]; then
  scripts/cuda-deps.sh || echo "CUDA backend: not built (nvcc found, no cuFFT wheel on this machine)"
fi

if [ "$what" = all ] || [ "$what" = java ]; then
  find_java25
  require_maven
  echo "== mvn install (native build + ctest, JUnit, jar-alone IT) with $JAVA_HOME =="
  # install, not just verify: the examples (3) and the Spark cluster check (7) use the installed jars.
  mvn -B install
fi
if [ "$what" = all ] || [ "$what" = sanitize ]; then
  echo "== native tests under ASan + UBSan =="
  cmake --preset sanitize >/dev/null
  cmake --build --preset sanitize
  ctest --preset sanitize -j 2
fi
if [ "$what" = all ] || [ "$what" = examples ]; then
  echo "== Kotlin and Scala examples (java/examples) =="
  scripts/examples.sh
fi
if [ "$what" = all ] || [ "$what" = interop ]; then
  echo "== safetensors checkpoints read by Python (scripts/safetensors-interop.sh) =="
  scripts/safetensors-interop.sh
fi
if [ "$what" = all ] || [ "$what" = tsan ]; then
  echo "== native tests and the fuzz driver under ThreadSanitizer =="
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan
  ctest --preset tsan -j 2
fi
if [ "$what" = all ] || [ "$what" = fuzz ]; then
  echo "== fuzz driver of the C ABI: 20000 seeded calls (at most 120 s) in release =="
  FUZZ_TIME_LIMIT=120 scripts/fuzz.sh 20000 "${FUZZ_SEED:-2}"
fi
if [ "$what" = all ] || [ "$what" = spark ]; then
  echo "== the Spark module on a standalone cluster on 127.0.0.1 (scripts/spark-cluster.sh) =="
  SPARK_CHECK_TIMEOUT=600 scripts/spark-cluster.sh
fi
