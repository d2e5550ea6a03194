"""Connection options shared by every boto3 client (S3 and SQS).

Everything comes from settings, themselves from the environment: an empty
AWS_ENDPOINT_URL means real AWS, anything else a compatible local endpoint.
"""

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


def client(service: str):
    return boto3.client(service, **aws_options())
