"""The admin dashboard's API (``/admin/api/*``), accounts, audit log, summary and ``status``.

The e2e tier's part (processes: serve, worker, the CLI, the browser); the other parts:
``tests/unit/test_admin.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from briefkasten import operators
from briefkasten.config import Settings
from tests.conftest import CliResult
from tests.unit.test_admin import (
    dead_letter,
)


def _env(**values: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")}
    return {**clean, **values}


def test_status_and_hash_password_cli(
    tmp_path: Path, cli: Callable[..., CliResult], settings: Settings
) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "briefkasten", "operator", "hash-password"],
        input="s3cret-pw\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert operators.verify_password("s3cret-pw", made.stdout.strip())

    journal = tmp_path / "journal"
    dead_letter(journal, "deadcli")
    env = _env(BRIEFKASTEN_BROKER_JOURNAL_DIR=str(journal))
    unreachable = cli("status", "--url", "http://127.0.0.1:1/metrics", env=env)
    assert unreachable.returncode == 5
    assert "queue: 0 job(s) waiting, 1 dead" in unreachable.stdout
    assert "deadcli" in unreachable.stdout and "manifest is broken" in unreachable.stdout
    assert "cannot read metrics" in unreachable.stderr
    as_json = cli("status", "--json", "--url", "http://127.0.0.1:1/metrics", env=env)
    body = json.loads(as_json.stdout)
    assert body["queue"]["dead_letters"] == 1
    assert body["dead_letters"][0]["job_id"] == "deadcli"
