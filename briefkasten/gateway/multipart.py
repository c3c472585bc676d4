"""Streaming a multipart upload to disk: hashed, counted and sniffed while it arrives.

The form, in order: ``case_number``, then per document a ``document_type`` part, an optional
``note`` and its ``file`` parts in page order; a ``password`` part right before a ``file`` is
that file's PDF password (``passwords.Unlocker``: opened once, three wrong tries per file), a
``redacted_by_applicant`` part (``true``/``false``, default ``false``) right after it says the
applicant blacked out parts of that file. Each ``document_type`` starts a new document, so the
simplest form (``case_number``, ``document_type``, repeated ``file``) is one document and one
request can carry several. Files are written (and hashed: off the event loop) in I/O threads
under a random name in a private spool directory (the client's file name is kept only as
sanitised metadata); byte limits are counted here ourselves, since aiohttp's
``client_max_size`` does not guard ``read_chunk()``.

Bounded cost: at most ``gateway.max_form_parts`` parts and ``gateway.max_form_field_bytes``
bytes of non-file parts (values and part headers) per form (413), every wait on the body
bounded by a ``BodyClock`` (408). A body aiohttp cannot parse (bad boundary, broken part
headers, a NUL in a header) is an ``InvalidRequest`` (400) whose message never repeats the
raw header (it holds the file name). A full spool disk is ``SpoolFull`` (503, the partial
file removed). Invalid UTF-8 in a file name, raw or percent-encoded, becomes U+FFFD.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import unquote

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from briefkasten.config import Settings
from briefkasten.errors import BriefkastenError, InvalidRequest, LimitExceeded, PasswordProtected
from briefkasten.gateway.body import BodyClock
from briefkasten.gateway.checks import UploadChecks
from briefkasten.gateway.flags import redaction_flag
from briefkasten.gateway.passwords import Unlocker
from briefkasten.gateway.spool import space_checked
from briefkasten.intake import (
    IncomingDocument,
    IncomingFile,
    check_case_number,
    check_submission_pages,
)
from briefkasten.model import safe_name
from briefkasten.pipeline.unlock import check_password

T = TypeVar("T")
CHUNK = 256 * 1024
MAX_FIELD_BYTES = 2048


@dataclass
class _Draft:
    document_type: str
    note: str = ""
    files: list[IncomingFile] = field(default_factory=list)


@dataclass
class UploadForm:
    """What the form said, with the files already on disk."""

    case_number: str = ""
    documents: list[IncomingDocument] = field(default_factory=list)
    spooled: list[Path] = field(default_factory=list)

    def discard(self) -> None:
        for path in self.spooled:
            path.unlink(missing_ok=True)


async def read_form(
    request: web.Request,
    settings: Settings,
    spool: Path,
    run: Callable[..., Any],
    checks: UploadChecks,
    *,
    case_number: str = "",
    document_types: tuple[str, ...] = (),
    catalogue: tuple[str, ...] = (),
    unlocker: Unlocker | None = None,
) -> UploadForm:
    """Stream the form to ``spool``; on any error every spooled file is removed again.

    ``run(fn, *args)`` runs blocking work off the event loop; ``checks.sniff(path)`` (blocking:
    it waits for a sandboxed child) checks each spooled file. An upload link fixes
    ``case_number`` (a ``case_number`` field may then be left out, and must match if given) and
    may restrict the ``document_types``. ``catalogue``: the tenant's document types
    (``Settings.catalogue_for``; empty: ``gateway.document_types``). A ``password`` part
    before a ``file`` part is that file's PDF password, tried once with ``unlocker``.
    """
    form = UploadForm(case_number=case_number)
    try:
        await _read_parts(
            _Reader(await _multipart(request), settings),
            form,
            settings,
            spool,
            run,
            checks,
            document_types,
            catalogue or settings.gateway.catalogue,
            unlocker,
        )
    except BaseException:
        form.discard()
        raise
    return form


#: What aiohttp raises for a body it cannot parse as multipart; their messages can hold the
#: raw part header (the file name), so they are never passed on.
_MALFORMED = (ValueError, AssertionError, LookupError, HttpProcessingError)


async def _multipart(request: web.Request) -> MultipartReader:
    try:
        return await request.multipart()
    except _MALFORMED:
        raise InvalidRequest("the request is not a well-formed multipart form") from None


class _Reader:
    """The form's parts and their bytes, counted against the form limits and the clock."""

    def __init__(self, reader: MultipartReader, settings: Settings) -> None:
        self._reader = reader
        self._clock = BodyClock.of(settings.gateway)
        self._max_parts = settings.gateway.max_form_parts
        self._max_field_bytes = settings.gateway.max_form_field_bytes
        self.parts = 0
        self.field_bytes = 0

    async def next(self) -> BodyPartReader | None:
        part = await self._guarded(self._reader.next())
        if part is None:
            return None
        self.parts += 1
        if self.parts > self._max_parts:
            raise LimitExceeded(f"the form has more than {self._max_parts} parts")
        if not isinstance(part, BodyPartReader):
            raise InvalidRequest("nested multipart bodies are not supported")
        self.count(sum(len(k) + len(v) for k, v in part.headers.items()))
        return part

    async def chunk(self, part: BodyPartReader, size: int) -> bytes:
        return await self._guarded(part.read_chunk(size))

    def count(self, field_bytes: int) -> None:
        """Count bytes of non-file parts against ``gateway.max_form_field_bytes``."""
        self.field_bytes += field_bytes
        if self.field_bytes > self._max_field_bytes:
            raise LimitExceeded(f"the form fields have more than {self._max_field_bytes} bytes")

    async def _guarded(self, step: Awaitable[T]) -> T:
        try:
            return await self._clock.wait(step)
        except BriefkastenError:
            raise
        except _MALFORMED:
            raise InvalidRequest("the request is not a well-formed multipart form") from None


async def _read_parts(
    reader: _Reader,
    form: UploadForm,
    settings: Settings,
    spool: Path,
    run: Callable[..., Any],
    checks: UploadChecks,
    requested: tuple[str, ...],
    catalogue: tuple[str, ...],
    unlocker: Unlocker | None,
) -> None:
    fixed_case = form.case_number
    limits = settings.limits
    drafts: list[_Draft] = []
    total = pages = 0
    password: str | None = None  # for the next file only
    after_file = False  # the part before was a file (a redacted_by_applicant field may follow)
    while (part := await reader.next()) is not None:
        name = _part_name(part)
        flag_follows_file, after_file = after_file, name == "file"
        if name == "file":
            if not drafts:
                raise InvalidRequest("a file part must follow case_number and document_type")
            if sum(len(d.files) for d in drafts) >= limits.max_files:
                raise LimitExceeded(f"more than {limits.max_files} files in one submission")
            budget = settings.gateway.max_request_bytes - total
            incoming = await _spool_file(
                reader, part, form, spool, run, limits.max_file_bytes, budget
            )
            total += incoming.size
            incoming = await _checked(incoming, form, run, checks, unlocker, password)
            password = None
            pages += incoming.pages
            check_submission_pages(pages, limits)
            drafts[-1].files.append(incoming)
            continue
        value = await _field(reader, part, name, strip=name != "password")
        if name == "password":
            if not drafts:
                raise InvalidRequest("password must follow a document_type")
            password = check_password(value.rstrip("\r\n"))  # a file's line end (curl -F p=<f)
            continue
        if name == "case_number":
            form.case_number = check_case_number(value)
            if fixed_case and form.case_number != fixed_case:
                raise InvalidRequest("case_number does not match the upload link")
        elif name == "document_type":
            if value not in catalogue:
                raise InvalidRequest(
                    f"unknown document_type {value!r}; known: {', '.join(catalogue)}"
                )
            if requested and value not in requested:
                raise InvalidRequest(
                    f"document_type {value!r} is not requested by this upload link; "
                    f"requested: {', '.join(requested)}"
                )
            drafts.append(_Draft(value))
        elif name == "redacted_by_applicant":
            if not flag_follows_file:
                raise InvalidRequest("redacted_by_applicant must follow the file part it is about")
            files = drafts[-1].files
            files[-1] = replace(files[-1], redacted_by_applicant=redaction_flag(value))
        elif name == "note":
            if not drafts:
                raise InvalidRequest("note must follow a document_type")
            drafts[-1].note = value[:500]
        else:
            raise InvalidRequest(f"unexpected form field {name[:40]!r}")
    if not form.case_number:
        raise InvalidRequest("case_number is missing")
    if not drafts or not all(d.files for d in drafts):
        raise InvalidRequest("every document needs at least one file")
    form.documents = [IncomingDocument(d.document_type, tuple(d.files), d.note) for d in drafts]


async def _checked(
    incoming: IncomingFile,
    form: UploadForm,
    run: Callable[..., Any],
    checks: UploadChecks,
    unlocker: Unlocker | None,
    password: str | None,
) -> IncomingFile:
    """The spooled file sniffed; a locked PDF with its ``password`` opened into a decrypted
    copy beside it (a password for a file that is not locked is not used)."""
    try:
        sniffed = await run(checks.sniff, incoming.path)
    except PasswordProtected:
        if password is None or unlocker is None:
            raise
        destination = incoming.path.with_suffix(".dec")
        form.spooled.append(destination)
        unlocked = await unlocker.unlock(
            incoming.path, password, f"file:{incoming.sha256}", destination
        )
        return unlocked.applied(incoming)
    return dataclasses.replace(incoming, media_type=sniffed.media_type, pages=len(sniffed.kinds))


def _part_name(part: BodyPartReader) -> str:
    """The part's ``name``; a Content-Disposition aiohttp cannot parse is ``InvalidRequest``."""
    try:
        return part.name or ""
    except _MALFORMED:
        raise InvalidRequest("a part has a malformed Content-Disposition header") from None


async def _field(reader: _Reader, part: BodyPartReader, name: str, *, strip: bool = True) -> str:
    data = b""
    while chunk := await reader.chunk(part, MAX_FIELD_BYTES):
        data += chunk
        reader.count(len(chunk))
        if len(data) > MAX_FIELD_BYTES:
            raise InvalidRequest(f"form field {name[:40]!r} is too long")
    try:
        text = data.decode("utf-8")
        return text.strip() if strip else text
    except UnicodeDecodeError:
        raise InvalidRequest(f"form field {name[:40]!r} is not UTF-8") from None


async def _spool_file(
    reader: _Reader,
    part: BodyPartReader,
    form: UploadForm,
    spool: Path,
    run: Callable[..., Any],
    max_bytes: int,
    budget: int,
) -> IncomingFile:
    path = spool / f"{secrets.token_hex(16)}.part"
    form.spooled.append(path)
    digest = hashlib.sha256()
    size = 0
    with space_checked("cannot spool an upload"):  # read_form removes the partial file
        out = await run(path.open, "wb")
        try:
            while chunk := await reader.chunk(part, CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise LimitExceeded(f"file has more than {max_bytes} bytes")
                if size > budget:
                    raise LimitExceeded("the submission is larger than the request limit")
                await run(_hash_and_write, digest, out, chunk)
        finally:
            await run(out.close)
    return IncomingFile(
        path=path,
        name=client_name(part),
        sha256=digest.hexdigest(),
        size=size,
        media_type="",
        pages=0,
    )


def _hash_and_write(digest: Any, out: BinaryIO, chunk: bytes) -> None:
    """One chunk hashed and written in an I/O thread: SHA-256 releases the GIL, so the event
    loop goes on reading the other uploads meanwhile (~1.8 ms per 2 MB off the loop)."""
    digest.update(chunk)
    out.write(chunk)


def client_name(part: BodyPartReader) -> str:
    """The client's file name as sanitised metadata; invalid UTF-8 becomes U+FFFD.

    aiohttp decodes part headers as UTF-8 with ``surrogateescape``: the raw bytes are restored
    and decoded again with replacement. Some clients (aiohttp, curl with ``--form-string``)
    percent-encode the name; invalid UTF-8 there is replaced as well.
    """
    try:
        raw = part.filename or "upload"
    except _MALFORMED:
        raise InvalidRequest("a part has a malformed Content-Disposition header") from None
    return safe_name(unquote(_repaired(raw), errors="replace"))


def _repaired(text: str) -> str:
    """``text`` with escaped raw bytes decoded (invalid ones as U+FFFD) and no surrogates."""
    data = text.encode("utf-8", "surrogateescape") if _escaped_only(text) else None
    if data is None:
        data = text.encode("utf-8", "replace")
    return data.decode("utf-8", "replace")


def _escaped_only(text: str) -> bool:
    """Every surrogate in ``text`` is one ``surrogateescape`` made (U+DC80..U+DCFF)."""
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)
