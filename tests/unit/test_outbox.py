"""The transactional outbox, its flusher, and the embedded job journal (no servers needed)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from briefkasten.broker.base import Job, OutboundMessage
from briefkasten.broker.local import LocalJobQueue, StubPublisher
from briefkasten.broker.outbox import Outbox, OutboxFlusher, flush
from briefkasten.cli.ops import outbox_list, outbox_replay, outbox_show
from briefkasten.errors import BrokerError, CorruptJob, NotFound, StorageError
from tests.support.env import wait_for


def message(n: int, key: str = "jc.kontoauszug") -> OutboundMessage:
    body = json.dumps({"message_id": f"m-{n:03d}", "n": n}).encode()
    return OutboundMessage(f"m-{n:03d}", key, body, {"schema_version": "1.0"})


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "outbox")


def test_add_is_durable_and_round_trips(outbox: Outbox) -> None:
    outbox.add(message(1))
    again = Outbox(outbox.directory)  # a restarted process sees the same
    entry = again.get("m-001")
    assert entry.state == "pending"
    assert entry.message == message(1)
    files = [p for p in outbox.directory.rglob("*") if p.is_file()]
    assert [p.name for p in files] == ["m-001.json"]  # no temp files left
    assert json.loads(files[0].read_text())["state"] == "pending"


def test_add_is_idempotent_by_message_id(outbox: Outbox) -> None:
    outbox.add(message(1))
    changed = OutboundMessage("m-001", "other.key", b'{"changed": true}', {})
    outbox.add(changed)
    outbox.mark_sent("m-001")
    outbox.add(message(1))  # even after it was sent: not queued again
    assert [e.message for e in outbox.list()] == [message(1)]
    assert outbox.pending() == []


def test_pending_keeps_order_and_limit(outbox: Outbox) -> None:
    for n in (3, 1, 2, 5, 4):
        outbox.add(message(n))
    assert [e.message.message_id for e in outbox.pending()] == [
        "m-003",
        "m-001",
        "m-002",
        "m-005",
        "m-004",
    ]
    assert len(outbox.pending(2)) == 2


def test_mark_sent_and_replay(outbox: Outbox) -> None:
    for n in range(3):
        outbox.add(message(n))
    outbox.mark_sent("m-000")
    assert outbox.get("m-000").state == "sent"
    assert outbox.get("m-000").sent_at is not None
    assert [e.message.message_id for e in outbox.list("sent")] == ["m-000"]
    outbox.replay("m-000")
    assert [e.message.message_id for e in outbox.pending()] == ["m-001", "m-002", "m-000"]
    outbox.mark_failed("m-001", "operator parked it")
    assert outbox.get("m-001").state == "failed"
    assert outbox.counts() == {"pending": 2, "sent": 0, "failed": 1}
    with pytest.raises(NotFound):
        outbox.get("nope")
    with pytest.raises(NotFound):
        outbox.replay("../../etc/passwd")


def test_crash_between_state_files_resolves_to_the_later_state(outbox: Outbox) -> None:
    outbox.add(message(1))
    pending_file = outbox.directory / "pending" / "m-001.json"
    saved = pending_file.read_bytes()
    outbox.mark_sent("m-001")
    pending_file.write_bytes(saved)  # as if the old file was not yet removed
    (outbox.directory / "pending" / ".m-002.json.1.2.tmp").write_bytes(b"{half")  # torn temp
    assert outbox.pending() == []
    assert outbox.get("m-001").state == "sent"
    assert [e.state for e in outbox.list()] == ["sent"]


def test_concurrent_adds_lose_nothing(outbox: Outbox) -> None:
    def add_range(start: int) -> None:
        for n in range(start, start + 40):
            outbox.add(message(n))
            outbox.add(message(n))

    threads = [threading.Thread(target=add_range, args=(s,)) for s in (0, 20, 40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(outbox.pending()) == 80


def test_flush_publishes_in_order_and_marks_sent(outbox: Outbox) -> None:
    for n in range(5):
        outbox.add(message(n))
    stub = StubPublisher()
    assert flush(outbox, stub, limit=3) == 3
    assert flush(outbox, stub) == 2
    assert stub.message_ids == [f"m-{n:03d}" for n in range(5)]
    assert outbox.pending() == []


def test_flush_stops_at_a_broker_failure_and_keeps_the_rest(outbox: Outbox) -> None:
    for n in range(3):
        outbox.add(message(n))
    stub = StubPublisher(fail_times=1)
    with pytest.raises(BrokerError):
        flush(outbox, stub)
    assert len(outbox.pending()) == 3
    assert outbox.get("m-000").attempts == 1
    assert outbox.get("m-000").last_error is not None
    assert flush(outbox, stub) == 3
    assert outbox.get("m-000").last_error is None


def test_an_unroutable_message_does_not_block_the_others(outbox: Outbox) -> None:
    outbox.add(message(0, "nobody.listens"))
    outbox.add(message(1))
    stub = StubPublisher()
    stub.unroutable.add("nobody.listens")
    assert flush(outbox, stub) == 1
    assert [e.message.message_id for e in outbox.pending()] == ["m-000"]
    assert "no queue bound" in (outbox.get("m-000").last_error or "")


def test_flusher_retries_with_backoff_until_delivered(outbox: Outbox) -> None:
    stub = StubPublisher(fail_times=4)
    flusher = OutboxFlusher(outbox, lambda: stub, interval=0.05, min_backoff=0.01, max_backoff=0.05)
    for n in range(10):
        outbox.add(message(n))
    flusher.start()
    try:
        wait_for(lambda: len(stub.published) == 10, "ten published messages", 10)
    finally:
        flusher.stop()
    assert stub.message_ids == [f"m-{n:03d}" for n in range(10)]
    assert stub.attempts == 14
    assert not flusher.running
    assert stub.closed  # the thread closes the publisher it owns
    assert outbox.pending() == []


def test_flusher_stop_returns_promptly_while_backing_off(outbox: Outbox) -> None:
    stub = StubPublisher(fail_times=1_000_000)
    flusher = OutboxFlusher(outbox, lambda: stub, min_backoff=600, max_backoff=600)
    outbox.add(message(1))
    flusher.start()
    wait_for(lambda: flusher.failures >= 1, "a failed flush", 10)
    flusher.stop(timeout=5)
    assert not flusher.running
    assert [e.message.message_id for e in outbox.pending()] == ["m-001"]


def test_flush_now_wakes_the_flusher(outbox: Outbox) -> None:
    stub = StubPublisher()
    flusher = OutboxFlusher(outbox, lambda: stub, interval=600).start()
    try:
        wait_for(lambda: stub.attempts == 0 and flusher.running, "the flusher to run", 10)
        outbox.add(message(7))
        flusher.flush_now()
        wait_for(lambda: stub.message_ids == ["m-007"], "m-007 published", 10)
    finally:
        flusher.stop()


def test_flusher_survives_a_failing_publisher_factory(outbox: Outbox) -> None:
    calls: list[int] = []
    stub = StubPublisher()

    def factory() -> StubPublisher:
        calls.append(1)
        if len(calls) < 3:
            raise BrokerError("cannot connect yet")
        return stub

    outbox.add(message(1))
    flusher = OutboxFlusher(outbox, factory, min_backoff=0.01, max_backoff=0.02).start()
    try:
        wait_for(lambda: stub.message_ids == ["m-001"], "m-001 published", 10)
    finally:
        flusher.stop()


def test_cli_helpers_return_printable_text(outbox: Outbox) -> None:
    outbox.add(message(1))
    outbox.add(message(2))
    outbox.mark_sent("m-001")
    lines = outbox_list(outbox)
    assert len(lines) == 2
    assert lines[0].startswith("m-001  sent")
    assert outbox_list(outbox, "pending")[0].startswith("m-002  pending")
    shown = json.loads(outbox_show(outbox, "m-001"))
    assert shown["body"] == {"message_id": "m-001", "n": 1}
    assert shown["headers"] == {"schema_version": "1.0"}
    assert outbox_replay(outbox, "m-001") == "m-001: sent -> pending"
    assert outbox.get("m-001").state == "pending"


# --- the embedded job journal -------------------------------------------------------------


def job(n: int, attempt: int = 0) -> Job:
    return Job(f"job{n}", f"sub{n}", "jc", attempt)


def test_job_round_trips_and_refuses_garbage() -> None:
    assert Job.from_bytes(job(1, 2).to_bytes()) == job(1, 2)
    with pytest.raises(CorruptJob):
        Job.from_bytes(b"{not json")
    with pytest.raises(CorruptJob) as corrupt:
        Job.from_bytes(b'{"job_id": "x"}')
    assert corrupt.value.code == "corrupt_job" and not corrupt.value.retry


def test_journal_claims_in_order_and_resumes_unfinished_jobs(tmp_path: Path) -> None:
    journal = LocalJobQueue(tmp_path / "journal")
    for n in range(3):
        journal.enqueue(job(n))
    first = journal.claim()
    second = journal.claim()
    assert (first, second) == (job(0), job(1))
    journal.done("job0")
    # the process dies with job1 claimed; a restart gets it back, before nothing is lost
    restarted = LocalJobQueue(tmp_path / "journal")
    assert [restarted.claim(), restarted.claim(), restarted.claim()] == [job(1), job(2), None]
    worker_view = LocalJobQueue(tmp_path / "journal", recover=False)
    assert worker_view.claim() is None


def test_journal_consume_retries_temporary_failures_then_dead_letters(tmp_path: Path) -> None:
    journal = LocalJobQueue(tmp_path / "journal", max_attempts=3)
    journal.enqueue(job(1))  # always fails temporarily
    journal.enqueue(job(2))  # fails permanently
    journal.enqueue(job(3))  # fails once, then works
    journal.enqueue(job(4))  # works
    seen: list[tuple[str, int]] = []

    def handler(j: Job) -> None:
        seen.append((j.job_id, j.attempt))
        if j.job_id == "job1" or (j.job_id == "job3" and j.attempt == 0):
            raise StorageError("storage away")
        if j.job_id == "job2":
            raise ValueError("broken manifest")

    handled = journal.consume(handler, idle_timeout=0.2, poll_interval=0.01)
    assert handled == 4
    assert [a for j, a in seen if j == "job1"] == [0, 1, 2]
    assert [a for j, a in seen if j == "job2"] == [0]
    assert [a for j, a in seen if j == "job3"] == [0, 1]
    dead = {j.job_id: reason for j, reason in journal.dead_jobs()}
    assert set(dead) == {"job1", "job2"}
    assert "gave up after 3 attempt(s)" in dead["job1"]
    assert "storage away" in dead["job1"]
    assert dead["job2"] == "ValueError: broken manifest"
    assert journal.pending_count() == 0
    assert list((tmp_path / "journal" / "claimed").iterdir()) == []


def test_journal_consume_stops_on_event(tmp_path: Path) -> None:
    journal = LocalJobQueue(tmp_path / "journal")
    stop = threading.Event()
    thread = threading.Thread(
        target=journal.consume, args=(lambda j: None,), kwargs={"stop_event": stop}
    )
    thread.start()
    journal.enqueue(job(1))
    wait_for(lambda: journal.pending_count() == 0, "an empty journal", 10)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
