"""The S3 boundary: object keys, the bucket's set-up, presigned URLs.

Files go through django-storages' S3 storage (STORAGES["default"]): sizes,
reads, deletions and the presigned download. Its boto3 client (the storage's
own, one per thread) is used directly only for what the storage API has no
call for: the presigned POST of a browser upload, the server-side copies that
promote an upload or carry a file into a new attempt, and the bucket's set-up.

Keys are always generated here, never taken from a client's file name.

A browser upload lands under ``incoming/``; once the server has accepted the
upload it copies the object to its final key under ``submissions/`` and
verifies *that* copy. The presigned POST stays valid until it expires and
could be replayed with other bytes, but it can only ever write to the
incoming key, never over a file that was already verified. The incoming
object is deleted only once the file is settled, so a verification cut short
by a storage error can simply run again.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.storage import storages
from django.utils.http import content_disposition_header

FINAL_PREFIX = "submissions/"
INCOMING_PREFIX = "incoming/"
# Incoming objects that were never completed (closed tab, replayed form) are
# removed by the bucket's lifecycle rule after this many days.
INCOMING_EXPIRY_DAYS = 1
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


def _files():
    """The S3 storage of submission files (django-storages, STORAGES["default"])."""
    return storages["default"]


def _client():
    # The storage's own boto3 client, for the calls its API does not have.
    return _files().connection.meta.client


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
    post = _client().generate_presigned_post(
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
        _client().copy_object(
            Bucket=settings.S3_BUCKET,
            Key=key,
            CopySource={"Bucket": settings.S3_BUCKET, "Key": incoming_key_for(key)},
            MetadataDirective="REPLACE",
            ContentType="application/octet-stream",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
            return _files().exists(key)
        raise
    return True


def copy_object(*, source: str, key: str) -> None:
    """Copy a stored file to another file's key, inside S3 (no bytes pass
    through this process): a new attempt started from an earlier one."""
    if not (source.startswith(FINAL_PREFIX) and key.startswith(FINAL_PREFIX)):
        raise ValueError(f"not submission file keys: {source!r}, {key!r}")
    _client().copy_object(
        Bucket=settings.S3_BUCKET,
        Key=key,
        CopySource={"Bucket": settings.S3_BUCKET, "Key": source},
        MetadataDirective="REPLACE",
        ContentType="application/octet-stream",
    )


def object_size(key: str) -> int | None:
    """The stored size of an object (HEAD), or None when there is none."""
    try:
        return _files().size(key)
    except FileNotFoundError:
        return None


def iter_object(key: str, *, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
    """The stored bytes of an object, in chunks (the storage spools a large
    object to a temporary file, not to memory)."""
    with _files().open(key, "rb") as stored:
        yield from stored.chunks(chunk_size)


def delete_objects(*keys: str) -> None:
    """Delete the objects; a key that does not exist is not an error."""
    files = _files()
    for key in keys:
        files.delete(key)


def file_object_keys(key: str) -> tuple[str, str]:
    """Every object a file may have: its final one and its incoming one."""
    return key, incoming_key_for(key)


def presigned_download_url(*, key: str, filename: str, content_type: str, expires_in: int) -> str:
    """A short-lived GET that makes the browser save the file, never show it."""
    return _files().url(key, expire=expires_in, parameters={
        "ResponseContentDisposition": content_disposition_header(as_attachment=True, filename=filename),
        "ResponseContentType": content_type or "application/octet-stream",
    })


def read_object(key: str) -> bytes:
    """The stored bytes of an object (for scoring and verification)."""
    with _files().open(key, "rb") as stored:
        return stored.read()


_MISSING_BUCKET_CODES = {"404", "NoSuchBucket", "NotFound"}


def is_missing_bucket(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _MISSING_BUCKET_CODES


def desired_public_access_block() -> dict:
    return {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def desired_cors_rules() -> list[dict]:
    """Browser uploads come from the site's origin (none configured: no rule)."""
    if not settings.S3_CORS_ORIGINS:
        return []
    return [{
        "AllowedOrigins": list(settings.S3_CORS_ORIGINS),
        "AllowedMethods": ["POST", "GET", "HEAD"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3000,
    }]


def desired_lifecycle_rules() -> list[dict]:
    return [{
        "ID": "expire-abandoned-uploads",
        "Filter": {"Prefix": INCOMING_PREFIX},
        "Status": "Enabled",
        "Expiration": {"Days": INCOMING_EXPIRY_DAYS},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": INCOMING_EXPIRY_DAYS},
    }]


def _covers(actual, desired) -> bool:
    """Whether ``actual`` (as S3 answers it, with defaults filled in) has every
    value of ``desired``; lists compare element by element, in order."""
    if isinstance(desired, dict):
        return isinstance(actual, dict) and all(_covers(actual.get(k), v) for k, v in desired.items())
    if isinstance(desired, list):
        return (isinstance(actual, list) and len(actual) == len(desired)
                and all(_covers(a, d) for a, d in zip(actual, desired, strict=True)))
    return actual == desired


def _current(call, key: str, absent_codes: set[str]):
    try:
        return call()[key]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in absent_codes:
            return None
        raise


def ensure_bucket(client=None) -> list[str]:
    """The private bucket with CORS for browser uploads and the lifecycle rule
    that expires abandoned uploads: created if missing, each setting put right
    if it differs. Idempotent; returns a line per change (none when all was in place)."""
    client = client or _client()
    bucket = settings.S3_BUCKET
    changes = []
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if not is_missing_bucket(exc):
            raise
        kwargs = {"Bucket": bucket}
        if settings.AWS_REGION != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.AWS_REGION}
        try:
            client.create_bucket(**kwargs)
            changes.append(f"created bucket {bucket}")
        except ClientError as exc:  # another process created it a moment ago
            if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise
    block = desired_public_access_block()
    current = _current(lambda: client.get_public_access_block(Bucket=bucket), "PublicAccessBlockConfiguration",
                       {"NoSuchPublicAccessBlockConfiguration"})
    if not _covers(current, block):
        client.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=block)
        changes.append(f"blocked public access to bucket {bucket}")
    cors = desired_cors_rules()
    current = _current(lambda: client.get_bucket_cors(Bucket=bucket), "CORSRules", {"NoSuchCORSConfiguration"})
    if cors and not _covers(current, cors):
        client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": cors})
        changes.append(f"set the CORS rule of bucket {bucket}")
    rules = desired_lifecycle_rules()
    current = _current(lambda: client.get_bucket_lifecycle_configuration(Bucket=bucket), "Rules",
                       {"NoSuchLifecycleConfiguration"})
    if not _covers(current, rules):
        client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
        changes.append(f"set the lifecycle rule of bucket {bucket}")
    return changes
