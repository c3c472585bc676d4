"""Monitoring: /metrics, /readyz, JSON logs without personal data, the worker's metrics port,
and the Grafana dashboard and alert rules shipped under ``config/``."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families
from rapidfuzz import fuzz

from briefkasten.broker.local import LocalJobQueue, MemoryJobQueue
from briefkasten.broker.outbox import Outbox
from briefkasten.config import Settings
from briefkasten.gateway import create_app
from briefkasten.monitoring.logs import JsonFormatter, TextFormatter
from briefkasten.monitoring.metrics import Metrics
from briefkasten.storage import open_storage
from briefkasten.worker import Worker, job_queue
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
CASE = "12345BG0012345"
KEY = "mon-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
TENANT = "jc-monitor"
#: What must never reach a log line: the applicant's file name and the page's text.
FILE_NAME = "Mustermann_Erika_Kontoauszug.png"
PAGE_WORDS = ("Quittengelee", "Zauberwort")
Client = TestClient[Any, Any]


def monitored_settings(settings: Settings, tmp_path: Path, **changes: Any) -> Settings:
    gateway = dataclasses.replace(
        settings.gateway,
        api_keys=f"{TENANT}:{KEY}",
        spool_dir=tmp_path / "spool",
        **changes.pop("gateway", {}),
    )
    broker = dataclasses.replace(
        settings.broker,
        outbox_dir=tmp_path / "outbox",
        journal_dir=tmp_path / "journal",
        **changes.pop("broker", {}),
    )
    pipeline = dataclasses.replace(settings.pipeline, name="ocr-only", workers=1)
    return dataclasses.replace(
        settings, gateway=gateway, broker=broker, pipeline=pipeline, **changes
    )


def page_png() -> bytes:
    buffer = io.BytesIO()
    factories.text_page(PAGE_WORDS, size=(900, 400), font_size=36).save(
        buffer, format="PNG", dpi=(150, 150)
    )
    return buffer.getvalue()


def form(data: bytes, *, document_type: str = "kontoauszug") -> FormData:
    body = FormData()
    body.add_field("case_number", CASE)
    body.add_field("document_type", document_type)
    body.add_field("file", data, filename=FILE_NAME, content_type="image/png")
    return body


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` of a text exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


async def scrape(client: Client) -> dict[Any, float]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return samples(await response.text())


async def test_metrics_count_uploads_by_tenant_and_result(
    tmp_path: Path, settings: Settings, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    settings = monitored_settings(settings, tmp_path)
    storage = open_storage(f"memory://{tmp_path.name}")
    client = await aiohttp_client(create_app(settings, storage=storage, jobs=MemoryJobQueue()))
    png = page_png()
    accepted = await client.post("/api/v1/submissions", data=form(png), headers=AUTH)
    assert accepted.status == 202
    refused = await client.post(
        "/api/v1/submissions", data=form(png, document_type="nope"), headers=AUTH
    )
    assert refused.status == 400

    found = await scrape(client)
    assert value(found, "briefkasten_uploads_total", tenant=TENANT, result="accepted") == 1
    assert value(found, "briefkasten_uploads_total", tenant=TENANT, result="invalid_request") == 1
    assert value(found, "briefkasten_upload_bytes_total", tenant=TENANT) == len(png)
    assert value(found, "briefkasten_jobs_in_queue") == 0  # the (empty) local journal
    assert value(found, "briefkasten_outbox_pending") == 0
    assert value(found, "briefkasten_dead_letters") == 0


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
    app = create_app(settings, storage=storage, jobs=jobs, metrics=metrics)
    client = await aiohttp_client(app)
    response = await client.post("/api/v1/submissions", data=form(page_png()), headers=AUTH)
    assert response.status == 202
    submission_id = (await response.json())["submission_id"]
    assert value(await scrape(client), "briefkasten_jobs_in_queue") == 1

    worker = Worker(settings, storage, job_queue(settings), threading.Event(), metrics)
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


async def ready(client: Client) -> tuple[int, dict[str, Any]]:
    response = await client.get("/readyz")
    body: dict[str, Any] = await response.json()
    return response.status, body


async def test_readyz_names_every_check_and_is_ready_with_defaults(
    tmp_path: Path, settings: Settings, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    settings = monitored_settings(settings, tmp_path)
    storage = open_storage(f"memory://{tmp_path.name}")
    client = await aiohttp_client(create_app(settings, storage=storage, jobs=MemoryJobQueue()))
    status, body = await ready(client)
    assert status == 200, body
    assert body["status"] == "ready" and body["failed"] == []
    assert set(body["checks"]) == {"tesseract", "storage", "disk", "sandbox", "malware_scan"}
    assert body["checks"]["malware_scan"] == {"ok": True, "detail": "off"}  # no clamd configured
    assert "deu" in body["checks"]["tesseract"]["detail"]


async def test_readyz_fails_on_disk_threshold_and_missing_language(
    tmp_path: Path, settings: Settings, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    settings = monitored_settings(
        settings,
        tmp_path,
        gateway={"min_free_disk_mb": 10**12},
        ocr=dataclasses.replace(settings.ocr, lang="deu+xyzzy"),
    )
    storage = open_storage(f"memory://{tmp_path.name}")
    client = await aiohttp_client(create_app(settings, storage=storage, jobs=MemoryJobQueue()))
    status, body = await ready(client)
    assert status == 503
    assert body["status"] == "unavailable"
    assert sorted(body["failed"]) == ["disk", "tesseract"]
    assert body["checks"]["storage"]["ok"]
    assert "xyzzy" in body["checks"]["tesseract"]["detail"]
    assert str(tmp_path) not in json.dumps(body)  # no paths for whoever asks


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_readyz_and_metrics_with_the_broker_away(
    tmp_path: Path, settings: Settings, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    url = f"amqp://guest:guest@127.0.0.1:{closed_port()}/"
    settings = monitored_settings(settings, tmp_path, broker={"amqp_url": url})
    storage = open_storage(f"memory://{tmp_path.name}")
    client = await aiohttp_client(create_app(settings, storage=storage, jobs=MemoryJobQueue()))
    started = time.monotonic()
    status, body = await ready(client)
    assert status == 503
    assert body["failed"] == ["broker"]
    assert "guest" not in json.dumps(body)
    found = await scrape(client)  # still answers, without the queue figures it cannot know
    assert value(found, "briefkasten_jobs_in_queue") is None
    assert value(found, "briefkasten_outbox_pending") == 0
    assert time.monotonic() - started < 20


async def test_readyz_with_a_reachable_broker(
    tmp_path: Path,
    settings: Settings,
    rabbit_url: str,
    aiohttp_client: Callable[..., Awaitable[Client]],
) -> None:
    settings = monitored_settings(
        settings, tmp_path, broker={"amqp_url": rabbit_url, "work_queue": "mon.nothing-here"}
    )
    storage = open_storage(f"memory://{tmp_path.name}")
    client = await aiohttp_client(create_app(settings, storage=storage, jobs=MemoryJobQueue()))
    status, body = await ready(client)
    assert status == 200, body
    assert body["checks"]["broker"]["ok"]
    found = await scrape(client)
    assert value(found, "briefkasten_jobs_in_queue") == 0  # not declared yet: empty
    assert value(found, "briefkasten_dead_letters") == 0


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


def test_formatters_carry_the_extra_fields() -> None:
    record = logging.LogRecord("briefkasten.test", logging.INFO, __file__, 1, "done %d", (3,), None)
    record.submission_id = "ab" * 16
    record.duration_ms = 12.5
    event = json.loads(JsonFormatter().format(record))
    assert event["event"] == "done 3" and event["level"] == "info"
    assert event["submission_id"] == "ab" * 16 and event["duration_ms"] == 12.5
    assert event["logger"] == "briefkasten.test" and event["ts"].endswith("+00:00")
    assert f"[submission_id={'ab' * 16} duration_ms=12.5]" in TextFormatter().format(record)


# ----------------------------------------------------------- dashboard and alert rules


def known_series(settings: Settings, tmp_path: Path) -> set[str]:
    """Every sample name ``Metrics`` can expose (counters with ``_total`` etc.)."""
    metrics = Metrics.for_settings(monitored_settings(settings, tmp_path))
    names = set()
    for family in metrics.registry.collect():
        for suffix in ("", "_total", "_created", "_bucket", "_count", "_sum"):
            names.add(family.name + suffix)
    return names


def used_series(expressions: list[str]) -> set[str]:
    return {n for e in expressions for n in re.findall(r"\bbriefkasten_[a-z_]+", e)}


def test_dashboard_uses_only_our_metrics(settings: Settings, tmp_path: Path) -> None:
    dashboard = json.loads((ROOT / "config" / "grafana-dashboard.json").read_text())
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert "tenant" in variables
    expressions.append(variables["tenant"]["definition"])
    used = used_series(expressions)
    assert used - known_series(settings, tmp_path) == set()
    for needed in ("uploads", "pages_processed", "stage_seconds", "ocr_confidence"):
        assert any(needed in name for name in used), needed
    for needed in ("jobs_in_queue", "outbox_pending", "dead_letters", "publish", "storage_errors"):
        assert any(needed in name for name in used), needed


def test_alert_rules_use_only_our_metrics(settings: Settings, tmp_path: Path) -> None:
    rules_file = ROOT / "config" / "prometheus-alerts.yml"
    groups = yaml.safe_load(rules_file.read_text())["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert all({"alert", "expr", "labels", "annotations"} <= set(r) for r in rules)
    assert used_series([r["expr"] for r in rules]) - known_series(settings, tmp_path) == set()
    names = {r["alert"] for r in rules}
    assert {"BriefkastenNoDocumentsDelivered", "BriefkastenDeadLetters"} <= names
    assert {"BriefkastenOutboxGrowing", "BriefkastenOcrConfidenceDropping"} <= names
    assert "BriefkastenGatewayNotReady" in names


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Prometheus) is not on PATH")
def test_promtool_accepts_the_alert_rules() -> None:
    promtool = shutil.which("promtool")
    assert promtool is not None
    result = subprocess.run(
        [promtool, "check", "rules", str(ROOT / "config" / "prometheus-alerts.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
