"""Failure tests against the real servers: load, a RabbitMQ outage, a killed worker, S3 away.

Each test wires the service as ``test_service`` does (the gateway through ``aiohttp_client``,
SeaweedFS for storage, RabbitMQ for jobs and messages), with exchange and queues of its own in
this run's vhost. A case system's queue is declared before anything is published, and the
tests then collect from it until every expected ``message_id`` has arrived, within a deadline.
Every wait is bounded; workers, subprocesses and stopped servers are cleaned up in ``finally``.

The e2e tier's part (processes: serve, worker, the CLI, the browser); the other parts:
``tests/integration/test_failures.py``.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from briefkasten.broker import open_job_queue
from briefkasten.config import Settings
from briefkasten.storage import open_storage
from tests.integration.test_failures import (
    DEADLINE,
    assert_pdfs_match,
    case_system,
    collect,
    distributed_settings,
    message_ids,
    queue_depth,
    status,
    wait_for,
)
from tests.integration.test_service import upload
from tests.support import factories
from tests.support.gateway import GatewayClient
from tests.support.servers import stop_group


def worker_process(settings: Settings, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """``briefkasten worker`` configured only through environment variables."""
    broker = settings.broker
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")}
    env |= {
        "BRIEFKASTEN_AMQP_URL": broker.amqp_url,
        "BRIEFKASTEN_STORAGE": settings.storage.url,
        "BRIEFKASTEN_BROKER_EXCHANGE": broker.exchange,
        "BRIEFKASTEN_BROKER_WORK_QUEUE": broker.work_queue,
        "BRIEFKASTEN_BROKER_OUTBOX_DIR": str(cwd / "outbox"),
        "BRIEFKASTEN_BROKER_MAX_ATTEMPTS": "3",
        "BRIEFKASTEN_PIPELINE_NAME": "ocr-only",
        "BRIEFKASTEN_PIPELINE_WORKERS": "1",
    }
    cwd.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "briefkasten", "worker", "--idle-timeout", "600"],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its page processes too: killpg takes the whole worker
        )


def kill(process: subprocess.Popen[bytes], signum: int = signal.SIGKILL) -> None:
    stop_group(process, kill=signum == signal.SIGKILL, timeout=30)


def full_page(number: int) -> bytes:
    """A whole A4 page of text: slow enough that a job of several takes seconds."""
    lines = tuple(f"Zeile {n} auf Seite {number}: Miete, Nebenkosten, Heizung" for n in range(18))
    buffer = io.BytesIO()
    factories.text_page(lines, font_size=28).save(buffer, format="PNG", dpi=(150, 150))
    return buffer.getvalue()


async def test_a_job_of_a_killed_worker_is_finished_by_another(
    tmp_path: Path,
    settings: Settings,
    rabbit_url: str,
    s3_url: str,
    gateway_client: GatewayClient,
) -> None:
    settings = distributed_settings(settings, tmp_path, rabbit_url, s3_url)
    storage = open_storage(s3_url)
    subscriber = case_system(settings)
    jobs = open_job_queue(settings)
    try:
        client = await gateway_client(settings, storage=storage, jobs=jobs)
        submission_id = await upload(client, *(full_page(n) for n in range(8)))
    finally:
        jobs.close()
    log = tmp_path / "workers.log"
    first = second = None
    try:
        first = worker_process(settings, tmp_path / "first", log)
        await asyncio.to_thread(
            wait_for,
            lambda: status(storage, submission_id) == "processing",
            "the first worker",
            DEADLINE,
        )
        kill(first)  # SIGKILL mid-job: no ack, no cleanup
        assert status(storage, submission_id) == "processing", log.read_text()[-3000:]
        assert not list((tmp_path / "first" / "outbox").rglob("*.json"))  # it never finished

        second = worker_process(settings, tmp_path / "second", log)
        received = await asyncio.to_thread(collect, subscriber, message_ids([submission_id]))
    finally:
        for process in (first, second):
            if process is not None:
                kill(process, signal.SIGTERM)
        subscriber.close()

    assert {m.message_id for m in received} == message_ids([submission_id]), log.read_text()[-3000:]
    assert status(storage, submission_id) == "delivered"
    assert queue_depth(settings) == (0, 0)
    assert_pdfs_match(storage, received)
    (message,) = {m.message_id: json.loads(m.body) for m in received}.values()
    assert message["documents"][0]["pages"] == 8
