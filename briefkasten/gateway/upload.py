"""Streaming a multipart upload to disk: hashed, counted and sniffed while it arrives.

The form, in order: ``case_number``, then per document a ``document_type`` part, an optional
``note`` and its ``file`` parts in page order. Each ``document_type`` starts a new document, so
the simplest form (``case_number``, ``document_type``, repeated ``file``) is one document and
one request can carry several. Files are written with aiofiles under a random name in a private
spool directory (the client's file name is kept only as sanitised metadata); byte limits are
counted here ourselves, since aiohttp's ``client_max_size`` does not guard ``read_chunk()``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiofiles
from aiohttp import BodyPartReader, MultipartReader, web

from briefkasten.config import Settings
from briefkasten.document import safe_name
from briefkasten.errors import InvalidRequest, LimitExceeded
from briefkasten.intake import (
    IncomingDocument,
    IncomingFile,
    check_case_number,
    check_submission_pages,
)
from briefkasten.pipeline.sniff import Sniffed

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
    sniff: Callable[[Path], Sniffed],
    *,
    case_number: str = "",
    document_types: tuple[str, ...] = (),
    catalogue: tuple[str, ...] = (),
) -> UploadForm:
    """Stream the form to ``spool``; on any error every spooled file is removed again.

    ``run(fn, *args)`` runs blocking work off the event loop; ``sniff(path)`` (blocking: it waits
    for a sandboxed child) checks each spooled file. An upload link fixes
    ``case_number`` (a ``case_number`` field may then be left out, and must match if given) and
    may restrict the ``document_types``. ``catalogue``: the tenant's document types
    (``Settings.catalogue_for``; empty: ``gateway.document_types``).
    """
    form = UploadForm(case_number=case_number)
    try:
        await _read_parts(
            await request.multipart(),
            form,
            settings,
            spool,
            run,
            sniff,
            document_types,
            catalogue or settings.gateway.catalogue,
        )
    except BaseException:
        form.discard()
        raise
    return form


async def _read_parts(
    reader: MultipartReader,
    form: UploadForm,
    settings: Settings,
    spool: Path,
    run: Callable[..., Any],
    sniff: Callable[[Path], Sniffed],
    requested: tuple[str, ...],
    catalogue: tuple[str, ...],
) -> None:
    fixed_case = form.case_number
    limits = settings.limits
    drafts: list[_Draft] = []
    total = pages = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise InvalidRequest("nested multipart bodies are not supported")
        name = part.name or ""
        if name == "file":
            if not drafts:
                raise InvalidRequest("a file part must follow case_number and document_type")
            if sum(len(d.files) for d in drafts) >= limits.max_files:
                raise LimitExceeded(f"more than {limits.max_files} files in one submission")
            budget = settings.gateway.max_request_bytes - total
            incoming = await _spool_file(part, form, spool, limits.max_file_bytes, budget)
            total += incoming.size
            sniffed = await run(sniff, incoming.path)
            pages += len(sniffed.kinds)
            check_submission_pages(pages, limits)
            drafts[-1].files.append(
                IncomingFile(
                    path=incoming.path,
                    name=incoming.name,
                    sha256=incoming.sha256,
                    size=incoming.size,
                    media_type=sniffed.media_type,
                    pages=len(sniffed.kinds),
                )
            )
            continue
        value = await _field(part)
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


async def _field(part: BodyPartReader) -> str:
    data = b""
    while chunk := await part.read_chunk(MAX_FIELD_BYTES):
        data += chunk
        if len(data) > MAX_FIELD_BYTES:
            raise InvalidRequest(f"form field {part.name!r} is too long")
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"form field {part.name!r} is not UTF-8") from exc


async def _spool_file(
    part: BodyPartReader, form: UploadForm, spool: Path, max_bytes: int, budget: int
) -> IncomingFile:
    path = spool / f"{secrets.token_hex(16)}.part"
    form.spooled.append(path)
    digest = hashlib.sha256()
    size = 0
    async with aiofiles.open(path, "wb") as out:
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise LimitExceeded(f"file has more than {max_bytes} bytes")
            if size > budget:
                raise LimitExceeded("the submission is larger than the request limit")
            digest.update(chunk)
            await out.write(chunk)
    return IncomingFile(
        path=path,
        # Some clients (aiohttp, curl with --form-string) percent-encode the file name.
        name=safe_name(unquote(part.filename or "upload")),
        sha256=digest.hexdigest(),
        size=size,
        media_type="",
        pages=0,
    )
