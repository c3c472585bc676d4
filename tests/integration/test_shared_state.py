"""Two gateways, one Redis, one storage: what must hold across N gateways behind a load balancer.

Each test runs two gateway apps (two aiohttp test servers, as two ``briefkasten serve``
processes would be) on the same storage (files, or a real S3: SeaweedFS) and, where it says
so, the same real Redis (``gateway.rate_limit_storage``; tests/support/redis_server.py):

* the per-link and per-address limits hold over both together (with Redis), not per gateway;
* one Idempotency-Key sent to both at the same moment makes one submission and one job;
* a link revoked through one gateway is refused by the other;
* Redis going away does not take the gateways down (fail open) and ``/readyz`` says so.

The unit tier's part: tests/unit/test_shared_state.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData

from briefkasten import links
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.storage import layout, open_storage
from briefkasten.storage.base import Storage
from tests.support import factories
from tests.support.gateway import Client, GatewayClient
from tests.support.redis_server import RedisServer

TENANT = "jc-musterstadt"
CASE = "12345BG0012345"
KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
SECRET = "s" * 40


def shared_settings(settings: Settings, tmp_path: Path, **gateway: Any) -> Settings:
    return dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway,
            api_keys=f"{TENANT}:{KEY}",
            spool_dir=tmp_path / "spool",
            **gateway,
        ),
        links=dataclasses.replace(
            settings.links, secret=SECRET, public_base_url="https://briefkasten.example/"
        ),
    )


async def two_gateways(
    gateway_client: GatewayClient,
    settings: Settings,
    tmp_path: Path,
    storage: Storage,
    jobs: MemoryJobQueue,
    **gateway: Any,
) -> tuple[Client, Client]:
    """Gateways A and B: the same settings, storage and queue; each its own process state
    (spool, in-process locks and counters)."""
    made = []
    for name in ("a", "b"):
        own = shared_settings(settings, tmp_path / name, **gateway)
        made.append(await gateway_client(own, storage=storage, jobs=jobs))
    return made[0], made[1]


def png() -> bytes:
    buffer = io.BytesIO()
    factories.text_page().save(buffer, format="PNG")
    return buffer.getvalue()


def form(page: bytes) -> FormData:
    data = FormData()
    data.add_field("case_number", CASE)
    data.add_field("document_type", "kontoauszug")
    data.add_field("file", page, filename="seite.png", content_type="image/png")
    return data


def manifests(storage: Storage) -> list[str]:
    prefix = layout.submissions_prefix(TENANT)
    return [k for k in storage.list(prefix) if k.endswith("/manifest.json")]


@pytest.fixture(params=["files", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "files":
        return open_storage((tmp_path / "storage").absolute().as_uri())
    url: str = request.getfixturevalue("s3_url")
    return open_storage(url)


# --- rate limits over both gateways ----------------------------------------------------------


async def statuses(clients: list[Client], path: str, headers: dict[str, str], n: int) -> list[Any]:
    """``n`` GETs, alternating between the gateways (as a load balancer would)."""
    answers = []
    for i in range(n):
        response = await clients[i % 2].get(path, headers=headers)
        answers.append((response.status, response.headers.get("Retry-After")))
    return answers


async def test_the_per_link_limit_holds_over_both_gateways(
    settings: Settings, tmp_path: Path, gateway_client: GatewayClient, redis_url: str
) -> None:
    storage = open_storage(f"memory://{tmp_path.name}")
    a, b = await two_gateways(
        gateway_client,
        settings,
        tmp_path,
        storage,
        MemoryJobQueue(),
        rate_limit_storage=redis_url,
        rate_limit_per_link="5/minute",
        rate_limit_per_ip="1000/minute",
    )
    _, token = links.create_link(shared_settings(settings, tmp_path), storage, TENANT, CASE)
    bearer = {"Authorization": f"Bearer {token}"}

    answers = await statuses([a, b], "/api/v1/upload-links/self", bearer, 12)

    assert [s for s, _ in answers] == [200] * 5 + [429] * 7
    for _, retry_after in answers[5:]:
        assert retry_after is not None and 1 <= int(retry_after) <= 60


async def test_the_per_address_limit_holds_over_both_gateways(
    settings: Settings, tmp_path: Path, gateway_client: GatewayClient, redis_url: str
) -> None:
    a, b = await two_gateways(
        gateway_client,
        settings,
        tmp_path,
        open_storage(f"memory://{tmp_path.name}"),
        MemoryJobQueue(),
        rate_limit_storage=redis_url,
        rate_limit_per_ip="4/minute",
    )
    answers = await statuses([a, b], "/api/v1/submissions/" + "a" * 32, {}, 10)

    assert [s for s, _ in answers] == [401] * 4 + [429] * 6  # 401: no key, but counted
    assert all(r is not None and 1 <= int(r) <= 60 for _, r in answers[4:])


async def test_without_redis_each_gateway_counts_for_itself(
    settings: Settings, tmp_path: Path, gateway_client: GatewayClient
) -> None:
    a, b = await two_gateways(
        gateway_client,
        settings,
        tmp_path,
        open_storage(f"memory://{tmp_path.name}"),
        MemoryJobQueue(),
        rate_limit_per_ip="4/minute",
    )
    answers = await statuses([a, b], "/api/v1/submissions/" + "a" * 32, {}, 10)
    assert [s for s, _ in answers] == [401] * 8 + [429] * 2  # N × the limit


# --- one Idempotency-Key at the same moment on both gateways ---------------------------------


async def test_one_key_on_two_gateways_at_once_makes_one_submission(
    settings: Settings,
    tmp_path: Path,
    gateway_client: GatewayClient,
    redis_url: str,
    storage: Storage,
) -> None:
    jobs = MemoryJobQueue()
    a, b = await two_gateways(
        gateway_client, settings, tmp_path, storage, jobs, rate_limit_storage=redis_url
    )
    page = png()
    headers = {**AUTH, "Idempotency-Key": "double-tap-1"}

    for _ in range(2):  # the same pair again: both are answered from the first submission
        responses = await asyncio.gather(
            a.post("/api/v1/submissions", data=form(page), headers=headers),
            b.post("/api/v1/submissions", data=form(page), headers=headers),
        )
        bodies = [await r.json() for r in responses]
        assert [r.status for r in responses] == [202, 202], bodies
        assert bodies[0]["submission_id"] == bodies[1]["submission_id"]
    assert manifests(storage) == [layout.manifest_key(TENANT, bodies[0]["submission_id"])]
    assert len(jobs.jobs) == 1
    originals = [k for k in storage.list(f"{TENANT}/") if "/originals/" in k]
    assert len(originals) == 1


async def test_without_redis_one_key_still_makes_one_submission(
    settings: Settings, tmp_path: Path, gateway_client: GatewayClient, storage: Storage
) -> None:
    """The key record's create-if-absent: the later request is answered 409 (retry later) or,
    if it looked after the first had finished, with the same receipt."""
    jobs = MemoryJobQueue()
    a, b = await two_gateways(gateway_client, settings, tmp_path, storage, jobs)
    page = png()
    headers = {**AUTH, "Idempotency-Key": "double-tap-2"}

    responses = await asyncio.gather(
        a.post("/api/v1/submissions", data=form(page), headers=headers),
        b.post("/api/v1/submissions", data=form(page), headers=headers),
    )

    bodies = [await r.json() for r in responses]
    accepted = {
        b["submission_id"] for r, b in zip(responses, bodies, strict=True) if r.status == 202
    }
    assert len(accepted) == 1, bodies
    assert sorted(r.status for r in responses) in ([202, 202], [202, 409]), bodies
    for response, body in zip(responses, bodies, strict=True):
        if response.status == 409:
            assert body["error"]["code"] == "request_in_progress"
    assert len(manifests(storage)) == 1
    assert len(jobs.jobs) == 1
    retry = await b.post("/api/v1/submissions", data=form(page), headers=headers)
    assert retry.status == 202 and (await retry.json())["submission_id"] in accepted


async def test_one_file_on_two_gateways_at_once_is_one_original(
    settings: Settings, tmp_path: Path, gateway_client: GatewayClient, storage: Storage
) -> None:
    a, b = await two_gateways(gateway_client, settings, tmp_path, storage, MemoryJobQueue())
    page = png()

    responses = await asyncio.gather(
        a.post("/api/v1/submissions", data=form(page), headers=AUTH),
        b.post("/api/v1/submissions", data=form(page), headers=AUTH),
    )

    files = []
    for response in responses:
        body = await response.json()
        assert response.status == 202, body
        files.append(body["receipt"]["documents"][0]["files"][0])
    assert sorted(f["duplicate_of"] is None for f in files) == [False, True]


# --- revocation ------------------------------------------------------------------------------


async def test_a_link_revoked_on_one_gateway_is_refused_by_the_other(
    settings: Settings, tmp_path: Path, gateway_client: GatewayClient, storage: Storage
) -> None:
    a, b = await two_gateways(gateway_client, settings, tmp_path, storage, MemoryJobQueue())
    link, token = links.create_link(shared_settings(settings, tmp_path), storage, TENANT, CASE)
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await b.get("/api/v1/upload-links/self", headers=bearer)).status == 200

    revoked = await a.delete(f"/api/v1/upload-links/{link.link_id}", headers=AUTH)
    assert revoked.status in (200, 204), await revoked.text()

    for client in (b, a):
        refused = await client.get("/api/v1/upload-links/self", headers=bearer)
        assert refused.status == 401
        assert (await refused.json())["error"]["code"] == "link_revoked"
        upload = await client.post("/api/v1/submissions", data=form(png()), headers=bearer)
        assert upload.status == 401
    assert manifests(storage) == []


# --- Redis away: fail open -------------------------------------------------------------------


async def test_gateways_keep_serving_while_redis_is_away(
    settings: Settings,
    tmp_path: Path,
    gateway_client: GatewayClient,
    redis_server: RedisServer,
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    jobs = MemoryJobQueue()
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    a, b = await two_gateways(
        gateway_client,
        settings,
        tmp_path,
        storage,
        jobs,
        rate_limit_storage=redis_url,
        rate_limit_per_ip="3/minute",
    )
    ready = await (await a.get("/readyz")).json()
    assert ready["checks"]["redis"] == {
        "ok": True,
        "detail": "ok: rate limits and locks shared by every gateway",
    }

    redis_server.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="briefkasten.gateway"):
            answers = await statuses([a, b], "/api/v1/submissions/" + "a" * 32, {}, 8)
            headers = {**AUTH, "Idempotency-Key": "while-away"}
            posted = await a.post("/api/v1/submissions", data=form(png()), headers=headers)
            away = await (await b.get("/readyz")).json()
    finally:
        redis_server.start()

    # each gateway counts for itself now: 3 each
    assert [s for s, _ in answers] == [401] * 6 + [429] * 2
    assert posted.status == 202, await posted.text()
    assert len(manifests(storage)) == 1 and len(jobs.jobs) == 1
    assert away["checks"]["redis"]["ok"] is True
    assert away["checks"]["redis"]["detail"].startswith("unreachable")
    logged = [r.getMessage() for r in caplog.records if "Redis" in r.getMessage()]
    assert logged and all("unreachable" in line for line in logged)
    assert len(logged) <= 2  # once per gateway, not once per request
    back = await (await a.get("/readyz")).json()
    assert back["checks"]["redis"]["detail"].startswith("ok")


async def test_readyz_finds_create_if_absent_honoured_by_the_storage(
    settings: Settings, tmp_path: Path, gateway_client: GatewayClient, storage: Storage
) -> None:
    client = await gateway_client(shared_settings(settings, tmp_path), storage=storage)
    check = (await (await client.get("/readyz")).json())["checks"]["storage"]
    assert check == {
        "ok": True,
        "detail": "ok (written and deleted a probe object; create-if-absent honoured)",
    }
