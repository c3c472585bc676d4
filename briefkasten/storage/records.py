"""Small helpers every store uses: an atomic file write, a file's SHA-256, JSON records.

- ``atomic_file(path)``: write a hidden temp file next to ``path`` and rename it over ``path``
  only if the block finishes; with ``durable`` the file and its directory are fsynced too.
- ``sha256_file(path)``: the hex SHA-256 and the size of a file, read in 1 MiB chunks.
- ``get_json`` / ``load_json`` / ``put_json``: a JSON object stored under a key (a manifest,
  a status, a marker, a link record …); always ``application/json``, UTF-8.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from briefkasten.errors import BriefkastenError, NotFound
from briefkasten.storage.base import Storage, StoredObject
from briefkasten.storage.durable import fsync_dir

CHUNK = 1024 * 1024
JSON = "application/json"


@contextlib.contextmanager
def atomic_file(destination: Path, *, durable: bool = False) -> Iterator[BinaryIO]:
    """A writer whose bytes appear at ``destination`` all at once when the block ends, or not
    at all (the temp file is removed if the block raises). ``durable``: fsync the file before
    the rename and the directory after it (survives a crash)."""
    fd, temp_name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent
    )
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as writer:
            yield writer
            if durable:
                writer.flush()
                os.fsync(writer.fileno())
        temp.replace(destination)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(destination.parent)


def sha256_file(path: Path) -> tuple[str, int]:
    """The hex SHA-256 of the file at ``path`` and its size in bytes."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def get_json(storage: Storage, key: str) -> dict[str, Any] | None:
    """The JSON object stored under ``key``, or ``None`` if there is none; ``ValueError`` if
    the object is not a JSON object."""
    try:
        return load_json(storage, key)
    except NotFound:
        return None


def load_json(storage: Storage, key: str) -> dict[str, Any]:
    """The JSON object stored under ``key``; ``NotFound`` if there is none, ``ValueError`` if
    it is not a JSON object."""
    data = json.loads(storage.get_bytes(key))
    if not isinstance(data, dict):
        raise ValueError(f"{key} is not a JSON object")
    return data


def put_json(
    storage: Storage,
    key: str,
    data: dict[str, Any],
    *,
    ensure_ascii: bool = True,
    sort_keys: bool = False,
) -> StoredObject:
    """Store ``data`` under ``key`` as compact JSON (``json.dumps`` with these options)."""
    body = json.dumps(data, ensure_ascii=ensure_ascii, sort_keys=sort_keys).encode("utf-8")
    return storage.put_bytes(key, body, content_type=JSON)


def create_json(
    storage: Storage, key: str, data: dict[str, Any], *, ensure_ascii: bool = True
) -> bool:
    """Store ``data`` under ``key`` only if there is no object there yet (atomic across
    processes: ``Storage.create_bytes``); ``False`` if there was one (left as it is)."""
    body = json.dumps(data, ensure_ascii=ensure_ascii).encode("utf-8")
    return storage.create_bytes(key, body, content_type=JSON)


def claim_json(
    storage: Storage, key: str, data: dict[str, Any], *, take_over: Callable[[], bool]
) -> bool:
    """Create ``key`` with ``data`` if absent (atomic), else overwrite the object there if
    ``take_over()`` says it is a leftover; ``False``: it is left to its holder."""
    if create_json(storage, key, data, ensure_ascii=False):
        return True
    if not take_over():
        return False
    put_json(storage, key, data, ensure_ascii=False)
    return True


def drop_json_if(storage: Storage, key: str, name: str, value: object) -> None:
    """Delete the JSON object at ``key`` if its ``name`` is ``value``; best effort, never raises."""
    with contextlib.suppress(BriefkastenError, ValueError):
        if (get_json(storage, key) or {}).get(name) == value:
            storage.delete(key)
