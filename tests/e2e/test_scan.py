"""The malware scan: clamd's protocol (unit tests with the test double), the adapter against a
real clamd with an EICAR test signature (``tests/support/clamd.py``), and the gateway refusing,
quarantining, auditing and counting infected uploads, failing closed or open when clamd is away.

The e2e tier's part (processes: serve, worker, the CLI, the browser); the other parts:
``tests/unit/test_scan.py``, ``tests/integration/test_scan.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from briefkasten.broker.local import MemoryJobQueue
from briefkasten.errors import MalwareFound
from briefkasten.intake import Intake
from briefkasten.malware.scanner import (
    StubScanner,
)
from briefkasten.storage import open_storage
from tests.support.clamd import (  # noqa: F401  (pytest fixtures)
    FOUND_NAME,
    STREAM_MAX_BYTES,
    Clamd,
    clamd_fixture,
    clamd_server_fixture,
    eicar,
)
from tests.unit.test_scan import (
    CASE,
    TENANT,
    incoming_document,
)


def test_operators_list_copy_out_and_delete_quarantined_files(
    tmp_path: Path, cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    url = (tmp_path / "storage").as_uri()
    storage = open_storage(url)
    intake = Intake(storage, MemoryJobQueue(), scanner=StubScanner({b"BAD": "Test.Bad"}))
    with pytest.raises(MalwareFound):
        intake.receive(TENANT, CASE, [incoming_document(tmp_path, b"xBADx", "brief.jpg")])
    env = {**os.environ, "BRIEFKASTEN_STORAGE": url}

    listed = cli("quarantine", "list", "--tenant", TENANT, env=env)
    assert listed.returncode == 0, listed.stderr
    [record] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert record["signature"] == "Test.Bad" and record["size"] == 5
    copied = tmp_path / "copy.bin"
    got = cli("quarantine", "get", record["quarantine_id"], "--output", copied, env=env)
    assert got.returncode == 0, got.stderr
    assert copied.read_bytes() == b"xBADx"

    refused = cli("quarantine", "delete", record["quarantine_id"], env=env)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    deleted = cli("quarantine", "delete", record["quarantine_id"], "--yes", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert storage.list("_quarantine/") == []
    events = [json.loads(storage.get_bytes(k)) for k in storage.list("_audit/")]
    assert [e["action"] for e in events] == ["quarantine", "quarantine_delete"]
    missing = cli("quarantine", "get", record["quarantine_id"], "--output", copied, env=env)
    assert missing.returncode == 2 and "not_found" in missing.stderr
