"""Production hardening: `check --deploy` with production values, headers, cookies."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "feedback.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://feedback.example.org",
    "HTTPS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "true",
}


def _run(code_or_args: list[str], env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in {
        "DEBUG", "HTTPS", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER", "SECRET_KEY", "ALLOWED_HOSTS",
    }}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, *code_or_args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_values():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_with_the_local_defaults():
    # The same check would catch a production run on the http defaults.
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {"SECRET_KEY": "x" * 60})
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stdout + result.stderr


def test_debug_off_without_a_secret_key_refuses_to_start():
    result = _run(["manage.py", "check"], {"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr and "development key" in result.stderr
    assert _run(["manage.py", "check"], {"DEBUG": "true"}).returncode == 0  # make run: the development key


def test_production_values_turn_on_secure_cookies_redirect_and_hsts():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_PROXY_SSL_HEADER)"
    )
    env = {**PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "feedback_site.settings"}
    result = _run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True", "True", "True", "31536000", "True", "('HTTP_X_FORWARDED_PROTO',", "'https')",
    ]


@pytest.mark.parametrize("variable, value", [("HTTPS", "sometimes"), ("API_THROTTLE_USER_RATE", "lots")])
def test_a_malformed_hardening_value_stops_the_start(variable, value):
    result = _run(["manage.py", "check"], {variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/api/schema", "/api/submissions"])
def test_responses_carry_the_security_headers(path):
    response = Client().get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_hsts_is_sent_on_https_when_configured(settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get("/health", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.django_db
def test_the_ssl_redirect_spares_the_health_probes(settings):
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get("/health").status_code == 200
    assert Client().get("/api/schema").status_code == 301
