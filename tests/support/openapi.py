"""Responses checked against the gateway's OpenAPI document (``briefkasten/contract/openapi.yaml``).

``assert_conforms(response, body)`` validates one aiohttp client response with openapi-core:
its status code must be documented for the operation, and its content type, body (JSON Schema)
and required headers must be the documented ones. A path no operation has must be the error
middleware's JSON 404 (``no such endpoint``).

``ConformingClient`` is a test client that does this for every response it gets; a test module
switches its ``aiohttp_client`` (and so the ``gateway_client`` fixture) to it with::

    from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from aiohttp.typedefs import StrOrURL
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

from briefkasten import contract

__all__ = ["ConformingClient", "aiohttp_client_cls", "assert_conforms", "spec"]


@cache
def spec() -> OpenAPI:
    """The gateway's OpenAPI document, parsed once per test process."""
    return OpenAPI.from_dict(contract.openapi())


@dataclass
class SentRequest:
    """What openapi-core needs to know of the request (``openapi_core.protocols.Request``)."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    content_type: str = ""
    body: bytes | None = None


@dataclass
class ReceivedResponse:
    """The response as openapi-core reads it (``openapi_core.protocols.Response``)."""

    status_code: int
    content_type: str
    data: bytes | None
    headers: Headers = field(default_factory=Headers)


def assert_conforms(response: ClientResponse, body: bytes, document: OpenAPI | None = None) -> None:
    """``AssertionError`` unless ``response`` (with its ``body``) is one the document allows."""
    document = document or spec()
    url = response.url
    request = SentRequest(
        host_url=f"{url.scheme}://{url.raw_authority}",
        path=url.raw_path,  # as sent: %2F stays in its path segment
        method=response.method.lower(),
        parameters=RequestParameters(
            query=ImmutableMultiDict(list(url.query.items())),
            header=Headers(list(response.request_info.headers.items())),
        ),
    )
    received = ReceivedResponse(
        status_code=response.status,
        content_type=response.headers.get("Content-Type", "").lower(),
        data=body,
        headers=Headers(list(response.headers.items())),
    )
    where = f"{response.method} {url.raw_path} -> {response.status}"
    try:
        document.validate_response(request, received)
    except PathNotFound:
        unknown_path(response, body, where)
    except Exception as exc:  # openapi-core's errors, each naming what failed
        detail = "; ".join(str(e)[:300] for e in [exc, *getattr(exc, "schema_errors", ())])
        raise AssertionError(f"{where} does not conform to openapi.yaml: {detail}") from exc


def unknown_path(response: ClientResponse, body: bytes, where: str) -> None:
    """A path the document does not describe: the JSON 404 of the error middleware."""
    assert response.status == 404, f"{where}: a path openapi.yaml does not describe"
    if response.method == "HEAD":
        assert body == b"", f"{where}: a body in the answer to HEAD"
        return
    error = contract.openapi()["components"]["schemas"]["Error"]
    try:
        jsonschema.validate(json.loads(body), error)
    except (ValueError, jsonschema.ValidationError) as exc:
        raise AssertionError(f"{where}: not the JSON error body: {exc}") from exc


class ConformingClient(TestClient[Any, Any]):
    """A test client whose every response is checked with ``assert_conforms`` (the body is
    read first; aiohttp keeps it, so the test can still read it)."""

    async def _request(self, method: str, path: StrOrURL, **kwargs: Any) -> ClientResponse:
        response = await super()._request(method, path, **kwargs)
        assert_conforms(response, await response.read())
        return response


@pytest.fixture
def aiohttp_client_cls() -> type[TestClient[Any, Any]]:
    """pytest-aiohttp's client class: import this fixture to check every response."""
    return ConformingClient
