#!/usr/bin/env bash
# Soak run of the Java API (not part of CI or scripts/test.sh): 10^6 create-execute-destroy cycles
# of small ConvPlans, then 5 x 10^4 training steps of a small band-limited CNN, sampling the
# library's allocation counter (bl_allocated_bytes) and the process's VmRSS after a warm-up; prints
# a table per phase and PASS or FAIL (exit 1) on whether either rises more than 1% above an earlier
# sample (the RSS read after malloc_trim; a 15 s warm-up of both phases comes first).
#
#   scripts/soak.sh            # the full run (about 6 minutes on 2 cores)
#   scripts/soak.sh --quick    # 5 x 10^4 cycles, 10^4 steps: under a minute
#   scripts/soak.sh --cycles 100000 --steps 1000 --samples 10 --tolerance 0.02
#
# The program is dev.bandlimit.soak.Soak in java/lib's test sources (it uses the library's public
# API only); this script compiles the library and it through Maven (no install) and runs it with a
# fixed, pre-touched heap so that the RSS measures native memory, not the heap growing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib/java.sh"
find_java25
require_maven

mkdir -p "$root/target"
log="$root/target/soak-build.log"
echo "soak: building java/lib (log in $log) ..." >&2
if ! (cd "$root" && mvn -B -q -pl java/lib -am test-compile) > "$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "soak: build failed; the full log is $log" >&2
  exit 1
fi

lib="$root/java/lib/target"
# A fixed, pre-touched heap, and the JIT's first tier only: C2's compiler arenas come and go by
# tens of MiB and would read as RSS drift (Soak's javadoc). SOAK_JAVA_OPTS replaces the JIT choice,
# e.g. SOAK_JAVA_OPTS= for the default tiered JIT.
# shellcheck disable=SC2086
exec "$JAVA" --enable-native-access=ALL-UNNAMED -Xms256m -Xmx256m -XX:+AlwaysPreTouch ${SOAK_JAVA_OPTS--XX:TieredStopAtLevel=1} \
  -Dbandlimit.library.path="$lib/native/libbandlimit.so" \
  -cp "$lib/classes:$lib/test-classes" dev.bandlimit.soak.Soak "$@"
