"""The upload gateway over real HTTP (aiohttp test server), with the in-package memory storage.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_gateway.py``.
"""

from __future__ import annotations

from tests.unit import test_gateway as unit_gateway
from tests.unit.test_gateway import (
    Gateway,
)

gateway = unit_gateway.gateway  # the fixture, shared with tests/unit/test_gateway.py


async def test_health_and_readiness(gateway: Gateway) -> None:
    assert (await gateway.client.get("/healthz")).status == 200
    ready = await gateway.client.get("/readyz")
    body = await ready.json()
    assert ready.status == 200, body
    assert body["failed"] == [] and body["checks"]["storage"]["ok"]
