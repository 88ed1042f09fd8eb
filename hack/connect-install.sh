#!/usr/bin/env bash
# Installs a PySpark Connect client, `pyspark[connect]` pinned, from PyPI into a virtualenv at
# .cache/connect-venv/. Installs once; later runs only print the path. Prints the venv's python on stdout.
#
#   hack/connect-install.sh     # -> .cache/connect-venv/bin/python
#
# Used by the SparkConnect end-to-end test (test/e2e/sparkconnect_test.go, `make e2e`). Progress goes to
# stderr. Exit status 3 means the package registry could not be reached. Change the pin here only: the venv
# is rebuilt when it changes (the pin is recorded in the venv's .complete file).
set -euo pipefail

# The client of the same Spark release as the server the test starts (examples/sparkconnect).
PYSPARK_VERSION="4.0.1"

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
venv="${CONNECT_VENV:-$root/.cache/connect-venv}"
python="${PYTHON:-python3}"
pins="pyspark[connect]==$PYSPARK_VERSION"

venv_install connect-install "$venv" "$pins"
echo "$venv/bin/python"
