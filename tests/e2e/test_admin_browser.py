"""The admin dashboard in headless Chromium: log in, read the figures, retry a dead letter.

The real gateway (embedded mode) listens on 127.0.0.1 as in ``test_browser.py``; one job is
dead-lettered in its journal by a real consume. axe-core scans the login form, the dashboard
and the confirmation step for serious or critical violations.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect, sync_playwright

from briefkasten import operators
from briefkasten.broker.local import LocalJobQueue
from briefkasten.config import OperatorSettings, Settings
from briefkasten.monitoring import summary
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from tests.e2e.test_browser import WAIT_MS, BackgroundServer, chromium_binary, scan
from tests.support.gateway import gateway_app
from tests.unit.test_admin import admin_settings, dead_letter

pytestmark = pytest.mark.slow
TOTP_SECRET = pyotp.random_base32()
#: An operator with a second factor (the code field of the login form).
TINA = OperatorSettings(
    "tina",
    role="read",
    password_hash=operators.hash_password("tina-pw", n=1024),
    totp_secret=TOTP_SECRET,
)


@dataclasses.dataclass
class Live:
    base: str
    storage: Storage
    journal: Path


@pytest.fixture
def live(tmp_path: Path, settings: Settings) -> Iterator[Live]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = admin_settings(settings, tmp_path)
    settings = dataclasses.replace(settings, operators=(*settings.operators, TINA))
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir)
    dead_letter(settings.broker.journal_dir, "browserdead")
    with sock, BackgroundServer(gateway_app(settings, storage=storage, jobs=jobs), sock):
        yield Live(base, storage, settings.broker.journal_dir)


@pytest.fixture
def page(live: Live) -> Iterator[tuple[Any, list[str]]]:
    executable = chromium_binary()
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True)
        context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on(
            "console",
            lambda m: problems.append(m.text) if "Refused to" in m.text else None,
        )
        page.on(
            "request",
            lambda r: None if r.url.startswith(live.base) else problems.append(r.url),
        )
        yield page, problems
        assert context.cookies() == []  # the session is a bearer token, never a cookie
        context.close()
        browser.close()


def test_log_in_see_the_figures_and_retry_a_dead_letter(
    live: Live, page: tuple[Any, list[str]]
) -> None:
    browser_page, problems = page
    browser_page.goto(f"{live.base}/admin")
    expect(browser_page.locator("#login-form")).to_be_visible()
    scan(browser_page, "admin-login")

    browser_page.fill("#login-password", "wrong")
    browser_page.fill("#login-name", "alice")
    browser_page.click("#login-submit")
    expect(browser_page.locator("#login-alert")).to_contain_text("wrong operator name or password")

    browser_page.fill("#login-password", "alice-pw")
    browser_page.click("#login-submit")
    expect(browser_page.locator("#who-text")).to_have_text("Logged in as alice (operator)")
    expect(browser_page.locator("#q-dead")).to_have_text("1")
    expect(browser_page.locator("#q-jobs")).to_have_text("0")
    expect(browser_page.locator("#status")).to_contain_text("Updated")
    row = browser_page.locator("#dead-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("browserdead")
    expect(row).to_contain_text("ValueError: manifest is broken")
    assert browser_page.evaluate("sessionStorage.length") == 1
    scan(browser_page, "admin-dashboard")

    browser_page.get_by_role("button", name="Retry job browserdead").click()
    expect(browser_page.locator("#confirm")).to_be_visible()
    expect(browser_page.locator("#confirm-text")).to_have_text(
        "Move job browserdead back to the work queue?"
    )
    scan(browser_page, "admin-confirm")
    browser_page.click("#confirm-yes")
    expect(browser_page.locator("#dashboard-alert")).to_have_text(
        "Job browserdead is back in the work queue."
    )
    expect(browser_page.locator("#dead-empty")).to_have_text("No dead letters.")
    expect(browser_page.locator("#q-jobs")).to_have_text("1")  # refreshed without reloading
    assert LocalJobQueue(live.journal, recover=False).pending_count() == 1

    events = [json.loads(live.storage.get_bytes(k)) for k in live.storage.list("_audit/")]
    actions = sorted((e["action"], e["result"], tuple(e["targets"])) for e in events)
    assert actions == [
        ("login", "failed", ()),
        ("login", "ok", ()),
        ("retry", "ok", ("browserdead",)),
    ]

    # The same figures from the text format, as `briefkasten status --url …` reads them.
    figures = summary.summarise(summary.fetch(f"{live.base}/metrics"))
    assert figures["queue"] == {"jobs_in_queue": 1, "dead_letters": 0, "outbox_pending": 0}

    token = json.loads(browser_page.evaluate("Object.values(sessionStorage)[0]"))["token"]
    browser_page.click("#logout")
    expect(browser_page.locator("#login-form")).to_be_visible()
    assert browser_page.evaluate("sessionStorage.length") == 0
    # Logging out ended the session on the server too: the old token is refused.
    request = urllib.request.Request(
        f"{live.base}/admin/api/summary", headers={"Authorization": f"Bearer {token}"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    events = [json.loads(live.storage.get_bytes(k)) for k in live.storage.list("_audit/")]
    assert ("alice", "logout", "ok") in [(e["actor"], e["action"], e["result"]) for e in events]
    assert not problems, problems


def test_log_in_with_a_one_time_code(live: Live, page: tuple[Any, list[str]]) -> None:
    browser_page, problems = page
    browser_page.goto(f"{live.base}/admin")
    browser_page.fill("#login-name", "tina")
    browser_page.fill("#login-password", "tina-pw")
    browser_page.click("#login-submit")  # no code: refused like a wrong password
    expect(browser_page.locator("#login-alert")).to_contain_text("wrong operator name or password")
    browser_page.fill("#login-password", "tina-pw")
    browser_page.fill("#login-totp", pyotp.TOTP(TOTP_SECRET).now())
    browser_page.click("#login-submit")
    expect(browser_page.locator("#who-text")).to_have_text("Logged in as tina (read)")
    expect(browser_page.locator("#login-totp")).to_have_value("")
    assert not problems, problems


def test_a_tenant_scoped_operator_sees_its_scope(live: Live, page: tuple[Any, list[str]]) -> None:
    browser_page, problems = page
    browser_page.goto(f"{live.base}/admin")
    browser_page.fill("#login-name", "carol")
    browser_page.fill("#login-password", "carol-pw")
    browser_page.click("#login-submit")
    expect(browser_page.locator("#who-text")).to_have_text("Logged in as carol (operator)")
    expect(browser_page.locator("#scope")).to_contain_text("Figures and dead letters of jc-test")
    # Figures of all tenants are hidden, not shown as this tenant's.
    expect(browser_page.locator("#steps-title")).to_be_hidden()
    expect(browser_page.locator("#publish-title")).to_be_hidden()
    expect(browser_page.locator("#q-jobs")).to_be_hidden()
    expect(browser_page.locator("#f-pages")).to_be_visible()
    row = browser_page.locator("#dead-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("browserdead")  # a jc-test job
    scan(browser_page, "admin-scoped")
    assert not problems, problems
