"""Trying the password of a locked PDF: three wrong tries per upload, counted on every gateway.

A PDF with a user password (``PasswordProtected``, code ``pdf_password_required``) is opened
once with the password the applicant gives (``UploadChecks.unlock``: pikepdf in a sandboxed
child) into a decrypted copy beside the untouched original. Wrong tries are counted per upload
in ``shared.SharedState``, in Redis when ``gateway.rate_limit_storage`` names one (every
gateway sees the same count), else in this process: the third wrong one is
``PdfPasswordAttemptsExceeded`` and the caller discards the upload; a right one after one or
two wrong ones opens it. A multipart upload counts per owner and SHA-256 of the file, so that
sending the same file again does not start the count afresh.

The password is an argument and nothing else: it is never logged, never part of an error
message, a metric, a file name or a record, and the decrypted copy is written by the child.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from limits import RateLimitItemPerDay

from briefkasten.errors import PdfPasswordAttemptsExceeded, PdfPasswordWrong
from briefkasten.gateway.checks import UploadChecks
from briefkasten.gateway.shared import SharedState
from briefkasten.intake import IncomingFile
from briefkasten.pipeline.sniff import Sniffed

#: Wrong passwords one upload may receive; the last of them discards it.
MAX_WRONG = 3
#: The moving window of the count: once it holds ``MAX_WRONG`` wrong tries no more are
#: allowed. A day is longer than any upload stays in the spool.
WRONG_TRIES = RateLimitItemPerDay(MAX_WRONG)
NAMESPACE = "pdf-password"

Run = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Unlocked:
    """A locked PDF opened: its decrypted copy (hash, size) and that copy's sniff."""

    path: Path
    sha256: str
    size: int
    sniffed: Sniffed

    def applied(self, incoming: IncomingFile) -> IncomingFile:
        """``incoming`` (the untouched original) with this decrypted copy and its pages."""
        return dataclasses.replace(
            incoming,
            media_type=self.sniffed.media_type,
            pages=len(self.sniffed.kinds),
            decrypted=self.path,
            decrypted_sha256=self.sha256,
            decrypted_size=self.size,
        )


class Unlocker:
    """Tries passwords for ``owner``'s uploads; ``run(fn, *args)`` runs blocking work."""

    def __init__(self, checks: UploadChecks, shared: SharedState, run: Run, owner: str) -> None:
        self.checks = checks
        self.shared = shared
        self.run = run
        self.owner = owner

    async def unlock(self, path: Path, password: str, upload: str, destination: Path) -> Unlocked:
        """Open ``path`` with ``password`` into ``destination``; ``upload`` names the upload
        whose wrong tries are counted. ``PdfPasswordWrong`` while tries are left, then
        ``PdfPasswordAttemptsExceeded`` (also for every later try, right or wrong)."""
        counter = (NAMESPACE, hashlib.sha256(f"{self.owner}\n{upload}".encode()).hexdigest())
        if not await self.shared.test(WRONG_TRIES, *counter):
            raise PdfPasswordAttemptsExceeded("three wrong passwords for this upload")
        try:
            sniffed = await self.run(self.checks.unlock, path, password, destination)
        except PdfPasswordWrong:
            await self.shared.hit(WRONG_TRIES, *counter)
            if not await self.shared.test(WRONG_TRIES, *counter):  # that was the last one
                raise PdfPasswordAttemptsExceeded("three wrong passwords for this upload") from None
            raise
        sha256, size = await self.run(digest, destination)
        return Unlocked(destination, sha256, size, sniffed)


def digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size of the file at ``path`` (blocking)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest(), path.stat().st_size
