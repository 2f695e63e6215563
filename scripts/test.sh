#!/usr/bin/env bash
# The project's test command:
#   1. `mvn verify`: builds the native library with CMake, runs the native tests (ctest), the
#      Java tests (JUnit, Surefire) and the jar-alone test (Failsafe);
#   2. the native tests again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the Kotlin and Scala examples (java/examples/), built like outside users' projects against
#      the installed jar.
# Usage: scripts/test.sh             (all)
#        scripts/test.sh java        (1 only)
#        scripts/test.sh sanitize    (2 only)
#        scripts/test.sh examples    (3 only)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/java.sh
what="${1:-all}"

if [ "$what" = all ] || [ "$what" = java ]; then
  find_java25
  require_maven
  echo "== mvn verify (native build + ctest, JUnit, jar-alone IT) with $JAVA_HOME =="
  mvn -B verify
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
