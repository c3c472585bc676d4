"""The OpenAPI document of the gateway: ``GET /api/v1/openapi.json``.

The canonical file is ``briefkasten/contract/openapi.yaml`` (package data; ``docs/openapi.yaml``
is a symlink to it). ``document_json`` converts it to JSON once, when ``create_app`` builds the
app; the handler answers those bytes. No authentication: the document holds no secrets.
"""

from __future__ import annotations

import json
from functools import cache

from aiohttp import web

from briefkasten import contract
from briefkasten.gateway.keys import OPENAPI

PATH = "/api/v1/openapi.json"

routes = web.RouteTableDef()


@cache
def document_json() -> bytes:
    """The OpenAPI document as UTF-8 JSON (parsed and converted once per process)."""
    return json.dumps(contract.openapi(), ensure_ascii=False, indent=1).encode("utf-8")


@routes.get(PATH, name="openapi")
async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], content_type="application/json", charset="utf-8")
