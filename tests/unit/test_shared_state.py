"""Shared state across gateways, the unit tier's part: the Idempotency-Key claim and the
duplicate markers made race-free by create-if-absent (two ``Intake``s on one storage are two
gateways), the in-process fallback of ``SharedState`` when Redis is unreachable, and a link
revoked while its upload was streaming. With a real Redis: tests/integration/test_shared_state.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from limits import parse

from briefkasten import links
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.errors import RequestInProgress, StorageError
from briefkasten.gateway.shared import SharedState
from briefkasten.intake import IncomingDocument, IncomingFile, Intake
from briefkasten.model import Submission
from briefkasten.storage import layout, open_storage
from briefkasten.storage.base import Storage
from tests.support import factories
from tests.support.gateway import GatewayClient
from tests.support.servers import free_ports

TENANT = "jc-musterstadt"
CASE = "12345BG0012345"
KEY = "test-key-0123456789"
SECRET = "s" * 40


@pytest.fixture(params=["memory", "files"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "memory":
        return open_storage(f"memory://{tmp_path.name}")
    return open_storage((tmp_path / "bucket").as_uri())


def documents(tmp_path: Path, content: bytes, tag: str) -> list[IncomingDocument]:
    spooled = tmp_path / f"spool-{tag}"
    spooled.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    incoming = IncomingFile(spooled, "seite.png", digest, len(content), "image/png", 1)
    return [IncomingDocument("kontoauszug", (incoming,))]


def manifests(storage: Storage) -> list[str]:
    return [
        k for k in storage.list(layout.submissions_prefix(TENANT)) if k.endswith("manifest.json")
    ]


def key_record(storage: Storage, key: str) -> dict[str, Any]:
    digest = hashlib.sha256(key.encode()).hexdigest()
    data: dict[str, Any] = json.loads(storage.get_bytes(layout.idempotency_key(TENANT, digest)))
    return data


# --- the Idempotency-Key claim ---------------------------------------------------------------


def test_two_gateways_receiving_one_key_at_once_store_one_submission(
    storage: Storage, tmp_path: Path
) -> None:
    jobs = MemoryJobQueue()
    gateways = [Intake(storage, jobs), Intake(storage, jobs)]  # no lock shared between them
    start = threading.Barrier(2)

    def receive(i: int) -> Submission | str:
        docs = documents(tmp_path, b"page " * 1000, f"g{i}")
        start.wait(timeout=30)
        try:
            return gateways[i].receive(TENANT, CASE, docs, idempotency_key="tap")
        except RequestInProgress as exc:
            return exc.code

    for _ in range(3):  # each round a fresh key: the race, several times
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(receive, range(2)))
        won = [r for r in results if isinstance(r, Submission)]
        assert len(won) == 1, results
        assert "request_in_progress" in results
        assert key_record(storage, "tap")["submission_id"] == won[0].submission_id
        found = gateways[1].find(TENANT, "tap")
        assert found is not None and found[0].submission_id == won[0].submission_id
        assert len(manifests(storage)) == 1
        originals = [k for k in storage.list(f"{TENANT}/") if "/originals/" in k]
        assert len(originals) == 1  # the loser stored nothing
        for key in storage.list(f"{TENANT}/"):
            storage.delete(key)
    assert len(jobs.jobs) == 3  # one job per round


def test_a_pending_claim_of_a_request_in_flight_is_not_taken_over(
    storage: Storage, tmp_path: Path
) -> None:
    intake = Intake(storage, MemoryJobQueue())
    digest = hashlib.sha256(b"k1").hexdigest()
    record_key = layout.idempotency_key(TENANT, digest)
    now = datetime.now(UTC)
    in_flight = {"submission_id": "a" * 32, "state": "pending", "updated_at": now.isoformat()}
    storage.put_bytes(record_key, json.dumps(in_flight).encode(), content_type="x/y")

    with pytest.raises(RequestInProgress):
        intake.receive(TENANT, CASE, documents(tmp_path, b"x", "a"), idempotency_key="k1")
    assert manifests(storage) == []
    assert not [k for k in storage.list(f"{TENANT}/") if "/intake.json" in k]
    assert key_record(storage, "k1") == in_flight  # left to its holder

    # the caller holding the key's lock on every gateway (Redis) knows it is a leftover: the
    # holder's lease ran out, so it died
    taken = intake.receive(
        TENANT, CASE, documents(tmp_path, b"x", "b"), idempotency_key="k1", shared_lock=True
    )
    assert key_record(storage, "k1")["submission_id"] == taken.submission_id


class CountingClaims:
    """A storage that remembers every write of the Idempotency-Key records, in order."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.writes: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _note(self, key: str, data: bytes) -> None:
        if "/idempotency/" in key:
            self.writes.append(json.loads(data)["state"])
        elif "/originals/" in key:
            self.writes.append("original")

    def create_bytes(self, key: str, data: bytes, *, content_type: str) -> bool:
        self._note(key, data)
        return bool(self.inner.create_bytes(key, data, content_type=content_type))

    def put_bytes(self, key: str, data: bytes, *, content_type: str) -> Any:
        self._note(key, data)
        return self.inner.put_bytes(key, data, content_type=content_type)

    def adopt_file(self, key: str, source: Path, *, content_type: str, sha256: str) -> Any:
        self._note(key, b"")
        return self.inner.adopt_file(key, source, content_type=content_type, sha256=sha256)


def test_the_claim_is_refreshed_after_every_original(storage: Storage, tmp_path: Path) -> None:
    counting = CountingClaims(storage)
    intake = Intake(counting, MemoryJobQueue())  # type: ignore[arg-type]
    docs = documents(tmp_path, b"one", "h1") + documents(tmp_path, b"two", "h2")
    intake.receive(TENANT, CASE, docs, idempotency_key="long-upload")
    claims = [w for w in counting.writes if w in ("pending", "queued", "original")]
    assert claims == ["pending", "original", "pending", "original", "pending", "queued"]


@pytest.mark.parametrize(
    "leftover",
    [
        {"state": "pending", "updated_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
        {"state": "queued", "updated_at": datetime.now(UTC).isoformat()},  # deleted since
        None,  # unreadable
    ],
)
def test_a_stale_claim_is_taken_over(
    storage: Storage, tmp_path: Path, leftover: dict[str, str] | None
) -> None:
    digest = hashlib.sha256(b"k2").hexdigest()
    body = b"{half" if leftover is None else json.dumps({"submission_id": "b" * 32, **leftover})
    storage.put_bytes(
        layout.idempotency_key(TENANT, digest),
        body if isinstance(body, bytes) else body.encode(),
        content_type="x/y",
    )
    intake = Intake(storage, MemoryJobQueue())
    submission = intake.receive(TENANT, CASE, documents(tmp_path, b"y", "c"), idempotency_key="k2")
    assert key_record(storage, "k2") | {"updated_at": ""} == {
        "submission_id": submission.submission_id,
        "state": "queued",
        "updated_at": "",
    }


class FailingOriginals:
    """A storage whose originals cannot be stored (everything else works)."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def adopt_file(self, key: str, source: Path, *, content_type: str, sha256: str) -> Any:
        raise StorageError("disk full")


def test_a_failed_intake_releases_its_claim(storage: Storage, tmp_path: Path) -> None:
    failing = Intake(FailingOriginals(storage), MemoryJobQueue())  # type: ignore[arg-type]
    with pytest.raises(StorageError):
        failing.receive(TENANT, CASE, documents(tmp_path, b"z", "d"), idempotency_key="k3")
    assert storage.list(f"{TENANT}/") == []  # nothing left: no claim, no intake.json

    retried = Intake(storage, MemoryJobQueue()).receive(
        TENANT, CASE, documents(tmp_path, b"z", "e"), idempotency_key="k3"
    )
    assert manifests(storage) == [layout.manifest_key(TENANT, retried.submission_id)]


# --- duplicate detection ---------------------------------------------------------------------


def test_one_file_submitted_twice_at_once_has_one_original(
    storage: Storage, tmp_path: Path
) -> None:
    gateways = [Intake(storage, MemoryJobQueue()) for _ in range(4)]
    start = threading.Barrier(4)

    def receive(i: int) -> Submission:
        docs = documents(tmp_path, b"the same statement", f"dup{i}")
        start.wait(timeout=30)
        return gateways[i].receive(TENANT, CASE, docs)

    with ThreadPoolExecutor(4) as pool:
        files = [s.documents[0].files[0] for s in pool.map(receive, range(4))]
    firsts = [f for f in files if f.duplicate_of is None]
    assert len(firsts) == 1
    assert {f.duplicate_of for f in files if f is not firsts[0]} == {firsts[0].file_id}


# --- SharedState without Redis, or with Redis away -------------------------------------------


async def test_in_process_limits_count_and_say_when_to_retry() -> None:
    state = SharedState()
    item = parse("2/minute")
    assert not state.shared
    assert state.where.startswith("in this gateway process")
    answers = [await state.hit(item, "ip", "192.0.2.1") for _ in range(3)]
    assert [allowed for allowed, _ in answers] == [True, True, False]
    assert 1 <= answers[2][1] <= 60
    assert (await state.hit(item, "ip", "192.0.2.2"))[0]  # another address: its own count
    async with state.hold("lock", 1.0) as everywhere:
        assert everywhere is False  # nothing to share it with
    assert await state.ping() == (
        True,
        "not configured: rate limits and locks per gateway process",
    )


async def test_an_unreachable_redis_fails_open(caplog: pytest.LogCaptureFixture) -> None:
    port = free_ports(1, ("redis",))["redis"]  # nothing listens there
    state = SharedState(f"redis://:pw@127.0.0.1:{port}/0")
    assert state.where == f"in Redis at 127.0.0.1:{port}/0, shared by every gateway"
    item = parse("2/minute")
    try:
        with caplog.at_level(logging.WARNING, logger="briefkasten.gateway"):
            answers = [(await state.hit(item, "link", "abc"))[0] for _ in range(3)]
            async with state.hold("tenant\nkey", 1.0) as everywhere:
                assert everywhere is False
            ok, detail = await state.ping()
    finally:
        await state.close()
    assert answers == [True, True, False]  # counted in this process instead
    assert ok and detail.startswith("unreachable")
    warnings = [r.getMessage() for r in caplog.records if "Redis" in r.getMessage()]
    assert len(warnings) == 1, warnings  # once, not once per request
    assert "rate limits are counted per gateway process" in warnings[0]
    assert "pw" not in warnings[0]


# --- a link revoked while its upload streams ----------------------------------------------------


class RevokedAfterFirstLook:
    """Storage in which the link's revocation marker shows only from the second look on: the
    gateway verified the token before another gateway revoked the link, mid-upload."""

    def __init__(self, inner: Storage, marker: str) -> None:
        self.inner, self.marker, self.looks = inner, marker, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def exists(self, key: str) -> bool:
        if key == self.marker:
            self.looks += 1
            if self.looks == 1:
                return False
        return bool(self.inner.exists(key))


async def test_a_link_revoked_during_the_upload_is_refused(
    settings: Settings, tmp_path: Path, gateway_client: GatewayClient
) -> None:
    settings = dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway, api_keys=f"{TENANT}:{KEY}", spool_dir=tmp_path / "spool"
        ),
        links=dataclasses.replace(settings.links, secret=SECRET),
    )
    inner = open_storage(f"memory://{tmp_path.name}")
    link, token = links.create_link(settings, inner, TENANT, CASE, ["kontoauszug"])
    links.revoke(inner, TENANT, link.link_id)
    storage = RevokedAfterFirstLook(inner, layout.link_revocation_key(TENANT, link.link_id))
    jobs = MemoryJobQueue()
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    buffer = io.BytesIO()
    factories.text_page().save(buffer, format="PNG")
    form = FormData()
    form.add_field("document_type", "kontoauszug")
    form.add_field("file", buffer.getvalue(), filename="seite.png", content_type="image/png")

    response = await client.post(
        "/api/v1/submissions", data=form, headers={"Authorization": f"Bearer {token}"}
    )

    answer = await response.json()
    assert response.status == 401, answer
    assert answer["error"]["code"] == "link_revoked"
    assert storage.looks == 2  # verified once before the body, once after it
    assert manifests(inner) == [] and jobs.jobs == []
    assert not [k for k in inner.list(f"{TENANT}/") if "/originals/" in k]
    assert not [p for p in (tmp_path / "spool").glob("*.part")]  # the spooled file is gone


# --- /readyz: does the storage honour create-if-absent? --------------------------------------


class IgnoresIfNoneMatch:
    """An S3 server that ignores ``If-None-Match``: every create overwrites and says so."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create_bytes(self, key: str, data: bytes, *, content_type: str) -> bool:
        self.inner.put_bytes(key, data, content_type=content_type)
        return True


@pytest.mark.parametrize("honoured", [True, False])
async def test_readyz_says_whether_create_if_absent_is_honoured(
    settings: Settings, tmp_path: Path, gateway_client: GatewayClient, honoured: bool
) -> None:
    settings = dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway, api_keys=f"{TENANT}:{KEY}", spool_dir=tmp_path / "spool"
        ),
    )
    inner = open_storage(f"memory://{tmp_path.name}")
    storage = inner if honoured else IgnoresIfNoneMatch(inner)
    client = await gateway_client(settings, storage=storage)
    check = (await (await client.get("/readyz")).json())["checks"]["storage"]
    assert check["ok"] is True
    assert ("create-if-absent honoured" in check["detail"]) is honoured
    assert ("not honoured" in check["detail"]) is not honoured
    assert inner.list("_readyz/") == []  # the probe object is gone again
