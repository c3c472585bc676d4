"""The Host allowlist (``gateway.allowed_hosts``) against DNS rebinding, over raw HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.gateway.hosts import split_host
from briefkasten.storage import open_storage
from tests.support.gateway import GatewayClient
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)

KEY = "hosts-key-0123456789"
Client = TestClient[Any, Any]
Factory = Callable[..., Awaitable[Client]]


async def gateway(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient, **gateway_fields: Any
) -> Client:
    settings = dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway,
            api_keys=f"jc-hosts:{KEY}",
            spool_dir=tmp_path / "spool",
            **gateway_fields,
        ),
        links=dataclasses.replace(
            settings.links, public_base_url="https://post.jobcenter.example:8443/"
        ),
    )
    storage = open_storage(f"memory://{tmp_path.name}")
    return await gateway_client(settings, storage=storage, jobs=MemoryJobQueue())


async def raw(client: Client, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` byte for byte; the status and the body of the answer."""
    assert client.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(65536), timeout=10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def get(path: str, host: str | None, method: str = "GET", extra: str = "") -> bytes:
    host_line = f"Host: {host}\r\n" if host is not None else ""
    return f"{method} {path} HTTP/1.1\r\n{host_line}{extra}Connection: close\r\n\r\n".encode()


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",
        "attacker.example:8080",
        "127.0.0.1.attacker.example",
        "localhost.attacker.example",
        "post.jobcenter.example.attacker.example",
        "evil@127.0.0.1",
        "[::1",
        "",
    ],
)
async def test_a_foreign_host_is_refused_with_421_before_anything_else(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient, host: str
) -> None:
    client = await gateway(tmp_path, settings, gateway_client)
    for path, method, extra in (
        ("/", "GET", ""),
        ("/admin", "GET", ""),
        ("/metrics", "GET", ""),
        # No key, no body: still 421, not 401 (the Host is checked first).
        ("/api/v1/submissions", "POST", "Content-Length: 0\r\n"),
    ):
        status, body = await raw(client, get(path, host, method, extra))
        assert status == 421, (path, body)
        error = json.loads(body)["error"]
        assert error["code"] == "misdirected_request"
        assert error["message_de"] and error["message_en"]


async def test_a_request_without_host_is_refused(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    client = await gateway(tmp_path, settings, gateway_client)
    status, _ = await raw(client, b"GET / HTTP/1.0\r\n\r\n")
    assert status == 421


async def test_the_default_allows_loopback_and_the_public_host_only(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    client = await gateway(tmp_path, settings, gateway_client)
    hosts = [
        "127.0.0.1:{port}",
        "localhost",
        "LOCALHOST:{port}",
        "[::1]:{port}",
        "post.jobcenter.example",
        "post.jobcenter.example:8443",
        "post.jobcenter.example.",
        "jobcenter.example",
    ]
    answers = {}
    for host in hosts:
        answers[host] = (await raw(client, get("/metrics", host.format(port=client.port))))[0]
    assert answers == {**dict.fromkeys(hosts, 200), "jobcenter.example": 421}


async def test_configured_hosts_replace_the_default(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    client = await gateway(
        tmp_path, settings, gateway_client, allowed_hosts="briefkasten.intern:8080, 10.0.0.5"
    )
    answers = {
        host: (await raw(client, get("/metrics", host)))[0]
        for host in (
            "briefkasten.intern:8080",
            "briefkasten.intern:9090",  # listed with a port: only that port
            "briefkasten.intern",
            "10.0.0.5:1234",  # listed without a port: any port
            "127.0.0.1",  # the default is replaced
            "post.jobcenter.example",
        )
    }
    assert answers == {
        "briefkasten.intern:8080": 200,
        "briefkasten.intern:9090": 421,
        "briefkasten.intern": 421,
        "10.0.0.5:1234": 200,
        "127.0.0.1": 421,
        "post.jobcenter.example": 421,
    }
    # Probes answer on any Host (a load balancer or kubelet asks by address).
    assert (await raw(client, get("/healthz", "10.1.2.3:8080")))[0] == 200


def test_split_host() -> None:
    assert split_host("Example.ORG:80") == ("example.org", 80)
    assert split_host("[::1]") == ("[::1]", None)
    assert split_host("[::1]:8080") == ("[::1]", 8080)
    for bad in ("", ":80", "a:b", "a:0", "a:70000", "[::1]x", "a/b", "u@h"):
        with pytest.raises(ValueError):
            split_host(bad)
