"""The gateway's one error boundary: every error becomes ``{"error": {code, message_de, ...}}``.

German for the applicant, English for the operator; never any document content. Unexpected
exceptions are logged with their traceback (no request body) and answered with a generic 500.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from briefkasten.errors import BriefkastenError, NotFound, RateLimited

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
        return web.json_response(error_body(exc), status=exc.http_status, headers=headers)
    except web.HTTPNotFound:
        return web.json_response(error_body(NotFound("no such endpoint")), status=404)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return web.json_response(
            error_body(BriefkastenError("internal error; see the gateway log")), status=500
        )
