# Sourced by the project's scripts: finds a JDK 25 (the FFM API is final there) and Maven.
# Sets JAVA_HOME and JAVA; prints how to get what is missing and returns non-zero otherwise.

java_major() {  # prints the major version of the java at $1/bin/java, or nothing
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

find_java25() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  candidates+=(/usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25* /usr/lib/jvm/*)
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  local c major
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    major=$(java_major "$c")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      export JAVA_HOME="$c"
      export JAVA="$c/bin/java"
      return 0
    fi
  done
  cat >&2 <<'MSG'
bandlimit needs a JDK 25 or newer (the FFM API), and none was found
(looked at $JAVA_HOME, /usr/lib/jvm/* and the java on the PATH; the default java may be 17).
Get one, e.g. Eclipse Temurin 25 from https://adoptium.net (Debian/Ubuntu: add the Adoptium
apt repository, then `apt-get install temurin-25-jdk`), and set JAVA_HOME to it.
MSG
  return 1
}

require_maven() {
  if ! command -v mvn >/dev/null 2>&1; then
    echo "bandlimit builds with Maven, which is not on the PATH: install it (Debian/Ubuntu: apt-get install maven)." >&2
    return 1
  fi
}
