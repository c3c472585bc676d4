"""Monitoring: /metrics, /readyz, JSON logs without personal data, the worker's metrics port,
and the Grafana dashboard and alert rules shipped under ``config/``.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_monitoring.py``, ``tests/e2e/test_monitoring.py``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
import socket
from pathlib import Path
from typing import Any

import yaml
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from briefkasten.broker.local import MemoryJobQueue, StubPublisher
from briefkasten.config import Settings
from briefkasten.config.tenants import TenantSettings
from briefkasten.errors import error_codes
from briefkasten.monitoring.logs import JsonFormatter, TextFormatter
from briefkasten.monitoring.metrics import GATEWAY, WORKER, Metrics, known_tenants
from briefkasten.monitoring.summary import summarise
from briefkasten.pipeline.runner import RECORDED_STEPS, STEPS
from briefkasten.storage import open_storage
from tests.support import factories
from tests.support.gateway import GatewayClient
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)

ROOT = Path(__file__).resolve().parents[2]
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
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    settings = monitored_settings(settings, tmp_path)
    storage = open_storage(f"memory://{tmp_path.name}")
    client = await gateway_client(settings, storage=storage, jobs=MemoryJobQueue())
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


async def ready(client: Client) -> tuple[int, dict[str, Any]]:
    response = await client.get("/readyz")
    body: dict[str, Any] = await response.json()
    return response.status, body


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


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


def test_every_alert_has_promtool_cases_where_it_fires_and_where_it_must_not() -> None:
    """``config/prometheus-alerts.test.yml`` (run by promtool in the integration tier) covers
    every alert of the rules file both ways, with labels and annotations where it fires."""
    rules = yaml.safe_load((ROOT / "config" / "prometheus-alerts.yml").read_text())
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    tests = yaml.safe_load((ROOT / "config" / "prometheus-alerts.test.yml").read_text())
    assert tests["rule_files"] == ["prometheus-alerts.yml"]
    cases = [c for t in tests["tests"] for c in t["alert_rule_test"]]
    assert {c["alertname"] for c in cases} == set(alerts)
    for name, rule in alerts.items():
        firing = [a for c in cases if c["alertname"] == name for a in c["exp_alerts"]]
        assert firing, f"{name}: no case where it fires"
        assert any(c["alertname"] == name and not c["exp_alerts"] for c in cases), name
        for alert in firing:
            assert alert["exp_labels"]["severity"] == rule["labels"]["severity"], name
            assert set(alert["exp_annotations"]) == set(rule["annotations"]), name
    (restart,) = [t for t in tests["tests"] if "restart that delivered" in t["name"]]
    *after_restart, much_later = restart["alert_rule_test"]
    assert after_restart and not any(c["exp_alerts"] for c in after_restart)
    assert much_later["exp_alerts"]  # the same series, 50 minutes without a document: it fires


# ----------------------------------------------------------- series born at 0


def exposed(metrics: Metrics) -> dict[Any, float]:
    return samples(metrics.exposition().decode())


def test_a_fresh_registry_has_every_known_series_at_zero(
    settings: Settings, tmp_path: Path
) -> None:
    settings = monitored_settings(settings, tmp_path)
    settings = dataclasses.replace(settings, tenants=(TenantSettings("jc-table"),))
    assert known_tenants(settings) == ("jc-monitor", "jc-table")
    found = exposed(Metrics.for_settings(settings))
    for tenant in ("jc-monitor", "jc-table"):
        for result in ("accepted", "duplicate", *error_codes()):
            assert value(found, "briefkasten_uploads_total", tenant=tenant, result=result) == 0
        assert "unsupported_type" in error_codes() and "storage_unavailable" in error_codes()
        assert value(found, "briefkasten_upload_bytes_total", tenant=tenant) == 0
        assert value(found, "briefkasten_malware_found_total", tenant=tenant) == 0
        assert value(found, "briefkasten_pages_processed_total", tenant=tenant) == 0
        assert value(found, "briefkasten_ocr_confidence_count", tenant=tenant) == 0
        for result in ("normalised", "normalisation_failed"):
            assert value(found, "briefkasten_documents_total", tenant=tenant, result=result) == 0
    for step in ("decode", "deskew", "ocr", "bundle"):
        assert value(found, "briefkasten_stage_seconds_count", step=step) == 0
        assert value(found, "briefkasten_stage_seconds_bucket", step=step, le="+Inf") == 0
    assert value(found, "briefkasten_storage_errors_total") == 0
    assert value(found, "briefkasten_uploads_total", tenant="jc-other", result="accepted") is None


def test_each_process_has_the_series_of_its_role(settings: Settings, tmp_path: Path) -> None:
    settings = monitored_settings(settings, tmp_path)
    gateway = exposed(Metrics.for_settings(settings, roles=(GATEWAY,)))
    worker = exposed(Metrics.for_settings(settings, roles=(WORKER,)))
    upload = ("briefkasten_uploads_total", {"tenant": TENANT, "result": "accepted"})
    delivered = ("briefkasten_documents_total", {"tenant": TENANT, "result": "normalised"})
    assert value(gateway, upload[0], **upload[1]) == 0
    assert value(gateway, delivered[0], **delivered[1]) is None
    assert value(worker, delivered[0], **delivered[1]) == 0
    assert value(worker, upload[0], **upload[1]) is None
    # Publish results where this process publishes: with a publisher (RabbitMQ configured).
    metrics = Metrics.for_settings(settings, roles=(WORKER,))
    assert value(exposed(metrics), "briefkasten_publish_total", result="ok") is None
    assert metrics.publisher_factory(None) is None
    assert value(exposed(metrics), "briefkasten_publish_total", result="ok") is None
    assert metrics.publisher_factory(lambda: StubPublisher()) is not None
    for result in ("ok", "unroutable", "error"):
        assert value(exposed(metrics), "briefkasten_publish_total", result=result) == 0


def test_counting_goes_on_from_zero_and_the_summary_leaves_zeros_out(
    settings: Settings, tmp_path: Path
) -> None:
    metrics = Metrics.for_settings(monitored_settings(settings, tmp_path))
    metrics.document_delivered(TENANT, failed=False)
    metrics.upload(TENANT, "accepted", 10)
    found = exposed(metrics)
    assert value(found, "briefkasten_documents_total", tenant=TENANT, result="normalised") == 1
    assert (
        value(found, "briefkasten_documents_total", tenant=TENANT, result="normalisation_failed")
        == 0
    )
    figures = summarise(metrics.registry.collect())
    assert figures["uploads"]["by_result"] == {"accepted": 1}
    assert figures["publish"] == {}
    assert [t["tenant"] for t in figures["tenants"]] == [TENANT]
    assert (
        summarise(Metrics.for_settings(monitored_settings(settings, tmp_path)).registry.collect())[
            "tenants"
        ]
        == []
    )


def test_every_step_a_page_can_record_is_known_up_front() -> None:
    """The names of ``StepRecord("…")`` in the pipeline's code are in ``RECORDED_STEPS``."""
    pipeline = ROOT / "briefkasten" / "pipeline"
    literal = re.compile(r'StepRecord\(\s*"([a-z_]+)"')
    named = {m for f in pipeline.glob("*.py") for m in literal.findall(f.read_text())}
    assert {"decode", "bundle", "sanitize", "born_digital"} <= named
    assert named | set(STEPS) <= set(RECORDED_STEPS)
