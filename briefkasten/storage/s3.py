"""``s3://KEY:SECRET@host:port/bucket``: any S3 server through the ``minio`` SDK.

MinIO in production, SeaweedFS in the tests. Every object carries its SHA-256 as user metadata
(``x-amz-meta-sha256``); ``get_*`` recompute it while downloading and refuse an object whose
content no longer matches (``StorageError``). Uploads above ``PART_SIZE`` go multipart, one part
at a time, so a put holds at most one part in memory (the gateway runs several puts at once).
``sse=True`` asks the server to encrypt at rest (SSE-S3).

The SDK blocks (urllib3): callers run it in an executor. Its HTTP pool has short timeouts and a
small bounded retry, so an unreachable server becomes a ``StorageError`` within seconds instead
of a hang; the readiness probe uses a second pool that does not retry at all. TLS uses the
system trust store (internal CAs installed with ``update-ca-certificates`` work).

Nothing outside this module sees ``S3Error`` or a urllib3 exception.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from minio.sse import SseS3

from briefkasten.errors import NotFound, StorageError
from briefkasten.storage.base import StoredObject
from briefkasten.storage.layout import validate_key, validate_prefix
from briefkasten.storage.records import CHUNK, atomic_file, sha256_file

#: Multipart part size: S3's minimum is 5 MiB; 8 MiB keeps a 20 MB upload at three parts and
#: the memory of eight concurrent puts (the gateway's executor) near 64 MiB.
PART_SIZE = 8 * 1024 * 1024
SHA256_META = "x-amz-meta-sha256"
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 30.0
RETRIES = 2
PROBE_TIMEOUT = 3.0
_MISSING = {"NoSuchKey", "NoSuchBucket", "NoSuchObject", "NotFound", "ResourceNotFound"}
_EXISTS = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}
#: A conditional create that lost: the key exists (412), or a racing write is in flight (409).
_TAKEN = {"PreconditionFailed", "ConditionalRequestConflict"}


def http_pool(*, connect: float, read: float, retries: int) -> urllib3.PoolManager:
    """A urllib3 pool that gives up quickly: ``retries`` tries on connect errors and 5xx."""
    retry = urllib3.Retry(
        total=retries,
        connect=retries,
        read=0,  # a read timeout already cost READ_TIMEOUT: the job retries, not us
        status=retries,
        backoff_factor=0.2,
        status_forcelist=(500, 502, 503, 504),
    )
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect, read=read),
        retries=retry,
        maxsize=16,
        cert_reqs="CERT_REQUIRED",
    )


class S3Storage:
    """Objects in one S3 bucket, created on first use if missing."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        *,
        access_key: str,
        secret_key: str,
        secure: bool = True,
        region: str | None = None,
        sse: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self._bucket = bucket
        self._sse = SseS3() if sse else None
        self._scheme = "https" if secure else "http"

        def client(pool: urllib3.PoolManager) -> Minio:
            return Minio(
                endpoint,
                access_key=access_key,
                secret_key=secret_key,
                secure=secure,
                region=region,
                http_client=pool,
            )

        self._client = client(
            http_pool(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT, retries=RETRIES)
        )
        self._probe = client(http_pool(connect=PROBE_TIMEOUT, read=PROBE_TIMEOUT, retries=0))
        self._bucket_ready = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Storage({self._scheme}://{self.endpoint}/{self._bucket}, sse={bool(self._sse)})"

    @property
    def bucket(self) -> str:
        return self._bucket

    def put_file(self, key: str, source: Path, *, content_type: str) -> StoredObject:
        with self._translate(f"cannot store {key}"):
            sha256, _ = sha256_file(source)
        return self._upload(key, source, content_type=content_type, sha256=sha256)

    def adopt_file(self, key: str, source: Path, *, content_type: str, sha256: str) -> StoredObject:
        stored = self._upload(key, source, content_type=content_type, sha256=sha256)
        source.unlink(missing_ok=True)
        return stored

    def _upload(self, key: str, source: Path, *, content_type: str, sha256: str) -> StoredObject:
        validate_key(key)
        with self._translate(f"cannot store {key}"):
            size = source.stat().st_size
            self._ensure_bucket(self._client)
            self._client.fput_object(
                self._bucket,
                key,
                str(source),
                content_type=content_type,
                metadata={"sha256": sha256},
                sse=self._sse,
                part_size=PART_SIZE,
                num_parallel_uploads=1,
            )
        return StoredObject(self._bucket, key, sha256, size, content_type)

    def put_bytes(self, key: str, data: bytes, *, content_type: str) -> StoredObject:
        validate_key(key)
        sha256 = hashlib.sha256(data).hexdigest()
        with self._translate(f"cannot store {key}"):
            self._ensure_bucket(self._client)
            self._client.put_object(
                self._bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata={"sha256": sha256},
                sse=self._sse,
                part_size=PART_SIZE,
                num_parallel_uploads=1,
            )
        return StoredObject(self._bucket, key, sha256, len(data), content_type)

    def create_bytes(self, key: str, data: bytes, *, content_type: str) -> bool:
        """``PUT`` with ``If-None-Match: *``: S3 (AWS since 2024, MinIO, SeaweedFS) refuses it
        with 412 when the key exists, atomically. The SDK's ``put_object`` has no way to send
        that header, so this calls its single-request ``_put_object`` (the objects are small
        JSON records; no multipart)."""
        validate_key(key)
        headers: dict[str, str | list[str] | tuple[str]] = {
            "Content-Type": content_type,
            "If-None-Match": "*",
            SHA256_META: hashlib.sha256(data).hexdigest(),
        }
        if self._sse is not None:
            headers.update(self._sse.headers())
        with self._translate(f"cannot store {key}"):
            self._ensure_bucket(self._client)
            try:
                self._client._put_object(self._bucket, key, data, headers=headers)
            except S3Error as exc:
                if exc.code in _TAKEN:
                    return False
                raise
        return True

    def get_file(self, key: str, destination: Path) -> None:
        validate_key(key)
        with (
            self._translate(f"cannot read {key}"),
            self._download(key) as (expected, chunks),
            atomic_file(destination) as writer,
        ):
            digest = hashlib.sha256()
            for chunk in chunks:
                digest.update(chunk)
                writer.write(chunk)
            self._verify(key, expected, digest.hexdigest())

    def get_bytes(self, key: str) -> bytes:
        validate_key(key)
        with self._translate(f"cannot read {key}"), self._download(key) as (expected, chunks):
            data = b"".join(chunks)
        self._verify(key, expected, hashlib.sha256(data).hexdigest())
        return data

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            with self._translate(f"cannot stat {key}"):
                self._client.stat_object(self._bucket, key)
        except NotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        validate_key(key)
        try:
            with self._translate(f"cannot delete {key}"):
                self._client.remove_object(self._bucket, key)
        except NotFound:
            return

    def list(self, prefix: str) -> list[str]:
        validate_prefix(prefix)
        try:
            with self._translate(f"cannot list {prefix or '/'}"):
                objects = self._client.list_objects(self._bucket, prefix=prefix, recursive=True)
                keys = [o.object_name for o in objects if o.object_name and not o.is_dir]
        except NotFound:
            return []  # no bucket yet: nothing stored
        return sorted(keys)

    def check(self) -> None:
        """Probe the server every time (no retry, short timeouts); create the bucket if missing."""
        with self._translate("storage does not answer"):
            if not self._probe.bucket_exists(self._bucket):
                self._bucket_ready = False
            self._ensure_bucket(self._probe)

    def _ensure_bucket(self, client: Minio) -> None:
        if self._bucket_ready:
            return
        with self._lock:
            if self._bucket_ready:
                return
            if not client.bucket_exists(self._bucket):
                try:
                    client.make_bucket(self._bucket)
                except S3Error as exc:
                    if exc.code not in _EXISTS:
                        raise
            self._bucket_ready = True

    @contextlib.contextmanager
    def _download(self, key: str) -> Iterator[tuple[str, Iterator[bytes]]]:
        """The object's recorded SHA-256 and its content in chunks, from one GET."""
        response = self._client.get_object(self._bucket, key)
        try:
            expected = response.headers.get(SHA256_META, "")
            yield expected, response.stream(CHUNK)
        finally:
            response.close()
            response.release_conn()

    def _verify(self, key: str, expected: str, actual: str) -> None:
        if not expected:
            raise StorageError(f"{key} has no sha256 metadata: cannot verify it", source="s3")
        if expected != actual:
            raise StorageError(
                f"{key} is corrupt: SHA-256 {actual[:12]}… does not match {expected[:12]}…",
                source="s3",
            )

    @contextlib.contextmanager
    def _translate(self, what: str) -> Iterator[None]:
        """minio, urllib3 and OS errors → ``StorageError``; a missing object → ``NotFound``."""
        try:
            yield
        except S3Error as exc:
            if exc.code in _MISSING:
                raise NotFound(f"{what}: no such object", source="s3") from exc
            raise StorageError(f"{what}: S3 error {exc.code}", source="s3") from exc
        except MinioException as exc:  # InvalidResponseError, ServerError: a proxy or a 5xx
            raise StorageError(f"{what}: bad answer from {self.endpoint}", source="s3") from exc
        except urllib3.exceptions.HTTPError as exc:
            reason = type(getattr(exc, "reason", None) or exc).__name__
            raise StorageError(
                f"{what}: {self.endpoint} unreachable or failing ({reason})", source="s3"
            ) from exc
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise StorageError(f"{what}: {reason}", source="s3") from exc
