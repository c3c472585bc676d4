"""The whole service: gateway → storage → job → worker → outbox/RabbitMQ → reference consumer.

Embedded mode on local files; distributed mode against the real RabbitMQ (a vhost of this run's
own) and a real S3 server (SeaweedFS).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from briefkasten.broker.local import LocalJobQueue
from briefkasten.broker.outbox import Outbox
from briefkasten.config import Settings
from briefkasten.gateway import create_app
from briefkasten.storage import open_storage
from tests.integration.test_service import (
    Client,
    run_worker,
    service_settings,
    small_page,
    status_of,
    upload,
)


async def test_a_document_that_cannot_be_normalised_is_still_delivered(
    tmp_path: Path,
    settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
) -> None:
    settings = service_settings(settings, tmp_path)
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir, max_attempts=3)
    client = await aiohttp_client(create_app(settings, storage=storage, jobs=jobs))
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
