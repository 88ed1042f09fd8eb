#!/usr/bin/env bash
# Installs the Spark distribution shipped in the `pyspark` wheel into .cache/spark/<version>/ and prints its
# Spark home (the directory holding bin/spark-submit and jars/). Downloads once; later runs only print the path.
#
#   hack/spark-install.sh 3.5.3      # -> .cache/spark/3.5.3/pyspark
#
# Used by the spark-submit conformance test (test/conformance, `make conformance`). Progress goes to stderr;
# stdout is the Spark home only. Exit status 3 means the package registry could not be reached.
set -euo pipefail

version="${1:?usage: hack/spark-install.sh VERSION}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dest="${SPARK_CACHE_DIR:-$root/.cache/spark}/$version"
home="$dest/pyspark"
python="${PYTHON:-python3}"

if [[ -x "$home/bin/spark-submit" && -f "$dest/.complete" ]]; then
  echo "spark-install: pyspark $version already in $dest" >&2
  echo "$home"
  exit 0
fi

echo "spark-install: downloading pyspark==$version with pip into $dest (once; about 300-450 MB)..." >&2
start=$(date +%s)
tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$(dirname "$dest")"
trap 'rm -rf "$tmp"' EXIT
# --no-deps: spark-submit only needs the JVM side (bin/ and jars/), not py4j.
if ! "$python" -m pip install --disable-pip-version-check --no-deps --no-compile --progress-bar off \
      --target "$tmp" "pyspark==$version" >&2; then
  pip_failed spark-install "$python" "pyspark==$version" "$tmp/probe"
fi
chmod +x "$tmp"/pyspark/bin/* 2>/dev/null || true
touch "$tmp/.complete"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "spark-install: pyspark $version installed in $dest in $(( $(date +%s) - start ))s" >&2
echo "$home"
