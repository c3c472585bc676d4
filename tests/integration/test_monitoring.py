"""Monitoring: /metrics, /readyz, JSON logs without personal data, the worker's metrics port,
and the Grafana dashboard and alert rules shipped under ``config/``.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_monitoring.py``,
``tests/e2e/test_monitoring.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from briefkasten.broker import open_job_queue
from briefkasten.broker.local import LocalJobQueue, MemoryJobQueue
from briefkasten.broker.outbox import Outbox
from briefkasten.config import Settings
from briefkasten.monitoring.logs import JsonFormatter
from briefkasten.monitoring.metrics import Metrics
from briefkasten.storage import open_storage
from briefkasten.worker import Worker
from tests.support.env import need
from tests.support.gateway import GatewayClient, gateway_app
from tests.unit.test_monitoring import (
    AUTH,
    FILE_NAME,
    PAGE_WORDS,
    ROOT,
    TENANT,
    Client,
    closed_port,
    form,
    monitored_settings,
    page_png,
    ready,
    scrape,
    value,
)


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log record of this process as JSON lines, DEBUG and up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_embedded_processing_feeds_metrics_and_logs_ids_only(
    tmp_path: Path,
    settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    captured_logs: io.StringIO,
) -> None:
    settings = monitored_settings(settings, tmp_path)
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir, max_attempts=3)
    metrics = Metrics.for_settings(settings)  # as `serve` does: gateway and worker share it
    app = gateway_app(settings, storage=storage, jobs=jobs, metrics=metrics)
    client = await aiohttp_client(app)
    response = await client.post("/api/v1/submissions", data=form(page_png()), headers=AUTH)
    assert response.status == 202
    submission_id = (await response.json())["submission_id"]
    assert value(await scrape(client), "briefkasten_jobs_in_queue") == 1

    worker = Worker(settings, storage, open_job_queue(settings), threading.Event(), metrics)
    assert await asyncio.to_thread(worker.run, idle_timeout=1.0) == 1

    found = await scrape(client)
    assert value(found, "briefkasten_pages_processed_total", tenant=TENANT) == 1
    assert (value(found, "briefkasten_stage_seconds_count", step="ocr") or 0) >= 1
    assert (value(found, "briefkasten_stage_seconds_count", step="bundle") or 0) >= 1
    assert value(found, "briefkasten_ocr_confidence_count", tenant=TENANT) == 1
    assert (value(found, "briefkasten_ocr_confidence_sum", tenant=TENANT) or 0) > 0
    assert value(found, "briefkasten_documents_total", tenant=TENANT, result="normalised") == 1
    assert value(found, "briefkasten_jobs_in_queue") == 0
    assert value(found, "briefkasten_outbox_pending") == 1  # embedded: the outbox is the sink

    # The OCR really read the page, so its words could have leaked into a log line ...
    (entry,) = Outbox(settings.broker.outbox_dir).pending()
    text_key = json.loads(entry.message.body)["documents"][0]["text"]["key"]
    text = storage.get_bytes(text_key).decode()
    assert fuzz.partial_ratio(PAGE_WORDS[0], text) > 80, text
    # ... but no log line names the file or carries the text; every line is JSON with ids.
    lines = captured_logs.getvalue().splitlines()
    events = [json.loads(line) for line in lines]
    assert all({"ts", "level", "logger", "event"} <= set(e) for e in events)
    output = captured_logs.getvalue()
    for secret in (FILE_NAME, "Mustermann", "Erika", *PAGE_WORDS):
        assert secret.lower() not in output.lower(), secret
    mine = [e for e in events if e.get("submission_id") == submission_id]
    assert {e["logger"] for e in mine} >= {"briefkasten.gateway", "briefkasten.service"}
    steps = [e for e in mine if e.get("step")]
    assert {"ocr", "bundle"} <= {e["step"] for e in steps}
    assert all(e["tenant"] == TENANT and e["document_id"] for e in steps)
    assert all(isinstance(e["duration_ms"], float) for e in steps)


async def test_readyz_with_a_reachable_broker(
    tmp_path: Path,
    settings: Settings,
    rabbit_url: str,
    gateway_client: GatewayClient,
) -> None:
    settings = monitored_settings(
        settings, tmp_path, broker={"amqp_url": rabbit_url, "work_queue": "mon.nothing-here"}
    )
    storage = open_storage(f"memory://{tmp_path.name}")
    client = await gateway_client(settings, storage=storage, jobs=MemoryJobQueue())
    status, body = await ready(client)
    assert status == 200, body
    assert body["checks"]["broker"]["ok"]
    found = await scrape(client)
    assert value(found, "briefkasten_jobs_in_queue") == 0  # not declared yet: empty
    assert value(found, "briefkasten_dead_letters") == 0


def test_promtool_accepts_the_alert_rules() -> None:
    promtool = shutil.which("promtool")
    need(promtool is not None, "promtool (Prometheus) is not on PATH: run `make promtool`")
    assert promtool is not None
    result = subprocess.run(
        [promtool, "check", "rules", str(ROOT / "config" / "prometheus-alerts.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_alert_rule_tests_pass() -> None:
    """``config/prometheus-alerts.test.yml``: every alert fires where it should, and not after
    a worker restart that delivered (series at 0), a quiet night, a short blip, ..."""
    promtool = shutil.which("promtool")
    need(promtool is not None, "promtool (Prometheus) is not on PATH: run `make promtool`")
    assert promtool is not None
    result = subprocess.run(
        [promtool, "test", "rules", str(ROOT / "config" / "prometheus-alerts.test.yml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


async def test_readyz_names_every_check_and_is_ready_with_defaults(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    settings = monitored_settings(settings, tmp_path)
    storage = open_storage(f"memory://{tmp_path.name}")
    client = await gateway_client(settings, storage=storage, jobs=MemoryJobQueue())
    status, body = await ready(client)
    assert status == 200, body
    assert body["status"] == "ready" and body["failed"] == []
    assert set(body["checks"]) == {"tesseract", "storage", "disk", "sandbox", "malware_scan"}
    assert body["checks"]["malware_scan"] == {"ok": True, "detail": "off"}  # no clamd configured
    assert "deu" in body["checks"]["tesseract"]["detail"]


async def test_readyz_fails_on_disk_threshold_and_missing_language(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    settings = monitored_settings(
        settings,
        tmp_path,
        gateway={"min_free_disk_mb": 10**12},
        ocr=dataclasses.replace(settings.ocr, lang="deu+xyzzy"),
    )
    storage = open_storage(f"memory://{tmp_path.name}")
    client = await gateway_client(settings, storage=storage, jobs=MemoryJobQueue())
    status, body = await ready(client)
    assert status == 503
    assert body["status"] == "unavailable"
    assert sorted(body["failed"]) == ["disk", "tesseract"]
    assert body["checks"]["storage"]["ok"]
    assert "xyzzy" in body["checks"]["tesseract"]["detail"]
    assert str(tmp_path) not in json.dumps(body)  # no paths for whoever asks


async def test_readyz_and_metrics_with_the_broker_away(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    url = f"amqp://guest:guest@127.0.0.1:{closed_port()}/"
    settings = monitored_settings(settings, tmp_path, broker={"amqp_url": url})
    storage = open_storage(f"memory://{tmp_path.name}")
    client = await gateway_client(settings, storage=storage, jobs=MemoryJobQueue())
    started = time.monotonic()
    status, body = await ready(client)
    assert status == 503
    assert body["failed"] == ["broker"]
    assert "guest" not in json.dumps(body)
    found = await scrape(client)  # still answers, without the queue figures it cannot know
    assert value(found, "briefkasten_jobs_in_queue") is None
    assert value(found, "briefkasten_outbox_pending") == 0
    assert time.monotonic() - started < 20
