"""Several job centers in one deployment: per-tenant configuration and isolation.

Tenant ``jc-a`` has its own catalogue (with a type of its own), labels and pipeline; ``jc-b``
uses the global ones but publishes under its own routing-key prefix ``jcb``. Each has its API
keys in its ``[tenants.<id>]`` table (``jc-b``'s also from the environment). Everything runs on
loopback: the gateway in-process, RabbitMQ in a vhost of this run's own.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_tenants.py``,
``tests/e2e/test_tenants.py``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from briefkasten.broker.outbox import Outbox
from briefkasten.broker.rabbitmq import RabbitPublisher
from briefkasten.service import Services, deliver
from tests.integration.test_rabbitmq import Tap
from tests.support import rabbit
from tests.unit import test_tenants as unit_tenants
from tests.unit.test_tenants import (
    KEY_A,
    KEY_B,
    Deployment,
)

deployment = unit_tenants.deployment  # the fixture, shared with tests/unit/test_tenants.py


async def test_tenant_pipeline_and_routing_prefix_over_rabbitmq(
    deployment: Deployment,
    tmp_path: Path,
    rabbit_url: str,
) -> None:
    exchange = rabbit.unique("documents")
    taps = {b: Tap(rabbit_url, exchange, b) for b in ("jc-a.#", "jcb.#", "jc-b.#")}
    publisher = RabbitPublisher(rabbit_url, exchange)
    services = Services(
        deployment.settings, deployment.storage, Outbox(tmp_path / "outbox"), publisher
    )
    try:
        for key in (KEY_A, KEY_B):
            status, answer = await deployment.upload(key, text="Kontoauszug")
            assert status == 202, answer
        for job in deployment.jobs.jobs:
            await asyncio.to_thread(deliver, job, services)
        got = {binding: tap.take(1, timeout=10) for binding, tap in taps.items()}
        assert taps["jc-b.#"].take(1, timeout=1) == []
    finally:
        publisher.close()
        for tap in taps.values():
            tap.close()
    assert got["jc-b.#"] == []  # B's messages carry B's prefix, not its id
    message_a = json.loads(got["jc-a.#"][0][1])
    message_b = json.loads(got["jcb.#"][0][1])
    assert message_a["tenant"] == "jc-a" and message_b["tenant"] == "jc-b"
    assert message_a["documents"][0]["pipeline"]["name"] == "precheck"  # A's own pipeline
    assert message_b["documents"][0]["pipeline"]["name"] == "ocr-only"  # the global one
    assert all(
        obj["key"].startswith(f"{m['tenant']}/")
        for m in (message_a, message_b)
        for obj in (m["documents"][0]["pdf"], *m["documents"][0]["originals"])
    )
