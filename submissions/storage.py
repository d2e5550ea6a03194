"""The S3 boundary: object keys, the bucket's set-up, presigned URLs.

Keys are always generated here, never taken from a client's file name.

A browser upload lands under ``incoming/``; once the server has accepted the
upload it copies the object to its final key under ``submissions/`` and
verifies *that* copy. The presigned POST stays valid until it expires and
could be replayed with other bytes, but it can only ever write to the
incoming key, never over a file that was already verified. The incoming
object is deleted only once the file is settled, so a verification cut short
by a storage error can simply run again.
"""

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from botocore.exceptions import ClientError
from django.conf import settings
from django.utils.http import content_disposition_header

from feedback_site import aws

FINAL_PREFIX = "submissions/"
INCOMING_PREFIX = "incoming/"
# Incoming objects that were never completed (closed tab, replayed form) are
# removed by the bucket's lifecycle rule after this many days.
INCOMING_EXPIRY_DAYS = 1
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


def _s3():
    # One client per configuration: creating a boto3 client costs tens of
    # milliseconds and is not thread-safe, using one is both cheap and safe.
    options = aws.aws_options()
    identity = (options["endpoint_url"], options["region_name"], options["aws_access_key_id"])
    with _clients_lock:
        if identity not in _clients:
            _clients[identity] = aws.client("s3")
        return _clients[identity]


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


def new_object_key(submission_id) -> str:
    return f"{FINAL_PREFIX}{submission_id}/{uuid.uuid4().hex}"


def incoming_key_for(key: str) -> str:
    """Where the browser uploads the object that will live at ``key``."""
    if not key.startswith(FINAL_PREFIX):
        raise ValueError(f"not a submission file key: {key!r}")
    return INCOMING_PREFIX + key.removeprefix(FINAL_PREFIX)


def presigned_upload(*, key: str, content_type: str, max_size: int, expires_in: int) -> PresignedPost:
    """A presigned POST for the browser: S3 itself refuses a body outside
    1..max_size bytes, another Content-Type, another key, or a late upload."""
    post = _s3().generate_presigned_post(
        Bucket=settings.S3_BUCKET,
        Key=incoming_key_for(key),
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_size]],
        ExpiresIn=expires_in,
    )
    return PresignedPost(url=post["url"], fields=post["fields"])


def promote_upload(*, key: str) -> bool:
    """Copy the uploaded object to its final key; False if nothing arrived.

    The incoming object stays (the caller deletes it once the file is
    settled), so calling this again after a failed verification copies again.
    If the incoming object is gone but an earlier call's copy is there, that
    copy counts. The copy is stored as opaque bytes: what it really is, is
    recorded in the database after verification."""
    try:
        _s3().copy_object(
            Bucket=settings.S3_BUCKET,
            Key=key,
            CopySource={"Bucket": settings.S3_BUCKET, "Key": incoming_key_for(key)},
            MetadataDirective="REPLACE",
            ContentType="application/octet-stream",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
            return object_size(key) is not None
        raise
    return True


def object_size(key: str) -> int | None:
    """The stored size of an object (HEAD), or None when there is none."""
    try:
        response = _s3().head_object(Bucket=settings.S3_BUCKET, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
            return None
        raise
    return response["ContentLength"]


def iter_object(key: str, *, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
    """The stored bytes of an object, streamed."""
    body = _s3().get_object(Bucket=settings.S3_BUCKET, Key=key)["Body"]
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()


def delete_objects(*keys: str) -> None:
    """Delete the objects; a key that does not exist is not an error."""
    client = _s3()
    for key in keys:
        client.delete_object(Bucket=settings.S3_BUCKET, Key=key)


def file_object_keys(key: str) -> tuple[str, str]:
    """Every object a file may have: its final one and its incoming one."""
    return key, incoming_key_for(key)


def presigned_download_url(*, key: str, filename: str, content_type: str, expires_in: int) -> str:
    """A short-lived GET that makes the browser save the file, never show it."""
    return _s3().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings.S3_BUCKET,
            "Key": key,
            "ResponseContentDisposition": content_disposition_header(as_attachment=True, filename=filename),
            "ResponseContentType": content_type or "application/octet-stream",
        },
        ExpiresIn=expires_in,
    )


def read_object(key: str) -> bytes:
    """The stored bytes of an object (for scoring and verification)."""
    response = _s3().get_object(Bucket=settings.S3_BUCKET, Key=key)
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
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-abandoned-uploads",
                    "Filter": {"Prefix": INCOMING_PREFIX},
                    "Status": "Enabled",
                    "Expiration": {"Days": INCOMING_EXPIRY_DAYS},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": INCOMING_EXPIRY_DAYS},
                }
            ]
        },
    )
