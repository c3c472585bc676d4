"""The storage protocol: originals and results as objects under keys, in one bucket.

Adapters: ``files`` (embedded default, a directory) and ``s3`` (any S3: MinIO in production,
SeaweedFS in the tests). All methods are blocking; the gateway calls them in an executor. Every
adapter translates its own exceptions into ``StorageError`` (temporary: retry later) or
``NotFound``; nothing above this package sees ``OSError`` or ``S3Error``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class StoredObject:
    """Where an object lives and what it is: the contract's ``{bucket, key, sha256, size}``."""

    bucket: str
    key: str
    sha256: str
    size: int
    content_type: str

    def to_contract(self) -> dict[str, object]:
        return {"bucket": self.bucket, "key": self.key, "sha256": self.sha256, "size": self.size}


class Storage(Protocol):
    """Objects in one bucket. Keys are ``/``-separated, made by ``storage.layout`` only."""

    @property
    def bucket(self) -> str: ...

    def put_file(self, key: str, source: Path, *, content_type: str) -> StoredObject:
        """Store the file at ``source`` durably under ``key`` (atomic: all or nothing)."""
        ...

    def adopt_file(self, key: str, source: Path, *, content_type: str, sha256: str) -> StoredObject:
        """Store ``source`` under ``key`` and take it over: afterwards ``source`` is gone.

        ``sha256`` is the caller's hash of exactly these bytes (the gateway hashes uploads as
        they stream in), so adapters need not read the file again; file storage moves it into
        place instead of copying it. Durable and atomic like ``put_file``.
        """
        ...

    def put_bytes(self, key: str, data: bytes, *, content_type: str) -> StoredObject: ...

    def create_bytes(self, key: str, data: bytes, *, content_type: str) -> bool:
        """Store ``data`` under ``key`` only if there is no object yet, atomically: of writers
        racing for one key (threads, gateways) exactly one gets ``True``, the others ``False``
        and the object stays the winner's. Durable like ``put_bytes``. (Files: ``link(2)`` of
        a written temp file; S3: ``PUT`` with ``If-None-Match: *``.)"""
        ...

    def get_file(self, key: str, destination: Path) -> None:
        """Copy the object to ``destination``; ``NotFound`` if there is none."""
        ...

    def get_bytes(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the object; no error if it is already gone."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Every key starting with ``prefix``, sorted."""
        ...

    def check(self) -> None:
        """Raise ``StorageError`` unless the storage answers (readiness probe)."""
        ...
