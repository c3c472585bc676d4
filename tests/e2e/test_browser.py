"""The upload page in a real browser: Debian's chromium, headless, driven by Playwright.

The real gateway (embedded mode: local files, the journal job queue, the outbox as the sink)
listens on 127.0.0.1; an applicant opens a link, adds two photos (held back for "Stellen
schwärzen" until "So lassen": ``test_redaction_browser.py``), reorders them, sees the
quality warning for the blurred one, sends, gets the receipt and its PDF; the worker then makes
the PDF and records the message. axe-core (bundled by ``axe-playwright-python``) scans every
state for serious or critical accessibility violations. ``BRIEFKASTEN_SCREENSHOTS=1`` writes
phone-sized screenshots of each state to ``docs/screenshots/``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from aiohttp import web
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from briefkasten import contract, links
from briefkasten.broker import open_job_queue
from briefkasten.broker.local import LocalJobQueue
from briefkasten.broker.outbox import Outbox
from briefkasten.config import Settings, TenantSettings
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from briefkasten.worker import Worker
from samples import generate
from samples.degrade import phone_photo
from tests.conftest import ROOT
from tests.support.env import need
from tests.support.gateway import gateway_app

CHROMIUM = Path("/usr/bin/chromium")
TENANT = "jc-musterstadt"
TENANT_NAME = "Jobcenter Musterstadt"
CASE = "12345BG0012345"
KEY = "browser-key-0123456789"
SECRET = "b" * 40
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="48" viewBox="0 0 160 48">'
    '<rect width="48" height="48" rx="8" fill="#2e7d32"/>'
    '<path d="M10 34l14-20 14 20z" fill="#fff"/>'
    '<text x="56" y="30" font-family="DejaVu Sans" font-size="15" fill="#1b1b1b">Musterstadt</text>'
    "</svg>"
)
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = ROOT / "docs" / "screenshots"
TAKE_SCREENSHOTS = os.environ.get("BRIEFKASTEN_SCREENSHOTS") == "1"
#: Uploads, the quick check and sending are fast here; the bound only keeps a hang from lasting.
WAIT_MS = 60_000
BLOCKING = ("serious", "critical")
#: Records every text of the polite live region (a later one replaces an earlier one).
RECORD_ANNOUNCEMENTS = """
window.announced = [];
document.addEventListener('DOMContentLoaded', () => {
  const region = document.getElementById('announcer');
  if (!region) return;  // a page without a live region (GET /)
  new MutationObserver(() => window.announced.push(region.textContent))
    .observe(region, { childList: true, characterData: true, subtree: true });
});
"""

pytestmark = pytest.mark.slow


@dataclasses.dataclass
class Gateway:
    base: str
    settings: Settings
    storage: Storage

    def link(self, types: tuple[str, ...] = ("kontoauszug", "mietvertrag")) -> tuple[str, str]:
        """(page URL, link id) of a new link for the case."""
        link, token = links.create_link(self.settings, self.storage, TENANT, CASE, types)
        return f"{self.base}/u/{token}", link.link_id


@dataclasses.dataclass
class Photos:
    sharp: Path
    blurred: Path


def chromium_binary() -> Path:
    need(
        CHROMIUM.exists(),
        "Debian's chromium is not installed (/usr/bin/chromium): run `make chromium`",
    )
    return CHROMIUM


class BackgroundServer:
    """The gateway app on its own event loop in a thread, on a socket bound beforehand."""

    def __init__(self, app: web.Application, sock: socket.socket) -> None:
        self._app = app
        self._sock = sock
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gateway", daemon=True)

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        assert self._started.wait(30), "the gateway did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(self._app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.SockSite(runner, self._sock).start())
        self._started.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()


@pytest.fixture
def gateway(tmp_path: Path, settings: Settings) -> Iterator[Gateway]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    logo = tmp_path / "logo.svg"
    logo.write_text(LOGO)
    settings = dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway, api_keys=f"{TENANT}:{KEY}", spool_dir=tmp_path / "spool"
        ),
        pipeline=dataclasses.replace(settings.pipeline, name="ocr-only", workers=1),
        broker=dataclasses.replace(
            settings.broker, outbox_dir=tmp_path / "outbox", journal_dir=tmp_path / "journal"
        ),
        links=dataclasses.replace(settings.links, secret=SECRET, public_base_url=base),
        tenants=(
            TenantSettings(
                TENANT, name=TENANT_NAME, logo=str(logo), allow_uploads_without_link=True
            ),
        ),
    )
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir, max_attempts=3)
    with sock, BackgroundServer(gateway_app(settings, storage=storage, jobs=jobs), sock):
        yield Gateway(base, settings, storage)


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Photos:
    """Two phone photos of a letter: one sharp, one blurred (the quick check flags it)."""
    folder = tmp_path_factory.mktemp("photos")
    page = generate.render_page("brief", seed=0)[0].convert("RGB")
    photo, _ = phone_photo(page, seed=0)
    sharp = folder / "seite-2.jpg"
    photo.save(sharp, format="JPEG", quality=85)
    blurred = folder / "seite-1-unscharf.jpg"
    Image.fromarray(cv2.GaussianBlur(np.asarray(photo), (0, 0), 4)).save(
        blurred, format="JPEG", quality=85
    )
    return Photos(sharp, blurred)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_binary()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True)
        yield browser
        browser.close()


@dataclasses.dataclass
class Watch:
    """What the page did that it must not: script errors, CSP refusals, foreign requests."""

    base: str
    errors: list[str] = dataclasses.field(default_factory=list)
    requests: list[str] = dataclasses.field(default_factory=list)

    def check(self) -> None:
        assert not self.errors, self.errors
        foreign = [u for u in self.requests if not u.startswith((self.base, "blob:", "data:"))]
        assert not foreign, foreign


@pytest.fixture
def page(browser: Any, gateway: Gateway) -> Iterator[Any]:
    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=1, locale="de-DE", accept_downloads=True
    )
    context.set_default_timeout(WAIT_MS)
    context.add_init_script(RECORD_ANNOUNCEMENTS)
    page = context.new_page()
    watch = Watch(gateway.base)
    page.on("pageerror", lambda error: watch.errors.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            watch.errors.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.on("request", lambda request: watch.requests.append(request.url))
    yield page
    context.close()
    watch.check()


def scan(page: Any, state: str, *, screenshot: bool = True) -> None:
    """axe-core on the page as it is now: no serious or critical violations."""
    results = Axe().run(page)
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]
    assert not blocking, f"{state}: {blocking}"
    others = [f"{v['id']} ({v['impact']})" for v in results.response["violations"]]
    print(f"axe {state}: {results.response['testEngine']['version']}, other findings: {others}")
    if TAKE_SCREENSHOTS and screenshot:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{state}.png"
        page.screenshot(path=str(path), full_page=True)
        shrink_screenshot(path)


def shrink_screenshot(path: Path) -> None:
    """256 colours are plenty for a page of text: a third of the bytes in the repository."""
    with Image.open(path) as shot:
        palette = shot.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
    palette.save(path, optimize=True)


def choose_language(page: Any, name: str) -> None:
    """Open the language menu and pick ``name`` (each language is named in its own)."""
    page.locator("#lang-menu summary").click()
    page.locator("#lang-list").get_by_role("link", name=name, exact=True).click()
    expect(page.locator("#lang-current")).to_have_text(name)


def announced(page: Any, text: str) -> None:
    """Wait until the live region has said ``text``."""
    page.wait_for_function(
        "(text) => window.announced.some((said) => said.includes(text))", arg=text
    )


def keep_pages(page: Any, n: int) -> None:
    """Press "So lassen" on the first ``n`` pages: an image page is held back (not uploaded)
    until the applicant redacts it, keeps it as it is, adds the next page or continues."""
    for number in range(1, n + 1):
        page.get_by_role("button", name=f"So lassen (Seite {number})").click()


def no_horizontal_scrolling(page: Any) -> bool:
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def small_targets(page: Any) -> list[str]:
    """Visible buttons and links smaller than 44 × 44 CSS pixels."""
    found: list[str] = page.evaluate(
        """() => Array.from(document.querySelectorAll('button, a[href], .choice'))
            .filter((e) => e.offsetParent !== null)
            .filter((e) => { const r = e.getBoundingClientRect();
                             return r.width < 44 || r.height < 44; })
            .map((e) => e.id || e.textContent.trim())"""
    )
    return found


def test_applicant_sends_two_photos_and_gets_a_receipt(
    page: Any, gateway: Gateway, photos: Photos, tmp_path: Path
) -> None:
    url, _ = gateway.link()
    page.goto(url)
    expect(
        page.get_by_role("heading", name="Schritt 1 von 2: Unterlagen hinzufügen")
    ).to_be_visible()
    expect(page.locator("#tenant")).to_have_text(f"An: {TENANT_NAME}")
    expect(page.locator("#tenant-logo")).to_be_visible()
    assert page.eval_on_selector("#tenant-logo", "(img) => img.naturalWidth") > 0
    expect(page.locator("#requested-list li")).to_have_text(["Kontoauszug", "Mietvertrag"])
    expect(page.get_by_role("radio", name="Kontoauszug")).to_be_checked()
    assert page.evaluate("document.documentElement.lang") == "de"
    scan(page, "01-start")

    # Two photos at once (the second chooser of the page), in the wrong order.
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Dateien auswählen").click()
    assert chooser.value.is_multiple()
    chooser.value.set_files([photos.sharp, photos.blurred])
    cards = page.locator("#page-list > li")
    expect(cards).to_have_count(2)
    keep_pages(page, 2)  # image pages wait for "Stellen schwärzen" or "So lassen"
    expect(cards.nth(0).locator(".card-status")).to_have_text("Hochgeladen. Alles in Ordnung.")
    expect(cards.nth(1).locator(".finding")).to_contain_text("unscharf")
    expect(cards.nth(1).locator(".card-status")).to_have_text(
        "Hochgeladen. Bitte lesen Sie den Hinweis."
    )
    expect(page.locator("#overall-status")).to_have_text("2 von 2 Dateien hochgeladen.")
    announced(page, "Hinweis zu Seite 2: Das Foto ist unscharf.")

    # Reorder: the blurred page 1 goes up; focus stays on the card (now on "Nach unten").
    page.get_by_role("button", name="Nach oben (Seite 2)").click()
    expect(cards.nth(0).locator(".file-name")).to_have_text("seite-1-unscharf.jpg")
    expect(cards.nth(1).locator(".file-name")).to_have_text("seite-2.jpg")
    expect(page.get_by_role("button", name="Nach unten (Seite 1)")).to_be_focused()
    expect(cards.nth(0).locator(".finding")).to_contain_text("unscharf")
    assert small_targets(page) == []
    page.set_viewport_size({"width": 320, "height": 640})  # the narrowest phone (and 400 % zoom)
    assert no_horizontal_scrolling(page)
    page.set_viewport_size(PHONE)
    scan(page, "02-pages-with-warning")

    page.get_by_role("button", name="Weiter: Prüfen und senden").click()
    expect(page.get_by_role("heading", name="Schritt 2 von 2: Prüfen und senden")).to_be_focused()
    expect(page.locator("#review-type")).to_have_text("Kontoauszug")
    expect(page.locator("#review-list > li")).to_have_count(2)
    expect(page.locator("#review-warnings")).to_contain_text("Bei 1 Seite gibt es einen Hinweis")
    scan(page, "03-review")

    page.get_by_role("button", name="Jetzt senden").click()
    heading = page.get_by_role("heading", name="Vielen Dank! Ihre Unterlagen sind angekommen.")
    expect(heading).to_be_focused()
    expect(page.locator("#receipt-jobcenter")).to_have_text(TENANT_NAME)
    expect(page.locator("#receipt-case")).to_have_text("12345BG•••2345")  # masked
    documents = page.locator("#receipt-documents .document")
    expect(documents).to_have_count(1)
    expect(documents.locator("h4")).to_have_text("Kontoauszug")
    expect(documents.locator("li .file-name")).to_have_text(["seite-1-unscharf.jpg", "seite-2.jpg"])
    expect(documents.locator("li code")).to_have_text(
        [hashlib.sha256(p.read_bytes()).hexdigest() for p in (photos.blurred, photos.sharp)]
    )
    expect(documents.locator("p")).to_have_text("Seiten: 2")
    submission_id = page.locator("#receipt-number").inner_text()
    assert page.locator("#receipt-received").inner_text()
    scan(page, "04-receipt")

    with page.expect_download() as download:
        page.get_by_role("button", name="Quittung als PDF speichern").click()
    assert download.value.suggested_filename == f"Eingangsbestaetigung-{submission_id}.pdf"
    saved = tmp_path / "quittung.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")
    announced(page, "Die Quittung ist gespeichert.")

    # The worker makes the PDF and records the message (the outbox is the sink here).
    worker = Worker(
        gateway.settings, gateway.storage, open_job_queue(gateway.settings), threading.Event()
    )
    assert worker.run(idle_timeout=2.0) == 1
    (entry,) = Outbox(gateway.settings.broker.outbox_dir).pending()
    message = json.loads(entry.message.body)
    contract.validate(message)
    assert message["message_id"] == contract.message_id_for(submission_id)
    assert entry.message.routing_key == f"{TENANT}.kontoauszug"
    (document,) = message["documents"]
    assert document["pages"] == 2
    pdf = gateway.storage.get_bytes(document["pdf"]["key"])
    assert pdf.startswith(b"%PDF-")
    assert hashlib.sha256(pdf).hexdigest() == document["pdf"]["sha256"]
    originals = [o["sha256"] for o in document["originals"]]
    assert originals == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in (photos.blurred, photos.sharp)
    ]

    # A later visit shows the earlier submission with its status.
    page.goto(url)
    history = page.locator("#history-list > li")
    expect(history).to_have_count(1)
    expect(history.locator(".state")).to_have_text("Fertig. Das Jobcenter hat die Unterlagen.")
    expect(history.locator("ul li")).to_have_text("Kontoauszug – Dateien: 2")
    # The link asked for two types: the one not sent yet is chosen now.
    expect(page.locator("#requested-list li")).to_have_text(
        ["Kontoauszug – schon gesendet", "Mietvertrag"]
    )
    expect(page.get_by_role("radio", name="Mietvertrag")).to_be_checked()
    scan(page, "05-later-visit")


def test_a_revoked_link_shows_only_the_message(page: Any, gateway: Gateway) -> None:
    url, link_id = gateway.link()
    links.revoke(gateway.storage, TENANT, link_id)
    page.goto(url)
    expect(page.get_by_role("heading", name="Dieser Link funktioniert nicht.")).to_be_visible()
    expect(page.locator("#link-error-text")).to_have_text(
        "Dieser Link gilt nicht mehr. Bitte fragen Sie beim Jobcenter nach einem neuen Link."
    )
    for hidden in ("#step-collect", "#step-review", "#step-receipt", "#history", "#tenant"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator("#link-retry")).to_be_hidden()
    scan(page, "06-revoked-link")

    choose_language(page, "English")
    expect(page.locator("#link-error-text")).to_have_text(
        "This link is no longer valid. Please ask your job center for a new link."
    )
    assert page.evaluate("document.documentElement.lang") == "en"


def test_switching_to_english_keeps_the_pages(page: Any, gateway: Gateway, photos: Photos) -> None:
    url, _ = gateway.link(("mietvertrag",))
    page.goto(url)
    expect(page.get_by_role("radio", name="Mietvertrag")).to_be_checked()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Foto machen").click()
    assert not chooser.value.is_multiple()
    chooser.value.set_files(photos.blurred)
    keep_pages(page, 1)
    card = page.locator("#page-list > li")
    expect(card.locator(".finding")).to_contain_text("unscharf")

    choose_language(page, "English")
    assert page.url.endswith("?lang=en")
    assert page.evaluate("document.documentElement.lang") == "en"
    expect(page.get_by_role("heading", name="Step 1 of 2: Add documents")).to_be_visible()
    expect(page.get_by_role("radio", name="Rental contract")).to_be_checked()
    expect(card).to_have_count(1)
    expect(card.locator(".finding")).to_contain_text("The photo is blurred.")
    expect(card.locator(".card-status")).to_have_text("Uploaded. Please read the note.")
    expect(page.locator("#lang-list")).to_be_hidden()  # the menu closed after the choice
    scan(page, "07-english")

    # Deleting the page moves focus to the photo button and the upload is gone on the server.
    page.get_by_role("button", name="Delete (Page 1)").click()
    expect(card).to_have_count(0)
    expect(page.get_by_role("button", name="Take a photo")).to_be_focused()
    announced(page, "The page is deleted.")
    page.get_by_role("button", name="Next: check and send").click()
    expect(page.locator("#collect-alert")).to_have_text("Please add at least one page.")


def test_a_lost_answer_is_retried_with_the_same_idempotency_key(
    page: Any, gateway: Gateway, photos: Photos
) -> None:
    """The first answer to "send" is cut off; the page retries and gets the same receipt."""
    url, _ = gateway.link(("kontoauszug",))
    keys: list[str] = []

    def drop_first_answer(route: Any) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) == 1:
            response = route.fetch()  # the server receives and stores it …
            assert response.status == 202
            route.abort("connectionreset")  # … but the answer never arrives
        else:
            route.continue_()

    page.route("**/api/v1/submissions", drop_first_answer)
    page.goto(url)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Dateien auswählen").click()
    chooser.value.set_files(photos.sharp)
    keep_pages(page, 1)
    expect(page.locator("#page-list .card-status")).to_have_text("Hochgeladen. Alles in Ordnung.")
    page.get_by_role("button", name="Weiter: Prüfen und senden").click()
    page.get_by_role("button", name="Jetzt senden").click()
    expect(
        page.get_by_role("heading", name="Vielen Dank! Ihre Unterlagen sind angekommen.")
    ).to_be_focused()
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) == 32
    expect(page.locator("#history-list > li")).to_have_count(1)  # one submission, not two


def test_a_file_the_server_refuses_shows_its_message(
    page: Any, gateway: Gateway, tmp_path: Path
) -> None:
    """A ".jpg" that is no image: the gateway's sniff refuses it when the upload completes."""
    fake = tmp_path / "rechnung.jpg"
    fake.write_bytes(b"this is not a photo at all\n" * 100)
    url, _ = gateway.link(("kontoauszug",))
    page.goto(url)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Dateien auswählen").click()
    chooser.value.set_files(fake)
    keep_pages(page, 1)
    card = page.locator("#page-list > li")
    expect(card.locator(".card-status")).to_have_text("Das Hochladen hat nicht geklappt.")
    expect(card.locator(".card-error")).to_contain_text("Diese Art von Datei können wir nicht")
    expect(page.get_by_role("button", name="Noch einmal hochladen (Seite 1)")).to_be_hidden()
    page.get_by_role("button", name="Weiter: Prüfen und senden").click()
    expect(page.locator("#collect-alert")).to_contain_text("Bitte löschen Sie die Datei.")
    expect(page.get_by_role("button", name="Löschen (Seite 1)")).to_be_focused()
    scan(page, "08-refused-file")

    choose_language(page, "English")
    expect(card.locator(".card-error")).to_contain_text("We cannot accept this kind of file.")
    expect(page.locator("#collect-alert")).to_contain_text("Please delete it.")


def test_without_a_link_the_applicant_types_the_bg_nummer(page: Any, gateway: Gateway) -> None:
    """The tenant allows uploads without a link: a wrong number is refused at the field, the
    right one opens a new link's upload page."""
    page.goto(f"{gateway.base}/t/{TENANT}")
    expect(page.get_by_role("heading", name="Unterlagen senden", level=1)).to_be_visible()
    expect(page.locator("#tenant")).to_have_text(f"An: {TENANT_NAME}")
    expect(page.locator("#tenant-logo")).to_be_visible()
    assert page.eval_on_selector("#tenant-logo", "(img) => img.naturalWidth") > 0
    field = page.get_by_label("Ihre BG-Nummer")
    expect(field).to_have_accessible_description(
        "Die BG-Nummer steht oben auf Ihren Briefen vom Jobcenter, zum Beispiel 12345BG0012345."
    )
    scan(page, "09-without-link-empty", screenshot=False)

    # One digit short: the message is shown next to the field, described, announced, focused.
    field.fill("12345BG001234")
    page.get_by_role("button", name="Weiter").click()
    error = "Diese BG-Nummer ist nicht richtig."
    expect(page.locator("#case-error")).to_be_visible()
    expect(page.locator("#case-error")).to_contain_text(error)
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(f"Fehler: {error}"))
    announced(page, f"Fehler: {error}")
    assert small_targets(page) == []
    page.set_viewport_size({"width": 320, "height": 640})
    assert no_horizontal_scrolling(page)
    page.set_viewport_size(PHONE)
    scan(page, "09-without-link")

    # The switch keeps what was typed and says the message in English.
    choose_language(page, "English")
    assert page.url.endswith("?lang=en")
    expect(page.locator("#case-error")).to_contain_text("This case number is not right.")
    expect(page.get_by_label("Your case number (BG-Nummer)")).to_have_value("12345BG001234")
    choose_language(page, "Deutsch")

    # Spaces and lower case are fine; Enter sends; the page of the new link opens.
    field.fill(" 12345 bg 0012345 ")
    field.press("Enter")
    page.wait_for_url(re.compile(r"/u/[^/?]+\?lang=de$"))
    expect(
        page.get_by_role("heading", name="Schritt 1 von 2: Unterlagen hinzufügen")
    ).to_be_visible()
    expect(page.locator("#tenant")).to_have_text(f"An: {TENANT_NAME}")
    expect(page.locator("#valid-until")).to_be_visible()
    scan(page, "09-without-link-upload-page", screenshot=False)
    token = page.url.split("/u/", 1)[1].split("?", 1)[0]
    link = links.verify(gateway.settings.links, gateway.storage, token)
    assert (link.tenant, link.case_number) == (TENANT, CASE)
