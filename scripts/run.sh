#!/usr/bin/env bash
# `make run`: the whole system on embedded defaults — LocalStack (S3 + SQS),
# SQLite, the web server on 127.0.0.1:8000 and a supervised worker, with demo
# accounts. Idempotent; Ctrl-C stops everything it started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

export DEBUG="${DEBUG:-true}"
export LOG_FORMAT="${LOG_FORMAT:-console}"  # readable in a terminal; production logs JSON
export LOCALSTACK_PORT="${LOCALSTACK_PORT:-4566}"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:$LOCALSTACK_PORT}"
export PYTHONUNBUFFERED=1
WEB_PORT="${WEB_PORT:-8000}"
mkdir -p var/log var/static

ensure_app_venv
ensure_localstack_venv

PIDS=()
cleanup() {
  trap - INT TERM EXIT
  log "stopping"
  # The app's processes first (workers finish their jobs), LocalStack (the first) last.
  for pid in "${PIDS[@]:1}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:1}"; do stop_pid "$pid"; done
  stop_pid "${PIDS[0]:-}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_localstack "$LOCALSTACK_PORT" "$ROOT/var/localstack" "$ROOT/var/log/localstack.log"
PIDS+=("$LOCALSTACK_PID")

"$PY" manage.py migrate --no-input
"$PY" manage.py setup_aws
"$PY" manage.py seed_demo

"$PY" manage.py runworkers >var/log/worker.log 2>&1 &
PIDS+=("$!")
"$PY" manage.py runrelay >var/log/relay.log 2>&1 &
PIDS+=("$!")
"$PY" manage.py runserver "127.0.0.1:$WEB_PORT" --noreload &
PIDS+=("$!")

log "web:    http://127.0.0.1:$WEB_PORT/   admin: http://127.0.0.1:$WEB_PORT/admin/"
log "logs:   var/log/worker.log, var/log/relay.log, var/log/localstack.log"
log "Ctrl-C stops everything."
wait -n "${PIDS[@]}" || true
log "a process exited; shutting down"
