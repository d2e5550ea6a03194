"""Token authentication remembers a token's user briefly (feedback_site/api/authentication.py):
no token query on a repeated request, and a deleted token or a deactivated
user is refused at once by the process that made the change."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from feedback_site.api.authentication import recent_tokens
from submissions.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_tokens():
    recent_tokens.clear()
    yield
    recent_tokens.clear()


def _client_with_token(user) -> tuple[APIClient, Token]:
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client, token


def _token_lookups(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/submissions").status_code == 200
    return sum('"authtoken_token"' in q["sql"] for q in queries.captured_queries)


def test_a_repeated_token_is_not_looked_up_again():
    client, _ = _client_with_token(UserFactory())
    assert _token_lookups(client) == 1
    assert _token_lookups(client) == 0


def test_with_the_cache_off_every_request_looks_the_token_up(settings):
    settings.API_TOKEN_CACHE_SECONDS = 0
    client, _ = _client_with_token(UserFactory())
    assert [_token_lookups(client) for _ in range(2)] == [1, 1]


def test_a_deleted_token_is_refused_at_once():
    client, token = _client_with_token(UserFactory())
    assert _token_lookups(client) == 1
    token.delete()
    assert client.get("/api/submissions").status_code == 401


def test_a_deactivated_user_is_refused_at_once():
    user = UserFactory()
    client, _ = _client_with_token(user)
    assert client.get("/api/submissions").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/api/submissions").status_code == 401


def test_a_remembered_user_is_a_fresh_object_with_the_rows_fields():
    from feedback_site.api.authentication import RememberingTokenAuthentication

    user = UserFactory(username="ada")
    token = Token.objects.create(user=user)
    auth = RememberingTokenAuthentication()
    first, _ = auth.authenticate_credentials(token.key)
    first.some_attribute_a_view_set = True
    second, second_token = auth.authenticate_credentials(token.key)
    assert second is not first and not hasattr(second, "some_attribute_a_view_set")
    assert (second.pk, second.username, second.is_active) == (user.pk, "ada", True)
    assert second_token.key == token.key and second_token.user_id == user.pk


def test_an_unknown_token_is_refused_and_not_remembered():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert client.get("/api/submissions").status_code == 401
    assert recent_tokens.get("0" * 40) is None
