"""Instant quality feedback: ``GET /api/v1/tus/{upload_id}/check`` for a finished tus upload.

The check decodes and measures pixels (``briefkasten.precheck``), which is CPU work, so it runs
in a small process pool of its own (``gateway.precheck_workers`` processes, 0 switches the check
off: the answer then says ``"checked": false``) and never on the event loop or the I/O threads.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor

from aiohttp import web

from briefkasten.gateway.api import owner_of, run, uploader
from briefkasten.gateway.keys import SETTINGS
from briefkasten.gateway.tus import TUS_STORE
from briefkasten.precheck import precheck

POOL = web.AppKey("precheck_pool", ProcessPoolExecutor)


async def check(request: web.Request) -> web.Response:
    tenant, link = await uploader(request)
    upload_id = request.match_info["upload_id"]
    incoming = await run(
        request, request.app[TUS_STORE].completed, owner_of(tenant, link), upload_id
    )
    settings = request.app[SETTINGS]
    body: dict[str, object] = {
        "upload_id": upload_id,
        "media_type": incoming.media_type,
        "pages": incoming.pages,
        "checked": False,
        "findings": [],
    }
    pool = request.app.get(POOL)
    if pool is not None:
        loop = asyncio.get_running_loop()
        _, _, findings = await loop.run_in_executor(pool, precheck, incoming.path, settings)
        body["checked"] = True
        body["findings"] = [f.to_json() for f in findings]
    return web.json_response(body)


async def pool(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: the process pool of the checks (none if switched off)."""
    workers = app[SETTINGS].gateway.precheck_workers
    if workers <= 0:
        yield
        return
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context) as executor:
        app[POOL] = executor
        yield


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(pool)
    app.router.add_get("/api/v1/tus/{upload_id}/check", check)
