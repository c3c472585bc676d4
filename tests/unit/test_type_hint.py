"""The upload page's instant check suggests a type where the file has text of its own
(``pipeline.precheck.check_upload``, ``GET /api/v1/tus/{id}/check``'s ``suggestion``), and the
page has the texts for its hint in every language."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefkasten import i18n
from briefkasten.config import Settings
from briefkasten.gateway.tus_protocol import PREFIX
from briefkasten.pipeline.doctype_cues import TYPES
from briefkasten.pipeline.precheck import check_upload, precheck
from tests.support import factories
from tests.support.openapi import (  # noqa: F401 (fixture: every response checked)
    ConformingClient,
    aiohttp_client_cls,
)
from tests.unit import test_applicant_api as base
from tests.unit.test_applicant_api import SCAN, Page

# The fixtures of the applicant API tests: a gateway with a link's page.
make_page = base.make_page
page = base.page

PAYSLIP = (
    "Bäckerei Müller GmbH & Co. KG",
    "Entgeltabrechnung für März 2025",
    "Personalnummer 00412   Steuerklasse I   Steuer-ID 12 345 678 901",
    "Gesamtbrutto 1.820,00 EUR   Lohnsteuer 95,16 EUR",
    "Rentenversicherung 169,26 EUR   Arbeitslosenversicherung 23,66 EUR",
    "Nettoverdienst 1.402,11 EUR   Auszahlungsbetrag 1.402,11 EUR",
)


def test_a_born_digital_pay_slip_is_suggested(tmp_path: Path, settings: Settings) -> None:
    path = factories.born_digital_pdf(tmp_path / "slip.pdf", PAYSLIP)
    checked = check_upload(path, settings)
    assert (checked.media_type, checked.pages, checked.findings) == ("application/pdf", 1, ())
    assert checked.suggestion is not None
    assert checked.suggestion.type == "lohnabrechnung"
    assert checked.suggestion.confidence > 0.7
    assert "steuerklasse" in checked.suggestion.cues
    assert precheck(path, settings) == ("application/pdf", 1, ())  # the old answer stays


def test_a_photo_or_an_empty_pdf_gets_no_suggestion(tmp_path: Path, settings: Settings) -> None:
    assert check_upload(SCAN, settings).suggestion is None  # no OCR in the instant check
    empty = factories.born_digital_pdf(tmp_path / "empty.pdf", ("",))
    assert check_upload(empty, settings).suggestion is None
    few = factories.born_digital_pdf(tmp_path / "few.pdf", ("Seite 1",))
    assert check_upload(few, settings).suggestion is None


async def test_the_check_answers_the_suggestion_in_the_page_language(
    page: Page, tmp_path: Path
) -> None:
    data = factories.born_digital_pdf(tmp_path / "slip.pdf", PAYSLIP).read_bytes()
    upload = await page.upload(data, "abrechnung.pdf")
    answer = await (
        await page.client.get(f"{PREFIX}{upload}/check?lang=tr", headers=page.auth())
    ).json()
    assert answer["checked"] is True
    suggestion = answer["suggestion"]
    assert suggestion["type"] == "lohnabrechnung"
    assert 0.7 < suggestion["confidence"] <= 1.0
    assert suggestion["lang"] == "tr"
    assert suggestion["label"] == i18n.text("tr", "type.lohnabrechnung")
    assert (suggestion["label_de"], suggestion["label_en"]) == ("Lohnabrechnung", "Pay slip")
    assert "Bäckerei" not in str(suggestion) and "1.402" not in str(suggestion)  # cue names only
    by_header = await (
        await page.client.get(
            f"{PREFIX}{upload}/check", headers=page.auth(**{"Accept-Language": "uk,de;q=0.5"})
        )
    ).json()
    assert by_header["suggestion"]["label"] == i18n.text("uk", "type.lohnabrechnung")
    photo = await page.upload(SCAN.read_bytes(), "foto.png")
    plain = await (await page.client.get(f"{PREFIX}{photo}/check", headers=page.auth())).json()
    assert "suggestion" not in plain


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_type_has_a_hint_in_every_language(lang: str) -> None:
    for kind in TYPES:
        hint = i18n.text(lang, f"suggest.{kind}")
        assert hint and hint != f"suggest.{kind}"
    assert "{type}" not in i18n.text(lang, "page.suggest_change", type="X")
    assert i18n.text(lang, "page.suggest_keep")
    assert i18n.text("de", "suggest.lohnabrechnung") == (
        "Das sieht aus wie eine Lohnabrechnung. Stimmt der Typ?"
    )
