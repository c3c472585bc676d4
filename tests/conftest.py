"""Shared fixtures: the repo root on sys.path (for ``samples``), settings, the gateway as a test
client and a CLI runner."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from briefkasten import config  # noqa: E402
from briefkasten.config import Settings  # noqa: E402
from tests.support.gateway import Client, GatewayClient, gateway_client_factory  # noqa: E402
from tests.support.rabbit import rabbit_url, rabbit_vhost  # noqa: E402, F401
from tests.support.redis_server import redis_server_fixture, redis_url_fixture  # noqa: E402, F401
from tests.support.servers import s3_server_fixture, s3_url_fixture  # noqa: E402, F401


@pytest.fixture
def settings() -> Settings:
    """Defaults with one worker: tests run in parallel processes already."""
    return config.load(environ={"BRIEFKASTEN_PIPELINE_WORKERS": "1"})


@pytest.fixture
def gateway_client(aiohttp_client: Callable[..., Awaitable[Client]]) -> GatewayClient:
    """``await gateway_client(settings, storage=..., jobs=..., **overrides)``: the gateway app
    (``tests/support/gateway.py: gateway_app``) behind an aiohttp test client."""
    return gateway_client_factory(aiohttp_client)


CliResult = subprocess.CompletedProcess[str]


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run ``python -m briefkasten ARGS`` and return the completed process."""

    def run(*args: str | Path, env: dict[str, str] | None = None) -> CliResult:
        command = [sys.executable, "-m", "briefkasten", *map(str, args)]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=300, env=env, check=False
        )

    return run
