"""What runs around every handler: the error boundary, the Host allowlist, the same-origin
check, the rate limits (middlewares, in the order ``create_app`` lists them) and the security
headers (an ``on_response_prepare`` hook). The policies are in ``hosts`` and ``security``.

The one error boundary: every error becomes ``{"error": {code, message_de, ...}}``.

German for the applicant, English for the operator; never any document content. Unexpected
exceptions are logged with the route (not the raw path) and a scrubbed traceback, and answered
with a generic 500. Scrubbed: the frames and the exception types of the whole chain, no
exception messages, since a message can hold request content (aiohttp's parser errors repeat
the raw part header with the applicant's file name). ``ScrubTracebacks`` does the same to
every record of the gateway's and aiohttp's server loggers (``install_log_scrubber``).
"""

from __future__ import annotations

import logging
import traceback
import warnings
from types import TracebackType

from aiohttp import web
from aiohttp.multipart import BadContentDispositionHeader, BadContentDispositionParam
from aiohttp.typedefs import Handler

from briefkasten.errors import (
    BriefkastenError,
    Forbidden,
    MisdirectedRequest,
    NotFound,
    RateLimited,
)
from briefkasten.gateway.hosts import EXEMPT_PATHS
from briefkasten.gateway.keys import ALLOWED_HOSTS, ALLOWED_ORIGINS, API_KEYS, RATE_LIMITS
from briefkasten.gateway.security import (
    HEADERS,
    NO_STORE_PREFIXES,
    UNLIMITED_PREFIXES,
    UNSAFE_METHODS,
)

log = logging.getLogger("briefkasten.gateway")
#: When a client should try again: a server away (503), too many requests (429).
RETRY_AFTER = {503: {"Retry-After": "30"}, 429: {"Retry-After": "60"}}


def error_body(error: BriefkastenError) -> dict[str, dict[str, str]]:
    return {
        "error": {
            "code": error.code,
            "message_de": error.message_de,
            "message_en": error.message_en,
        }
    }


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BriefkastenError as exc:
        level = logging.WARNING if exc.http_status >= 500 else logging.INFO
        log.log(level, "%s %s -> %s %s", request.method, request.path, exc.http_status, exc.code)
        headers = RETRY_AFTER.get(exc.http_status)
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            headers = {"Retry-After": str(exc.retry_after)}
        return web.json_response(
            error_body(exc), status=exc.http_status, reason=exc.http_reason, headers=headers
        )
    except web.HTTPNotFound:
        return web.json_response(error_body(NotFound("no such endpoint")), status=404)
    except web.HTTPException:
        raise
    except Exception as exc:
        log.error("%s %s failed:\n%s", request.method, _route(request), scrubbed(exc))
        return web.json_response(
            error_body(BriefkastenError("internal error; see the gateway log")), status=500
        )


def _route(request: web.Request) -> str:
    """The matched route's pattern (``/api/v1/tus/{upload_id}``), not the client's raw path."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"


def scrubbed(exc: BaseException) -> str:
    """The traceback of ``exc`` and its causes: frames and exception types, no messages."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        lines[:0] = [
            *_frames(current.__traceback__),
            f"{type(current).__module__}.{type(current).__qualname__} (message dropped)\n",
        ]
        current = current.__cause__ or current.__context__
        if current is not None:
            lines[:0] = ["The above exception led to:\n"]
    return "".join(lines).rstrip("\n")


def _frames(tb: TracebackType | None) -> list[str]:
    return ["Traceback (most recent call last):\n", *traceback.format_tb(tb)] if tb else []


class ScrubTracebacks(logging.Filter):
    """Replaces a record's traceback by ``scrubbed()`` and drops exception arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrubbed(record.exc_info[1])
            record.exc_info = None
        if isinstance(record.args, tuple):
            record.args = tuple(
                type(a).__qualname__ if isinstance(a, BaseException) else a for a in record.args
            )
        return True


_SCRUBBER = ScrubTracebacks()


def install_log_scrubber() -> None:
    """Scrub every record of the gateway's, aiohttp's server and web, and asyncio's loggers
    (idempotent).

    aiohttp also *warns* with the raw Content-Disposition header (the file name) when it cannot
    parse one; those warnings would reach stderr or ``py.warnings``: they are ignored.
    """
    for category in (BadContentDispositionHeader, BadContentDispositionParam):
        warnings.filterwarnings("ignore", category=category)
    for name in ("briefkasten.gateway", "aiohttp.server", "aiohttp.web", "asyncio"):
        logger = logging.getLogger(name)
        if _SCRUBBER not in logger.filters:
            logger.addFilter(_SCRUBBER)


# --- Host allowlist, same origin, rate limits, security headers ---------------------------------


@web.middleware
async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse any Host outside the allowlist (before rate limits, routing and bodies)."""
    host = request.headers.get("Host", "")
    if request.path not in EXEMPT_PATHS and not request.app[ALLOWED_HOSTS].allows(host):
        raise MisdirectedRequest(f"this server does not answer for host {host[:80]!r}")
    return await handler(request)


@web.middleware
async def same_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse state-changing requests a browser sends on behalf of another site."""
    if request.method in UNSAFE_METHODS:
        if request.headers.get("Sec-Fetch-Site", "same-origin") == "cross-site":
            raise Forbidden("cross-site request refused")
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{request.host}":
            allowed = request.app[ALLOWED_ORIGINS]
            if origin not in allowed:
                raise Forbidden(f"request from another origin refused: {origin[:80]}")
    return await handler(request)


@web.middleware
async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Limit what applicants (and anyone without an API key) can send."""
    if request.path.startswith(UNLIMITED_PREFIXES):
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    if token and token in request.app[API_KEYS]:
        return await handler(request)
    if not token and request.path.startswith("/u/"):
        token = request.path.removeprefix("/u/").split("/", 1)[0]
    if request.path.startswith("/admin"):
        token = ""  # a dashboard session, not an upload link: only the per-address limit
    await request.app[RATE_LIMITS].check(request, token or None)
    return await handler(request)


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: the security headers on every answer."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith(NO_STORE_PREFIXES):
        response.headers["Cache-Control"] = "no-store"
