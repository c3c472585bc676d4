"""The whole service: gateway → storage → job → worker → outbox/RabbitMQ → reference consumer.

Embedded mode on local files; distributed mode against the real RabbitMQ (a vhost of this run's
own) and a real S3 server (SeaweedFS).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import json
import threading
from pathlib import Path
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from pypdf import PdfReader

from briefkasten import contract
from briefkasten.broker import open_job_queue
from briefkasten.broker.local import LocalJobQueue
from briefkasten.broker.outbox import Outbox
from briefkasten.broker.rabbitmq import RabbitJobQueue
from briefkasten.broker.subscriber import RabbitSubscriber, ReceivedMessage
from briefkasten.cli.consume import save_message
from briefkasten.config import Settings
from briefkasten.storage import layout, open_storage
from briefkasten.storage.base import Storage
from briefkasten.worker import Worker
from tests.support import factories
from tests.support.gateway import GatewayClient
from tests.support.rabbit import unique

CASE = "12345BG0012345"
KEY = "svc-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
Client = TestClient[Any, Any]


def small_page(text: str) -> bytes:
    buffer = io.BytesIO()
    factories.text_page((text, "Übersicht der Gebühren"), size=(900, 500), font_size=30).save(
        buffer, format="PNG", dpi=(150, 150)
    )
    return buffer.getvalue()


def service_settings(settings: Settings, tmp_path: Path, **broker: Any) -> Settings:
    return dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway, api_keys=f"jc-test:{KEY}", spool_dir=tmp_path / "spool"
        ),
        pipeline=dataclasses.replace(settings.pipeline, name="ocr-only", workers=1),
        broker=dataclasses.replace(
            settings.broker,
            outbox_dir=tmp_path / "outbox",
            journal_dir=tmp_path / "journal",
            **broker,
        ),
    )


async def upload(client: Client, *pages: bytes, document_type: str = "kontoauszug") -> str:
    form = FormData()
    form.add_field("case_number", CASE)
    form.add_field("document_type", document_type)
    for number, page in enumerate(pages):
        form.add_field("file", page, filename=f"seite{number}.png")
    response = await client.post("/api/v1/submissions", data=form, headers=AUTH)
    assert response.status == 202, await response.text()
    submission_id: str = (await response.json())["submission_id"]
    return submission_id


async def status_of(client: Client, submission_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/submissions/{submission_id}", headers=AUTH)
    assert response.status == 200
    data: dict[str, Any] = await response.json()
    return data


def run_worker(settings: Settings, storage: Storage, idle: float = 2.0) -> int:
    return Worker(settings, storage, open_job_queue(settings), threading.Event()).run(
        idle_timeout=idle
    )


async def test_embedded_mode_delivers_into_the_outbox(
    tmp_path: Path,
    settings: Settings,
    gateway_client: GatewayClient,
) -> None:
    settings = service_settings(settings, tmp_path)
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir, max_attempts=3)
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    submission_id = await upload(client, small_page("Seite eins"), small_page("Seite zwei"))
    assert (await status_of(client, submission_id))["status"] == "received"

    handled = await asyncio.to_thread(run_worker, settings, storage)
    assert handled == 1

    status = await status_of(client, submission_id)
    assert status["status"] == "delivered"
    assert status["documents"][0]["status"] == "delivered"
    (entry,) = Outbox(settings.broker.outbox_dir).pending()  # no broker: the outbox is the sink
    message = json.loads(entry.message.body)
    contract.validate(message)
    assert message["message_id"] == contract.message_id_for(submission_id)
    assert entry.message.routing_key == "jc-test.kontoauszug"
    document = message["documents"][0]
    assert document["pages"] == 2 and not document["normalisation_failed"]
    pdf = storage.get_bytes(document["pdf"]["key"])
    assert hashlib.sha256(pdf).hexdigest() == document["pdf"]["sha256"]
    text = storage.get_bytes(document["text"]["key"]).decode()
    assert "eins" in text and "zwei" in text
    assert "Seite" not in json.dumps(message)  # no content inline (file names are "seiteN")


async def test_a_document_that_cannot_be_normalised_is_still_delivered(
    tmp_path: Path,
    settings: Settings,
    gateway_client: GatewayClient,
) -> None:
    settings = service_settings(settings, tmp_path)
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir, max_attempts=3)
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    submission_id = await upload(client, small_page("kaputt"))
    (original,) = [k for k in storage.list("") if "/originals/" in k]
    storage.put_bytes(original, b"\x89PNG\r\n\x1a\n broken", content_type="image/png")

    await asyncio.to_thread(run_worker, settings, storage)

    status = await status_of(client, submission_id)
    assert status["documents"][0]["status"] == "normalisation_failed"
    assert "corrupt" in status["documents"][0]["reason"]
    (entry,) = Outbox(settings.broker.outbox_dir).pending()
    document = json.loads(entry.message.body)["documents"][0]
    assert document["normalisation_failed"] and document["pdf"] is None
    assert document["originals"][0]["key"] == original
    assert "corrupt" in document["failure_reason"]


async def test_distributed_mode_end_to_end_with_rabbitmq_and_s3(
    tmp_path: Path,
    settings: Settings,
    rabbit_url: str,
    s3_url: str,
    gateway_client: GatewayClient,
) -> None:
    settings = service_settings(
        settings,
        tmp_path,
        amqp_url=rabbit_url,
        exchange=unique("documents"),
        work_queue=unique("jobs"),
    )
    settings = dataclasses.replace(
        settings, storage=dataclasses.replace(settings.storage, url=s3_url)
    )
    storage = open_storage(s3_url)
    subscriber = RabbitSubscriber(
        rabbit_url, settings.broker.exchange, unique("case-system"), bindings=("jc-test.#",)
    )
    subscriber.declare()  # the case system binds its queue before anything is published
    jobs = open_job_queue(settings)
    assert isinstance(jobs, RabbitJobQueue)
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    pages = [small_page(f"Blatt {n}") for n in range(3)]
    submission_ids = [await upload(client, page) for page in pages]

    handled = await asyncio.to_thread(run_worker, settings, storage, 3.0)
    assert handled == 3

    received: list[ReceivedMessage] = []

    def save(message: ReceivedMessage) -> None:
        save_message(message, storage, tmp_path / "case-system")
        received.append(message)

    count = await asyncio.to_thread(subscriber.consume, save, idle_timeout=3.0, max_messages=3)
    subscriber.close()
    jobs.close()
    assert count == 3
    assert {m.message_id for m in received} == {contract.message_id_for(s) for s in submission_ids}
    assert all(m.headers.get("schema_version") == contract.SCHEMA_VERSION for m in received)
    saved = sorted((tmp_path / "case-system").rglob("*.pdf"))
    assert len(saved) == 3
    for submission_id in submission_ids:
        folder = tmp_path / "case-system" / "jc-test" / CASE / submission_id
        message = json.loads((folder / "message.json").read_bytes())
        pdf_entry = message["documents"][0]["pdf"]
        (pdf,) = folder.glob("*.pdf")
        assert hashlib.sha256(pdf.read_bytes()).hexdigest() == pdf_entry["sha256"]
        assert (await status_of(client, submission_id))["status"] == "delivered"
    assert Outbox(settings.broker.outbox_dir).pending() == []


async def test_processing_errors_are_retried_then_delivered_as_failed(
    tmp_path: Path,
    settings: Settings,
    gateway_client: GatewayClient,
) -> None:
    broken = tmp_path / "pipelines"
    broken.mkdir()
    (broken / "ocr-only.toml").write_text('[[steps]]\nuse = "ocr"\npsm = 99\n')  # tesseract fails
    settings = service_settings(settings, tmp_path, max_attempts=2, retry_delay=0.0)
    settings = dataclasses.replace(
        settings, pipeline=dataclasses.replace(settings.pipeline, directory=broken)
    )
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir, max_attempts=2)
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    submission_id = await upload(client, small_page("Seite"))

    handled = await asyncio.to_thread(run_worker, settings, storage)

    assert handled == 1  # attempt 0 failed and was retried; attempt 1 delivered
    assert jobs.dead_jobs() == []
    status = await status_of(client, submission_id)
    assert status["status"] == "delivered"
    assert status["documents"][0]["status"] == "normalisation_failed"
    assert "tool_failed" in status["documents"][0]["reason"]
    (entry,) = Outbox(settings.broker.outbox_dir).pending()
    assert json.loads(entry.message.body)["documents"][0]["normalisation_failed"] is True


async def test_the_report_and_the_pdf_name_the_originals_as_sent(
    tmp_path: Path,
    settings: Settings,
    gateway_client: GatewayClient,
) -> None:
    settings = service_settings(settings, tmp_path)
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir, max_attempts=3)
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    pages = [small_page("Seite eins"), small_page("Seite zwei")]
    form = FormData()
    form.add_field("case_number", CASE)
    form.add_field("document_type", "kontoauszug")
    for page in pages:
        form.add_field("file", page, filename="Kontoauszug-Maerz.png")
    response = await client.post("/api/v1/submissions", data=form, headers=AUTH)
    assert response.status == 202, await response.text()
    submission_id = (await response.json())["submission_id"]

    await asyncio.to_thread(run_worker, settings, storage)

    # The receipt's data: the manifest names each original with the SHA-256 of the sent bytes.
    manifest = json.loads(storage.get_bytes(layout.manifest_key("jc-test", submission_id)))
    (received,) = manifest["documents"]
    in_manifest = [(f["name"], f["sha256"]) for f in received["files"]]
    assert in_manifest == [
        ("Kontoauszug-Maerz.png", hashlib.sha256(page).hexdigest()) for page in pages
    ]
    # The message, the report and the PDF's metadata carry exactly that.
    (entry,) = Outbox(settings.broker.outbox_dir).pending()
    (document,) = json.loads(entry.message.body)["documents"]
    sent = [(o["name"], o["sha256"]) for o in document["originals"]]
    assert sent == in_manifest
    report_key = document["pdf"]["key"].removesuffix(".pdf") + ".report.json"
    report = json.loads(storage.get_bytes(report_key))
    assert [(o["name"], o["sha256"]) for o in report["originals"]] == sent
    info = PdfReader(io.BytesIO(storage.get_bytes(document["pdf"]["key"]))).metadata
    assert info is not None
    in_pdf = json.loads(str(info["/BriefkastenOriginals"]))
    assert [(o["name"], o["sha256"]) for o in in_pdf] == sent
