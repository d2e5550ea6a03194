"""The S3 boundary: object keys, the bucket's set-up, presigned URLs.

Keys are always generated here, never taken from a client's file name.
"""

import uuid

from botocore.exceptions import ClientError
from django.conf import settings

from feedback_site import aws


def new_object_key(submission_id) -> str:
    return f"submissions/{submission_id}/{uuid.uuid4().hex}"


def read_object(key: str) -> bytes:
    """The stored bytes of an object (for scoring and verification)."""
    response = aws.client("s3").get_object(Bucket=settings.S3_BUCKET, Key=key)
    return response["Body"].read()


def ensure_bucket(client=None) -> None:
    """Create the private bucket with CORS for browser uploads. Idempotent."""
    client = client or aws.client("s3")
    bucket = settings.S3_BUCKET
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket", "NotFound"}:
            raise
        kwargs = {"Bucket": bucket}
        if settings.AWS_REGION != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.AWS_REGION}
        client.create_bucket(**kwargs)
    client.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    if settings.S3_CORS_ORIGINS:
        client.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": settings.S3_CORS_ORIGINS,
                        "AllowedMethods": ["POST", "GET", "HEAD"],
                        "AllowedHeaders": ["*"],
                        "ExposeHeaders": ["ETag"],
                        "MaxAgeSeconds": 3000,
                    }
                ]
            },
        )
