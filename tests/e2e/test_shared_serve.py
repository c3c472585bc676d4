"""Two ``briefkasten serve`` processes with one ``BRIEFKASTEN_GATEWAY_RATE_LIMIT_STORAGE``: the
per-address limit holds over both together, each says at start where it counts (no password),
and ``/readyz`` reports Redis. The same across two in-process gateways, with idempotency and
revocation: tests/integration/test_shared_state.py."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.test_serve import get
from tests.support import cluster

LIMIT = 4


@pytest.fixture
def two_servers(tmp_path: Path, redis_url: str) -> Iterator[list[tuple[str, Path]]]:
    env = cluster.clean_environ(
        BRIEFKASTEN_API_KEYS="jc-serve:serve-key-0123456789",
        BRIEFKASTEN_PIPELINE_WORKERS="1",
        BRIEFKASTEN_GATEWAY_PRECHECK_WORKERS="0",
        BRIEFKASTEN_GATEWAY_RATE_LIMIT_PER_IP=f"{LIMIT}/minute",
        BRIEFKASTEN_GATEWAY_RATE_LIMIT_STORAGE=redis_url,
    )
    nodes = [cluster.Node("gateway", "serve", tmp_path / name, env) for name in ("a", "b")]
    with cluster.started(*nodes):
        yield [(node.url, node.log) for node in nodes]


def status_of(url: str) -> tuple[int, str | None]:
    """A GET without credentials (counted against the address): status and Retry-After."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Retry-After")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")


def test_two_serve_processes_share_the_limit_in_redis(
    two_servers: list[tuple[str, Path]], redis_url: str
) -> None:
    path = "/api/v1/submissions/" + "a" * 32
    answers = [status_of(two_servers[i % 2][0] + path) for i in range(10)]

    assert [s for s, _ in answers] == [401] * LIMIT + [429] * (10 - LIMIT)
    assert all(r is not None and 1 <= int(r) <= 60 for _, r in answers[LIMIT:])
    parts = urlsplit(redis_url)
    for base, log in two_servers:
        ready = get(f"{base}/readyz")[1]
        checks = ready["checks"]
        assert isinstance(checks, dict)
        assert checks["redis"]["detail"].startswith("ok")
        text = log.read_text()
        assert f"in Redis at 127.0.0.1:{parts.port}{parts.path}, shared by every gateway" in text
        assert parts.password and parts.password not in text
        assert "Traceback" not in text
