"""``memory://name``: the in-package test double of the storage protocol.

Objects live in a dict guarded by a lock (the gateway calls storage from a thread pool).
Each ``open_storage("memory://…")`` gives a new, empty store; nothing survives the process.
It follows the same contract as the real adapters (key validation, ``NotFound``, sorted
``list``), so unit tests of the layers above need no server.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from briefkasten.errors import NotFound, StorageError
from briefkasten.storage.base import StoredObject
from briefkasten.storage.layout import validate_key, validate_prefix


class MemoryStorage:
    """Objects in memory, one ``bucket`` name for the ``StoredObject`` references."""

    def __init__(self, bucket: str) -> None:
        self._bucket = bucket
        self._objects: dict[str, tuple[bytes, StoredObject]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryStorage(bucket={self._bucket!r}, objects={len(self._objects)})"

    @property
    def bucket(self) -> str:
        return self._bucket

    def put_file(self, key: str, source: Path, *, content_type: str) -> StoredObject:
        validate_key(key)
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise StorageError(f"cannot read {source}: {exc.strerror}", source="memory") from exc
        return self.put_bytes(key, data, content_type=content_type)

    def adopt_file(self, key: str, source: Path, *, content_type: str, sha256: str) -> StoredObject:
        stored = self.put_file(key, source, content_type=content_type)
        source.unlink(missing_ok=True)
        return stored

    def put_bytes(self, key: str, data: bytes, *, content_type: str) -> StoredObject:
        validate_key(key)
        data = bytes(data)
        stored = StoredObject(
            self._bucket, key, hashlib.sha256(data).hexdigest(), len(data), content_type
        )
        with self._lock:
            self._objects[key] = (data, stored)
        return stored

    def create_bytes(self, key: str, data: bytes, *, content_type: str) -> bool:
        validate_key(key)
        data = bytes(data)
        stored = StoredObject(
            self._bucket, key, hashlib.sha256(data).hexdigest(), len(data), content_type
        )
        with self._lock:
            if key in self._objects:
                return False
            self._objects[key] = (data, stored)
        return True

    def get_file(self, key: str, destination: Path) -> None:
        data = self.get_bytes(key)
        try:
            destination.write_bytes(data)
        except OSError as exc:
            raise StorageError(
                f"cannot write {destination}: {exc.strerror}", source="memory"
            ) from exc

    def get_bytes(self, key: str) -> bytes:
        validate_key(key)
        with self._lock:
            entry = self._objects.get(key)
        if entry is None:
            raise NotFound(f"no object {key}", source="memory")
        return entry[0]

    def exists(self, key: str) -> bool:
        validate_key(key)
        with self._lock:
            return key in self._objects

    def delete(self, key: str) -> None:
        validate_key(key)
        with self._lock:
            self._objects.pop(key, None)

    def list(self, prefix: str) -> list[str]:
        validate_prefix(prefix)
        with self._lock:
            return sorted(k for k in self._objects if k.startswith(prefix))

    def check(self) -> None:
        return None
