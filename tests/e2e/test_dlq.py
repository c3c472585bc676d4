"""``briefkasten dlq list|retry|purge`` on really dead-lettered jobs: RabbitMQ and the journal.

The e2e tier's part (processes: serve, worker, the CLI, the browser); the other parts:
``tests/integration/test_dlq.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from briefkasten.broker.base import Job
from briefkasten.broker.dead_letters import LocalDeadLetters
from briefkasten.broker.local import LocalJobQueue
from briefkasten.broker.rabbitmq import RabbitJobQueue
from tests.conftest import CliResult
from tests.support.rabbit import unique

Cli = Callable[..., CliResult]


def always_broken(job: Job) -> None:
    raise ValueError("manifest is broken")


def dead_lettered(url: str, queue: str, *job_ids: str, waiting: int = 0) -> RabbitJobQueue:
    """A work queue whose jobs ``job_ids`` (and ``waiting`` ones already queued) failed for
    good: dead-lettered by a real consume."""
    jobs = RabbitJobQueue(url, queue, max_attempts=2)
    for job_id in job_ids:
        jobs.enqueue(Job(job_id, f"sub{job_id}", "jc-test", 0))
    handled = jobs.consume(always_broken, idle_timeout=0.5, reconnect=False)
    assert handled == len(job_ids) + waiting
    return jobs


def env_for(**values: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")}
    return {**clean, **values}


def test_dlq_cli_on_rabbitmq(rabbit_url: str, cli: Cli) -> None:
    queue = unique("jobs")
    dead_lettered(rabbit_url, queue, "clijob").close()
    env = env_for(BRIEFKASTEN_AMQP_URL=rabbit_url, BRIEFKASTEN_BROKER_WORK_QUEUE=queue)

    listing = cli("dlq", "list", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    assert rows == [
        {
            "job_id": "clijob",
            "submission_id": "subclijob",
            "tenant": "jc-test",
            "attempts": 1,
            "reason": "ValueError: manifest is broken",
        }
    ]
    refused = cli("dlq", "purge", env=env)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert "clijob" in cli("dlq", "list", env=env).stdout
    retried = cli("dlq", "retry", env=env)
    assert retried.returncode == 0 and "clijob" in retried.stdout
    assert cli("dlq", "list", env=env).stdout == ""
    dead_lettered(rabbit_url, queue, waiting=1).close()  # the retried job fails again
    purged = cli("dlq", "purge", "--yes", env=env)
    assert purged.returncode == 0 and "clijob" in purged.stdout
    assert cli("dlq", "list", env=env).stdout == ""


def test_dlq_cli_without_a_broker_exits_5(cli: Cli) -> None:
    env = env_for(BRIEFKASTEN_AMQP_URL="amqp://guest:guest@127.0.0.1:1/")
    result = cli("dlq", "list", env=env)
    assert result.returncode == 5
    assert "broker_unavailable" in result.stderr


def test_dlq_on_the_embedded_journal(tmp_path: Path, cli: Cli) -> None:
    journal = tmp_path / "journal"
    queue = LocalJobQueue(journal, max_attempts=1)
    for job_id in ("loc1", "loc2"):
        queue.enqueue(Job(job_id, f"sub{job_id}", "jc-test", 0))
    assert queue.consume(always_broken, idle_timeout=0.2, poll_interval=0.05) == 2
    letters = LocalDeadLetters(journal)
    assert [(j.job_id, j.attempts) for j in letters.list()] == [("loc1", 1), ("loc2", 1)]
    assert letters.list()[0].reason == "ValueError: manifest is broken"

    env = env_for(BRIEFKASTEN_BROKER_JOURNAL_DIR=str(journal))
    listing = cli("dlq", "list", env=env)
    assert listing.returncode == 0 and "loc1  subloc1  jc-test  attempts 1" in listing.stdout
    assert cli("dlq", "retry", "loc1", env=env).returncode == 0
    assert queue.pending_count() == 1
    assert queue.claim() == Job("loc1", "subloc1", "jc-test", 0)
    assert cli("dlq", "purge", "--yes", env=env).returncode == 0
    assert letters.list() == []
    assert LocalDeadLetters(tmp_path / "nothing-here").list() == []  # no journal: nothing dead
