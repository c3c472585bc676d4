"""The baselines of ``gateway_vs_bare_aiohttp`` (bench/gateway.py): bare aiohttp handlers.

* ``bare_app``: the mandatory work of a durable upload, as issue 13 defines it. Every multipart
  file part is streamed with ``read_chunk()`` into a file with aiofiles while it is hashed
  (SHA-256), then the file and its directory are fsynced, then the answer is 202.
* ``records_app``: the bare handler plus the durable records a recoverable intake writes for
  each submission, in the intake's order and with the same layout (``briefkasten.intake``),
  written with plain ``os`` calls in one I/O thread per upload (the gateway also stores a
  submission in one executor call): ``submissions/S/intake.json`` ``storing`` (with
  ``submissions/S/`` created), the file fsynced and renamed into ``C/S/originals/`` (its
  directories created), the duplicate marker ``C/hashes/H.json`` (created if absent: a hard
  link), ``submissions/S/manifest.json``, the job in ``journal/pending/`` and ``intake.json``
  ``queued``. Each record is a temp file fsynced, renamed and its directory fsynced; each new
  directory's parent is fsynced. No checks, no abstractions, no metrics: what the gateway adds
  on top of these records is its own cost.

Neither handler checks or parses anything but the multipart form.

Diagnosis only: ``BENCH_RECORDS`` in the environment cuts ``records_app`` down to see what
fewer records would give: ``nostoring`` leaves out ``intake.json`` ``storing``; ``minimal``
keeps only the original in storage, the manifest and the job (the least a submission must leave
behind to be delivered after a crash: no duplicate marker, no ``intake.json``). Unset or
``all``: every record. ``bench/gateway.py`` prints the variant.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path

import aiofiles
import aiohttp
from aiohttp import web

from briefkasten.gateway.multipart import CHUNK
from briefkasten.storage.durable import fsync_dir

CASE_DIR = "bench/12345BG0012345"


async def _spool_parts(request: web.Request, directory: Path) -> list[dict[str, object]]:
    """Every file part streamed into ``directory`` (hashed, file fsynced), form fields read."""
    reader = await request.multipart()
    files: list[dict[str, object]] = []
    while (part := await reader.next()) is not None:
        if not isinstance(part, aiohttp.BodyPartReader):
            raise web.HTTPBadRequest()
        if part.filename is None:  # a form field: into memory, as the gateway does
            await part.read()
            continue
        path = directory / f"{secrets.token_hex(16)}.part"
        digest = hashlib.sha256()
        size = 0
        async with aiofiles.open(path, "wb") as out:
            while chunk := await part.read_chunk(CHUNK):
                size += len(chunk)
                digest.update(chunk)
                await out.write(chunk)
            await out.flush()
            await asyncio.to_thread(os.fsync, out.fileno())  # durable before the 202
        files.append({"path": path, "size": size, "sha256": digest.hexdigest()})
    return files


def _healthz_app() -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    return app


def bare_app(directory: Path) -> web.Application:
    """Stream, hash, fsync the file and its directory, answer 202."""

    async def upload(request: web.Request) -> web.Response:
        files = await _spool_parts(request, directory)
        await asyncio.to_thread(fsync_dir, directory)
        return web.json_response(
            {"files": [{"size": f["size"], "sha256": f["sha256"]} for f in files]}, status=202
        )

    directory.mkdir(parents=True, exist_ok=True)
    app = _healthz_app()
    app.router.add_post("/api/v1/submissions", upload)
    return app


def records_app(directory: Path) -> web.Application:
    """The bare handler plus the intake's durable records (module docstring): ``directory`` is
    the storage (emptied between rounds, as the gateway's is), spool and journal beside it."""
    spool = directory.parent / "spool"
    data = directory
    journal = directory.parent / "journal" / "pending"

    async def upload(request: web.Request) -> web.Response:
        files = await _spool_parts(request, spool)
        submission_id = await asyncio.to_thread(_store, data, journal, files)
        return web.json_response({"submission_id": submission_id}, status=202)

    for level in (spool, data, journal):
        level.mkdir(parents=True, exist_ok=True)
    app = _healthz_app()
    app.router.add_post("/api/v1/submissions", upload)
    return app


#: ``BENCH_RECORDS`` values (module docstring).
VARIANTS = ("all", "nostoring", "minimal")


def records_variant() -> str:
    """``BENCH_RECORDS`` (``ValueError`` for an unknown value), ``all`` if unset."""
    variant = os.environ.get("BENCH_RECORDS") or "all"
    if variant not in VARIANTS:
        raise ValueError(f"BENCH_RECORDS must be one of {', '.join(VARIANTS)}")
    return variant


def _store(data: Path, journal: Path, files: list[dict[str, object]]) -> str:
    """The records of one submission, in the intake's order; its id."""
    variant = records_variant()
    submission_id = secrets.token_hex(16)
    record_dir = data / "bench" / "submissions" / submission_id
    _make_dirs(data, record_dir)
    now = time.time()
    if variant == "all":
        _write(record_dir / "intake.json", {"state": "storing", "started_at": now})
    originals = data / CASE_DIR / submission_id / "originals"
    _make_dirs(data, originals)
    stored = []
    for file in files:
        file_id = secrets.token_hex(16)
        target = originals / f"{file_id}.jpg"
        Path(str(file["path"])).replace(target)  # fsynced while spooled
        fsync_dir(originals)
        hashes = data / CASE_DIR / "hashes"
        _make_dirs(data, hashes)
        marker = {"file_id": file_id, "submission_id": submission_id}
        if variant != "minimal":
            _write(hashes / f"{file['sha256']}.json", marker, exclusive=True)
        stored.append({"file_id": file_id, "sha256": file["sha256"], "size": file["size"]})
    _write(record_dir / "manifest.json", {"submission_id": submission_id, "files": stored})
    job = {"job_id": secrets.token_hex(16), "submission_id": submission_id, "attempt": 0}
    _write(journal / f"{time.time_ns():020d}-{job['job_id']}.json", job)
    if variant != "minimal":
        _write(record_dir / "intake.json", {"state": "queued", "queued_at": now})
    return submission_id


def _write(path: Path, record: Mapping[str, object], *, exclusive: bool = False) -> None:
    """A durable record: temp file, fsync, rename (``exclusive``: hard link, kept if the name
    exists), fsync of the directory."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, json.dumps(record).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    if exclusive:
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
        temp.unlink()
    else:
        temp.replace(path)
    fsync_dir(path.parent)


def _make_dirs(root: Path, directory: Path) -> None:
    """``directory`` and its missing levels below ``root``; each created level's parent fsynced."""
    created = []
    current = root
    for part in directory.relative_to(root).parts:
        current = current / part
        with contextlib.suppress(FileExistsError):
            current.mkdir(mode=0o700)
            created.append(current)
    for parent in dict.fromkeys(level.parent for level in created):
        fsync_dir(parent)
