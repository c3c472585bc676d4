"""The admin dashboard's API (``/admin/api/*``), accounts, audit log, summary and ``status``.

The unit tier's part (no servers, no external programs); the other parts:
``tests/e2e/test_admin.py``.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
    start_http_server,
)
from prometheus_client.parser import text_string_to_metric_families

from briefkasten import config, operators
from briefkasten.broker.base import Job
from briefkasten.broker.local import LocalJobQueue
from briefkasten.config import AdminSettings, OperatorSettings, Settings
from briefkasten.errors import ConfigError, Unauthorized
from briefkasten.gateway.keys import METRICS
from briefkasten.monitoring import summary
from briefkasten.monitoring.metrics import Metrics
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from tests.support import factories
from tests.support.gateway import GatewayClient, gateway_app
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)

Client = TestClient[Any, Any]
SECRET = "a" * 40
KEY = "admin-test-key-0123456789"
CASE = "12345BG0012345"
#: Cheap hashes for tests (the stored n is what verification uses).
ALICE_HASH = operators.hash_password("alice-pw", n=1024)
READER_HASH = operators.hash_password("reader-pw", n=1024)
CAROL_HASH = operators.hash_password("carol-pw", n=1024)
OPERATORS = (
    OperatorSettings("alice", role="operator", password_hash=ALICE_HASH),
    OperatorSettings("reader", role="read", password_hash=READER_HASH),
    # A job center's own staff: only jc-test's figures and dead letters.
    OperatorSettings("carol", role="operator", password_hash=CAROL_HASH, tenants="jc-test"),
)


@dataclasses.dataclass
class Admin:
    client: Client
    storage: Storage
    journal: Path

    async def login(self, name: str, password: str) -> dict[str, str]:
        response = await self.client.post(
            "/admin/api/login", json={"name": name, "password": password}
        )
        assert response.status == 200, await response.text()
        body = await response.json()
        return {"Authorization": f"Bearer {body['token']}"}

    def audit(self) -> list[dict[str, Any]]:
        return [json.loads(self.storage.get_bytes(k)) for k in sorted(self.storage.list("_audit/"))]


def admin_settings(settings: Settings, tmp_path: Path, **admin: Any) -> Settings:
    return dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway, api_keys=f"jc-test:{KEY}", spool_dir=tmp_path / "spool"
        ),
        broker=dataclasses.replace(
            settings.broker, journal_dir=tmp_path / "journal", outbox_dir=tmp_path / "outbox"
        ),
        admin=AdminSettings(**{"secret": SECRET, **admin}),
        operators=OPERATORS,
    )


@pytest.fixture
async def admin(tmp_path: Path, settings: Settings, gateway_client: GatewayClient) -> Admin:
    settings = admin_settings(settings, tmp_path)
    storage = open_storage(f"memory://{tmp_path.name}")
    jobs = LocalJobQueue(settings.broker.journal_dir)
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    return Admin(client, storage, settings.broker.journal_dir)


def dead_letter(journal: Path, *job_ids: str, tenant: str = "jc-test") -> None:
    """Jobs that failed for good, dead-lettered by a real consume (as tests/e2e/test_dlq.py)."""
    queue = LocalJobQueue(journal, max_attempts=1)
    for job_id in job_ids:
        queue.enqueue(Job(job_id, f"sub{job_id}", tenant, 0))

    def broken(job: Job) -> None:
        raise ValueError("manifest is broken")

    assert queue.consume(broken, idle_timeout=0.2, poll_interval=0.05) == len(job_ids)


# --- accounts -------------------------------------------------------------------------------


def test_password_hash_format_and_check() -> None:
    stored = operators.hash_password("geheim", n=1024)
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "1024", "8", "1")
    assert (len(base64.b64decode(salt)), len(base64.b64decode(digest))) == (16, 32)
    assert operators.verify_password("geheim", stored)
    assert not operators.verify_password("Geheim", stored)
    assert operators.hash_password("geheim", n=1024) != stored  # a fresh salt each time
    for broken in ("", "scrypt$1$2", "bcrypt$1$1$1$AA==$AA==", stored.replace("$", "$x", 1)):
        assert not operators.verify_password("geheim", broken)
    with pytest.raises(ConfigError):
        operators.hash_password("")


def test_session_tokens_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = operators.Accounts(AdminSettings(secret=SECRET, session_ttl_s=60), OPERATORS)
    session, _ = accounts.login("reader", "reader-pw")
    token = accounts.token(session)
    assert accounts.session(token) == operators.Session("reader", "read")
    later = time.time() + 120
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(Unauthorized, match="expired"):
        accounts.session(token)
    # A changed signature character (not the last one, whose low bits base64 may ignore, and
    # never the same character again) is an invalid token, not an expired one.
    swapped = "A" if token[-5] != "A" else "B"
    with pytest.raises(Unauthorized, match="invalid"):
        accounts.session(token[:-5] + swapped + token[-4:])
    other = operators.Accounts(AdminSettings(secret="b" * 40), OPERATORS)
    with pytest.raises(Unauthorized):
        other.session(token)  # signed with another secret


def test_a_short_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="32"):
        operators.Accounts(AdminSettings(secret="short"), OPERATORS)


# --- the API ----------------------------------------------------------------------------------


async def test_dashboard_is_off_without_a_secret(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    settings = admin_settings(settings, tmp_path, secret="")
    storage = open_storage(f"memory://{tmp_path.name}")
    client = await gateway_client(
        settings, storage=storage, jobs=LocalJobQueue(tmp_path / "journal")
    )
    for method, path in (("GET", "/admin"), ("POST", "/admin/api/login")):
        response = await client.request(method, path, json={"name": "alice", "password": "x"})
        assert response.status == 404
        assert "BRIEFKASTEN_ADMIN_SECRET" in (await response.json())["error"]["message_en"]


async def test_page_is_served_without_inline_code(admin: Admin) -> None:
    response = await admin.client.get("/admin")
    assert response.status == 200
    html = await response.text()
    assert 'id="login-form"' in html and '<script type="application/json" id="texts">' in html
    assert "style=" not in html and "onclick" not in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    script = (
        Path(__file__).resolve().parents[2] / "briefkasten/gateway/web/static/admin.js"
    ).read_text()
    for forbidden in ("eval(", "innerHTML", "localStorage", "document.cookie", ".style."):
        assert forbidden not in script


async def test_login_ok_wrong_password_unknown_user(admin: Admin) -> None:
    ok = await admin.client.post("/admin/api/login", json={"name": "alice", "password": "alice-pw"})
    assert ok.status == 200
    body = await ok.json()
    assert (body["name"], body["role"], body["expires_in"]) == ("alice", "operator", 1800)
    assert "Set-Cookie" not in ok.headers
    for name, password in (("alice", "wrong"), ("mallory", "alice-pw")):
        refused = await admin.client.post(
            "/admin/api/login", json={"name": name, "password": password}
        )
        assert refused.status == 401
        assert (await refused.json())["error"]["code"] == "unauthorized"
    bad = await admin.client.post("/admin/api/login", data=b"not json")
    assert bad.status == 400
    events = admin.audit()
    assert [(e["actor"], e["action"], e["result"]) for e in events] == [
        ("alice", "login", "ok"),
        ("alice", "login", "failed"),
        ("mallory", "login", "failed"),
    ]
    assert events[0]["role"] == "operator" and events[0]["client"] == "127.0.0.1"
    assert all("pw" not in json.dumps(e) for e in events)  # no passwords in the audit log


async def test_api_needs_a_valid_session(admin: Admin) -> None:
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": f"Basic {KEY}"}):
        response = await admin.client.get("/admin/api/summary", headers=headers)
        assert response.status == 401


async def test_logins_are_rate_limited(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    settings = admin_settings(settings, tmp_path, login_rate_limit="2/minute")
    storage = open_storage(f"memory://{tmp_path.name}")
    client = await gateway_client(
        settings, storage=storage, jobs=LocalJobQueue(tmp_path / "journal")
    )
    statuses = [
        (await client.post("/admin/api/login", json={"name": "alice", "password": "x"})).status
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


async def test_summary_changes_after_an_upload(admin: Admin) -> None:
    headers = await admin.login("reader", "reader-pw")
    before = await (await admin.client.get("/admin/api/summary", headers=headers)).json()
    assert before["uploads"]["by_result"] == {}
    assert before["queue"] == {"jobs_in_queue": 0, "dead_letters": 0, "outbox_pending": 0}
    assert before["operator"] == {"name": "reader", "role": "read", "tenants": []}

    buffer = io.BytesIO()
    factories.text_page().save(buffer, format="PNG")
    form = FormData()
    form.add_field("case_number", CASE)
    form.add_field("document_type", "kontoauszug")
    form.add_field("file", buffer.getvalue(), filename="a.png", content_type="image/png")
    upload = await admin.client.post(
        "/api/v1/submissions", data=form, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert upload.status == 202, await upload.text()

    after = await (await admin.client.get("/admin/api/summary", headers=headers)).json()
    assert after["uploads"]["by_result"] == {"accepted": 1}
    assert after["tenants"][0]["tenant"] == "jc-test"
    assert after["tenants"][0]["uploads_accepted"] == 1
    assert after["queue"]["jobs_in_queue"] == 1


async def test_read_role_lists_but_may_not_retry(admin: Admin) -> None:
    dead_letter(admin.journal, "dead1")
    headers = await admin.login("reader", "reader-pw")
    listing = await admin.client.get("/admin/api/dead-letters", headers=headers)
    assert listing.status == 200
    [job] = (await listing.json())["dead_letters"]
    assert (job["job_id"], job["tenant"], job["reason"]) == (
        "dead1",
        "jc-test",
        "ValueError: manifest is broken",
    )
    for action in ("retry", "discard"):
        refused = await admin.client.post(
            f"/admin/api/dead-letters/{action}", json={"job_ids": ["dead1"]}, headers=headers
        )
        assert refused.status == 403
    events = admin.audit()[1:]
    assert [(e["action"], e["result"], e["targets"]) for e in events] == [
        ("retry", "denied", ["dead1"]),
        ("discard", "denied", ["dead1"]),
    ]
    assert (
        len(
            (await (await admin.client.get("/admin/api/dead-letters", headers=headers)).json())[
                "dead_letters"
            ]
        )
        == 1
    )


async def test_operator_retries_and_discards(admin: Admin) -> None:
    dead_letter(admin.journal, "dead1", "dead2")
    headers = await admin.login("alice", "alice-pw")
    retried = await admin.client.post(
        "/admin/api/dead-letters/retry", json={"job_ids": ["dead1"]}, headers=headers
    )
    assert retried.status == 200
    assert [j["job_id"] for j in (await retried.json())["done"]] == ["dead1"]
    assert LocalJobQueue(admin.journal, recover=False).pending_count() == 1
    discarded = await admin.client.post(
        "/admin/api/dead-letters/discard", json={"job_ids": ["dead2"]}, headers=headers
    )
    assert discarded.status == 200
    listing = await admin.client.get("/admin/api/dead-letters", headers=headers)
    assert (await listing.json())["dead_letters"] == []
    for payload in ({"job_ids": []}, {"job_ids": [1]}, {}):
        bad = await admin.client.post(
            "/admin/api/dead-letters/discard", json=payload, headers=headers
        )
        assert bad.status == 400  # never "everything" from the dashboard
    events = admin.audit()
    assert [(e["actor"], e["action"], e["result"], e["targets"]) for e in events] == [
        ("alice", "login", "ok", []),
        ("alice", "retry", "ok", ["dead1"]),
        ("alice", "discard", "ok", ["dead2"]),
    ]
    assert all(k.startswith("_audit/") for k in admin.storage.list("_audit/"))


# --- summary and status -------------------------------------------------------------------------


def test_summary_of_the_registry_and_of_the_text_format_agree() -> None:
    metrics = Metrics()
    metrics.upload("jc-a", "accepted", 100)
    metrics.upload("jc-a", "unsupported_type")
    metrics.upload("jc-b", "accepted", 50)
    metrics.document_delivered("jc-a", failed=False)
    metrics.document_delivered("jc-b", failed=True)
    metrics.pages.labels("jc-a").inc(3)
    for seconds in (0.02, 0.03, 0.04, 0.2):
        metrics.stage_seconds.labels("ocr").observe(seconds)
    metrics.publish.labels("ok").inc(2)
    direct = summary.summarise(metrics.registry.collect())
    parsed = summary.summarise(
        text_string_to_metric_families(generate_latest(metrics.registry).decode())
    )
    assert direct == parsed
    assert direct["uploads"] == {"by_result": {"accepted": 2, "unsupported_type": 1}, "bytes": 150}
    assert direct["tenants"][0] == {
        "tenant": "jc-a",
        "uploads_accepted": 1,
        "uploads_refused": 1,
        "pages": 3,
        "documents_normalised": 1,
        "documents_failed": 0,
        "ocr_confidence_mean": None,
    }
    assert direct["scope"] is None
    assert direct["documents"] == {"normalised": 1, "normalisation_failed": 1}
    assert direct["publish"] == {"ok": 2}
    [ocr] = direct["steps"]
    assert ocr["count"] == 4 and 0.025 <= ocr["p50_s"] <= 0.05 and 0.1 <= ocr["p95_s"] <= 0.25
    assert direct["queue"] == {"jobs_in_queue": None, "dead_letters": None, "outbox_pending": None}
    assert any("ocr" in line for line in summary.lines(direct))


def test_quantile_from_buckets() -> None:
    assert summary.quantile(0.5, {}) is None
    assert summary.quantile(0.5, {1.0: 0, float("inf"): 0}) is None
    assert summary.quantile(0.5, {1.0: 10, 2.0: 10, float("inf"): 10}) == 0.5
    assert summary.quantile(0.95, {1.0: 0, 2.0: 10, float("inf"): 10}) == 1.95
    assert summary.quantile(0.99, {1.0: 0, float("inf"): 5}) == 1.0  # beyond the last bound


# --- tenant scope -------------------------------------------------------------------------------


def _two_tenants(admin: Admin) -> None:
    """Figures and dead letters of jc-test and of another job center, jc-other."""
    metrics = admin.client.app[METRICS]
    metrics.upload("jc-test", "accepted", 100)
    metrics.upload("jc-other", "accepted", 7000)
    metrics.upload("jc-other", "unsupported_type")
    metrics.pages.labels("jc-test").inc(2)
    metrics.pages.labels("jc-other").inc(9)
    metrics.ocr_confidence.labels("jc-test").observe(80)
    metrics.ocr_confidence.labels("jc-test").observe(90)
    metrics.ocr_confidence.labels("jc-other").observe(10)
    metrics.document_delivered("jc-other", failed=True)
    metrics.stage_seconds.labels("ocr").observe(0.5)
    metrics.publish.labels("ok").inc()
    dead_letter(admin.journal, "mine1")
    dead_letter(admin.journal, "theirs1", tenant="jc-other")


async def test_scoped_operator_sees_only_its_tenant(admin: Admin) -> None:
    _two_tenants(admin)
    headers = await admin.login("carol", "carol-pw")
    body = await (await admin.client.get("/admin/api/summary", headers=headers)).json()
    assert body["scope"] == ["jc-test"]
    assert body["operator"] == {"name": "carol", "role": "operator", "tenants": ["jc-test"]}
    assert body["uploads"] == {"by_result": {"accepted": 1}, "bytes": 100}
    assert [t["tenant"] for t in body["tenants"]] == ["jc-test"]
    assert body["tenants"][0]["pages"] == 2 and body["pages_processed"] == 2
    assert body["tenants"][0]["ocr_confidence_mean"] == 85.0 == body["ocr_confidence_mean"]
    assert body["documents"] == {"normalised": 0, "normalisation_failed": 0}
    # Figures of all tenants are left out, not shown as if they were jc-test's.
    assert body["queue"] == {"jobs_in_queue": None, "dead_letters": None, "outbox_pending": None}
    assert (body["steps"], body["publish"], body["storage_errors"]) == ([], {}, None)
    assert "jc-other" not in json.dumps(body)

    listing = await (await admin.client.get("/admin/api/dead-letters", headers=headers)).json()
    assert [j["job_id"] for j in listing["dead_letters"]] == ["mine1"]


async def test_scoped_operator_may_not_touch_another_tenants_dead_letter(admin: Admin) -> None:
    _two_tenants(admin)
    headers = await admin.login("carol", "carol-pw")
    for action in ("retry", "discard"):
        for ids in (["theirs1"], ["mine1", "theirs1"], ["nosuchjob"]):
            refused = await admin.client.post(
                f"/admin/api/dead-letters/{action}", json={"job_ids": ids}, headers=headers
            )
            assert refused.status == 404, ids
    events = admin.audit()[1:]
    assert len(events) == 6
    assert all((e["actor"], e["result"]) == ("carol", "denied") for e in events)
    assert events[0]["targets"] == ["theirs1"]
    # Nothing changed: both dead letters are still there for an unscoped operator.
    alice = await admin.login("alice", "alice-pw")
    listing = await (await admin.client.get("/admin/api/dead-letters", headers=alice)).json()
    assert sorted(j["job_id"] for j in listing["dead_letters"]) == ["mine1", "theirs1"]
    # Its own dead letter it may retry.
    retried = await admin.client.post(
        "/admin/api/dead-letters/retry", json={"job_ids": ["mine1"]}, headers=headers
    )
    assert retried.status == 200
    assert [j["job_id"] for j in (await retried.json())["done"]] == ["mine1"]


async def test_unscoped_operator_sees_all_tenants(admin: Admin) -> None:
    _two_tenants(admin)
    headers = await admin.login("alice", "alice-pw")
    body = await (await admin.client.get("/admin/api/summary", headers=headers)).json()
    assert body["scope"] is None and body["warnings"] == []
    assert [t["tenant"] for t in body["tenants"]] == ["jc-other", "jc-test"]
    assert body["uploads"] == {"by_result": {"accepted": 2, "unsupported_type": 1}, "bytes": 7100}
    assert body["pages_processed"] == 11 and body["ocr_confidence_mean"] == 60.0
    assert body["queue"]["dead_letters"] == 2 and body["storage_errors"] == 0
    assert [s["step"] for s in body["steps"]] == ["ocr"] and body["publish"] == {"ok": 1}
    discarded = await admin.client.post(
        "/admin/api/dead-letters/discard", json={"job_ids": ["theirs1"]}, headers=headers
    )
    assert discarded.status == 200


def test_operator_tenants_are_checked_at_config_load(tmp_path: Path) -> None:
    def load(operator: str, admin: str = "") -> Settings:
        path = tmp_path / "briefkasten.toml"
        path.write_text(
            '[gateway]\napi_keys = "jc-keyed:k1-0123456789abcdef"\n[tenants.jc-a]\n[admin]\n'
            + admin
            + "\n[operators.bob]\n"
            + operator
        )
        return config.load(path, environ={})

    settings = load('tenants = "jc-a, jc-keyed,default"')
    assert settings.operators[0].tenant_ids == ("jc-a", "jc-keyed", "default")
    assert load("").operators[0].tenant_ids == ()
    with pytest.raises(ConfigError, match="unknown tenant 'jc-typo'"):
        load('tenants = "jc-a,jc-typo"')
    with pytest.raises(ConfigError, match="not a tenant id"):
        load('tenants = "JC A"')
    ok = load("", 'metrics_urls = "http://w1:9101/metrics, https://w2/metrics"')
    assert ok.admin.metrics_url_list == ("http://w1:9101/metrics", "https://w2/metrics")
    with pytest.raises(ConfigError, match="metrics_urls"):
        load("", 'metrics_urls = "w1:9101"')


# --- worker figures in distributed mode ---------------------------------------------------------


@pytest.fixture
def worker_metrics() -> Iterator[str]:
    """A real worker-like /metrics endpoint: a registry with a pages counter (and a queue
    gauge, which the dashboard must not add a second time)."""
    registry = CollectorRegistry()
    pages = Counter("briefkasten_pages_processed", "pages", ["tenant"], registry=registry)
    pages.labels("jc-test").inc(5)
    pages.labels("jc-other").inc(4)
    Gauge("briefkasten_jobs_in_queue", "jobs", registry=registry).set(99)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        yield f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_summary_adds_the_workers_metrics(
    tmp_path: Path,
    settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    worker_metrics: str,
) -> None:
    down = f"http://127.0.0.1:{_closed_port()}/metrics"
    settings = admin_settings(settings, tmp_path, metrics_urls=f"{worker_metrics},{down}")
    storage = open_storage(f"memory://{tmp_path.name}")
    app = gateway_app(settings, storage=storage, jobs=LocalJobQueue(settings.broker.journal_dir))
    client = await aiohttp_client(app)
    app[METRICS].pages.labels("jc-test").inc(1)  # the gateway's own (embedded) figure
    admin = Admin(client, storage, settings.broker.journal_dir)

    headers = await admin.login("alice", "alice-pw")
    started = time.monotonic()
    response = await client.get("/admin/api/summary", headers=headers)
    assert response.status == 200  # an unreachable worker is a warning, not an error
    body = await response.json()
    assert time.monotonic() - started < summary.DASHBOARD_FETCH_TIMEOUT + 2
    assert body["pages_processed"] == 10
    assert {t["tenant"]: t["pages"] for t in body["tenants"]} == {"jc-other": 4, "jc-test": 6}
    assert body["queue"]["jobs_in_queue"] == 0  # probed here, not the worker's 99
    [warning] = body["warnings"]
    assert down in warning and "cannot read metrics" in warning

    scoped = await (
        await client.get("/admin/api/summary", headers=await admin.login("carol", "carol-pw"))
    ).json()
    assert scoped["pages_processed"] == 6 and len(scoped["warnings"]) == 1
