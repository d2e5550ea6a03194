"""Sign-in protection (django-axes, feedback_site/signin.py): lock-out per
username and per address on every password sign-in path, reset on success,
visible to staff; the token endpoint's per-username throttle."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from rest_framework.test import APIClient

from feedback_site.testing.api import error_of
from submissions.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return 3


def login(client, username, password, address="198.51.100.7", path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_login_page_locks_a_username_out_after_repeated_failures(limit):
    UserFactory(username="ada", password=PASSWORD)
    client = Client()
    answers = [login(client, "ada", f"guess-{n}").status_code for n in range(limit)]
    assert answers == [200] * (limit - 1) + [429]  # the form with its error, then the lock-out
    locked = login(client, "ada", PASSWORD)  # even the right password, while locked
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == 15 * 60
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # The admin's login refuses the same account.
    assert login(Client(), "ada", PASSWORD, path="/admin/login/").status_code == 429


def test_the_lock_out_follows_the_username_across_addresses(limit):
    UserFactory(username="ada", password=PASSWORD)
    for n in range(limit):
        login(Client(), "ada", "wrong", address=f"203.0.113.{n}")
    assert login(Client(), "ada", PASSWORD, address="203.0.113.200").status_code == 429
    # Another account from those addresses is not affected.
    UserFactory(username="grace", password=PASSWORD)
    assert login(Client(), "grace", PASSWORD, address="203.0.113.0").status_code == 302


def test_the_lock_out_follows_the_address_across_usernames(limit):
    UserFactory(username="grace", password=PASSWORD)
    for n in range(limit):
        login(Client(), f"nobody-{n}", "wrong", address="192.0.2.9")
    assert login(Client(), "grace", PASSWORD, address="192.0.2.9").status_code == 429
    assert login(Client(), "grace", PASSWORD, address="192.0.2.10").status_code == 302


def test_a_successful_sign_in_resets_the_count(limit):
    UserFactory(username="ada", password=PASSWORD)
    for _ in range(limit - 1):
        login(Client(), "ada", "wrong")
    assert login(Client(), "ada", PASSWORD).status_code == 302
    for _ in range(limit - 1):
        assert login(Client(), "ada", "wrong").status_code == 200
    assert login(Client(), "ada", PASSWORD).status_code == 302
    # Without the reset the count would have passed the limit long ago.
    assert [login(Client(), "ada", "wrong").status_code for _ in range(limit)] == [200] * (limit - 1) + [429]


def test_the_token_endpoint_answers_a_lock_out_in_the_api_format(limit, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token_obtain": "100/minute",
                                   "token_obtain_username": "100/minute"}
    UserFactory(username="ada", password=PASSWORD)
    client = APIClient()
    answers = [client.post("/api/auth/token", {"username": "ada", "password": f"guess-{n}"}, format="json",
                           REMOTE_ADDR="198.51.100.7").status_code for n in range(limit)]
    assert answers == [400] * (limit - 1) + [429]
    locked = client.post("/api/auth/token", {"username": "ada", "password": PASSWORD}, format="json",
                         REMOTE_ADDR="198.51.100.7")
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert error_of(locked)["code"] == "signin_locked_out"
    assert "token" not in locked.json()


def test_a_successful_token_sign_in_resets_the_count_too(limit, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token_obtain": "100/minute",
                                   "token_obtain_username": "100/minute"}
    UserFactory(username="ada", password=PASSWORD)
    client = APIClient()

    def token(password):
        return client.post("/api/auth/token", {"username": "ada", "password": password}, format="json",
                           REMOTE_ADDR="198.51.100.7").status_code

    assert [token("wrong") for _ in range(limit - 1)] == [400] * (limit - 1)
    assert token(PASSWORD) == 200
    assert [token("wrong") for _ in range(limit - 1)] == [400] * (limit - 1)  # counted afresh
    assert token(PASSWORD) == 200


def test_the_token_endpoint_limits_tries_per_username_from_any_address(settings):
    settings.AXES_FAILURE_LIMIT = 100  # the lock-out is not what is tested here
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token_obtain": "100/minute",
                                   "token_obtain_username": "3/minute"}
    UserFactory(username="ada", password=PASSWORD)
    client = APIClient()
    answers = [client.post("/api/auth/token", {"username": name, "password": "wrong"}, format="json",
                           REMOTE_ADDR=f"203.0.113.{n}").status_code
               for n, name in enumerate(["ada", "ADA", "ada ", "ada"])]
    assert answers == [400, 400, 400, 429]  # case and spaces do not make another account
    other = client.post("/api/auth/token", {"username": "grace", "password": "wrong"}, format="json",
                        REMOTE_ADDR="203.0.113.50")
    assert other.status_code == 400


def test_staff_see_and_clear_lock_outs_in_the_admin(limit):
    UserFactory(username="ada", password=PASSWORD)
    for _ in range(limit):
        login(Client(), "ada", "wrong")
    attempt = AccessAttempt.objects.get(username="ada")
    assert attempt.failures_since_start == limit
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "ada" in listing.content.decode()
    # Deleting the attempt (the admin's unlock) lets the learner in again.
    admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert login(Client(), "ada", PASSWORD).status_code == 302


def test_behind_proxies_the_lock_out_keys_on_the_client_not_the_proxy(limit, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    UserFactory(username="grace", password=PASSWORD)
    proxy = "10.0.0.1"
    for n in range(limit):
        Client().post("/accounts/login/", {"username": f"nobody-{n}", "password": "x"}, REMOTE_ADDR=proxy,
                      HTTP_X_FORWARDED_FOR="192.0.2.66")
    # The attacker's address is locked; another client behind the same proxy is not.
    assert Client().post("/accounts/login/", {"username": "grace", "password": PASSWORD}, REMOTE_ADDR=proxy,
                         HTTP_X_FORWARDED_FOR="192.0.2.66").status_code == 429
    assert Client().post("/accounts/login/", {"username": "grace", "password": PASSWORD}, REMOTE_ADDR=proxy,
                         HTTP_X_FORWARDED_FOR="192.0.2.77").status_code == 302
