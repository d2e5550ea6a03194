import pytest
from django.core.exceptions import ImproperlyConfigured

from feedback_site.env import env_bool, env_int, env_list


@pytest.mark.parametrize("raw, expected", [("1", True), ("TRUE", True), ("off", False), ("no", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not expected) is expected


def test_env_bool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_env_int_checks_type_and_range(monkeypatch):
    monkeypatch.setenv("X_NUM", "12")
    assert env_int("X_NUM", 1, minimum=1, maximum=20) == 12
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("X_NUM", 1, minimum=1)
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("X_NUM", 1)


def test_env_defaults_apply_when_unset(monkeypatch):
    monkeypatch.delenv("X_UNSET", raising=False)
    assert env_int("X_UNSET", 7) == 7
    assert env_list("X_UNSET", ["a"]) == ["a"]
    monkeypatch.setenv("X_LIST", " a, b ,,c ")
    assert env_list("X_LIST", []) == ["a", "b", "c"]


def test_a_heartbeat_slower_than_half_the_lease_stops_the_start():
    import subprocess
    import sys

    env = {"SCORING_LEASE_SECONDS": "30", "SCORING_HEARTBEAT_SECONDS": "20", "DJANGO_SETTINGS_MODULE":
           "feedback_site.settings", "PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 50}
    run = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env,  # noqa: S603
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "must be at most half of SCORING_LEASE_SECONDS" in run.stderr
