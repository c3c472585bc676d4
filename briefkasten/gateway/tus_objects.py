"""Resumable (tus) uploads in the object storage every gateway shares (``tus_store = "storage"``).

Any gateway answers ``HEAD`` and ``PATCH`` for any upload, so a phone that loses its
connection may resume through another gateway behind a load balancer without sticky routing.
An upload is a few objects under ``_tus/<tenant>/<owner>/<id>/`` (``storage.layout``):

- ``info-<length>-<created ms>.json``, written once at creation: owner, length, name, metadata;
- ``part-<start>-<end>-<written ms>``, one per ``PATCH`` (or an interrupted one's), never rewritten;
- ``complete-<ms>.json``, once all bytes arrived and were sniffed and hashed.

There is nothing to update in place, so no object needs a compare-and-swap: the offset is the
end of the longest run of parts from byte 0 (``longest_run``), and the expiry runs from the newest
object's time, both read off one ``list``. Two gateways writing the same upload at the same
moment (a client that gave up on a stalled request and resumed elsewhere) each add a part; tus
clients send the same bytes for the same offsets, so either run is right and the longer wins.
A ``PATCH`` streams into a chunk file in this gateway's staging directory, which is stored as
the part when the request ends. ``finish`` and ``completed`` assemble the parts into one local
file, the ``IncomingFile`` the submission code adopts; a gateway that did not receive the bytes
assembles them again and checks the recorded SHA-256.

Records never change, so the last ones read are cached. Quotas are those of the spool store,
counted from the listing (per process, like there: simultaneous creations can overshoot).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from briefkasten.errors import (
    InputRejected,
    InvalidRequest,
    NotFound,
    PasswordProtected,
    StorageError,
)
from briefkasten.gateway.checks import UploadChecks
from briefkasten.gateway.passwords import Unlocked
from briefkasten.gateway.tus_limits import check_length, quota_check
from briefkasten.gateway.tus_listing import Listed, read_listing
from briefkasten.gateway.tus_listing import longest_run as longest_run  # re-exported
from briefkasten.gateway.tus_store import UPLOAD_ID, TusUpload
from briefkasten.intake import IncomingFile
from briefkasten.model import safe_name
from briefkasten.storage import layout
from briefkasten.storage.base import Storage

log = logging.getLogger("briefkasten.gateway")

#: Info and completion records kept in memory (they never change once written).
RECORD_CACHE = 1024
#: Staging files younger than this are never swept (a request may be about to use them).
STAGING_GRACE_S = 300.0


class ObjectTusStore:
    """Unfinished and finished tus uploads as objects in ``storage``, per owner."""

    def __init__(
        self,
        storage: Storage,
        staging: Path,
        *,
        expiry_s: float,
        max_bytes: int,
        quota_per_owner: int = 0,
        quota: int = 0,
    ) -> None:
        self.storage = storage
        self.staging = staging
        self.expiry_s = expiry_s
        self.max_bytes = max_bytes
        self.quota_per_owner = quota_per_owner  # 0: no quota
        self.quota = quota
        self._creating = threading.Lock()
        self._records: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def create(self, owner: str, length: int, metadata: dict[str, str]) -> TusUpload:
        """A new, empty upload of ``length`` bytes; the client's file name is sanitised."""
        check_length(length, self.max_bytes)
        upload_id = secrets.token_hex(16)
        prefix = self._prefix(owner, upload_id)
        created_ms = _now_ms()
        info = {
            "upload_id": upload_id,
            "owner": owner,
            "length": length,
            "name": safe_name(metadata.get("filename") or metadata.get("name") or "upload"),
            "metadata": dict(metadata),
        }
        with self._creating:
            totals, _ = self.reserved()
            quota_check(owner, length, totals, self.quota_per_owner, self.quota)
            key = layout.tus_info_key(prefix, length, created_ms)
            self.storage.put_bytes(
                key, json.dumps(info).encode("utf-8"), content_type="application/json"
            )
        self._remember(key, info)
        return self._upload(info, offset=0, newest_ms=created_ms, incoming=None)

    def reserved(self) -> tuple[dict[str, int], int]:
        """Bytes reserved by the uploads not yet expired, per owner, and how many of all of
        them are still to come."""
        totals: dict[str, int] = {}
        pending = 0
        now_ms = _now_ms()
        for owner_and_id, listed in self._all().items():
            if listed.info_key and listed.newest_ms + self.expiry_s * 1000 > now_ms:
                owner = owner_and_id.rsplit("/", 1)[0]
                totals[owner] = totals.get(owner, 0) + listed.length
                pending += listed.length - listed.offset
        return totals, pending

    def get(self, owner: str, upload_id: str) -> TusUpload:
        """The upload; ``NotFound`` if it is absent, expired or someone else's."""
        return self._get(owner, upload_id, expired_ok=False)[0]

    def chunk_file(self, upload: TusUpload) -> tuple[Path, int]:
        """An empty staging file for the bytes from ``upload.offset`` on (one per upload and
        offset: this gateway's lock lets one request at a time write an upload)."""
        path = self._chunk_path(upload.upload_id, upload.offset)
        self.staging.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        return path, 0

    def commit(self, owner: str, upload_id: str, start: int, end: int) -> TusUpload:
        """Store the chunk file's ``end - start`` bytes as the part ``start..end``."""
        chunk = self._chunk_path(upload_id, start)
        try:
            upload, listed = self._get(owner, upload_id, expired_ok=False)
            if not 0 <= start <= end <= upload.length:
                raise InvalidRequest(f"bytes {start}..{end} are outside 0..{upload.length}")
            if end > start:
                if chunk.stat().st_size != end - start:
                    raise StorageError("the chunk file does not hold the bytes received")
                key = layout.tus_part_key(self._prefix(owner, upload_id), start, end, _now_ms())
                self.storage.put_file(key, chunk, content_type="application/octet-stream")
                listed.parts.append((start, end, key))
                listed.newest_ms = _now_ms()
        finally:
            chunk.unlink(missing_ok=True)
        return dataclasses.replace(
            upload, offset=listed.offset, expires=listed.newest_ms / 1000 + self.expiry_s
        )

    def truncate(self, owner: str, upload_id: str) -> None:
        """Forget what a failed or refused request left in this gateway's chunk files."""
        for path in self.staging.glob(f"{upload_id}.*.part"):
            path.unlink(missing_ok=True)

    def finish(self, owner: str, upload_id: str, checks: UploadChecks) -> IncomingFile:
        """Assemble a complete upload, sniff (sandboxed) and hash it, record it; a rejected
        file is deleted."""
        upload, listed = self._get(owner, upload_id, expired_ok=False)
        if not upload.complete:
            raise InvalidRequest(f"upload {upload_id} is not complete")
        sha256 = self._assemble(listed, upload.path)
        prefix = self._prefix(owner, upload_id)
        try:
            sniffed = checks.sniff(upload.path)
        except PasswordProtected:  # kept, for its password (``unlocked``) until it expires
            locked = layout.tus_locked_key(prefix, _now_ms())
            self.storage.put_bytes(locked, b"{}", content_type="application/json")
            raise
        except InputRejected:
            self.delete(owner, upload_id)
            raise
        facts: dict[str, Any] = {"name": upload.name, "sha256": sha256, "size": upload.length}
        facts |= {"media_type": sniffed.media_type, "pages": len(sniffed.kinds)}
        facts["redacted_by_applicant"] = upload.redacted_by_applicant
        self._complete(prefix, facts)
        return IncomingFile(path=upload.path, **facts)

    def locked_file(self, owner: str, upload_id: str) -> tuple[Path, Path]:
        """A locked upload's file (assembled here if another gateway received it) and where
        its decrypted copy goes; ``InvalidRequest`` for an upload that is not locked."""
        upload, listed = self._get(owner, upload_id, expired_ok=False)
        if not listed.locked_key or upload.incoming is not None:
            raise InvalidRequest(f"upload {upload_id} is not a locked PDF")
        if not (upload.path.is_file() and upload.path.stat().st_size == upload.length):
            self._assemble(listed, upload.path)
        return upload.path, upload.path.with_suffix(".dec")

    def unlocked(self, owner: str, upload_id: str, unlocked: Unlocked) -> IncomingFile:
        """Store a locked upload's decrypted copy beside its parts (every gateway may send
        it) and record the upload as complete."""
        upload, _ = self._get(owner, upload_id, expired_ok=False)
        prefix = self._prefix(owner, upload_id)
        copy = layout.tus_decrypted_key(prefix, _now_ms())
        self.storage.put_file(copy, unlocked.path, content_type="application/pdf")
        with upload.path.open("rb") as handle:
            sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
        facts: dict[str, Any] = {"name": upload.name, "sha256": sha256, "size": upload.length}
        facts.update(media_type=unlocked.sniffed.media_type, pages=len(unlocked.sniffed.kinds))
        facts.update(decrypted_sha256=unlocked.sha256, decrypted_size=unlocked.size)
        facts["redacted_by_applicant"] = upload.redacted_by_applicant
        self._complete(prefix, facts)
        return IncomingFile(path=upload.path, decrypted=unlocked.path, **facts)

    def _complete(self, prefix: str, facts: dict[str, Any]) -> None:
        self.storage.put_bytes(
            layout.tus_complete_key(prefix, _now_ms()),
            json.dumps(facts).encode("utf-8"),
            content_type="application/json",
        )

    def completed(self, owner: str, upload_id: str) -> IncomingFile:
        """The finished, checked file, assembled here if another gateway received it;
        ``InvalidRequest`` while bytes are still missing."""
        upload, listed = self._get(owner, upload_id, expired_ok=False)
        incoming = upload.incoming
        if incoming is None and upload.locked:
            raise PasswordProtected(f"upload {upload_id} waits for its password")
        if incoming is None:
            raise InvalidRequest(f"upload {upload_id} is not complete")
        here = incoming.path.is_file() and incoming.path.stat().st_size == incoming.size
        if not here and self._assemble(listed, incoming.path) != incoming.sha256:
            incoming.path.unlink(missing_ok=True)
            raise StorageError(f"tus upload {upload_id}: stored parts do not match its hash")
        if incoming.decrypted is not None and not incoming.decrypted.is_file():
            self.storage.get_file(listed.decrypted_key, incoming.decrypted)
        return incoming

    def delete(self, owner: str, upload_id: str) -> None:
        """Remove the upload: its info record first (then it no longer exists), the rest after."""
        listed = self._list(owner, upload_id)
        if not listed.info_key:
            raise NotFound("no such upload")
        self._remove(listed)
        self.truncate(owner, upload_id)
        self._assembled_path(upload_id).unlink(missing_ok=True)
        self._assembled_path(upload_id).with_suffix(".dec").unlink(missing_ok=True)

    def expire(self, now: float | None = None) -> int:
        """Delete expired uploads, the parts of uploads whose info record is gone, and staging
        files of uploads that no longer exist; the number of uploads deleted."""
        now_ms = int((time.time() if now is None else now) * 1000)
        removed = 0
        alive: set[str] = set()
        for owner_and_id, listed in self._all().items():
            upload_id = owner_and_id.rsplit("/", 1)[1]
            expired = listed.newest_ms + self.expiry_s * 1000 <= now_ms
            if listed.info_key and not expired:
                alive.add(upload_id)
                continue
            try:
                self._remove(listed)
            except StorageError as exc:
                log.warning("tus objects: cannot delete an expired upload: %s", exc)
                continue
            removed += 1 if listed.info_key else 0
        self._sweep_staging(alive, now_ms / 1000)
        if removed:
            log.info("tus objects: deleted %d expired upload(s)", removed)
        return removed

    # --- objects -----------------------------------------------------------------------------

    def _get(self, owner: str, upload_id: str, *, expired_ok: bool) -> tuple[TusUpload, Listed]:
        listed = self._list(owner, upload_id)
        if not listed.info_key:
            raise NotFound("no such upload")
        if not expired_ok and listed.newest_ms + self.expiry_s * 1000 <= _now_ms():
            raise NotFound("upload has expired")
        incoming = self._record(listed.complete_key) if listed.complete_key else None
        info = self._record(listed.info_key)
        upload = self._upload(info, listed.offset, listed.newest_ms, incoming)
        return dataclasses.replace(upload, locked=bool(listed.locked_key)), listed

    def _record(self, key: str) -> dict[str, Any]:
        """An info or completion record. Both are written once and never change (a key names
        one version), so the last ``RECORD_CACHE`` read are kept: a ``HEAD`` or ``PATCH`` then
        costs one ``LIST``; whether the upload still exists is the listing's to say."""
        with self._cache_lock:
            cached = self._records.get(key)
            if cached is not None:
                self._records.move_to_end(key)
                return cached
        try:
            record: dict[str, Any] = json.loads(self.storage.get_bytes(key))
        except ValueError:
            raise NotFound("no such upload") from None
        self._remember(key, record)
        return record

    def _remember(self, key: str, record: dict[str, Any]) -> None:
        with self._cache_lock:
            self._records[key] = record
            while len(self._records) > RECORD_CACHE:
                self._records.popitem(last=False)

    def _list(self, owner: str, upload_id: str) -> Listed:
        prefix = self._prefix(owner, upload_id)
        return read_listing(self.storage.list(prefix)).get(f"{owner}/{upload_id}", Listed())

    def _all(self) -> dict[str, Listed]:
        return read_listing(self.storage.list(layout.TUS_PREFIX))

    def _remove(self, listed: Listed) -> None:
        if listed.info_key:
            self.storage.delete(listed.info_key)
        for key in listed.keys:
            if key != listed.info_key:
                self.storage.delete(key)

    def _assemble(self, listed: Listed, destination: Path) -> str:
        """The run of parts, in order, into ``destination`` (atomically); its SHA-256."""
        self.staging.mkdir(parents=True, exist_ok=True, mode=0o700)
        digest = hashlib.sha256()
        temporary = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.tmp")
        piece = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.piece")
        try:
            with temporary.open("xb") as out:
                temporary.chmod(0o600)
                for start, _end, key in listed.run():
                    self.storage.get_file(key, piece)
                    if out.tell() != start:
                        raise StorageError("tus parts do not form one run")
                    with piece.open("rb") as part:
                        while block := part.read(1024 * 1024):
                            digest.update(block)
                            out.write(block)
                    piece.unlink()
                out.flush()
                os.fsync(out.fileno())
            temporary.replace(destination)
        finally:
            temporary.unlink(missing_ok=True)
            piece.unlink(missing_ok=True)
        return digest.hexdigest()

    def _sweep_staging(self, alive: set[str], now: float) -> None:
        if not self.staging.is_dir():
            return
        for path in self.staging.iterdir():
            upload_id = path.name.lstrip(".").split(".", 1)[0]
            try:
                if upload_id not in alive and path.stat().st_mtime + STAGING_GRACE_S <= now:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                continue

    def _prefix(self, owner: str, upload_id: str) -> str:
        if not UPLOAD_ID.match(upload_id):
            raise NotFound("no such upload")
        tenant, _, who = owner.partition("/")
        return layout.tus_upload_prefix(tenant, who, upload_id)

    def _chunk_path(self, upload_id: str, start: int) -> Path:
        return self.staging / f"{upload_id}.{start}.part"

    def _assembled_path(self, upload_id: str) -> Path:
        return self.staging / f"{upload_id}.bin"

    def _upload(
        self, info: dict[str, Any], offset: int, newest_ms: int, incoming: dict[str, Any] | None
    ) -> TusUpload:
        path = self._assembled_path(info["upload_id"])
        return TusUpload(
            upload_id=info["upload_id"],
            owner=info["owner"],
            length=info["length"],
            offset=offset,
            name=info["name"],
            expires=newest_ms / 1000 + self.expiry_s,
            path=path,
            metadata=dict(info.get("metadata") or {}),
            incoming=IncomingFile(path=path, **incoming, **_decrypted(path, incoming))
            if incoming
            else None,
        )


def _decrypted(path: Path, facts: dict[str, Any]) -> dict[str, Any]:
    """A locked PDF's decrypted copy beside its assembled file, once it was opened."""
    return {"decrypted": path.with_suffix(".dec")} if facts.get("decrypted_sha256") else {}


def _now_ms() -> int:
    return int(time.time() * 1000)
