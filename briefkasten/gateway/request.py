"""Helpers for every handler: blocking work off the event loop, bounded JSON bodies, gzip."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from briefkasten.errors import InvalidRequest
from briefkasten.gateway.body import BodyClock, read_body
from briefkasten.gateway.keys import EXECUTOR, SETTINGS

T = TypeVar("T")


async def run(request: web.Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking work (storage, sniffing) in the gateway's thread pool."""
    return await asyncio.get_running_loop().run_in_executor(
        request.app[EXECUTOR], functools.partial(fn, *args, **kwargs)
    )


def media_type(request: web.Request) -> str:
    """The request's media type, lower case, without parameters: what ``request.content_type``
    says, without the e-mail header parser aiohttp runs for it (~0.25 ms for every new
    multipart boundary)."""
    return request.headers.get("Content-Type", "").partition(";")[0].strip().lower()


async def json_object(request: web.Request, limit: int) -> dict[str, Any]:
    """The whole request body as a JSON object of at most ``limit`` bytes (413 past it).

    Read to its end, however many TCP segments it comes in, bounded in time (``BodyClock``).
    """
    raw = await read_body(request, limit, BodyClock.of(request.app[SETTINGS].gateway))
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest("request body must be JSON") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    return body


def compress(request: web.Request, response: web.Response) -> None:
    """gzip a page for a client that accepts it. Only for answers that hold no secret next to
    anything the request reflects (the pages are the same for everyone): no BREACH."""
    if "gzip" in request.headers.get("Accept-Encoding", "").lower():
        response.enable_compression(web.ContentCoding.gzip)
