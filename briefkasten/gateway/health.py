"""Liveness (``/healthz``), readiness (``/readyz``) and the metrics (``/metrics``).

``/readyz`` runs its checks side by side, each bounded by a timeout, and answers 200 when all
pass, else 503; the JSON body names every check and which failed::

    {"status": "unavailable", "failed": ["disk"],
     "checks": {"tesseract": {"ok": true, "detail": "…"}, "disk": {"ok": false, …}, …}}

Checks: Tesseract and the configured OCR languages (the probe spawns processes, so its answer
is kept for ``TESSERACT_TTL`` seconds), storage (it answers, and a write probe: a tiny object
created under ``_readyz/``, created again, which must be refused (create-if-absent, the
Idempotency-Key claims: the detail says if the server ignores it), and deleted, so a full disk
or a read-only bucket fails it),
RabbitMQ when configured (a connection with a short timeout), free disk space for the spool, job
journal and outbox directories (``gateway.min_free_disk_mb``), the sandbox (a child process can
be started and answers), and the malware scan: ``off`` when no clamd is configured (passes),
clamd's version when it answers ``PING``, a failure when it does not (passes with
``scan.fail_open``, saying uploads are accepted unscanned), and Redis when
``gateway.rate_limit_storage`` is set: it passes either way (fail open: the rate limits and
Idempotency-Key locks fall back to this process), its detail says whether Redis answers.
Details never contain secrets or paths.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import shutil
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from briefkasten.config import Settings
from briefkasten.errors import BriefkastenError
from briefkasten.gateway.keys import (
    CHECKS,
    EXECUTOR,
    INTAKE,
    METRICS,
    RATE_LIMITS,
    SETTINGS,
    SPOOL,
    STORAGE,
    TESSERACT,
)
from briefkasten.gateway.request import run

#: Seconds one check may take before it counts as failed.
CHECK_TIMEOUT = 5.0
MIB = 1024 * 1024
#: Where the storage write probe puts its tiny object (deleted right after).
PROBE_PREFIX = "_readyz/"


routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    app = request.app
    settings = app[SETTINGS]
    checks: dict[str, Callable[[], tuple[bool, str]]] = {
        "tesseract": app[TESSERACT],
        "storage": functools.partial(_storage, app),
        "disk": functools.partial(_disk, settings, app[SPOOL]),
        "sandbox": app[CHECKS].probe,
        "malware_scan": functools.partial(_malware_scan, app),
    }
    if settings.broker.amqp_url:
        checks["broker"] = functools.partial(_broker, settings.broker.amqp_url)
    names = list(checks)
    waits = [_bounded(app, checks[n]) for n in names]
    shared = app[RATE_LIMITS].limiter
    if shared.shared:
        names.append("redis")
        waits.append(_bounded_async(shared.ping()))
    answers = await asyncio.gather(*waits)
    results = {
        n: {"ok": ok, "detail": detail} for n, (ok, detail) in zip(names, answers, strict=True)
    }
    failed = [n for n in names if not results[n]["ok"]]
    body = {"status": "unavailable" if failed else "ready", "failed": failed, "checks": results}
    return web.json_response(body, status=503 if failed else 200)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """The Prometheus text format; computed off the loop (the queue probe may wait)."""
    body = await run(request, request.app[METRICS].exposition)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _bounded(app: web.Application, check: Callable[[], tuple[bool, str]]) -> tuple[bool, str]:
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(
            loop.run_in_executor(app[EXECUTOR], check), timeout=CHECK_TIMEOUT
        )
    except TimeoutError:
        return False, f"no answer within {CHECK_TIMEOUT:g} s"


async def _bounded_async(check: Coroutine[Any, Any, tuple[bool, str]]) -> tuple[bool, str]:
    try:
        return await asyncio.wait_for(check, timeout=CHECK_TIMEOUT)
    except TimeoutError:
        return False, f"no answer within {CHECK_TIMEOUT:g} s"


def _storage(app: web.Application) -> tuple[bool, str]:
    storage = app[STORAGE]
    try:
        storage.check()
        key = f"{PROBE_PREFIX}{secrets.token_hex(8)}"
        created = storage.create_bytes(key, b"readyz", content_type="text/plain")
        again = storage.create_bytes(key, b"again", content_type="text/plain")
        storage.delete(key)
    except BriefkastenError as exc:
        return False, exc.message_en
    if not created or again:  # an S3 that ignores If-None-Match: create-if-absent overwrites
        return True, "ok, but create-if-absent is not honoured (several gateways need Redis)"
    return True, "ok (written and deleted a probe object; create-if-absent honoured)"


def _broker(url: str) -> tuple[bool, str]:
    from briefkasten.broker.probe import queue_depths  # pika only where RabbitMQ is used

    try:
        queue_depths(url, (), timeout=min(2.0, CHECK_TIMEOUT))
    except BriefkastenError as exc:
        return False, exc.message_en
    return True, "ok"


def _malware_scan(app: web.Application) -> tuple[bool, str]:
    if not app[SETTINGS].scan.clamd:
        return True, "off"
    scanner = app[INTAKE].scanner
    try:
        if scanner.available():
            return True, scanner.version()
    except BriefkastenError:
        pass
    if app[SETTINGS].scan.fail_open:
        return True, "clamd unreachable; fail_open: uploads are accepted as not_scanned"
    return False, "clamd unreachable; uploads are refused (503) until it is back"


def _disk(settings: Settings, spool: Path) -> tuple[bool, str]:
    """Free space on every file system holding the spool, the job journal or the outbox."""
    need = settings.gateway.min_free_disk_mb
    directories = [spool, settings.broker.outbox_dir]
    if not settings.broker.amqp_url:
        directories.append(settings.broker.journal_dir)
    lowest: int | None = None
    for directory in directories:
        try:
            free = shutil.disk_usage(_existing(directory.absolute())).free // MIB
        except OSError:
            return False, "cannot read free disk space"
        lowest = free if lowest is None else min(lowest, free)
    ok = lowest is not None and lowest >= need
    return ok, f"{lowest} MiB free, at least {need} MiB needed"


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (the outbox may not exist before the worker)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
