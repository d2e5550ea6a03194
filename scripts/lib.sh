# Shared by scripts/run.sh and scripts/test.sh: virtualenvs and LocalStack.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
LS_VENV="$ROOT/.localstack-venv"
PY="$VENV/bin/python"

log() { printf '\033[1m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }

python311() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$candidate"; return 0
    fi
  done
  log "Python 3.11 is required"; return 1
}

# Install the requirement files into a venv unless they are unchanged since
# the last install (a hash of them is kept inside the venv).
ensure_venv() {
  local venv="$1"; shift
  local stamp="$venv/.requirements.sha256"
  local want
  want="$(cat "$@" | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "installing into $(basename "$venv") (first run takes a minute or two)"
  [ -x "$venv/bin/python" ] || "$(python311)" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  echo "$want" > "$stamp.pending"
  "${INSTALL[@]}"
  mv "$stamp.pending" "$stamp"
}

# One venv for running and testing: requirements-dev.txt includes the
# production set, so `make run` and `make test` never reinstall each other's.
ensure_app_venv() {
  local files=("$ROOT/requirements.txt" "$ROOT/requirements-dev.txt")
  local args=()
  for f in "${files[@]}"; do args+=(-r "$f"); done
  INSTALL=("$VENV/bin/pip" install --quiet --disable-pip-version-check "${args[@]}")
  ensure_venv "$VENV" "${files[@]}"
}

ensure_localstack_venv() {
  local c="$ROOT/ops/localstack/constraints.txt"
  INSTALL=("$LS_VENV/bin/pip" install --quiet --disable-pip-version-check -c "$c"
           "localstack-core[runtime]==4.13.1" service_identity)
  ensure_venv "$LS_VENV" "$c"
}

# start_localstack PORT STATE_DIR LOGFILE: starts LocalStack (S3 + SQS) on
# 127.0.0.1:PORT in the background, waits until both services answer, and
# sets LOCALSTACK_PID.
start_localstack() {
  local port="$1" state="$2" logfile="$3"
  if "$PY" "$ROOT/scripts/wait_http.py" "http://127.0.0.1:$port/_localstack/health" 1 >/dev/null 2>&1; then
    log "something already answers on port $port; refusing to share it"; return 1
  fi
  rm -rf "$state"; mkdir -p "$state"
  log "starting LocalStack (S3, SQS) on 127.0.0.1:$port"
  env OVERRIDE_IN_DOCKER=0 SERVICES=sqs,s3 EAGER_SERVICE_LOADING=1 \
      GATEWAY_LISTEN="127.0.0.1:$port" LOCALSTACK_HOST="127.0.0.1:$port" \
      GATEWAY_SERVER=hypercorn SQS_ENDPOINT_STRATEGY=path FILESYSTEM_ROOT="$state" \
      S3_SKIP_SIGNATURE_VALIDATION=0 DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 \
      DNS_ADDRESS=0 LS_LOG=warn \
      "$LS_VENV/bin/python" -m localstack.runtime.main >"$logfile" 2>&1 &
  LOCALSTACK_PID=$!
  if ! "$PY" "$ROOT/scripts/wait_http.py" "http://127.0.0.1:$port/_localstack/health" 90 s3 sqs; then
    log "LocalStack did not become ready; its log:"; tail -n 40 "$logfile" >&2
    return 1
  fi
}

# stop_pid PID: TERM, then KILL after 10 s (hypercorn once ignored TERM).
stop_pid() {
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

DEFAULT_DATABASE_URL="postgres://feedback:feedback@127.0.0.1:5432/feedback"
STARTED_PG_CLUSTER=""

db_answers() {
  "$PY" -c 'import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()' "$1" >/dev/null 2>&1
}

# ensure_postgres: use DATABASE_URL if it answers; else start the machine's local cluster and
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

stop_postgres_if_started() {
  if [ -n "$STARTED_PG_CLUSTER" ]; then
    log "stopping PostgreSQL cluster $STARTED_PG_CLUSTER"
    pg_ctlcluster --skip-systemctl-redirect $STARTED_PG_CLUSTER stop || true
  fi
}
