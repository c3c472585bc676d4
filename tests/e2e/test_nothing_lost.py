"""Nothing lost: a broker outage at upload, the client's retry, concurrent retries, the
reconciler, and no status left at ``processing``.

Distributed tests run against the real RabbitMQ (this run's vhost) and SeaweedFS; the gateway
whose broker is "away" is configured with a loopback port nobody listens on, its retry reaches a
gateway whose broker works (as behind a load balancer after the outage). Reconciler tests run on
file storage and on SeaweedFS with the embedded journal; ``now`` is passed, nobody waits.

The e2e tier's part (processes: serve, worker, the CLI, the browser); the other parts:
``tests/unit/test_nothing_lost.py``, ``tests/integration/test_nothing_lost.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from briefkasten.broker.local import LocalJobQueue
from briefkasten.config import Settings
from briefkasten.errors import BrokerError
from briefkasten.housekeeping.reconcile import NEVER_QUEUED
from briefkasten.intake import IncomingDocument, Intake
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from tests.integration.test_failures import (
    TENANT,
)
from tests.integration.test_service import CASE, small_page
from tests.support.rabbit import rabbit_url, rabbit_vhost  # noqa: F401  (pytest fixtures)
from tests.unit.test_nothing_lost import (
    broken_journal,
    incoming,
    manifests,
    storage_of_kind,
)

# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture(params=["file", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    return storage_of_kind(request.param, request, tmp_path)


def test_reconcile_run_cli(tmp_path: Path, settings: Settings, cli: Callable[..., Any]) -> None:
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    document = IncomingDocument("sonstiges", (incoming(tmp_path, small_page("cli"), "c.png"),))
    with pytest.raises(BrokerError):
        Intake(storage, broken_journal(tmp_path / "broken")).receive(TENANT, CASE, [document])
    (stored,) = manifests(storage)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")}
    env = {
        **clean,
        "BRIEFKASTEN_STORAGE": (tmp_path / "storage").as_uri(),
        "BRIEFKASTEN_API_KEYS": f"{TENANT}:{'k' * 20}",
        "BRIEFKASTEN_BROKER_JOURNAL_DIR": str(tmp_path / "journal"),
        "BRIEFKASTEN_RECONCILE_REQUEUE_AFTER_S": "0",
    }
    journal = LocalJobQueue(tmp_path / "journal")

    dry = cli("reconcile", "run", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout == f"would queue {TENANT} {stored}  {NEVER_QUEUED}\n"
    assert journal.pending_count() == 0
    done = cli("reconcile", "run", env=env)
    assert done.returncode == 0 and done.stdout == f"queued {TENANT} {stored}  {NEVER_QUEUED}\n"
    assert journal.pending_count() == 1
    assert cli("reconcile", "run", env=env).stdout == ""  # queued now: nothing to repair
