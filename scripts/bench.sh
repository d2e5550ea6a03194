#!/usr/bin/env bash
# Run one benchmark from bench/ with the services it needs:
#   bash scripts/bench.sh soak --jobs 2000
#   bash scripts/bench.sh all          # `make bench`: every benchmark, each figure beside its floor
# Installs, makes PostgreSQL available, starts its own LocalStack on
# 127.0.0.1:${BENCH_LOCALSTACK_PORT:-4590}, runs `python -m bench.<name>`, stops what it started.
# The API benchmark drives gunicorn with wrk (Debian's package, installed here if missing).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
name="${1:?usage: scripts/bench.sh <benchmark> [args]}"; shift
port="${BENCH_LOCALSTACK_PORT:-4590}"
mkdir -p var/log var/static

ensure_app_venv
ensure_localstack_venv
if [[ "$name" == all || "$name" == live_result ]]; then
  ensure_chromium  # the live result benchmark drives Debian's chromium
fi
if [[ "$name" == all || "$name" == api ]] && ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk (the HTTP load generator of the API benchmark)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
LOCALSTACK_PID=""
cleanup() { trap - INT TERM EXIT; stop_pid "$LOCALSTACK_PID"; stop_postgres_if_started; }
trap cleanup EXIT
trap 'exit 130' INT TERM
ensure_postgres
BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-${DATABASE_URL%/*}/feedback_bench}"
start_localstack "$port" "$ROOT/var/localstack-bench" "$ROOT/var/log/localstack-bench.log"

export DATABASE_URL="$BENCH_DATABASE_URL" AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 S3_BUCKET=feedback-bench-files
export DJANGO_SETTINGS_MODULE=feedback_site.settings PYTHONUNBUFFERED=1
export SECRET_KEY="${SECRET_KEY:-bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
# The emulator's CPU is reported beside the app's (it shares the 2 cores).
export BENCH_LOCALSTACK_PID="$LOCALSTACK_PID"
"$PY" -m "bench.$name" "$@"
