import contextlib
import urllib.error
import urllib.request
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from submissions import storage
from submissions.storage import new_object_key


def test_default_storage_round_trips_a_file_through_s3(s3, settings):
    key = new_object_key("00000000-0000-0000-0000-000000000001")
    payload = b"print('hello from S3')\n"
    saved_key = default_storage.save(key, ContentFile(payload))
    try:
        # Read back through the storage and, independently, straight from the bucket.
        with default_storage.open(saved_key) as handle:
            assert handle.read() == payload
        assert s3.get_object(Bucket=settings.S3_BUCKET, Key=saved_key)["Body"].read() == payload
    finally:
        default_storage.delete(saved_key)
    assert not default_storage.exists(saved_key)


def test_storage_never_overwrites_an_existing_key(s3):
    key = new_object_key("00000000-0000-0000-0000-000000000002")
    first = default_storage.save(key, ContentFile(b"one"))
    second = default_storage.save(key, ContentFile(b"two"))
    try:
        assert first != second
        with default_storage.open(first) as handle:
            assert handle.read() == b"one"
    finally:
        default_storage.delete(first)
        default_storage.delete(second)


def test_objects_are_private_and_reachable_only_by_a_valid_signed_url(s3, settings):
    key = default_storage.save(new_object_key("00000000-0000-0000-0000-000000000003"), ContentFile(b"secret"))
    try:
        # LocalStack's community core does not enforce ACLs on anonymous
        # reads, so check what we set: no grant to anyone but the owner, and
        # the bucket blocks every public access path.
        grants = s3.get_object_acl(Bucket=settings.S3_BUCKET, Key=key)["Grants"]
        assert {g["Grantee"].get("Type") for g in grants} == {"CanonicalUser"}
        block = s3.get_public_access_block(Bucket=settings.S3_BUCKET)["PublicAccessBlockConfiguration"]
        assert all(block.values())
        signed = default_storage.url(key)
        with urllib.request.urlopen(signed, timeout=5) as response:  # noqa: S310
            assert response.read() == b"secret"
        tampered = signed.replace("X-Amz-Signature=", "X-Amz-Signature=0")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(tampered, timeout=5)  # noqa: S310
        assert refused.value.code == 403
    finally:
        default_storage.delete(key)


def test_object_keys_are_server_generated():
    first, second = new_object_key("abc"), new_object_key("abc")
    assert first != second
    assert first.startswith("submissions/abc/")


def test_bucket_expires_abandoned_incoming_uploads(s3, settings):
    rules = s3.get_bucket_lifecycle_configuration(Bucket=settings.S3_BUCKET)["Rules"]
    incoming = [r for r in rules if r.get("Filter", {}).get("Prefix") == "incoming/"]
    assert incoming and incoming[0]["Status"] == "Enabled" and incoming[0]["Expiration"]["Days"] == 1


def test_reads_and_deletions_go_through_the_django_storage(s3, settings):
    key = new_object_key("00000000-0000-0000-0000-000000000004")
    s3.put_object(Bucket=settings.S3_BUCKET, Key=key, Body=b"shared")
    assert storage.read_object(key) == b"shared"
    assert b"".join(storage.iter_object(key, chunk_size=2)) == b"shared"
    assert storage.object_size(key) == len(b"shared") and default_storage.size(key) == len(b"shared")
    storage.delete_objects(key, key)  # a second delete of a missing key is no error
    assert not default_storage.exists(key) and storage.object_size(key) is None


def test_download_url_is_a_signed_attachment_of_the_storage(s3, settings):
    key = default_storage.save(new_object_key("00000000-0000-0000-0000-000000000006"), ContentFile(b"data"))
    try:
        url = storage.presigned_download_url(key=key, filename="report «1».csv", content_type="text/csv",
                                             expires_in=60)
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            assert response.read() == b"data"
            assert response.headers["Content-Disposition"].startswith("attachment;")
            assert response.headers["Content-Type"] == "text/csv"
    finally:
        default_storage.delete(key)


def test_promote_copies_and_leaves_the_incoming_object_until_the_file_is_settled(s3, settings):
    key = new_object_key("00000000-0000-0000-0000-000000000005")
    incoming = storage.incoming_key_for(key)
    try:
        assert storage.promote_upload(key=key) is False  # nothing arrived
        s3.put_object(Bucket=settings.S3_BUCKET, Key=incoming, Body=b"upload")
        assert storage.promote_upload(key=key) is True
        assert s3.get_object(Bucket=settings.S3_BUCKET, Key=key)["Body"].read() == b"upload"
        assert storage.object_size(incoming) == len(b"upload")  # still there: a retry can copy again
        # Incoming gone (expired) but an earlier copy there: already promoted.
        s3.delete_object(Bucket=settings.S3_BUCKET, Key=incoming)
        assert storage.promote_upload(key=key) is True
    finally:
        storage.delete_objects(*storage.file_object_keys(key))


@pytest.fixture
def own_bucket(settings, s3):
    """A bucket name of this test's own, deleted afterwards."""
    settings.S3_BUCKET = f"{settings.S3_BUCKET}-own{uuid.uuid4().hex[:6]}"
    yield settings.S3_BUCKET
    with contextlib.suppress(s3.exceptions.NoSuchBucket):
        s3.delete_bucket(Bucket=settings.S3_BUCKET)


def test_ensure_bucket_creates_it_with_cors_and_lifecycle_and_reports_what_it_did(s3, settings, own_bucket):
    assert storage.ensure_bucket() == [  # a new bucket blocks public access already (as on AWS)
        f"created bucket {own_bucket}",
        f"set the CORS rule of bucket {own_bucket}",
        f"set the lifecycle rule of bucket {own_bucket}",
    ]
    assert all(s3.get_public_access_block(Bucket=own_bucket)["PublicAccessBlockConfiguration"].values())
    cors = s3.get_bucket_cors(Bucket=own_bucket)["CORSRules"]
    assert cors[0]["AllowedOrigins"] == settings.S3_CORS_ORIGINS and "POST" in cors[0]["AllowedMethods"]
    assert s3.get_bucket_lifecycle_configuration(Bucket=own_bucket)["Rules"][0]["ID"] == "expire-abandoned-uploads"
    assert storage.ensure_bucket() == []  # all in place: nothing to do, nothing reported


def test_ensure_bucket_puts_back_a_removed_cors_rule_and_lifecycle_rule(s3, settings, own_bucket):
    storage.ensure_bucket()
    s3.delete_bucket_cors(Bucket=own_bucket)
    s3.delete_bucket_lifecycle(Bucket=own_bucket)
    assert storage.ensure_bucket() == [
        f"set the CORS rule of bucket {own_bucket}", f"set the lifecycle rule of bucket {own_bucket}",
    ]
    assert s3.get_bucket_cors(Bucket=own_bucket)["CORSRules"][0]["AllowedOrigins"] == settings.S3_CORS_ORIGINS
