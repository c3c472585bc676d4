"""Monitoring: /metrics, /readyz, JSON logs without personal data, the worker's metrics port,
and the Grafana dashboard and alert rules shipped under ``config/``.

The e2e tier's part (processes: serve, worker, the CLI, the browser); the other parts:
``tests/unit/test_monitoring.py``, ``tests/integration/test_monitoring.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.unit.test_monitoring import (
    closed_port,
    samples,
    value,
)


def free_port() -> int:
    return closed_port()


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


def test_worker_serves_its_metrics_and_logs_json(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "BRIEFKASTEN_STORAGE": (tmp_path / "storage").as_uri(),
        "BRIEFKASTEN_BROKER_JOURNAL_DIR": str(tmp_path / "journal"),
        "BRIEFKASTEN_BROKER_OUTBOX_DIR": str(tmp_path / "outbox"),
        "BRIEFKASTEN_PIPELINE_WORKERS": "1",
    }
    env.pop("BRIEFKASTEN_AMQP_URL", None)
    command = [sys.executable, "-m", "briefkasten", "worker", "--metrics-port", str(port)]
    process = subprocess.Popen(
        [*command, "--idle-timeout", "60"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        body = ""
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status, body = fetch(f"http://127.0.0.1:{port}/metrics")
                break
            except OSError:
                time.sleep(0.1)
        assert process.poll() is None, "worker exited early"
        assert status == 200
        found = samples(body)
        assert value(found, "briefkasten_jobs_in_queue") == 0
        assert "briefkasten_stage_seconds" in body and "process_cpu_seconds_total" in body
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    events = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert any("metrics on http://127.0.0.1" in e["event"] for e in events)
    assert all(e["logger"].startswith("briefkasten") for e in events)
