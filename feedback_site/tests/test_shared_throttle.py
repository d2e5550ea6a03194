"""API throttle counts are shared by every process (settings.CACHES): two
separate Django processes, as gunicorn's workers are, count one user's
requests together, and this (third) process sees the count too."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from conftest import database_url_of_test_db
from feedback_site.api.throttles import requests_counted
from submissions.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = """
import json
from django.test import Client
client = Client(HTTP_AUTHORIZATION="Token {token}")
print("STATUSES:" + json.dumps([client.get("/api/submissions").status_code for _ in range({count})]))
"""


def requests_from_another_process(token: str, count: int, **env: str) -> list[int]:
    result = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "shell", "-c",
         REQUESTS.format(token=token, count=count)],
        env={**os.environ, "DATABASE_URL": database_url_of_test_db(), "ALLOWED_HOSTS": "testserver",
             "API_THROTTLE_USER_RATE": "5/minute", **env},
        capture_output=True, text=True, timeout=120, check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("STATUSES:"))
    return json.loads(line.removeprefix("STATUSES:"))


def test_two_processes_count_one_users_requests_together():
    user = UserFactory()
    token = Token.objects.create(user=user).key
    assert requests_from_another_process(token, 3) == [200, 200, 200]
    assert requests_counted("user", str(user.pk), "5/minute") == 3
    assert requests_from_another_process(token, 3) == [200, 200, 429]
