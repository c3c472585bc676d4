"""Understanding documents for real, through the gateway, the worker (Tesseract, the QR decoder)
and the message: one upload of a Kontoauszug, our separator sheet, a Mietvertrag, a blank page
and a Lohnabrechnung becomes one PDF per document, each with its type, where it came from and
the pages left out; a photographed letter with this case's link QR code is flagged
``contains_jobcenter_letter``, one with another case's code is not; a PDF unlocked at upload is
built from its decrypted copy, the locked original kept untouched."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import json
from pathlib import Path

import pytest
import segno
from aiohttp import FormData
from PIL import Image
from pypdf import PdfReader

from briefkasten import contract, links, service
from briefkasten.broker.local import LocalJobQueue
from briefkasten.broker.outbox import Outbox
from briefkasten.config import Settings
from briefkasten.intake import load_submission
from briefkasten.pipeline.codes import separator_payload
from briefkasten.service import Services, build_and_store
from briefkasten.storage import open_storage
from tests.integration.test_service import (
    AUTH,
    CASE,
    run_worker,
    service_settings,
    status_of,
    upload,
)
from tests.support import factories
from tests.support.gateway import GatewayClient

KONTOAUSZUG = (
    "Sparkasse Musterstadt  Kontoauszug Nr. 7",
    "IBAN DE89 3704 0044 0532 0130 00",
    "Buchungstag  Wertstellung  Verwendungszweck",
    "02.11.2026  02.11.2026  Miete November  -450,00",
    "Alter Saldo 1.234,56 EUR   Neuer Saldo 784,56 EUR",
)
MIETVERTRAG = (
    "Mietvertrag über Wohnraum",
    "zwischen dem Vermieter Herrn Karl Schmidt",
    "und dem Mieter Frau Anna Müller",
    "Die Kaltmiete beträgt monatlich 450,00 EUR",
    "Nebenkosten Vorauszahlung 120,00 EUR",
)
LOHNABRECHNUNG = (
    "Entgeltabrechnung für November 2026",
    "Steuerklasse 1   Krankenversicherung AOK",
    "Bruttolohn 2.100,00 EUR",
    "Lohnsteuer 180,00   Solidaritätszuschlag 0,00",
    "Nettolohn 1.520,00 EUR   Auszahlungsbetrag 1.520,00",
)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(150, 150))
    return buffer.getvalue()


def with_code(lines: tuple[str, ...], payload: str, at: tuple[int, int] = (320, 500)) -> bytes:
    page = factories.text_page(lines, font_size=40)
    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=7, border=4)
    page.paste(Image.open(buffer).convert("RGB"), at)
    return png(page)


def separator_sheet() -> bytes:
    payload = separator_payload("jc-test", "0123456789abcdef0123456789abcdef")
    return with_code(("Trennblatt", "Briefkasten"), payload)


async def test_one_upload_becomes_one_pdf_per_document(
    tmp_path: Path,
    settings: Settings,
    gateway_client: GatewayClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = service_settings(settings, tmp_path)
    settings = dataclasses.replace(
        settings, pipeline=dataclasses.replace(settings.pipeline, name="default")
    )
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir, max_attempts=3)
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    pages = [
        png(factories.text_page(KONTOAUSZUG)),
        separator_sheet(),
        png(factories.text_page(MIETVERTRAG)),
        png(Image.new("RGB", (1240, 1754), "white")),
        png(factories.text_page(LOHNABRECHNUNG)),
    ]
    # the applicant chose Mietvertrag for the whole upload
    submission_id = await upload(client, *pages, document_type="mietvertrag")
    assert await asyncio.to_thread(run_worker, settings, storage) == 1

    (entry,) = Outbox(settings.broker.outbox_dir).pending()
    message = json.loads(entry.message.body)
    contract.validate(message)
    documents = message["documents"]
    assert [d["document_type"] for d in documents] == [
        "kontoauszug",
        "mietvertrag",  # the applicant's type goes to the part that looks like it
        "lohnabrechnung",
    ]
    assert [d["suggested_type"] for d in documents] == [
        "kontoauszug",
        "mietvertrag",
        "lohnabrechnung",
    ]
    uploaded = documents[0]["split_from"]["document_id"]
    assert [d["document_id"] for d in documents] == [f"{uploaded}-{n}" for n in (1, 2, 3)]
    assert [d["split_from"]["pages"] for d in documents] == [[1], [3], [5]]
    assert {d["split_from"]["parts"] for d in documents} == {3}
    assert all(d["pages"] == 1 and not d["normalisation_failed"] for d in documents)
    texts = [storage.get_bytes(d["text"]["key"]).decode() for d in documents]
    assert "Saldo" in texts[0] and "Kaltmiete" in texts[1] and "Steuerklasse" in texts[2]
    assert not any("Trennblatt" in t for t in texts)  # the separator sheet is left out
    for document in documents:
        pdf = PdfReader(io.BytesIO(storage.get_bytes(document["pdf"]["key"])))
        assert len(pdf.pages) == 1
        # each part names only the original its page came from
        assert len(document["originals"]) == 1
    report = json.loads(
        storage.get_bytes(documents[1]["pdf"]["key"].removesuffix(".pdf") + ".report.json")
    )
    assert report["document"]["split_from"]["began_with"] == "separator_sheet"
    assert report["document"]["left_out"] == [2, 4]

    # a retried job takes the stored outcome record: the same parts, nothing built again
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("built again")

    monkeypatch.setattr(service, "build_pages", never)
    submission = load_submission(storage, "jc-test", submission_id)
    services = Services(settings, storage, Outbox(settings.broker.outbox_dir), None)
    again = build_and_store(submission.documents[0], submission, services, final_attempt=True)
    assert [o.document.document_id for o in again] == [d["document_id"] for d in documents]
    assert [o.pdf.sha256 for o in again if o.pdf] == [d["pdf"]["sha256"] for d in documents]

    status = await status_of(client, submission_id)
    (document_status,) = status["documents"]
    assert document_status["document_id"] == uploaded
    assert [p["document_type"] for p in document_status["parts"]] == [
        "kontoauszug",
        "mietvertrag",
        "lohnabrechnung",
    ]


PDF = "application/pdf"
LETTER = (
    "Jobcenter Musterstadt",
    "Ihr Antrag auf Bürgergeld",
    "Bitte reichen Sie die Kontoauszüge",
    "der letzten drei Monate ein.",
)


async def test_the_letter_of_this_case_is_flagged_and_another_cases_is_not(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    settings = service_settings(settings, tmp_path)
    settings = dataclasses.replace(
        settings,
        pipeline=dataclasses.replace(settings.pipeline, name="default"),
        links=dataclasses.replace(
            settings.links, secret="s" * 40, public_base_url="https://briefkasten.example/"
        ),
    )
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir, max_attempts=3)
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    _, ours = links.create_link(settings, storage, "jc-test", CASE)
    _, theirs = links.create_link(settings, storage, "jc-test", "54321BG0054321")
    letter = with_code(LETTER, links.link_url(settings.links, ours), at=(640, 1150))
    foreign = with_code(LETTER, links.link_url(settings.links, theirs), at=(640, 1150))
    await upload(client, letter, document_type="sonstiges")
    await upload(client, foreign, document_type="sonstiges")
    assert await asyncio.to_thread(run_worker, settings, storage) == 2

    flags = {}
    for entry in Outbox(settings.broker.outbox_dir).pending():
        message = json.loads(entry.message.body)
        contract.validate(message)
        (document,) = message["documents"]
        assert message["case_number"] == CASE  # a code never changes the case
        flags[message["submission_id"]] = document["contains_jobcenter_letter"]
    assert sorted(flags.values()) == [False, True]
    assert ours not in json.dumps(flags)  # the token itself is in no message


async def test_an_unlocked_pdf_is_built_from_its_decrypted_copy(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    settings = service_settings(settings, tmp_path)
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir, max_attempts=3)
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    locked = factories.locked_pdf(tmp_path / "locked.pdf", "Lohn-2026!", LOHNABRECHNUNG)
    form = FormData()
    form.add_field("case_number", CASE)
    form.add_field("document_type", "lohnabrechnung")
    form.add_field("password", "Lohn-2026!")
    form.add_field("file", locked.read_bytes(), filename="lohn.pdf", content_type=PDF)
    response = await client.post("/api/v1/submissions", data=form, headers=AUTH)
    assert response.status == 202, await response.text()
    assert await asyncio.to_thread(run_worker, settings, storage) == 1

    (entry,) = Outbox(settings.broker.outbox_dir).pending()
    message = json.loads(entry.message.body)
    (document,) = message["documents"]
    assert not document["normalisation_failed"], document["failure_reason"]
    (original,) = document["originals"]
    assert original["password_protected"] is True
    assert storage.get_bytes(original["key"]) == locked.read_bytes()  # untouched
    decrypted = storage.get_bytes(original["decrypted"]["key"])
    assert hashlib.sha256(decrypted).hexdigest() == original["decrypted"]["sha256"]
    text = storage.get_bytes(document["text"]["key"]).decode()
    assert "Steuerklasse" in text and "Bruttolohn" in text
    assert document["suggested_type"] == "lohnabrechnung"
    assert b"Lohn-2026!" not in entry.message.body
