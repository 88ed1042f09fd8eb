#!/usr/bin/env bash
# Compiles the project's stand-in for Spark's examples jar (the real one is not on Maven Central)
# from test/e2e/testdata/sparkexamples/ against a Spark distribution's jars, and prints its path.
#
#   hack/spark-examples-jar.sh SPARK_HOME    # -> SPARK_HOME/../spark-examples.jar
#
# It holds org.apache.spark.examples.SparkPi (as Spark's, "Pi is roughly ...") and SparkExit (exits
# with a given code after a given sleep). Rebuilt only when a source is newer than the jar.
set -euo pipefail
home="${1:?usage: hack/spark-examples-jar.sh SPARK_HOME}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/test/e2e/testdata/sparkexamples"
jar="$(cd "$home/.." && pwd)/spark-examples.jar"
if [[ -f "$jar" && -z "$(find "$src" -newer "$jar" -name '*.java')" ]]; then
  echo "$jar"
  exit 0
fi
echo "spark-examples-jar: compiling $src against $home/jars" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
javac --release 17 -nowarn -cp "$home/jars/*" -d "$tmp/classes" $(find "$src" -name '*.java')
jar --create --file "$tmp/spark-examples.jar" -C "$tmp/classes" .
mv "$tmp/spark-examples.jar" "$jar"
echo "$jar"
