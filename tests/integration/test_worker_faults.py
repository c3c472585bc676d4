"""A page process killed from outside (as the OOM killer would) is a retried attempt, and the
document is delivered; the worker itself carries on with later documents."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from briefkasten import contract
from briefkasten.broker import open_job_queue
from briefkasten.broker.local import LocalJobQueue
from briefkasten.broker.outbox import Outbox
from briefkasten.config import Settings
from briefkasten.storage import open_storage
from tests.integration.test_failures import (
    assert_pdfs_match,
    case_system,
    collect,
    distributed_settings,
    message_ids,
    queue_depth,
    status,
    workers_running,
)
from tests.integration.test_service import (
    run_worker,
    service_settings,
    small_page,
    status_of,
    upload,
)
from tests.support import hostile
from tests.support.gateway import GatewayClient
from tests.support.processes import sandbox_children

Client = TestClient[Any, Any]


class Killer(threading.Thread):
    """SIGKILLs the first sandbox child it sees (once), like the kernel's OOM killer."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.killed: list[int] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            for pid in sandbox_children():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                self.killed.append(pid)
                return


async def test_a_killed_page_process_is_retried_and_the_document_delivered(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    settings = service_settings(settings, tmp_path, retry_delay=0.0, max_attempts=3)
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir, max_attempts=3)
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    first = await upload(client, small_page("Seite eins"), small_page("Seite zwei"))
    second = await upload(client, small_page("Seite drei"))

    killer = Killer()
    killer.start()
    try:
        handled = await asyncio.to_thread(run_worker, settings, storage, 3.0)
    finally:
        killer.done.set()
        killer.join(10)
    assert killer.killed, "no page process was seen to kill"
    assert handled == 2

    for submission_id in (first, second):
        assert (await status_of(client, submission_id))["status"] == "delivered"
    messages = [json.loads(e.message.body) for e in Outbox(settings.broker.outbox_dir).pending()]
    assert len(messages) == 2
    for message in messages:
        contract.validate(message)
        (document,) = message["documents"]
        assert not document["normalisation_failed"], document
        assert document["pdf"] is not None
    assert LocalJobQueue(settings.broker.journal_dir).dead_jobs() == []


async def test_a_tiny_file_of_huge_pages_ends_within_the_cpu_budget_and_is_delivered(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    settings = service_settings(settings, tmp_path, retry_delay=0.0, max_attempts=3)
    settings = dataclasses.replace(
        settings, limits=dataclasses.replace(settings.limits, worker_cpu_s_min=4.0)
    )
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir, max_attempts=3)
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    pdf = hostile.pdf_huge_pages(tmp_path / "huge.pdf", pages=100)
    assert pdf.stat().st_size < 20_000  # 100 pages of 5 × 5 metres in a few KB
    submission_id = await upload(client, pdf.read_bytes())

    assert await asyncio.to_thread(run_worker, settings, storage, 3.0) == 1

    assert (await status_of(client, submission_id))["status"] == "delivered"
    (entry,) = Outbox(settings.broker.outbox_dir).pending()
    (document,) = json.loads(entry.message.body)["documents"]
    assert document["normalisation_failed"]
    assert "too_complex" in document["failure_reason"]
    assert "CPU" in document["failure_reason"]
    assert document["originals"][0]["sha256"]  # the original still reaches the case system


async def test_with_rabbitmq_and_s3_a_killed_page_process_is_retried_and_delivered_once(
    tmp_path: Path,
    settings: Settings,
    rabbit_url: str,
    s3_url: str,
    gateway_client: GatewayClient,
) -> None:
    settings = distributed_settings(
        settings, tmp_path, rabbit_url, s3_url, retry_delay=0.0, max_attempts=3
    )
    storage = open_storage(s3_url)
    subscriber = case_system(settings)
    jobs = open_job_queue(settings)
    killer = Killer()
    try:
        client = await gateway_client(settings, storage=storage, jobs=jobs)
        submission_id = await upload(client, small_page("Seite eins"), small_page("Seite zwei"))
        killer.start()
        with workers_running(settings, storage):
            expected = message_ids([submission_id])
            received = await asyncio.to_thread(collect, subscriber, expected)
    finally:
        killer.done.set()
        killer.join(10)
        jobs.close()
        subscriber.close()

    assert killer.killed, "no page process was seen to kill"
    assert [m.message_id for m in received] == [contract.message_id_for(submission_id)]
    (document,) = json.loads(received[0].body)["documents"]
    assert not document["normalisation_failed"], document
    assert status(storage, submission_id) == "delivered"
    assert_pdfs_match(storage, received)
    assert queue_depth(settings) == (0, 0)  # nothing dead-lettered, nothing left
