"""docker-compose.yml cannot be run here (no Docker engine), so check its shape."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _variables_read_by_settings() -> set[str]:
    source = (ROOT / "feedback_site" / "settings.py").read_text()
    return set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', source))


def test_compose_has_every_service_of_the_system():
    services = _compose()["services"]
    assert {"postgres", "localstack", "setup", "web", "worker", "relay"} <= set(services)


def test_app_services_share_one_environment_of_real_settings():
    services = _compose()["services"]
    environments = [services[name]["environment"] for name in ("setup", "web", "worker", "relay")]
    assert all(env == environments[0] for env in environments)
    assert set(environments[0]) <= _variables_read_by_settings(), "compose sets a variable settings never reads"


def test_worker_can_be_scaled():
    worker = _compose()["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert worker["command"][-1] == "runworkers"


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in _variables_read_by_settings() if f"`{name}`" not in readme}
    assert not missing, f"README's configuration table lacks {sorted(missing)}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()


def test_migrations_match_the_models(db):
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # exits non-zero if a model change lacks one
