#!/usr/bin/env bash
# `make test`: install, make PostgreSQL and LocalStack available, run pytest,
# stop what it started, exit non-zero on any failure. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

TEST_LOCALSTACK_PORT="${TEST_LOCALSTACK_PORT:-4577}"
DEFAULT_DATABASE_URL="postgres://feedback:feedback@127.0.0.1:5432/feedback"
mkdir -p var/log var/static

ensure_app_venv
ensure_localstack_venv

STARTED_PG_CLUSTER=""
LOCALSTACK_PID=""
cleanup() {
  trap - INT TERM EXIT
  stop_pid "$LOCALSTACK_PID"
  if [ -n "$STARTED_PG_CLUSTER" ]; then
    log "stopping PostgreSQL cluster $STARTED_PG_CLUSTER"
    pg_ctlcluster --skip-systemctl-redirect $STARTED_PG_CLUSTER stop || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

db_answers() {
  "$PY" -c 'import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()' "$1" >/dev/null 2>&1
}

# Use DATABASE_URL if it answers; else start the machine's local cluster and
# create the project's role (allowed to create the test database) and database.
ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ] && db_answers "$DATABASE_URL"; then return 0; fi
  export DATABASE_URL="$DEFAULT_DATABASE_URL"
  if db_answers "$DATABASE_URL"; then return 0; fi
  if ! command -v pg_lsclusters >/dev/null 2>&1; then
    log "installing PostgreSQL"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  local version name status
  read -r version name status < <(pg_lsclusters --no-header | head -n 1 | awk '{print $1, $2, $4}')
  if [ "$status" != "online" ]; then
    log "starting PostgreSQL cluster $version/$name"
    pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start
    STARTED_PG_CLUSTER="$version $name"
  fi
  su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL'
SELECT 'CREATE ROLE feedback LOGIN CREATEDB PASSWORD ''feedback'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'feedback')\gexec
SELECT 'CREATE DATABASE feedback OWNER feedback'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'feedback')\gexec
SQL
  db_answers "$DATABASE_URL" || { log "PostgreSQL does not answer at $DATABASE_URL"; return 1; }
}

# Browser tests drive Debian's chromium through Playwright (Playwright's own
# browser download cannot work on a closed network).
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  log "installing chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}

ensure_postgres
ensure_chromium
start_localstack "$TEST_LOCALSTACK_PORT" "$ROOT/var/localstack-test" "$ROOT/var/log/localstack-test.log"

export AWS_ENDPOINT_URL="http://127.0.0.1:$TEST_LOCALSTACK_PORT"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export S3_BUCKET="feedback-test-files" SQS_QUEUE_PREFIX="feedback_test"
export DJANGO_SETTINGS_MODULE=feedback_site.settings

log "manage.py check, ruff"
"$PY" manage.py check --fail-level WARNING
"$VENV/bin/ruff" check .
log "pytest"
set +e
"$VENV/bin/pytest" "$@"
status=$?
set -e
exit "$status"
