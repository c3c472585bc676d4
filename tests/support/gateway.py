"""One way for tests to build the gateway: settings with overrides, storage, a jobs queue.

``gateway_app(settings, storage=..., jobs=..., **overrides)`` is ``create_app`` with defaults (an
in-memory storage and job queue) and settings overrides per section; the ``gateway_client``
fixture (tests/conftest.py) puts that app behind an aiohttp test client::

    client = await gateway_client(settings, storage=storage, jobs=jobs)
    client = await gateway_client(settings, gateway={"spool_dir": tmp_path / "spool"})
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from briefkasten.broker.base import JobQueue
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.gateway.app import create_app
from briefkasten.monitoring.metrics import Metrics
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage

Client = TestClient[web.Request, web.Application]
#: The ``gateway_client`` fixture: ``await gateway_client(settings, storage=..., jobs=...)``.
GatewayClient = Callable[..., Awaitable[Client]]


def with_overrides(settings: Settings, **sections: Any) -> Settings:
    """``settings`` with some fields replaced: a mapping replaces fields of that section
    (``gateway={"spool_dir": path}``), anything else replaces the section itself
    (``tenants=(...)``)."""
    changes: dict[str, Any] = {}
    for name, value in sections.items():
        if isinstance(value, Mapping):
            changes[name] = dataclasses.replace(getattr(settings, name), **value)
        else:
            changes[name] = value
    return dataclasses.replace(settings, **changes) if changes else settings


def gateway_app(
    settings: Settings,
    *,
    storage: Storage | None = None,
    jobs: JobQueue | None = None,
    metrics: Metrics | None = None,
    **overrides: Any,
) -> web.Application:
    """``create_app`` for a test: a fresh in-memory storage and job queue unless given."""
    return create_app(
        with_overrides(settings, **overrides),
        storage=storage
        if storage is not None
        else open_storage(f"memory://{secrets.token_hex(6)}"),
        jobs=jobs if jobs is not None else MemoryJobQueue(),
        metrics=metrics,
    )


def gateway_client_factory(aiohttp_client: Callable[..., Awaitable[Client]]) -> GatewayClient:
    """What the ``gateway_client`` fixture returns (``aiohttp_client`` is pytest-aiohttp's)."""

    async def make(settings: Settings, **kwargs: Any) -> Client:
        return await aiohttp_client(gateway_app(settings, **kwargs))

    return make
