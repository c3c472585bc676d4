"""``GET /api/v1/submissions/{id}/receipt.pdf?lang=``: every applicant language, German for
anything else."""

from __future__ import annotations

import pytest

from briefkasten import i18n
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)
from tests.support.receipts import text_of
from tests.unit.test_applicant_api import SCAN, Page, make_page, page  # noqa: F401 (fixtures)


async def receipt_text(page: Page, query: str) -> str:  # noqa: F811
    upload = await page.upload(SCAN.read_bytes())
    sent = await page.submit([{"document_type": "kontoauszug", "uploads": [upload]}])
    assert sent.status == 202, await sent.text()
    url = (await sent.json())["receipt_pdf_url"]
    response = await page.client.get(url + query, headers=page.auth())
    assert response.status == 200
    assert response.content_type == "application/pdf"
    return text_of(await response.read())


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
async def test_the_receipt_comes_in_every_language(page: Page, lang: str) -> None:  # noqa: F811
    text = await receipt_text(page, f"?lang={lang}")
    assert i18n.text(lang, "receipt.title") in text
    assert "12345BG•••2345" in text  # a link holder's receipt: the case number masked


@pytest.mark.parametrize("query", ["?lang=xx", "?lang=", "?lang=EN", "?lang=%E2%80%AE", ""])
async def test_an_unknown_or_missing_language_is_german(page: Page, query: str) -> None:  # noqa: F811
    text = await receipt_text(page, query)
    assert i18n.text("de", "receipt.title") in text
    assert "Receipt" not in text
