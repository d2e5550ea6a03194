"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and each
one fails on a deliberate violation: a copy of the code with one forbidden
import added is checked by the same `lint-imports` that `make test` runs."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["feedback_site", "submissions", "scoring", "jobs", "idempotency"]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (the venv's own tool)
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture
def copy_of_the_code(tmp_path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_every_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("KEPT") == 4


@pytest.mark.parametrize("module, line, contract", [
    ("submissions/services.py", "from jobs import models", "submissions' domain imports neither scoring nor jobs"),
    ("scoring/services.py", "import jobs.services", "scoring's domain does not import jobs"),
    ("scoring/engine/pipeline.py", "from django.conf import settings",
     "the scoring engine is pure: no Django, no app, no I/O library"),
    ("feedback_site/health.py", "from jobs import selectors", "the project package knows no app"),
])
def test_a_forbidden_import_breaks_its_contract(copy_of_the_code, module, line, contract):
    path = copy_of_the_code / module
    path.write_text(f"{line}  # noqa\n" + path.read_text())
    result = lint_imports(copy_of_the_code)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN") or "BROKEN (" in row]
    assert len(broken) == 1 and broken[0].startswith(contract), result.stdout


# A boto3 S3 call: one of its operations, called with Bucket=/Key= or an operation name.
S3_CALL = re.compile(r"\b(generate_presigned_post|generate_presigned_url|copy_object|put_object|get_object|head_object"
                     r"|delete_objects?|head_bucket|create_bucket|upload_fileobj|download_fileobj)\(\s*(Bucket|Key|\"|')")
# Where the storage API has no call (storage.py's docstring), and the readiness probe's short-timeout client.
S3_CALLS_ALLOWED_IN = {"submissions/storage.py", "feedback_site/health.py"}


def test_s3_is_reached_through_django_storages_except_where_its_api_has_no_call():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/tests/" in relative or relative.startswith("feedback_site/testing/"):
                continue
            text = path.read_text()
            if relative not in S3_CALLS_ALLOWED_IN:
                offenders += [f"{relative}: {match.group(1)}" for match in S3_CALL.finditer(text)]
    assert offenders == []
