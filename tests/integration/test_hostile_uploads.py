"""Hostile uploads against the real gateway: refused clearly or accepted within bounded cost.

Each file is built in the test (``tests/support/hostile.py``). The gateway process itself never
parses them (the sandbox does), so its peak memory stays where it was; no answer is a 5xx.
"""

from __future__ import annotations

from tests.unit import test_hostile_uploads as unit_hostile_uploads
from tests.unit.test_hostile_uploads import (
    Client,
)

client = unit_hostile_uploads.client  # the fixture, shared with tests/unit/test_hostile_uploads.py


async def test_readiness_reports_the_sandbox(client: Client) -> None:
    response = await client.get("/readyz")
    body = await response.json()
    assert body["checks"]["sandbox"]["ok"], body
