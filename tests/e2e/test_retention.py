"""Deletion after hand-over: confirmations (API and the receipts exchange) and the sweep.

The sweep runs with an injected ``now``, against memory, file and S3 storage (SeaweedFS);
confirmations over RabbitMQ use a vhost of this run's own.

The e2e tier's part (processes: serve, worker, the CLI, the browser); the other parts:
``tests/unit/test_retention.py``, ``tests/integration/test_retention.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.unit.test_retention import (
    KEY,
    TENANT,
    gone,
    make_storage,
    receive,
    received_at,
)


def test_retention_run_cli(tmp_path: Path, cli: Callable[..., Any]) -> None:
    import os

    storage = make_storage("file", tmp_path)
    submission = receive(storage, tmp_path, b"cli")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")}
    env = {
        **clean,
        "BRIEFKASTEN_STORAGE": (tmp_path / "storage").as_uri(),
        "BRIEFKASTEN_API_KEYS": f"{TENANT}:{KEY}",
        "BRIEFKASTEN_BROKER_OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    at = (received_at(submission) + timedelta(days=91)).isoformat()
    ahead = cli("retention", "run", "--dry-run", "--at", at, env=env)
    assert ahead.returncode == 0, ahead.stderr
    assert f"would delete {TENANT} {submission.submission_id}" in ahead.stdout
    assert not gone(storage, submission)
    assert cli("retention", "run", "--at", at, env=env).returncode == 2  # --at only with --dry-run
    now = cli("retention", "run", env=env)
    assert now.returncode == 0 and now.stdout == ""  # received just now: nothing due
    assert not gone(storage, submission)
