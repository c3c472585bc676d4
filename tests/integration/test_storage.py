"""The storage contract, run against every adapter: memory, files and a real S3 (SeaweedFS).

Plus what only one adapter has (file modes and atomicity; S3 checksums, multipart, SSE, an
outage), the URL parsing of ``open_storage`` and the key layout.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_storage.py``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from minio import Minio

from briefkasten.errors import (
    StorageError,
)
from briefkasten.storage import open_storage
from briefkasten.storage import s3 as s3_module
from briefkasten.storage.base import Storage
from tests.support.servers import S3Server, s3_server_fixture, s3_url_fixture  # noqa: F401  (fixtures)
from tests.unit import test_storage as unit_storage
from tests.unit.test_storage import (  # noqa: F401  (the contract, run here on S3)
    BIG,
    GIVE_UP_WITHIN,
    original,
    test_a_prefix_is_not_an_object,
    test_adopting_a_file_stores_it_and_takes_it_over,
    test_bad_keys_are_refused,
    test_bytes_round_trip,
    test_check_answers,
    test_concurrent_writers,
    test_create_if_absent_keeps_the_first,
    test_delete_is_idempotent,
    test_empty_object_and_overwrite,
    test_large_file_round_trip,
    test_list_by_prefix_is_sorted,
    test_missing_objects_are_not_found,
    test_missing_source_is_a_storage_error,
    test_racing_creators_have_exactly_one_winner,
)

big_file = unit_storage.big_file  # the fixture, shared with tests/unit/test_storage.py


@pytest.fixture
def storage(s3_url: str) -> Storage:
    """The S3 adapter on the test server: the contract of tests/unit/test_storage.py runs on it."""
    return open_storage(s3_url)


@pytest.fixture
def raw(s3_server: S3Server) -> Minio:
    """A plain minio client on the test server, to look at or tamper with objects."""
    return Minio(
        s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        secure=False,
    )


def test_s3_multipart_upload_records_sha256(s3_url: str, raw: Minio, big_file: Path) -> None:
    s3 = open_storage(s3_url)
    stored = s3.put_file(original(), big_file, content_type="image/jpeg")
    info = raw.stat_object(s3.bucket, stored.key)
    assert info.etag is not None and info.etag.endswith(f"-{-(-BIG // s3_module.PART_SIZE)}")
    assert info.metadata["x-amz-meta-sha256"] == stored.sha256
    assert info.content_type == "image/jpeg"


def test_s3_detects_a_changed_object(s3_url: str, raw: Minio, tmp_path: Path) -> None:
    s3 = open_storage(s3_url)
    key = original()
    stored = s3.put_bytes(key, b"the original", content_type="image/jpeg")
    tampered = b"the 0riginal"
    raw.put_object(s3.bucket, key, io.BytesIO(tampered), len(tampered),
                   metadata={"sha256": stored.sha256})  # fmt: skip
    with pytest.raises(StorageError, match="corrupt"):
        s3.get_bytes(key)
    with pytest.raises(StorageError, match="corrupt"):
        s3.get_file(key, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
    raw.put_object(s3.bucket, key, io.BytesIO(tampered), len(tampered))  # no checksum at all
    with pytest.raises(StorageError, match="no sha256"):
        s3.get_bytes(key)


def test_s3_server_side_encryption(s3_url: str, raw: Minio) -> None:
    s3 = open_storage(s3_url, sse=True)
    stored = s3.put_bytes(original(), b"Sozialdaten", content_type="image/jpeg")
    info = raw.stat_object(s3.bucket, stored.key)
    assert info.metadata.get("x-amz-server-side-encryption") == "AES256"
    assert s3.get_bytes(stored.key) == b"Sozialdaten"


def test_s3_bucket_is_created_on_check(s3_url: str, raw: Minio) -> None:
    s3 = open_storage(s3_url)
    assert not raw.bucket_exists(s3.bucket)
    assert s3.list("") == []
    s3.check()
    assert raw.bucket_exists(s3.bucket)


def test_s3_wrong_credentials(s3_server: S3Server) -> None:
    url = s3_server.bucket_url("creds").replace(s3_server.access_key, "intruder")
    with pytest.raises(StorageError, match="InvalidAccessKeyId") as caught:
        open_storage(url).put_bytes(original(), b"x", content_type="image/jpeg")
    assert "intruder" not in str(caught.value)
    wrong_secret = s3_server.bucket_url("creds").replace("%2F%2B", "%2F%2D")
    with pytest.raises(StorageError, match="SignatureDoesNotMatch") as caught:
        open_storage(wrong_secret).check()
    assert s3_server.secret_key[:12] not in str(caught.value)


def in_time(operation: Callable[[], Any]) -> Any:
    """Run ``operation`` in a thread; fail the test if it has not given up by the bound."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(operation).result(timeout=GIVE_UP_WITHIN)


def test_s3_outage_raises_storage_error_then_recovers(s3_server: S3Server, s3_url: str) -> None:
    s3 = open_storage(s3_url)
    key = original()
    s3.put_bytes(key, b"kept", content_type="image/jpeg")
    s3_server.stop(kill=True)
    try:
        operations: list[Callable[[], object]] = [
            s3.check,
            lambda: s3.get_bytes(key),
            lambda: s3.put_bytes(original("b" * 32), b"x", content_type="image/jpeg"),
            lambda: s3.exists(key),
            lambda: s3.list(""),
            lambda: s3.delete(key),
        ]
        for operation in operations:
            with pytest.raises(StorageError, match="unreachable"):
                in_time(operation)
    finally:
        s3_server.start()
    s3.check()
    assert s3.get_bytes(key) == b"kept"
    s3.put_bytes(original("b" * 32), b"x", content_type="image/jpeg")
    assert len(s3.list("")) == 2
