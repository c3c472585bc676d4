"""Liveness (``/healthz``: the process answers) and readiness (``/readyz``: storage answers)."""

from __future__ import annotations

from aiohttp import web

from briefkasten.errors import TemporaryFailure
from briefkasten.gateway.api import run
from briefkasten.gateway.keys import STORAGE


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        await run(request, request.app[STORAGE].check)
    except TemporaryFailure as exc:
        return web.json_response({"status": "unavailable", "storage": exc.message_en}, status=503)
    return web.json_response({"status": "ready", "storage": "ok"})
