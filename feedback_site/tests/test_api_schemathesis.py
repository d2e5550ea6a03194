"""Property-based fuzzing of every operation in /api/schema with schemathesis,
against a live server, as a learner with a token and data of their own.

No answer may be a 5xx, and every answer must match what the schema
documents: its status code, content type, body and headers.
"""

import json
import uuid
from datetime import timedelta

import hypothesis
import pytest
import schemathesis
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jobs.models import ScoringJob
from jobs.services import scoring_job_run, submission_submit
from submissions.tests.factories import SubmissionFactory, SubmissionFileFactory, UserFactory

# A bound per operation, far above what one takes (a second or two).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def _submitted(submission) -> ScoringJob:
    return submission_submit(submission_id=submission.pk, user=submission.owner)


@pytest.fixture
def learner_data(live_server, aws_resources, settings):
    """A learner with a token and one object in each state the API shows:
    a submission in progress with a file; submitted ones whose jobs are
    DONE (with a result), QUEUED and in ERROR. Another learner's submission
    and job, which must stay invisible."""
    # Far above what a run sends: a wall of 429s would hide every other
    # answer. Throttling itself is tested in test_api_plumbing.py.
    settings.API_THROTTLE_RATES = {scope: "100000/minute" for scope in settings.API_THROTTLE_RATES}
    cache.clear()
    # The data is made again for each operation: hash its passwords cheaply.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    learner = UserFactory()
    in_progress = SubmissionFactory(owner=learner)
    file = SubmissionFileFactory(submission=in_progress)
    done = _submitted(SubmissionFactory(owner=learner))
    scoring_job_run(job_id=done.pk)
    queued = _submitted(SubmissionFactory(owner=learner))
    failed = _submitted(SubmissionFactory(owner=learner))
    ScoringJob.objects.filter(pk=failed.pk).update(
        status=ScoringJob.Status.ERROR, error_code="attempts_exhausted", error_message="boom",
        finished_at=timezone.now(),
    )
    foreign = _submitted(SubmissionFactory())
    jobs = [done, queued, failed, foreign]
    return {
        "token": Token.objects.create(user=learner).key,
        "own": {
            "submissions": [str(in_progress.pk), *(str(job.submission_id) for job in jobs)],
            "jobs": [str(job.pk) for job in jobs],
            "files": [str(file.pk)],
            "file submissions": [str(in_progress.pk), str(foreign.submission_id)],
            "assignments": [in_progress.assignment_id, done.submission.assignment_id],
        },
    }


def _served_schema() -> dict:
    """/api/schema as the site serves it, read in-process at collection: the
    document does not depend on the server. (schemathesis.pytest.from_fixture,
    which would read it from the live server, fails under pytest 9.)"""
    # No database at collection time: the anonymous throttle counts in memory here.
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        response = Client(HTTP_HOST="localhost").get("/api/schema", {"format": "json"})
    assert response.status_code == 200, response.content[:300]
    return json.loads(response.content)


schema = schemathesis.openapi.from_dict(_served_schema(), config=schemathesis.Config.from_dict({
    "generation": {"database": "none"},  # no .hypothesis/ directory in the tree
    "request-timeout": 10,
}))


def _aim_at_own_objects(case, own: dict[str, list[str]]) -> None:
    """Point some of the case's ids at the learner's real objects.

    Generated ids only ever find nothing (404). A well-formed generated id
    is swapped for one of the learner's (or another learner's) objects, or
    kept, chosen by the id's own value, so a case always maps the same way
    (Hypothesis can replay and shrink it) and every operation also runs on
    data that exists. Malformed ids are left alone.
    """
    def pick(value, choices):
        try:
            number = int(uuid.UUID(value)) if isinstance(value, str) else value
        except ValueError:
            return value
        if type(number) is not int:
            return value
        options = [*choices, value]
        return options[number % len(options)]

    parameters = case.path_parameters or {}
    if case.path.startswith("/api/scoring/"):
        kinds = {"id": "jobs"}
    elif "file_id" in parameters:  # the file's own submission, or another
        kinds = {"id": "file submissions", "file_id": "files"}
    else:
        kinds = {"id": "submissions"}
    for name, value in parameters.items():
        parameters[name] = pick(value, own[kinds[name]])
    if isinstance(case.body, dict):
        if "submission" in case.body:
            case.body["submission"] = pick(case.body["submission"], own["submissions"])
        if "assignment" in case.body:
            case.body["assignment"] = pick(case.body["assignment"], own["assignments"])


@schema.parametrize()
# The learner's data is made once per operation and shared by its examples,
# which may change it (edit, submit, delete a file): that is intended.
@hypothesis.settings(
    max_examples=20,
    deadline=timedelta(seconds=5),
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
def test_every_operation_answers_as_documented(case, live_server, learner_data):
    _aim_at_own_objects(case, learner_data["own"])
    case.call_and_validate(
        base_url=live_server.url, headers={"Authorization": f"Token {learner_data['token']}"}, checks=CHECKS
    )
