#!/usr/bin/env bash
# The JMH benchmarks (module jmh/, docs/JMH.md). Builds jmh/target/bandlimit-benchmarks.jar
# when it is missing or a source is newer (Maven, which drives the native CMake build), then
# runs it with a JDK 25; every argument goes to JMH unchanged.
# Usage: scripts/jmh.sh                       prints this help and a quick pass to copy
#        scripts/jmh.sh [JMH options] [regex]  e.g. scripts/jmh.sh -l, scripts/jmh.sh -h
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib/java.sh"
find_java25

quick_pass() {
  cat <<'MSG'
bandlimit JMH benchmarks: scripts/jmh.sh [JMH options] [benchmark regex]   (docs/JMH.md)
  a quick pass (~2 min on 2 cores):
    scripts/jmh.sh -f 1 -wi 2 -i 3 -p layer=resnet64 -prof dev.bandlimit.jmh.CountersProfiler CompressionSweep
  the FFM call overhead (~1 min):
    scripts/jmh.sh -prof dev.bandlimit.jmh.CountersProfiler JavaOverhead
  everything at the defaults (3 warm-up + 5 measured 1-s iterations, 1 fork; ~10 min):
    scripts/jmh.sh -prof dev.bandlimit.jmh.CountersProfiler Benchmark
  list: scripts/jmh.sh -l    JMH's options: scripts/jmh.sh -h
MSG
}

jar="$root/jmh/target/bandlimit-benchmarks.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root/include" "$root/cpp" "$root/java/lib" "$root/jmh" "$root/CMakeLists.txt" \
      "$root/pom.xml" -newer "$jar" -type f -not -path '*/target/*' -print -quit)" ]; then
  require_maven
  echo "jmh.sh: building the benchmarks jar (log in target/jmh-build.log) ..." >&2
  mkdir -p "$root/target"
  if ! (cd "$root" && mvn -B -DskipTests -pl jmh -am package) > "$root/target/jmh-build.log" 2>&1; then
    tail -n 40 "$root/target/jmh-build.log" >&2
    echo "jmh.sh: build failed; the full log is $root/target/jmh-build.log" >&2
    exit 1
  fi
fi

if [ $# -eq 0 ]; then
  quick_pass
  exit 0
fi
exec "$JAVA" --enable-native-access=ALL-UNNAMED -jar "$jar" "$@"
