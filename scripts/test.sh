#!/usr/bin/env bash
# Installs what the tests need when it is missing, then runs the whole suite:
# ruff, pytest on SQLite, pytest on PostgreSQL (browser tests use Debian's Chromium).
#
#   ./scripts/test.sh                  everything
#   ./scripts/test.sh -k inbox -x      extra arguments go to both pytest runs
#   TEST_SEED=1234 ./scripts/test.sh   replay the random test order of an earlier run
#
# Needs root or sudo the first time (apt-get install postgresql chromium; creating the
# PostgreSQL role 'branch' and database 'branch_test'). Safe to run again.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=$PWD/.venv
PG_URL=postgresql://branch:branch@127.0.0.1:5432/branch_test
export CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}

phase() { printf '\n==> %s\n' "$*"; }
die() { printf '\ntest.sh: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
    AS_POSTGRES=(runuser -u postgres --)
else
    command -v sudo >/dev/null || die "not root and no sudo: cannot install system packages or set up PostgreSQL"
    SUDO=(sudo)
    AS_POSTGRES=(sudo -u postgres)
fi

# --- The app itself ----------------------------------------------------------------
phase "Setup (./scripts/setup.sh with SETUP_NO_SERVER=1)"
SETUP_NO_SERVER=1 ./scripts/setup.sh

phase "Test and tool packages (requirements-dev.txt)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
echo "requirements-dev.txt installed"

# --- System packages ---------------------------------------------------------------
phase "System packages (postgresql, chromium)"
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=()
installed postgresql || missing+=(postgresql)
[ -x "$CHROMIUM_PATH" ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    echo "installing: ${missing[*]}"
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
else
    echo "already installed"
fi
[ -x "$CHROMIUM_PATH" ] || die "no Chromium at CHROMIUM_PATH=$CHROMIUM_PATH"
"$CHROMIUM_PATH" --version

# --- PostgreSQL --------------------------------------------------------------------
phase "PostgreSQL server on 127.0.0.1:5432"
if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
    # The package normally creates the 'main' cluster; make one if that was switched off.
    pg_version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
    [ -n "$pg_version" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    "${SUDO[@]}" pg_createcluster "$pg_version" main
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    # 'service' where an init script runs; straight pg_ctlcluster where it does not.
    "${SUDO[@]}" service postgresql start || {
        pg_lsclusters -h | while read -r ver name _port status _; do
            [ "$status" = online ] || "${SUDO[@]}" pg_ctlcluster "$ver" "$name" start
        done
    }
    for _ in $(seq 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 1
    done
fi
pg_isready -h 127.0.0.1 -p 5432 || die "PostgreSQL does not answer on 127.0.0.1:5432 (see /var/log/postgresql/)"

phase "PostgreSQL role 'branch' and database 'branch_test'"
# Run from / so psql, as user postgres, is not refused the current directory.
pg_admin() { (cd / && "${AS_POSTGRES[@]}" psql -X -q -v ON_ERROR_STOP=1 -At "$@"); }
if [ "$(pg_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'branch'")" != 1 ]; then
    pg_admin -c "CREATE ROLE branch LOGIN PASSWORD 'branch'"
    echo "created role branch"
fi
if [ "$(pg_admin -c "SELECT 1 FROM pg_database WHERE datname = 'branch_test'")" != 1 ]; then
    pg_admin -c "CREATE DATABASE branch_test OWNER branch"
    echo "created database branch_test"
fi
# The scale builder's test (tests/test_scale_data.py) migrates and fills a database of its own.
if [ "$(pg_admin -c "SELECT 1 FROM pg_database WHERE datname = 'branch_scale_test'")" != 1 ]; then
    pg_admin -c "CREATE DATABASE branch_scale_test OWNER branch"
    echo "created database branch_scale_test"
fi
psql -X -q -At "$PG_URL" -c 'SELECT 1' >/dev/null \
    || die "cannot log in as branch/branch over TCP: check pg_hba.conf allows scram-sha-256 or md5 on 127.0.0.1"
echo "$PG_URL answers"

# --- Lint and tests ----------------------------------------------------------------
# Every check runs even when an earlier one fails; the script fails if any did.
failed=()

phase "Lint (ruff check .)"
"$VENV/bin/ruff" check . || failed+=("ruff")

# Tests run in random order (pytest-randomly), so one that leans on another's leftovers fails.
# Both databases get the same seed, printed here so a failure can be replayed.
SEED=${TEST_SEED:-$(( (RANDOM << 15) | RANDOM ))}
order=(-p randomly "--randomly-seed=$SEED")
case " $* " in *no:randomly*) order=() ;; esac
phase "Test order: random, seed $SEED (replay with TEST_SEED=$SEED ./scripts/test.sh)"

phase "Tests on SQLite (pytest, TEST_DATABASE_URL unset, seed $SEED)"
env -u TEST_DATABASE_URL -u SCALE_TEST_DATABASE_URL "$VENV/bin/python" -m pytest "${order[@]}" "$@" || failed+=("pytest on SQLite (seed $SEED)")

phase "Tests on PostgreSQL (pytest, TEST_DATABASE_URL=postgresql+psycopg://.../branch_test, seed $SEED)"
TEST_DATABASE_URL=postgresql+psycopg://branch:branch@127.0.0.1:5432/branch_test \
SCALE_TEST_DATABASE_URL=postgresql+psycopg://branch:branch@127.0.0.1:5432/branch_scale_test \
    "$VENV/bin/python" -m pytest "${order[@]}" "$@" || failed+=("pytest on PostgreSQL (seed $SEED)")

if [ "${#failed[@]}" -gt 0 ]; then
    printf -v list '%s, ' "${failed[@]}"
    phase "FAILED: ${list%, }"
    exit 1
fi
phase "All checks passed"
