"""The upload page with a password-protected PDF (Chromium): asked for, wrong once, opened.

The gateway keeps the locked upload, the card asks for the password in plain language with an
accessible field (label, show/hide, the error tied to the field), a wrong one is said so and
the right one opens it; the sent submission stores the untouched original and the decrypted
copy, and the password is nowhere in the storage.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from playwright.sync_api import expect

from briefkasten.model import Submission
from tests.e2e.test_browser import (  # noqa: F401 (fixtures)
    Gateway,
    announced,
    browser,
    gateway,
    page,
    scan,
)
from tests.support import factories

pytestmark = pytest.mark.slow
PASSWORD = "Geburtstag-0101"
PROMPT = "Diese PDF ist mit einem Passwort geschützt. Bitte geben Sie das Passwort ein."


def test_a_locked_pdf_is_opened_with_its_password(
    page: Any,  # noqa: F811
    gateway: Gateway,  # noqa: F811
    tmp_path: Path,
) -> None:
    locked = factories.locked_pdf(tmp_path / "lohnabrechnung.pdf", PASSWORD)
    url, _ = gateway.link(("lohnabrechnung",))
    page.goto(url)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Dateien auswählen").click()
    chooser.value.set_files(locked)
    card = page.locator("#page-list > li")
    expect(card.locator(".unlock-hint")).to_have_text(PROMPT)
    expect(card.locator(".card-status")).to_have_text("Diese PDF braucht ein Passwort.")
    field = page.get_by_label("Passwort der PDF")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("type", "password")
    announced(page, PROMPT)
    scan(page, "09-locked-pdf")

    page.get_by_role("button", name="Passwort zeigen").click()
    expect(field).to_have_attribute("type", "text")
    expect(page.get_by_role("button", name="Passwort verbergen")).to_have_attribute(
        "aria-pressed", "true"
    )
    field.fill("falsch")
    page.get_by_role("button", name="PDF öffnen").click()
    expect(card.locator(".unlock-error")).to_contain_text("Das Passwort stimmt nicht.")
    expect(field).to_have_value("")  # emptied after every try
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    page.get_by_role("button", name="Weiter: Prüfen und senden").click()
    # not before it is opened, and not on by itself once it is: the applicant acts
    expect(page.locator("#collect-alert")).to_have_text("Diese PDF braucht ein Passwort.")
    expect(field).to_be_focused()

    field.fill(PASSWORD)
    field.press("Enter")
    expect(card.locator(".card-status")).to_have_text("Hochgeladen. Alles in Ordnung.")
    expect(card.locator(".unlock")).to_have_count(0)
    page.get_by_role("button", name="Weiter: Prüfen und senden").click()
    page.get_by_role("button", name="Jetzt senden").click()
    expect(
        page.get_by_role("heading", name="Vielen Dank! Ihre Unterlagen sind angekommen.")
    ).to_be_focused()
    expect(page.locator("#receipt-documents li code")).to_have_text(
        hashlib.sha256(locked.read_bytes()).hexdigest()
    )

    keys = gateway.storage.list("")
    manifest = next(k for k in keys if k.endswith("/manifest.json"))
    received = Submission.from_json(json.loads(gateway.storage.get_bytes(manifest)))
    (file,) = received.documents[0].files
    assert gateway.storage.get_bytes(file.key) == locked.read_bytes()
    assert file.decrypted_key is not None
    with pikepdf.open(io.BytesIO(gateway.storage.get_bytes(file.decrypted_key))) as pdf:
        assert not pdf.is_encrypted
    assert all(PASSWORD.encode() not in gateway.storage.get_bytes(k) for k in keys)
