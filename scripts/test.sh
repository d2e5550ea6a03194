#!/usr/bin/env bash
# `make test`: install, make PostgreSQL and LocalStack available, run pytest,
# stop what it started, exit non-zero on any failure. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

TEST_LOCALSTACK_PORT="${TEST_LOCALSTACK_PORT:-4577}"
mkdir -p var/log var/static

ensure_app_venv
ensure_localstack_venv

LOCALSTACK_PID=""
cleanup() {
  trap - INT TERM EXIT
  stop_pid "$LOCALSTACK_PID"
  stop_postgres_if_started
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_postgres
ensure_chromium
start_localstack "$TEST_LOCALSTACK_PORT" "$ROOT/var/localstack-test" "$ROOT/var/log/localstack-test.log"

export AWS_ENDPOINT_URL="http://127.0.0.1:$TEST_LOCALSTACK_PORT"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export S3_BUCKET="feedback-test-files" SQS_QUEUE_PREFIX="feedback_test"
export DJANGO_SETTINGS_MODULE=feedback_site.settings

log "manage.py check, ruff, lint-imports"
"$PY" manage.py check --fail-level WARNING
"$VENV/bin/ruff" check .
"$VENV/bin/lint-imports" --no-cache
log "pytest"
set +e
"$VENV/bin/pytest" "$@"
status=$?
set -e
exit "$status"
