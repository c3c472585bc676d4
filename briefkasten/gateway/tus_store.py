"""The spool of resumable (tus) uploads: one data file and one JSON info file per upload.

Blocking and free of aiohttp, so the gateway runs it in its executor and the submission code
can call it too. Each upload is ``<id>.bin`` (the bytes received so far) and ``<id>.json`` (who
owns it, its length, the committed offset, its metadata, when it expires and, once complete,
the ``IncomingFile`` facts). Ids are ``secrets.token_hex(16)`` and checked against a regex
before any path is built; the directory is 0700, the files 0600.

The info file is the truth: it is replaced atomically (temporary file + rename), and the
offset in it is only advanced after the bytes are on disk. A writer that died mid-request can
leave the data file longer than the recorded offset; the next write truncates it back first.
An upload expires ``expiry_s`` seconds after its last received byte (a sliding window), also
when complete but never sent; ``expire()`` deletes expired uploads and stray files.

Quotas: a new upload reserves its whole ``Upload-Length``. The uploads still in the spool
(unfinished, or complete but not yet sent) of one owner may reserve ``quota_per_owner``
bytes (``QuotaExceeded``, 413: the owner can send or delete its own), of all owners together
``quota`` bytes, and no more than the file system has free (``SpoolFull``, 503 with
``Retry-After``: it frees itself as others finish or expire). The check and the creation
hold one lock, per process: gateways sharing one spool directory can overshoot by the
uploads they create at the same moment. A full disk while writing (``ENOSPC``) is
``SpoolFull`` too; ``tus.py`` truncates the data file back to the recorded offset.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from briefkasten.errors import (
    InputRejected,
    InvalidRequest,
    NotFound,
    PasswordProtected,
    SpoolFull,
)
from briefkasten.gateway.checks import UploadChecks
from briefkasten.gateway.flags import redaction_flag
from briefkasten.gateway.passwords import Unlocked
from briefkasten.gateway.spool import space_checked
from briefkasten.gateway.tus_limits import check_length, quota_check
from briefkasten.intake import IncomingFile
from briefkasten.model import safe_name
from briefkasten.storage.layout import TUS_UPLOAD_ID
from briefkasten.storage.records import atomic_file

log = logging.getLogger("briefkasten.gateway")

UPLOAD_ID = TUS_UPLOAD_ID
#: Temporary files of interrupted info writes are removed after this many seconds.
STALE_TEMP_S = 3600.0
#: The ``Upload-Metadata`` key of the applicant's redaction flag (``true``/``false``).
REDACTED_KEY = "redacted_by_applicant"


@dataclass(frozen=True)
class TusUpload:
    """One upload as recorded: ``offset`` bytes of ``length`` are on disk at ``path``."""

    upload_id: str
    owner: str
    length: int
    offset: int
    name: str
    expires: float  # Unix seconds
    path: Path
    metadata: Mapping[str, str] = field(default_factory=dict)
    incoming: IncomingFile | None = None
    #: A PDF that needs its password (kept until unlocked, deleted, or expired).
    locked: bool = False

    @property
    def complete(self) -> bool:
        """All bytes arrived (the file may still wait for ``TusStore.finish``)."""
        return self.offset == self.length

    @property
    def redacted_by_applicant(self) -> bool:
        """The metadata's flag (checked at creation: ``tus.create`` refuses other values)."""
        return redaction_flag(self.metadata.get(REDACTED_KEY, "false"))


class TusBackend(Protocol):
    """Where unfinished uploads live: this ``TusStore`` (one gateway's spool, the embedded
    default) or ``tus_objects.ObjectTusStore`` (the object storage every gateway shares).
    Blocking; the handlers run it in the gateway's executor."""

    max_bytes: int

    def create(self, owner: str, length: int, metadata: dict[str, str]) -> TusUpload: ...

    def get(self, owner: str, upload_id: str) -> TusUpload: ...

    def chunk_file(self, upload: TusUpload) -> tuple[Path, int]:
        """Where a ``PATCH`` at ``upload.offset`` writes: a file and the position to seek to."""
        ...

    def commit(self, owner: str, upload_id: str, start: int, end: int) -> TusUpload:
        """Bytes ``start..end`` are in ``chunk_file``'s file (flushed): record them."""
        ...

    def truncate(self, owner: str, upload_id: str) -> None:
        """Drop what a failed or refused write left in the chunk file."""
        ...

    def finish(self, owner: str, upload_id: str, checks: UploadChecks) -> IncomingFile: ...

    def completed(self, owner: str, upload_id: str) -> IncomingFile: ...

    def delete(self, owner: str, upload_id: str) -> None: ...

    def expire(self, now: float | None = None) -> int: ...


class TusStore:
    """Unfinished and finished tus uploads under ``directory``, per owner."""

    def __init__(
        self,
        directory: Path,
        *,
        expiry_s: float,
        max_bytes: int,
        quota_per_owner: int = 0,
        quota: int = 0,
    ) -> None:
        self.directory = directory
        self.expiry_s = expiry_s
        self.max_bytes = max_bytes
        self.quota_per_owner = quota_per_owner  # 0: no quota
        self.quota = quota
        self._creating = threading.Lock()

    def create(self, owner: str, length: int, metadata: dict[str, str]) -> TusUpload:
        """A new, empty upload of ``length`` bytes; the client's file name is sanitised."""
        check_length(length, self.max_bytes)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)  # made when first needed
        with self._creating, space_checked("cannot create an upload"):
            self._check_quota(owner, length)
            return self._create(owner, length, metadata)

    def reserved(self) -> tuple[dict[str, int], int]:
        """Bytes reserved by the uploads in the spool (not expired) per owner, and how many of
        all of them are still to come (reserved but not yet written)."""
        totals: dict[str, int] = {}
        pending = 0
        if not self.directory.is_dir():
            return totals, pending
        now = time.time()
        for path in self.directory.glob("*.json"):
            try:
                info = json.loads(path.read_text(encoding="utf-8"))
                if float(info["expires"]) > now:
                    owner = str(info["owner"])
                    totals[owner] = totals.get(owner, 0) + int(info["length"])
                    pending += int(info["length"]) - int(info["offset"])
            except (OSError, ValueError, KeyError, TypeError):
                continue  # removed meanwhile, or unreadable: expire() reports it
        return totals, pending

    def _check_quota(self, owner: str, length: int) -> None:
        totals, pending = self.reserved()
        quota_check(owner, length, totals, self.quota_per_owner, self.quota)
        if shutil.disk_usage(self.directory).free < pending + length:
            raise SpoolFull("the spool file system has no room for this upload")

    def _create(self, owner: str, length: int, metadata: dict[str, str]) -> TusUpload:
        upload_id = secrets.token_hex(16)
        data, _ = self._paths(upload_id)
        os.close(os.open(data, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        info = {
            "upload_id": upload_id,
            "owner": owner,
            "length": length,
            "offset": 0,
            "name": safe_name(metadata.get("filename") or metadata.get("name") or "upload"),
            "metadata": dict(metadata),
            "created": time.time(),
            "expires": time.time() + self.expiry_s,
            "incoming": None,
        }
        try:
            self._write(upload_id, info)
        except BaseException:
            data.unlink(missing_ok=True)
            raise
        return self._upload(info)

    def get(self, owner: str, upload_id: str) -> TusUpload:
        """The upload; ``NotFound`` if it is absent, expired or someone else's."""
        return self._upload(self._load(owner, upload_id))

    def advance(self, owner: str, upload_id: str, offset: int) -> TusUpload:
        """Record that ``offset`` bytes are on disk (they are flushed) and renew the expiry."""
        info = self._load(owner, upload_id)
        if not 0 <= offset <= info["length"]:
            raise InvalidRequest(f"offset {offset} is outside 0..{info['length']}")
        info["offset"] = offset
        info["expires"] = time.time() + self.expiry_s
        with space_checked("cannot record an upload's offset"):
            self._write(upload_id, info)
        return self._upload(info)

    def chunk_file(self, upload: TusUpload) -> tuple[Path, int]:
        """The upload's data file, written at its recorded offset."""
        return upload.path, upload.offset

    def commit(self, owner: str, upload_id: str, start: int, end: int) -> TusUpload:
        """The data file holds ``end`` bytes now (``start`` was the offset written at)."""
        return self.advance(owner, upload_id, end)

    def truncate(self, owner: str, upload_id: str) -> None:
        """Cut the data file back to the recorded offset (after a failed or refused write)."""
        info = self._load(owner, upload_id, expired_ok=True)
        data, _ = self._paths(upload_id)
        os.truncate(data, info["offset"])

    def finish(self, owner: str, upload_id: str, checks: UploadChecks) -> IncomingFile:
        """Hash and sniff (``checks.sniff(path)``, sandboxed) a complete upload and record it;
        a rejected file is deleted."""
        info = self._load(owner, upload_id)
        if info["offset"] != info["length"]:
            raise InvalidRequest(f"upload {upload_id} is not complete")
        data, _ = self._paths(upload_id)
        try:
            sniffed = checks.sniff(data)
        except PasswordProtected:  # kept, for its password (``unlocked``) until it expires
            info["locked"] = True
            with space_checked("cannot record a locked upload"):
                self._write(upload_id, info)
            raise
        except InputRejected:
            self.delete(owner, upload_id)
            raise
        return self._record(upload_id, info, sniffed.media_type, len(sniffed.kinds))

    def locked_file(self, owner: str, upload_id: str) -> tuple[Path, Path]:
        """A locked upload's data file and where its decrypted copy goes; ``InvalidRequest``
        for an upload that is not (or no longer) locked."""
        info = self._load(owner, upload_id)
        if not info.get("locked") or info.get("incoming"):
            raise InvalidRequest(f"upload {upload_id} is not a locked PDF")
        data, _ = self._paths(upload_id)
        return data, data.with_suffix(".dec")

    def unlocked(self, owner: str, upload_id: str, unlocked: Unlocked) -> IncomingFile:
        """Record a locked upload as complete, with its decrypted copy (written to
        ``locked_file``'s destination)."""
        info = self._load(owner, upload_id)
        decrypted = {"decrypted_sha256": unlocked.sha256, "decrypted_size": unlocked.size}
        pages = len(unlocked.sniffed.kinds)
        return self._record(upload_id, info, unlocked.sniffed.media_type, pages, decrypted)

    def _record(
        self,
        upload_id: str,
        info: dict[str, Any],
        media_type: str,
        pages: int,
        decrypted: dict[str, Any] | None = None,
    ) -> IncomingFile:
        data, _ = self._paths(upload_id)
        with data.open("rb") as handle:
            sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
        facts = {"name": info["name"], "sha256": sha256, "size": info["length"]}
        facts["redacted_by_applicant"] = self._upload(info).redacted_by_applicant
        info["incoming"] = {**facts, "media_type": media_type, "pages": pages, **(decrypted or {})}
        with space_checked("cannot record a complete upload"):
            self._write(upload_id, info)
        incoming = self._upload(info).incoming
        assert incoming is not None
        return incoming

    def completed(self, owner: str, upload_id: str) -> IncomingFile:
        """The finished, checked file; ``InvalidRequest`` while bytes are still missing."""
        upload = self.get(owner, upload_id)
        if upload.incoming is None and upload.locked:
            raise PasswordProtected(f"upload {upload_id} waits for its password")
        if upload.incoming is None:
            raise InvalidRequest(f"upload {upload_id} is not complete")
        return upload.incoming

    def delete(self, owner: str, upload_id: str) -> None:
        """Remove the upload (its data file may already be gone: Intake adopts it by rename)."""
        self._load(owner, upload_id, expired_ok=True)
        self._remove(upload_id)

    def expire(self, now: float | None = None) -> int:
        """Delete expired uploads and stray files; the number of uploads deleted."""
        now = time.time() if now is None else now
        removed = 0
        if not self.directory.is_dir():
            return 0
        for path in self.directory.iterdir():
            upload_id, _, suffix = path.name.lstrip(".").partition(".")  # .<id>.json.*.tmp too
            if not UPLOAD_ID.match(upload_id):
                continue
            try:
                if suffix == "json":
                    expires = float(json.loads(path.read_text(encoding="utf-8"))["expires"])
                    if expires <= now:
                        self._remove(upload_id)
                        removed += 1
                elif suffix in ("bin", "dec") and not path.with_suffix(".json").exists():
                    if path.stat().st_mtime + self.expiry_s <= now:  # info never written
                        path.unlink(missing_ok=True)
                        removed += 1
                elif suffix.endswith("tmp") and path.stat().st_mtime + STALE_TEMP_S <= now:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                continue  # removed meanwhile
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("tus spool: cannot check %s: %s", path.name, exc)
        if removed:
            log.info("tus spool: deleted %d expired upload(s)", removed)
        return removed

    # --- files -------------------------------------------------------------------------------

    def _paths(self, upload_id: str) -> tuple[Path, Path]:
        if not UPLOAD_ID.match(upload_id):
            raise NotFound("no such upload")
        return self.directory / f"{upload_id}.bin", self.directory / f"{upload_id}.json"

    def _load(self, owner: str, upload_id: str, *, expired_ok: bool = False) -> dict[str, Any]:
        _, info_path = self._paths(upload_id)
        try:
            info: dict[str, Any] = json.loads(info_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFound("no such upload") from None
        except ValueError as exc:
            log.warning("tus spool: unreadable info file %s: %s", info_path.name, exc)
            raise NotFound("no such upload") from None
        if info.get("owner") != owner:
            raise NotFound("no such upload")  # never reveal that someone else's exists
        if not expired_ok and info["expires"] <= time.time():
            raise NotFound("upload has expired")
        return info

    def _write(self, upload_id: str, info: dict[str, Any]) -> None:
        _, final = self._paths(upload_id)
        with atomic_file(final) as writer:  # a temp file .<id>.json.*.tmp, mode 0600
            writer.write(json.dumps(info).encode("utf-8"))

    def _remove(self, upload_id: str) -> None:
        data, info = self._paths(upload_id)
        info.unlink(missing_ok=True)  # first: without it the upload no longer exists
        data.unlink(missing_ok=True)
        data.with_suffix(".dec").unlink(missing_ok=True)  # a locked PDF's decrypted copy

    def _upload(self, info: dict[str, Any]) -> TusUpload:
        data, _ = self._paths(info["upload_id"])
        recorded = dict(info.get("incoming") or {})
        if recorded.get("decrypted_sha256"):
            recorded["decrypted"] = data.with_suffix(".dec")
        incoming = IncomingFile(path=data, **recorded) if recorded else None
        return TusUpload(
            upload_id=info["upload_id"],
            owner=info["owner"],
            length=info["length"],
            offset=info["offset"],
            name=info["name"],
            expires=info["expires"],
            path=data,
            metadata=dict(info.get("metadata") or {}),
            incoming=incoming,
            locked=bool(info.get("locked")),
        )
