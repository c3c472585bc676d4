"""Redaction on the phone, in a real browser (Debian's chromium via Playwright).

A bank statement photo with known words (taken sideways: its pixels lie rotated, an EXIF
orientation says how to turn them, and it carries GPS coordinates) is added to the upload
page. The page holds it back; the applicant opens "Stellen schwärzen", draws a box by mistake
and undoes it, tries the keyboard, then draws a box over the booking line with the donation and
the church fee, presses "Fertig", then "Weiter". Then:

- the gateway got exactly one upload, flagged ``redacted_by_applicant``, whose bytes are the
  stored original: the unredacted photo never left the browser;
- the stored original is an upright JPEG without EXIF or GPS, black where the box was, and OCR
  finds the uncovered words in it but none of the covered ones;
- the worker's PDF, its text layer (``pdftotext``) and the stored text have the uncovered words
  and none of the covered ones, and the message flags ``documents[].redacted_by_applicant``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import expect

from briefkasten import contract
from briefkasten.broker import open_job_queue
from briefkasten.broker.outbox import Outbox
from briefkasten.gateway.tus_store import TusStore
from briefkasten.intake import IncomingFile
from briefkasten.worker import Worker
from tests.e2e import test_browser as base
from tests.e2e.test_browser import Gateway, announced, scan
from tests.support.env import need
from tests.support.factories import FONT

pytestmark = pytest.mark.slow

browser = base.browser
gateway = base.gateway
page = base.page

SIZE = (1240, 1754)  # A4 at 150 dpi, upright
FONT_SIZE = 42
LEFT = 100
#: (text, top) of each line; the third is the one the applicant blacks out.
LINES = [
    ("Kontoauszug Musterbank", 160),
    ("Miete Wohnung Lindenweg 450,00", 300),
    ("Spende Caritasverband Kirchensteuer 25,00", 440),
    ("Lastschrift Stadtwerke Strom 61,20", 580),
    ("Gutschrift Arbeitsagentur 563,00", 720),
]
COVERED = ("Spende", "Caritasverband", "Kirchensteuer")
KEPT = ("Musterbank", "Wohnung", "Stadtwerke", "Arbeitsagentur")
SECRET_LINE = 2
MISTAKE_LINE = 3  # boxed by mistake, then undone: must stay readable
#: A card's status once its upload is done (the quick check may add a hint to the photo).
UPLOADED = re.compile(r"^Hochgeladen\. (Alles in Ordnung|Bitte lesen Sie den Hinweis)\.$")
ORIENTATION = 0x0112
GPS_IFD = 0x8825


def statement_photo(path: Path) -> Path:
    """The statement as a phone stores a portrait shot taken sideways: pixels rotated a quarter
    turn, EXIF orientation 6 ("turn 90° clockwise to view"), GPS coordinates of the kitchen."""
    upright = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(upright)
    font = ImageFont.truetype(FONT, FONT_SIZE)
    for text, top in LINES:
        draw.text((LEFT, top), text, font=font, fill=(15, 15, 15))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # counter-clockwise: 1754 × 1240
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "Phonemaker"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    stored.save(path, format="JPEG", quality=90, exif=exif)
    with Image.open(path) as check:  # the fixture is what it claims
        assert check.size == (SIZE[1], SIZE[0])
        assert check.getexif()[ORIENTATION] == 6 and check.getexif().get_ifd(GPS_IFD)
    return path


def line_box(index: int) -> tuple[float, float, float, float]:
    """The line's box in fractions of the upright page, with a margin."""
    text, top = LINES[index]
    font = ImageFont.truetype(FONT, FONT_SIZE)
    x0, y0, x1, y1 = font.getbbox(text)
    margin = 18
    return (
        (LEFT + x0 - margin) / SIZE[0],
        (top + y0 - margin) / SIZE[1],
        (LEFT + x1 + margin) / SIZE[0],
        (top + y1 + margin) / SIZE[1],
    )


def drag(page: Any, box: tuple[float, float, float, float]) -> None:
    """Draw ``box`` (fractions of the picture) on the editor's canvas with the mouse."""
    canvas = page.locator("#redact-canvas")
    expect(canvas).to_be_visible()  # the editor opens once the picture is decoded
    frame = canvas.bounding_box()
    assert frame is not None
    x0, y0, x1, y1 = box
    page.mouse.move(frame["x"] + x0 * frame["width"], frame["y"] + y0 * frame["height"])
    page.mouse.down()
    page.mouse.move(frame["x"] + x1 * frame["width"], frame["y"] + y1 * frame["height"], steps=8)
    page.mouse.up()


def touch_drag(page: Any, box: tuple[float, float, float, float]) -> None:
    """Draw ``box`` with a finger: touch events through the DevTools protocol (Playwright has
    taps only), which the browser turns into pointer events of type "touch"."""
    canvas = page.locator("#redact-canvas")
    expect(canvas).to_be_visible()  # the editor opens once the picture is decoded
    frame = canvas.bounding_box()
    assert frame is not None
    x0, y0, x1, y1 = box
    points = [
        (frame["x"] + (x0 + (x1 - x0) * i / 8) * frame["width"],
         frame["y"] + (y0 + (y1 - y0) * i / 8) * frame["height"])
        for i in range(9)
    ]  # fmt: skip
    cdp = page.context.new_cdp_session(page)
    kinds = ["touchStart"] + ["touchMove"] * (len(points) - 1)
    for kind, (x, y) in zip(kinds, points, strict=True):
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def screen(page: Any, state: str) -> None:
    """The editor fills the screen: a screenshot of the viewport (not of the whole page)."""
    if base.TAKE_SCREENSHOTS:
        path = base.SCREENSHOTS / f"{state}.png"
        page.screenshot(path=str(path))
        base.shrink_screenshot(path)


def ocr(image: Image.Image, folder: Path) -> str:
    need(shutil.which("tesseract") is not None, "tesseract is not installed")
    path = folder / "ocr.png"
    image.save(path)
    done = subprocess.run(
        ["tesseract", str(path), "-", "-l", "deu", "--psm", "4"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


def pdf_text(pdf: bytes, folder: Path) -> str:
    need(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is not installed")
    path = folder / "document.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def assert_covered_gone(text: str, where: str) -> None:
    for word in KEPT:
        assert word in text, f"{where}: uncovered {word!r} not found in {text!r}"
    for word in COVERED:
        assert word not in text, f"{where}: covered {word!r} is readable"


@pytest.fixture
def spooled(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every file the gateway's tus spool completed, as it lay there (the gateway runs in this
    process, in a thread)."""
    files: list[bytes] = []
    finish = TusStore.finish

    def recording(self: TusStore, owner: str, upload_id: str, checks: Any) -> IncomingFile:
        incoming = finish(self, owner, upload_id, checks)
        files.append(incoming.path.read_bytes())
        return incoming

    monkeypatch.setattr(TusStore, "finish", recording)
    return files


def test_the_covered_words_never_leave_the_phone(
    page: Any, gateway: Gateway, tmp_path: Path, spooled: list[bytes]
) -> None:
    photo = statement_photo(tmp_path / "kontoauszug.jpg")
    url, _ = gateway.link(("kontoauszug",))
    uploads: list[dict[str, str]] = []
    chunks: list[str] = []

    def record(request: Any) -> None:
        if "/api/v1/tus/" not in request.url:
            return
        if request.method == "POST":
            uploads.append(request.headers)
        elif request.method == "PATCH":
            chunks.append(request.url)

    page.on("request", record)
    page.goto(url)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Dateien auswählen").click()
    chooser.value.set_files(photo)
    card = page.locator("#page-list > li")
    expect(card.locator(".card-status")).to_have_text(
        "Noch nicht gesendet. Sie können Stellen schwärzen oder die Seite so lassen."
    )
    redact = page.get_by_role("button", name="Stellen schwärzen (Seite 1)")
    expect(redact).to_be_visible()
    expect(page.get_by_role("button", name="So lassen (Seite 1)")).to_be_visible()
    page.wait_for_timeout(1500)  # time enough for an upload to start, if one would
    assert uploads == [] and chunks == []  # held back while the applicant may still redact
    assert base.small_targets(page) == []
    scan(page, "20-page-held")

    redact.click()
    dialog = page.get_by_role("dialog", name="Stellen schwärzen")
    expect(dialog).to_be_visible()
    canvas = page.locator("#redact-canvas")
    expect(canvas).to_be_focused()
    frame = canvas.bounding_box()
    assert frame is not None
    # Upright (the EXIF orientation applied) and as large as the phone's screen allows.
    assert frame["height"] > frame["width"] > 250
    assert abs(frame["width"] / frame["height"] - SIZE[0] / SIZE[1]) < 0.02
    dialog_box = dialog.bounding_box()
    assert dialog_box is not None and dialog_box["width"] >= base.PHONE["width"] - 1
    count = page.locator("#redact-count")
    expect(count).to_have_text("Geschwärzte Stellen: 0")
    expect(page.get_by_role("button", name="Rückgängig")).to_be_disabled()
    assert base.small_targets(page) == []
    scan(page, "21-redact-editor", screenshot=False)
    screen(page, "21-redact-editor")
    page.set_viewport_size({"width": 320, "height": 640})  # the narrowest phone: it still fits
    assert base.no_horizontal_scrolling(page)
    expect(page.get_by_role("button", name="Fertig")).to_be_in_viewport()
    narrow = canvas.bounding_box()
    assert narrow is not None and narrow["x"] >= 0 and narrow["x"] + narrow["width"] <= 320
    page.set_viewport_size(base.PHONE)

    drag(page, line_box(MISTAKE_LINE))  # the wrong line …
    expect(count).to_have_text("Geschwärzte Stellen: 1")
    page.get_by_role("button", name="Rückgängig").click()  # … undone
    expect(count).to_have_text("Geschwärzte Stellen: 0")
    canvas.focus()  # the keyboard: Enter blacks out the frame, Ctrl+Z undoes it
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(count).to_have_text("Geschwärzte Stellen: 1")
    page.keyboard.press("Control+z")
    expect(count).to_have_text("Geschwärzte Stellen: 0")
    drag(page, line_box(SECRET_LINE))
    expect(count).to_have_text("Geschwärzte Stellen: 1")
    scan(page, "22-redact-box", screenshot=False)
    screen(page, "22-redact-box")
    page.get_by_role("button", name="Fertig").click()
    expect(dialog).to_be_hidden()
    expect(redact).to_be_focused()
    announced(page, "Seite 1: Die Stellen sind geschwärzt.")
    expect(card.locator(".file-name")).to_have_text("kontoauszug.jpg")
    expect(card.locator(".card-redacted")).to_have_text("Stellen geschwärzt.")
    assert uploads == [] and chunks == []  # still nothing sent

    # "Continue": the page goes up now, and the review follows when it is there.
    page.get_by_role("button", name="Weiter: Prüfen und senden").click()
    expect(page.get_by_role("heading", name="Schritt 2 von 2: Prüfen und senden")).to_be_focused()
    page.get_by_role("button", name="Jetzt senden").click()
    expect(
        page.get_by_role("heading", name="Vielen Dank! Ihre Unterlagen sind angekommen.")
    ).to_be_focused()
    submission_id = page.locator("#receipt-number").inner_text()

    # One upload reached the gateway, flagged, and its bytes are the stored original.
    assert len(uploads) == 1 and len(spooled) == 1
    metadata = dict(
        (key, base64.b64decode(value).decode())
        for key, _, value in (p.partition(" ") for p in uploads[0]["upload-metadata"].split(","))
    )
    assert metadata["redacted_by_applicant"] == "true"
    (sent,) = spooled
    assert int(uploads[0]["upload-length"]) == len(sent)  # no other bytes were announced
    assert hashlib.sha256(sent).hexdigest() != hashlib.sha256(photo.read_bytes()).hexdigest()
    originals = [k for k in gateway.storage.list("") if "/originals/" in k]
    assert len(originals) == 1
    stored = gateway.storage.get_bytes(originals[0])
    assert stored == sent

    # The stored original: an upright JPEG without metadata, black under the box.
    assert stored.startswith(b"\xff\xd8")
    assert b"Exif" not in stored and b"Phonemaker" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        upright = image.convert("L")
    assert upright.width < upright.height  # drawn upright per EXIF first
    scale = upright.width / SIZE[0]
    x0, y0, x1, y1 = line_box(SECRET_LINE)
    inner = np.asarray(upright)[
        int((y0 + 0.01) * upright.height) : int((y1 - 0.01) * upright.height),
        int((x0 + 0.01) * upright.width) : int((x1 - 0.01) * upright.width),
    ]
    assert inner.size and inner.mean() < 20, "the box is not black"
    assert scale > 0.5
    assert_covered_gone(ocr(upright, tmp_path), "stored original")

    # The worker builds the PDF; its text and the stored text have no covered word.
    worker = Worker(
        gateway.settings, gateway.storage, open_job_queue(gateway.settings), threading.Event()
    )
    assert worker.run(idle_timeout=2.0) == 1
    (entry,) = Outbox(gateway.settings.broker.outbox_dir).pending()
    message = json.loads(entry.message.body)
    contract.validate(message)
    assert message["submission_id"] == submission_id
    (document,) = message["documents"]
    assert document["redacted_by_applicant"] is True
    assert [o["sha256"] for o in document["originals"]] == [hashlib.sha256(sent).hexdigest()]
    pdf = gateway.storage.get_bytes(document["pdf"]["key"])
    assert_covered_gone(pdf_text(pdf, tmp_path), "PDF text layer")
    for word in COVERED:
        assert word.encode() not in pdf
    text = gateway.storage.get_bytes(document["text"]["key"]).decode("utf-8")
    assert_covered_gone(text, "stored text")
    # The tus spool holds nothing any more (the one upload was adopted into storage).
    spool = gateway.settings.gateway.spool_dir / "tus"
    assert not spool.exists() or [p.name for p in spool.iterdir() if p.suffix == ".bin"] == []


def test_the_next_page_or_so_lassen_sends_a_held_page_unflagged(
    page: Any, gateway: Gateway, tmp_path: Path
) -> None:
    """Adding the next page sends the one before; "So lassen" sends a page at once; a box
    drawn with a finger, then "Abbrechen", changes nothing; no page is flagged."""
    photo = statement_photo(tmp_path / "seite.jpg")
    second = tmp_path / "seite-2.jpg"
    with Image.open(photo) as image:
        image.save(second, format="JPEG", quality=80)  # other bytes, no EXIF
    url, _ = gateway.link(("kontoauszug",))
    created: list[str] = []

    def record(request: Any) -> None:
        if request.method == "POST" and "/api/v1/tus/" in request.url:
            created.append(request.headers.get("upload-metadata", ""))

    page.on("request", record)
    page.goto(url)
    for path in (photo, second):
        with page.expect_file_chooser() as chooser:
            page.get_by_role("button", name="Dateien auswählen").click()
        chooser.value.set_files(path)
    cards = page.locator("#page-list > li")
    expect(cards.nth(0).locator(".card-status")).to_have_text(UPLOADED)
    expect(page.get_by_role("button", name="Stellen schwärzen (Seite 1)")).to_be_hidden()
    expect(page.get_by_role("button", name="Stellen schwärzen (Seite 2)")).to_be_visible()
    assert len(created) == 1 and "redacted_by_applicant" not in created[0]

    page.get_by_role("button", name="Stellen schwärzen (Seite 2)").click()
    touch_drag(page, line_box(0))  # with a finger
    expect(page.locator("#redact-count")).to_have_text("Geschwärzte Stellen: 1")
    page.get_by_role("button", name="Abbrechen").click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_role("button", name="Stellen schwärzen (Seite 2)")).to_be_focused()
    expect(cards.nth(1).locator(".card-redacted")).to_be_hidden()  # nothing was blacked out
    assert len(created) == 1
    page.get_by_role("button", name="So lassen (Seite 2)").click()
    expect(cards.nth(1).locator(".card-status")).to_have_text(UPLOADED)
    expect(page.get_by_role("button", name="Löschen (Seite 2)")).to_be_focused()
    announced(page, "Seite 2 wird hochgeladen.")
    assert len(created) == 2 and "redacted_by_applicant" not in created[1]

    page.get_by_role("button", name="Weiter: Prüfen und senden").click()
    expect(page.get_by_role("heading", name="Schritt 2 von 2: Prüfen und senden")).to_be_focused()
    page.get_by_role("button", name="Jetzt senden").click()
    expect(page.locator("#receipt-documents li code")).to_have_text(
        [hashlib.sha256(p.read_bytes()).hexdigest() for p in (photo, second)]
    )
    worker = Worker(
        gateway.settings, gateway.storage, open_job_queue(gateway.settings), threading.Event()
    )
    assert worker.run(idle_timeout=2.0) == 1
    (entry,) = Outbox(gateway.settings.broker.outbox_dir).pending()
    (document,) = json.loads(entry.message.body)["documents"]
    assert document["redacted_by_applicant"] is False


def test_a_picture_the_browser_cannot_read_is_not_edited(
    page: Any, gateway: Gateway, tmp_path: Path
) -> None:
    """A ".jpg" that is no picture: the editor does not open, the card says so; "So lassen"
    sends it and the gateway refuses it as before."""
    fake = tmp_path / "konto.jpg"
    fake.write_bytes(b"this is not a photo at all\n" * 100)
    url, _ = gateway.link(("kontoauszug",))
    page.goto(url)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Dateien auswählen").click()
    chooser.value.set_files(fake)
    card = page.locator("#page-list > li")
    redact = page.get_by_role("button", name="Stellen schwärzen (Seite 1)")
    redact.click()
    expect(card.locator(".card-error")).to_have_text(
        "Dieses Bild können wir hier nicht bearbeiten. Sie können es so senden oder löschen."
    )
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(redact).to_be_focused()
    page.get_by_role("button", name="So lassen (Seite 1)").click()
    expect(card.locator(".card-status")).to_have_text("Das Hochladen hat nicht geklappt.")
    expect(card.locator(".card-error")).to_contain_text("Diese Art von Datei können wir nicht")
