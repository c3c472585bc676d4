"""The review step's type hint in a real browser (Debian's chromium via Playwright): a pay slip
from a payroll portal (a born-digital PDF) added as "Kontoauszug" gets the gentle question
"Das sieht aus wie eine Lohnabrechnung. Stimmt der Typ?"; the applicant can change the type
with one tap, or keep it and send anyway (never a block). axe finds nothing serious."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import test_browser as base
from tests.e2e.test_browser import Gateway
from tests.support import factories

pytestmark = pytest.mark.slow

# The fixtures of the German browser tests: the gateway, chromium, a page.
browser = base.browser
gateway = base.gateway
page = base.page

PAYSLIP = (
    "Bäckerei Müller GmbH & Co. KG",
    "Entgeltabrechnung für März 2025",
    "Personalnummer 00412   Steuerklasse I   Steuer-ID 12 345 678 901",
    "Gesamtbrutto 1.820,00 EUR   Lohnsteuer 95,16 EUR",
    "Rentenversicherung 169,26 EUR   Arbeitslosenversicherung 23,66 EUR",
    "Nettoverdienst 1.402,11 EUR   Auszahlungsbetrag 1.402,11 EUR",
)
HINT = "Das sieht aus wie eine Lohnabrechnung. Stimmt der Typ?"


def add_payslip_as_statement(page: Any, gateway: Gateway, tmp_path: Path) -> None:
    url, _ = gateway.link(("kontoauszug", "lohnabrechnung"))
    page.goto(url)
    expect(page.get_by_role("radio", name="Kontoauszug")).to_be_checked()
    slip = factories.born_digital_pdf(tmp_path / "abrechnung-maerz.pdf", PAYSLIP)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Dateien auswählen").click()
    chooser.value.set_files([slip])
    cards = page.locator("#page-list > li")
    expect(cards.nth(0).locator(".card-status")).to_have_text("Hochgeladen. Alles in Ordnung.")
    page.get_by_role("button", name="Weiter: Prüfen und senden").click()
    expect(page.locator("#review-type")).to_have_text("Kontoauszug")


def test_the_hint_changes_the_type_in_one_tap(page: Any, gateway: Gateway, tmp_path: Path) -> None:
    add_payslip_as_statement(page, gateway, tmp_path)
    hint = page.locator("#review-suggestion")
    expect(hint).to_be_visible()
    expect(page.locator("#review-suggestion-text")).to_have_text(HINT)
    expect(page.get_by_role("button", name="Jetzt senden")).to_be_enabled()  # never a block
    base.scan(page, "type-hint", screenshot=False)
    page.get_by_role("button", name="Typ ändern: Lohnabrechnung").click()
    expect(page.locator("#review-type")).to_have_text("Lohnabrechnung")
    expect(hint).to_be_hidden()
    page.get_by_role("button", name="Zurück und ändern").click()
    expect(page.get_by_role("radio", name="Lohnabrechnung")).to_be_checked()


def test_the_applicant_may_keep_the_type_and_send(
    page: Any, gateway: Gateway, tmp_path: Path
) -> None:
    add_payslip_as_statement(page, gateway, tmp_path)
    hint = page.locator("#review-suggestion")
    expect(hint).to_be_visible()
    page.get_by_role("button", name="Typ behalten").click()
    expect(hint).to_be_hidden()
    expect(page.locator("#review-type")).to_have_text("Kontoauszug")
    page.get_by_role("button", name="Jetzt senden").click()
    expect(
        page.get_by_role("heading", name="Vielen Dank! Ihre Unterlagen sind angekommen.")
    ).to_be_visible()
