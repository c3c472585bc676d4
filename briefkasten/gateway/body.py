"""Reading request bodies with bounds: a byte limit, an idle timeout and an overall deadline.

aiohttp waits for body bytes as long as the client keeps the connection open, and
``content.read(n)`` returns whatever happens to be buffered (a JSON body that arrives in two
TCP segments is cut in half). ``BodyClock`` bounds every wait on the body: no byte for
``gateway.body_idle_timeout_s`` or the whole body not in after ``gateway.body_deadline_s``
(a slowloris client sending one byte a minute) both end as ``RequestTimeout`` (408).
A connection cut mid-body is an ``InvalidRequest``: the client is gone, the answer is moot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import HttpProcessingError

from briefkasten.config import GatewaySettings
from briefkasten.errors import InvalidRequest, LimitExceeded, RequestTimeout

T = TypeVar("T")


class BodyClock:
    """The time limits of one request body, started when the handler starts reading it."""

    def __init__(self, idle_s: float, deadline_s: float) -> None:
        self.idle_s = idle_s
        self.deadline = time.monotonic() + deadline_s

    @classmethod
    def of(cls, settings: GatewaySettings) -> BodyClock:
        return cls(settings.body_idle_timeout_s, settings.body_deadline_s)

    async def wait(self, step: Awaitable[T]) -> T:
        """Await one read of the body, bounded by the idle timeout and the deadline."""
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        until = min(now + self.idle_s, self.deadline)
        try:
            async with asyncio.timeout_at(loop.time() + max(until - now, 0.0)):
                return await step
        except TimeoutError:
            if time.monotonic() >= self.deadline:
                raise RequestTimeout("the request body took longer than allowed") from None
            raise RequestTimeout(f"no byte of the request body for {self.idle_s:g} s") from None
        except (ClientPayloadError, HttpProcessingError, ConnectionError) as exc:
            raise InvalidRequest(
                f"the request body is malformed or broke off: {type(exc).__name__}"
            ) from None


async def read_body(request: web.Request, limit: int, clock: BodyClock) -> bytes:
    """The whole body, at most ``limit`` bytes (``LimitExceeded`` past it), bounded in time."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise LimitExceeded(f"the request body has {declared} bytes, at most {limit} allowed")
    body = bytearray()
    while chunk := await clock.wait(request.content.readany()):
        body.extend(chunk)
        if len(body) > limit:
            raise LimitExceeded(f"the request body has more than {limit} bytes")
    return bytes(body)
