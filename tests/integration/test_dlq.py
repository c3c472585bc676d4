"""``briefkasten dlq list|retry|purge`` on really dead-lettered jobs: RabbitMQ and the journal.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/e2e/test_dlq.py``.
"""

from __future__ import annotations

from briefkasten.broker.base import Job
from briefkasten.broker.dead_letters import RabbitDeadLetters
from tests.e2e.test_dlq import (
    dead_lettered,
)
from tests.support.rabbit import unique


def test_list_retry_purge_on_rabbitmq(rabbit_url: str) -> None:
    queue = unique("jobs")
    jobs = dead_lettered(rabbit_url, queue, "job1", "job2", "job3")
    letters = RabbitDeadLetters(rabbit_url, queue)
    try:
        listed = letters.list()
        assert [j.job_id for j in listed] == ["job1", "job2", "job3"]
        first = listed[0]
        assert (first.submission_id, first.tenant, first.attempts) == ("subjob1", "jc-test", 1)
        assert first.reason == "ValueError: manifest is broken"
        assert "job1  subjob1  jc-test  attempts 1  ValueError" in first.line()
        assert [j.job_id for j in letters.list()] == ["job1", "job2", "job3"]  # listing keeps them
        assert jobs.depth() == (0, 3)

        moved = letters.retry(["job2"])
        assert [j.job_id for j in moved] == ["job2"]
        assert jobs.depth() == (1, 2)
        seen: list[Job] = []
        jobs.consume(seen.append, idle_timeout=0.5, reconnect=False)
        assert seen == [Job("job2", "subjob2", "jc-test", 0)]  # a fresh attempt count

        assert [j.job_id for j in letters.purge(["job1"])] == ["job1"]
        assert [j.job_id for j in letters.list()] == ["job3"]
        assert [j.job_id for j in letters.purge()] == ["job3"]
        assert jobs.depth() == (0, 0)
    finally:
        letters.close()
        jobs.close()
