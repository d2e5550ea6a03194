"""Liveness (/health) and readiness (/health/ready) probes.

Liveness says the process answers and touches nothing else, so a slow
database never gets a healthy web process restarted. Readiness checks what a
request needs: the database, the S3 bucket and the scoring queue, each with a
short timeout, in parallel, so the probe answers within about two seconds
whatever is down. It also lists the repairs of the past day (a queue or the
bucket re-created by a worker or the relay, jobs/infrastructure.py).
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from botocore.exceptions import ClientError
from django.conf import settings
from django.db import connections
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback_site import aws

CHECK_TIMEOUT_SECONDS = 2.0


class _ProbeApi(APIView):
    # Probes are called by load balancers and orchestrators: no credentials,
    # no throttling.
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []


class LivenessApi(_ProbeApi):
    @extend_schema(
        operation_id="health_live",
        tags=["health"],
        summary="Liveness",
        description="The process answers; checks nothing else.",
        auth=[],
        responses={200: inline_serializer("Liveness", {"status": serializers.CharField()})},
    )
    def get(self, request):
        return Response({"status": "ok"})


def probe_client(service: str):
    # Short timeouts and one retry: the app's own clients retry five times
    # with 30 s reads, far too slow for a probe.
    return aws.client(service, quick=True)


def check_database() -> None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        # This runs in a pool thread: do not leave its connection behind.
        connections.close_all()


def check_s3() -> None:
    probe_client("s3").head_bucket(Bucket=settings.S3_BUCKET)


def check_sqs() -> None:
    from feedback_site.broker import SCORING_QUEUE, sqs_queue_name

    probe_client("sqs").get_queue_url(QueueName=sqs_queue_name(SCORING_QUEUE))


CHECKS = {"database": check_database, "s3": check_s3, "sqs": check_sqs}

# Where the recent repairs of S3 and SQS come from: installed by the jobs app
# (jobs/infrastructure.py), which records them; this package knows no app.
_repairs_source = {"read": None}


def set_repairs_source(read) -> None:
    _repairs_source["read"] = read


def recent_repairs(results: dict) -> list[dict]:
    """Asked only of a database that has just answered its check; informative
    only, so a failure here leaves the list empty rather than failing the probe."""
    read = _repairs_source["read"]
    if read is None or not results.get("database", {}).get("ok"):
        return []
    try:
        return read()
    except Exception:
        return []


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        check()
    except ClientError as exc:
        outcome = {"ok": False, "error": f"ClientError: {exc.response.get('Error', {}).get('Code', 'unknown')}"}
    except Exception as exc:
        # The class name only: this answer is public and must not leak hosts.
        outcome = {"ok": False, "error": type(exc).__name__}
    else:
        outcome = {"ok": True}
    outcome["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
    return outcome


def run_checks(checks: dict | None = None, timeout: float = CHECK_TIMEOUT_SECONDS + 0.5) -> dict:
    checks = checks or CHECKS
    pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="readiness")
    try:
        futures = {name: pool.submit(_timed, check) for name, check in checks.items()}
        deadline = time.monotonic() + timeout
        results = {}
        for name, future in futures.items():
            try:
                results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                results[name] = {"ok": False, "error": "timeout", "duration_ms": round(timeout * 1000, 1)}
        return results
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


CACHE_SECONDS = 1.0
_cache: dict = {"at": -CACHE_SECONDS, "results": None, "repairs": []}
_cache_lock = threading.Lock()


def cached_checks() -> tuple[dict, list[dict]]:
    """The checks' results and the recent repairs, run at most once a second per
    process: the probe is public and unthrottled, and each run opens connections
    to three services."""
    with _cache_lock:
        if time.monotonic() - _cache["at"] >= CACHE_SECONDS:
            results = run_checks()
            _cache["results"], _cache["repairs"], _cache["at"] = results, recent_repairs(results), time.monotonic()
        return _cache["results"], _cache["repairs"]


class _CheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    duration_ms = serializers.FloatField()
    error = serializers.CharField(required=False, help_text="The failure's class (and AWS error code).")


class _ChecksSerializer(serializers.Serializer):
    database = _CheckSerializer()
    s3 = _CheckSerializer()
    sqs = _CheckSerializer()


class _RepairSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    trigger = serializers.CharField(help_text="Why the process looked: at start, a periodic check, a missing queue.")
    changes = serializers.ListField(child=serializers.CharField(), help_text="What it created or put right.")


class ReadinessOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ready", "unavailable"])
    checks = _ChecksSerializer()
    repairs = _RepairSerializer(many=True, help_text=(
        "S3 and SQS resources re-created or put right by the workers and the relay in the past day, newest first."
    ))


class ReadinessApi(_ProbeApi):
    @extend_schema(
        operation_id="health_ready",
        tags=["health"],
        summary="Readiness",
        description=("Checks the database, the S3 bucket and the scoring queue; 503 when any fails. Lists the "
                     "repairs of the past day (a queue or the bucket re-created by a worker or the relay)."),
        auth=[],
        responses={200: ReadinessOutputSerializer, 503: ReadinessOutputSerializer},
    )
    def get(self, request):
        results, repairs = cached_checks()
        ready = all(result["ok"] for result in results.values())
        return Response(
            {"status": "ready" if ready else "unavailable", "checks": results, "repairs": repairs},
            status=200 if ready else 503,
        )


liveness = LivenessApi.as_view()
readiness = ReadinessApi.as_view()
