#!/usr/bin/env bash
# Installs Apache Airflow and its cncf.kubernetes provider, pinned, from PyPI into a virtualenv at
# .cache/airflow-venv/ and migrates a SQLite metadata database in .cache/airflow-home/. Installs once;
# later runs only print the paths. Prints two lines on stdout: the venv's python, then AIRFLOW_HOME.
#
#   hack/airflow-install.sh     # -> .cache/airflow-venv/bin/python
#                               #    .cache/airflow-home
#
# Used by the Airflow end-to-end test (test/e2e/airflow_test.go, `make e2e`). Progress goes to stderr.
# Exit status 3 means the package registry could not be reached. Change the pins here only: the venv is
# rebuilt when they change (the pins are recorded in the venv's .complete file).
set -euo pipefail

# Airflow 3.3 with its provider 10.25 (the newest served on 2026-12-06).
AIRFLOW_VERSION="3.3.2"
PROVIDER_VERSION="10.25.0"

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
venv="${AIRFLOW_VENV:-$root/.cache/airflow-venv}"
home="${AIRFLOW_HOME_DIR:-$root/.cache/airflow-home}"
python="${PYTHON:-python3}"
pins="apache-airflow==$AIRFLOW_VERSION apache-airflow-providers-cncf-kubernetes==$PROVIDER_VERSION"

export AIRFLOW_HOME="$home"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$home/airflow.db"

# A new venv starts a new Airflow home (its database was migrated by the old one).
venv_current "$venv" "$pins" || rm -rf "$home"
venv_install airflow-install "$venv" "$pins" "about 2-4 min"

if [[ ! -f "$home/.migrated" ]]; then
  mkdir -p "$home"
  echo "airflow-install: airflow db migrate (SQLite in $home)" >&2
  "$venv/bin/airflow" db migrate >&2
  touch "$home/.migrated"
fi
echo "$venv/bin/python"
echo "$home"
