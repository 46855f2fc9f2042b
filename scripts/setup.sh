#!/usr/bin/env bash
# Installs everything and starts the app on http://127.0.0.1:5000.
#
#   ./scripts/setup.sh                      install, migrate, deploy, seed, serve (flask run)
#   SETUP_SERVER=gunicorn ./scripts/setup.sh   ... serve with gunicorn instead
#   SETUP_NO_SERVER=1 ./scripts/setup.sh    everything but the server (CI and tests)
#
# Other knobs: PYTHON (interpreter for the venv, default python3), SETUP_HOST / SETUP_PORT
# (default 127.0.0.1 / 5000), GUNICORN_WORKERS (default 2), DATABASE_URL (default: SQLite
# in var/branch.db, see webapp/config.py), AUDIT_KEY (default: var/audit_key, created once),
# AUDIT_CHECKPOINT_DIR (default var/audit). Safe to run again: every step is idempotent.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

PYTHON=${PYTHON:-python3}
HOST=${SETUP_HOST:-127.0.0.1}
PORT=${SETUP_PORT:-5000}
VENV=$ROOT/.venv

phase() { printf '\n==> %s\n' "$*"; }
die() { printf '\nsetup.sh: %s\n' "$*" >&2; exit 1; }
flask() { "$VENV/bin/flask" --app wsgi "$@"; }

# --- Python virtualenv -------------------------------------------------------------
phase "Python virtualenv (.venv)"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.11 or newer (or set PYTHON=...)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$PYTHON is $("$PYTHON" -V 2>&1); Python 3.11 or newer is needed"
# A venv whose interpreter is gone or too old (moved machine, removed pyenv version) is rebuilt.
if [ -d "$VENV" ] && ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "existing .venv is broken or too old: recreating it"
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV" \
        || die "'$PYTHON -m venv' failed (on Debian/Ubuntu system Python: apt-get install python3-venv)"
fi
echo "using $("$VENV/bin/python" -V) in .venv"

phase "Python packages (requirements.txt)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
echo "requirements.txt installed"

# --- Front end ---------------------------------------------------------------------
if [ -f package.json ]; then
    phase "Front-end packages and build (npm)"
    command -v npm >/dev/null || die "package.json needs Node.js 20 and npm, which are not installed"
    if [ -f package-lock.json ]; then
        npm ci --no-audit --no-fund
    else
        npm install --no-audit --no-fund
    fi
    npm run build
fi

# --- Translations ------------------------------------------------------------------
if [ -d webapp/translations ] && find webapp/translations -name '*.po' -print -quit | grep -q .; then
    phase "Translations (pybabel compile)"
    "$VENV/bin/pybabel" compile -d webapp/translations
fi

# --- Audit key ----------------------------------------------------------------------
# The key that signs the case history (README, "Audit trail"): kept in var/audit_key across runs
# and read from there by the app, the CLI and the sweeper (AUDIT_KEY in the environment wins).
# It must never be stored in the database; back it up with var/audit_keys_old, apart from the database.
mkdir -p var instance   # var/ holds the default SQLite file, which SQLite will not create a folder for
if [ -z "${AUDIT_KEY:-}" ] && [ ! -s var/audit_key ]; then
    phase "Audit key (var/audit_key)"
    (umask 077 && "$VENV/bin/python" -c \
        'import datetime, secrets; print(f"k{datetime.date.today():%Y%m%d}:{secrets.token_hex(32)}")' > var/audit_key)
    echo "created var/audit_key"
fi

# --- Session key --------------------------------------------------------------------
# One secret key kept across restarts and shared by all workers, so logins survive both. The app
# refuses to start without one (outside tests and debug); it reads var/secret_key, like the CLI.
if [ -z "${SECRET_KEY:-}" ] && [ ! -s var/secret_key ]; then
    phase "Session key (var/secret_key)"
    (umask 077 && "$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(32))' > var/secret_key)
    echo "created var/secret_key"
fi

# --- Database, process library, demo data ------------------------------------------
phase "Database schema (flask db upgrade)"
flask db upgrade

# Once per installation: histories written before keyed chains are pinned under the key (README).
# A legacy chain that is already broken is reported and stops the setup: look at it before going on.
if [ ! -e var/audit/legacy-resealed ]; then
    phase "Sealing histories from before keyed chains (flask audit reseal --legacy, once)"
    flask audit reseal --legacy
    mkdir -p var/audit && date -u +%FT%TZ > var/audit/legacy-resealed
fi

phase "Process library (flask processes deploy)"
flask processes deploy

phase "Demo branch (flask seed demo)"
flask seed demo

phase "Audit checkpoint (flask audit checkpoint; the sweeper writes one every minute)"
flask audit checkpoint

if [ "${SETUP_NO_SERVER:-0}" = 1 ]; then
    phase "Done (SETUP_NO_SERVER=1: not starting the server)"
    exit 0
fi

# --- Server and timer sweeper ------------------------------------------------------
# Both read the session key from var/secret_key (above) unless SECRET_KEY is in the environment.

case "${SETUP_SERVER:-flask}" in
    flask) server=("$VENV/bin/flask" --app wsgi run --host "$HOST" --port "$PORT") ;;
    gunicorn) server=("$VENV/bin/gunicorn" --bind "$HOST:$PORT" --workers "${GUNICORN_WORKERS:-2}" wsgi:app) ;;
    *) die "SETUP_SERVER must be 'flask' or 'gunicorn', not '${SETUP_SERVER}'" ;;
esac

phase "Starting the timer sweeper (and audit checkpoints) and the server on http://$HOST:$PORT (Ctrl-C stops both)"
sweeper_pid=
server_pid=
stop_all() {
    for pid in $server_pid $sweeper_pid; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Started directly, not through the flask() function, so that $! is the process itself.
"$VENV/bin/flask" --app wsgi workflows sweep --loop &
sweeper_pid=$!
# The server runs in the background too, so that a signal to this script is handled at
# once (bash runs traps only between commands) and both processes are stopped with it.
"${server[@]}" &
server_pid=$!
wait "$server_pid"
