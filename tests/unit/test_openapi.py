"""The OpenAPI document (``briefkasten/contract/openapi.yaml``): valid OpenAPI 3.1, one path
for every route of the gateway and no more, every error code, served as JSON; and the checker
the API tests use (``tests/support/openapi.py``) fails a response that does not conform."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openapi_core import OpenAPI
from openapi_spec_validator import validate as validate_spec

from briefkasten import contract, errors
from briefkasten.config import Settings
from briefkasten.gateway.apidocs import ASYNCAPI_PATH, PATH
from tests.conftest import ROOT
from tests.support.gateway import GatewayClient, gateway_app, with_overrides
from tests.support.openapi import (  # noqa: F401 (fixture: every response checked)
    ConformingClient,
    aiohttp_client_cls,
    assert_conforms,
)

KEY = "openapi-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: Routes whose aiohttp pattern is a regular expression: the paths the document gives them.
EXPANDED = {
    "/api/v1/upload-links/{link_id}/qr.{kind}": [
        "/api/v1/upload-links/{link_id}/qr.png",
        "/api/v1/upload-links/{link_id}/qr.svg",
    ],
    "/t/{tenant}/{page}": ["/t/{tenant}/einfach", "/t/{tenant}/barrierefreiheit"],
    "/static/{name}": ["/static/{name}", "/static/vendor/{name}", "/static/i18n/{name}"],
}


def configured(settings: Settings) -> Settings:
    return with_overrides(settings, gateway={"api_keys": f"jc-test:{KEY}"})


def test_the_document_is_valid_openapi_3_1() -> None:
    document = contract.openapi()
    assert document["openapi"] == "3.1.0"
    validate_spec(document)  # openapi-spec-validator: raises on any violation


@pytest.mark.parametrize("name", ["openapi.yaml", "asyncapi.yaml"])
def test_docs_openapi_yaml_is_the_package_file(name: str) -> None:
    """One file, never two to keep in step: docs/openapi.yaml (and asyncapi.yaml) is a symlink
    to the package data the gateway serves (a copy would be free to drift; the package must
    ship it)."""
    docs = ROOT / "docs" / name
    assert docs.is_symlink()
    assert docs.resolve() == (ROOT / "briefkasten" / "contract" / name).resolve()


def route_operations(app: web.Application) -> set[tuple[str, str]]:
    """(path as the document writes it, method) of every route the app has; not the HEAD
    aiohttp adds to every GET route."""
    found: set[tuple[str, str]] = set()
    for route in app.router.routes():
        assert route.resource is not None
        canonical = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", route.resource.canonical)
        found |= {(path, route.method.lower()) for path in EXPANDED.get(canonical, [canonical])}
    gets = {path for path, method in found if method == "get"}
    return {(path, method) for path, method in found if method != "head" or path not in gets}


def test_every_route_is_described_and_nothing_else(settings: Settings) -> None:
    app = gateway_app(configured(settings))
    document = contract.openapi()
    described = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }
    assert route_operations(app) == described


def test_every_error_code_is_in_the_error_schema() -> None:
    def codes(cls: type[errors.BriefkastenError]) -> set[str]:
        return {cls.code}.union(*(codes(sub) for sub in cls.__subclasses__()))

    schema = contract.openapi()["components"]["schemas"]["Error"]
    enum = schema["properties"]["error"]["properties"]["code"]["enum"]
    assert sorted(enum) == sorted(codes(errors.BriefkastenError))
    assert len(enum) == len(set(enum))


def test_every_status_an_error_can_have_is_documented_somewhere() -> None:
    def statuses(cls: type[errors.BriefkastenError]) -> set[int]:
        return {cls.http_status}.union(*(statuses(sub) for sub in cls.__subclasses__()))

    document = contract.openapi()
    documented = {
        int(status)
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in METHODS
        for status in operation["responses"]
    }
    # 500 is never a documented answer: the gateway's errors of that status are bugs or a
    # configuration an operator must fix, and schemathesis treats any 5xx but 503 as a failure.
    assert statuses(errors.BriefkastenError) - documented == {500}


async def test_the_gateway_serves_the_document_as_json(
    settings: Settings, gateway_client: GatewayClient
) -> None:
    client = await gateway_client(configured(settings))
    response = await client.get(PATH)  # no key needed
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == contract.openapi()
    assert response.headers["Cache-Control"] == "no-store"
    response = await client.get(ASYNCAPI_PATH, headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"
    document = await response.json()
    assert document == contract.asyncapi()
    assert document["asyncapi"].startswith("2.") or document["asyncapi"].startswith("3.")


async def test_probes_and_a_foreign_host_conform(
    settings: Settings, gateway_client: GatewayClient, tmp_path: Path
) -> None:
    client = await gateway_client(configured(settings), gateway={"spool_dir": tmp_path / "s"})
    ready = await client.get("/readyz")  # 200 or 503 (checked against the document either way)
    assert ready.status in (200, 503)
    foreign = await client.get("/api/v1/upload-links/self", headers={"Host": "evil.example"})
    assert foreign.status == 421
    assert (await foreign.json())["error"]["code"] == "misdirected_request"
    assert (await client.get("/healthz", headers={"Host": "evil.example"})).status == 200


# --- the checker fails what does not conform ------------------------------------------------


def broken_document(change: Any) -> OpenAPI:
    document = copy.deepcopy(contract.openapi())
    change(document)
    return OpenAPI.from_dict(document)


async def test_a_response_against_a_wrong_schema_fails(
    settings: Settings, aiohttp_client: Any
) -> None:
    client = await aiohttp_client(gateway_app(configured(settings)))
    response = await client.get("/api/v1/upload-links/self")  # 401, checked: it conforms
    assert response.status == 401
    body = await response.read()

    def require_a_field_it_lacks(document: dict[str, Any]) -> None:
        document["components"]["schemas"]["Error"]["required"].append("request_id")

    def drop_the_status(document: dict[str, Any]) -> None:
        del document["paths"]["/api/v1/upload-links/self"]["get"]["responses"]["401"]

    def another_media_type(document: dict[str, Any]) -> None:
        unauthorized = document["components"]["responses"]["Unauthorized"]
        unauthorized["content"] = {"text/plain": unauthorized["content"]["application/json"]}

    for change, says in (
        (require_a_field_it_lacks, "request_id"),
        (drop_the_status, "401"),
        (another_media_type, "application/json"),
    ):
        with pytest.raises(AssertionError, match=says):
            assert_conforms(response, body, broken_document(change))


async def test_the_conforming_client_fails_a_wrong_answer() -> None:
    """A handler that answers what the document does not allow: the client raises."""

    async def wrong_healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "fine"})  # the document says const "ok"

    async def undocumented_status(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"}, status=201)

    async def unknown_path(request: web.Request) -> web.Response:
        return web.Response(text="not the JSON error body", status=404)

    app = web.Application()
    app.router.add_get("/healthz", wrong_healthz)
    app.router.add_get("/readyz", undocumented_status)
    app.router.add_get("/nowhere", unknown_path)
    client: TestClient[Any, Any] = ConformingClient(TestServer(app))
    await client.start_server()
    try:
        with pytest.raises(AssertionError, match="does not conform"):
            await client.get("/healthz")
        with pytest.raises(AssertionError, match="201"):
            await client.get("/readyz")
        with pytest.raises(AssertionError, match="not the JSON error body"):
            await client.get("/nowhere")
    finally:
        await client.close()


def test_the_served_bytes_are_the_yaml_converted() -> None:
    from briefkasten.gateway.apidocs import document_json

    assert json.loads(document_json()) == contract.openapi()
