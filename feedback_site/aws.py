"""Connection options shared by every boto3 client (S3 and SQS).

Everything comes from settings, themselves from the environment: an empty
AWS_ENDPOINT_URL means real AWS, anything else a compatible local endpoint.
"""

import threading

import boto3
from botocore.config import Config
from django.conf import settings


def boto_config() -> Config:
    # read_timeout must exceed the 20 s long poll of ReceiveMessage.
    return Config(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=50,
        s3={"addressing_style": "path"},
        signature_version="s3v4",
    )


def aws_options() -> dict:
    return {
        "endpoint_url": settings.AWS_ENDPOINT_URL,
        "region_name": settings.AWS_REGION,
        "aws_access_key_id": settings.AWS_ACCESS_KEY_ID,
        "aws_secret_access_key": settings.AWS_SECRET_ACCESS_KEY,
        "config": boto_config(),
    }


# A page or a probe must not hang when AWS is unwell; a worker may wait and retry.
QUICK = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2})

_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


def client(service: str, *, quick: bool = False):
    """A boto3 client, one per service, profile and configuration (creating
    one costs tens of milliseconds; using one from many threads is safe).
    ``quick``: short timeouts and one retry, for the staff console, metrics
    and health probes. S3 files go through django-storages (submissions/storage.py)."""
    options = aws_options()
    identity = (service, quick, options["endpoint_url"], options["region_name"], options["aws_access_key_id"])
    with _clients_lock:
        if identity not in _clients:
            config = options["config"].merge(QUICK) if quick else options["config"]
            _clients[identity] = boto3.client(service, **{**options, "config": config})
        return _clients[identity]
