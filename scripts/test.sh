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
# Tests run with DEBUG off, which needs an explicit key (a fresh one per run).
export SECRET_KEY="${SECRET_KEY:-test-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
# pytest imports feedback_site.testing.xdist_isolation (-p) before its conftests put the project on the path.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

log "manage.py check, ruff, lint-imports"
"$PY" manage.py check --fail-level WARNING
"$VENV/bin/ruff" check .
"$VENV/bin/lint-imports" --no-cache
log "pytest"
SCHEMA_TESTS=feedback_site/tests/test_api_schemathesis.py
set +e
if [ $# -eq 0 ]; then
  # Everything in two processes (pytest-xdist; a module's tests stay together):
  # much of the suite waits on real services and processes. schemathesis gives
  # its generated tests (one per operation) a single node id under pytest 9,
  # and xdist would run only one of them: that module runs on its own after.
  "$VENV/bin/pytest" -n "${TEST_WORKERS:-2}" --dist loadfile --ignore="$SCHEMA_TESTS"
  status=$?
  "$VENV/bin/pytest" "$SCHEMA_TESTS"
  schema_status=$?
  [ "$status" -eq 0 ] && status=$schema_status
else
  # Arguments go to one pytest run in this process (add -n 2 to spread it).
  "$VENV/bin/pytest" "$@"
  status=$?
fi
set -e
exit "$status"
