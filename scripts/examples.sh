#!/usr/bin/env bash
# Builds and runs the example callers in java/examples/ (Kotlin, Scala 3) the way an outside user's
# project would: installs the library jar into the local Maven repository, then builds each
# example's own Maven project against it and runs it (`mvn package exec:exec`). Each example
# checks its results and exits non-zero on failure; so does this script.
# Usage: scripts/examples.sh                 (all)
#        scripts/examples.sh kotlin scala    (the ones named)
# A different local repository: MAVEN_OPTS=-Dmaven.repo.local=/path scripts/examples.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/java.sh
find_java25
require_maven

examples=("$@")
[ ${#examples[@]} -gt 0 ] || examples=(kotlin scala)
dir=java/examples
for e in "${examples[@]}"; do
  [ -f "$dir/$e/pom.xml" ] || { echo "no example '$e' (have: $(ls "$dir" | grep -v README | tr '\n' ' '))" >&2; exit 2; }
done

# Quiet the JDK 25 warnings about Maven's own JVM: Maven 3.8's bundled Guava calls
# sun.misc.Unsafe, and the Scala plugin's file watcher (zinc) loads a native library.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"
mvn_flags=(-q -B -Dstyle.color=never)
strip_ansi() { sed -u 's/\x1b\[[0-9;]*m//g'; }  # Maven 3.8 -q still prints colour resets

log="$(mktemp -t bandlimit-examples-install.XXXXXX.log)"
start=$SECONDS
echo "== installing dev.bandlimit:bandlimit into the local Maven repository ($JAVA_HOME) =="
if ! mvn "${mvn_flags[@]}" -DskipTests install >"$log" 2>&1; then
  tail -n 60 "$log" >&2
  echo "library install failed; full log: $log" >&2
  exit 1
fi
rm -f "$log"
echo "   done in $((SECONDS - start)) s"

for e in "${examples[@]}"; do
  t=$SECONDS
  echo
  echo "== $dir/$e: mvn package exec:exec =="
  (cd "$dir/$e" && mvn "${mvn_flags[@]}" package exec:exec 2>&1 | strip_ansi)
  echo "   $dir/$e done in $((SECONDS - t)) s"
done
echo
echo "examples passed: ${examples[*]} ($((SECONDS - start)) s)"
