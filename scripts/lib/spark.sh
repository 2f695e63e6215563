# Sourced by the Spark scripts (spark-cluster.sh, spark-bench.sh): the jars a Spark JVM of this
# project runs with, and the JVM flags Spark needs on Java 17+.
#   spark_classpath   sets home (a SPARK_HOME whose jars/ are java/spark's Spark dependencies,
#                     copied from the local Maven repository on first use), lib_jar, spark_jar
#   $opens            the --add-opens list Spark's launcher would add (JavaModuleOptions)

spark_classpath() {
  home="$root/java/spark/target/spark-home"
  local version
  version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$root/pom.xml" | head -n 1)
  lib_jar="$root/java/lib/target/bandlimit-$version.jar"
  spark_jar="$root/java/spark/target/bandlimit-spark-$version.jar"
  local j
  for j in "$lib_jar" "$spark_jar"; do
    [ -f "$j" ] || { echo "$0: $j is missing: run mvn install first" >&2; return 2; }
  done
  if [ ! -d "$home/jars" ]; then
    (cd "$root" && mvn -B -q -pl java/spark dependency:copy-dependencies -DincludeScope=compile \
        -DexcludeGroupIds=dev.bandlimit -DoutputDirectory="$home/jars")
  fi
}

opens="-XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true"
