"""The machine-readable contracts: ``GET /api/v1/openapi.json`` (the HTTP interface) and
``GET /api/v1/asyncapi.json`` (the messages to the case software).

The canonical files are ``briefkasten/contract/openapi.yaml`` and ``asyncapi.yaml`` (package
data; ``docs/`` has symlinks to them). ``document_json`` and ``asyncapi_json`` convert them
to JSON once per process, when ``create_app`` builds the app; the handlers answer those bytes.
No authentication: the documents hold no secrets.
"""

from __future__ import annotations

import json
from functools import cache

from aiohttp import web

from briefkasten import contract
from briefkasten.gateway.keys import ASYNCAPI, OPENAPI
from briefkasten.gateway.request import compress

PATH = "/api/v1/openapi.json"
ASYNCAPI_PATH = "/api/v1/asyncapi.json"

routes = web.RouteTableDef()


@cache
def document_json() -> bytes:
    """The OpenAPI document as UTF-8 JSON (parsed and converted once per process)."""
    return json.dumps(contract.openapi(), ensure_ascii=False, indent=1).encode("utf-8")


@cache
def asyncapi_json() -> bytes:
    """The AsyncAPI document as UTF-8 JSON (parsed and converted once per process)."""
    return json.dumps(contract.asyncapi(), ensure_ascii=False, indent=1).encode("utf-8")


@routes.get(PATH, name="openapi")
async def openapi(request: web.Request) -> web.Response:
    return _json(request, request.app[OPENAPI])


@routes.get(ASYNCAPI_PATH, name="asyncapi")
async def asyncapi(request: web.Request) -> web.Response:
    return _json(request, request.app[ASYNCAPI])


def _json(request: web.Request, body: bytes) -> web.Response:
    response = web.Response(
        body=body,
        content_type="application/json",
        charset="utf-8",
        headers={"Vary": "Accept-Encoding"},
    )
    compress(request, response)
    return response
