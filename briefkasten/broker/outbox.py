"""The transactional outbox: every message is written durably first, then published, then
marked sent; a background flusher retries with backoff while RabbitMQ is away.

Layout: one JSON file per message under ``<dir>/pending``, ``<dir>/sent`` or ``<dir>/failed``.
Files are written atomically (temp file, fsync, rename, fsync of the directory), so a crash
leaves either the old or the new state, never half a file. A state change writes the new file
before removing the old one; if both survive a crash, the later state wins. Delivery is
at-least-once: consumers deduplicate by ``message_id``.

Written by hand because it is small and has to match our file layout; a database (SQLite)
would do the same job with more moving parts for operators.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from briefkasten.broker.base import OutboundMessage, Publisher
from briefkasten.errors import BrokerError, MessageUnroutable, NotFound
from briefkasten.storage import durable

log = logging.getLogger("briefkasten.outbox")

State = Literal["pending", "sent", "failed"]
STATES: tuple[State, ...] = ("pending", "sent", "failed")
_LATER_FIRST: tuple[State, ...] = ("sent", "failed", "pending")


@dataclass(frozen=True)
class OutboxEntry:
    """A message in the outbox with its delivery state."""

    message: OutboundMessage
    state: State
    seq: int
    created_at: str
    sent_at: str | None = None
    attempts: int = 0
    last_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.message.to_json(),
            "state": self.state,
            "seq": self.seq,
            "created_at": self.created_at,
            "sent_at": self.sent_at,
            "attempts": self.attempts,
            "last_error": self.last_error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutboxEntry:
        return cls(
            message=OutboundMessage.from_json(data),
            state=data["state"],
            seq=int(data["seq"]),
            created_at=data["created_at"],
            sent_at=data.get("sent_at"),
            attempts=int(data.get("attempts", 0)),
            last_error=data.get("last_error"),
        )

    def evolve(self, **changes: Any) -> OutboxEntry:
        return OutboxEntry(**{**self.__dict__, **changes})


#: (``Outbox.list`` shadows the builtin inside the class body.)
Entries = list[OutboxEntry]


class Outbox:
    """A durable directory of messages. Safe for several threads and processes to share."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        try:
            for state in STATES:
                (self.directory / state).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BrokerError(f"cannot create outbox at {self.directory}: {exc}") from exc

    def add(self, message: OutboundMessage) -> None:
        """Record ``message`` as pending; a message id already in the outbox is kept as it is."""
        if self._find(message.message_id) is not None:
            return
        entry = OutboxEntry(message, "pending", time.time_ns(), _now())
        write_atomic(self._path("pending", message.message_id), _encode(entry), exclusive=True)

    def pending(self, limit: int | None = None) -> Entries:
        """Pending messages, oldest first."""
        entries = [e for e in self._read_state("pending") if not self._superseded(e)]
        return entries[:limit] if limit is not None else entries

    def get(self, message_id: str) -> OutboxEntry:
        found = self._find(message_id)
        if found is None:
            raise NotFound(f"no message {message_id} in the outbox", source="outbox")
        return found

    def list(self, state: State | None = None) -> Entries:
        """Messages in ``state`` (or all), oldest first."""
        states = STATES if state is None else (state,)
        entries = [e for s in states for e in self._read_state(s) if not self._superseded(e)]
        return sorted(entries, key=lambda e: e.seq)

    def mark_sent(self, message_id: str) -> None:
        self._move(self.get(message_id), "sent", sent_at=_now(), last_error=None)

    def mark_failed(self, message_id: str, reason: str) -> None:
        """Park a message for operators (it is not retried until ``replay``)."""
        self._move(self.get(message_id), "failed", last_error=reason[:500])

    def record_error(self, message_id: str, reason: str) -> None:
        """Note a failed publish attempt on a pending message (for ``outbox show``)."""
        entry = self.get(message_id)
        if entry.state == "pending":
            changed = entry.evolve(attempts=entry.attempts + 1, last_error=reason[:500])
            write_atomic(self._path("pending", message_id), _encode(changed))

    def replay(self, message_id: str) -> None:
        """Send a message again: back to pending, at the end of the queue."""
        entry = self.get(message_id)
        self._move(entry, "pending", seq=time.time_ns(), sent_at=None, attempts=0, last_error=None)

    def prune_sent(self, before: datetime, *, dry_run: bool = False) -> int:
        """Remove sent messages sent before ``before`` (retention: they name the originals)."""
        pruned = 0
        for entry in self._read_state("sent"):
            sent_at = datetime.fromisoformat(entry.sent_at or entry.created_at)
            if sent_at.tzinfo is None:
                sent_at = sent_at.replace(tzinfo=UTC)
            if sent_at < before:
                if not dry_run:
                    _unlink(self._path("sent", entry.message.message_id))
                pruned += 1
        return pruned

    def counts(self) -> dict[str, int]:
        return {s: len(list((self.directory / s).glob("*.json"))) for s in STATES}

    def _move(self, entry: OutboxEntry, state: State, **changes: Any) -> None:
        moved = entry.evolve(state=state, **changes)
        write_atomic(self._path(state, entry.message.message_id), _encode(moved))
        for other in STATES:
            if other != state:
                _unlink(self._path(other, entry.message.message_id))

    def _find(self, message_id: str) -> OutboxEntry | None:
        for state in _LATER_FIRST:
            entry = self._read(self._path(state, message_id))
            if entry is not None:
                return entry
        return None

    def _superseded(self, entry: OutboxEntry) -> bool:
        """A crash between writing the new state and removing the old one leaves both."""
        later = _LATER_FIRST[: _LATER_FIRST.index(entry.state)]
        return any(self._path(s, entry.message.message_id).exists() for s in later)

    def _read_state(self, state: State) -> Entries:
        try:
            paths = list((self.directory / state).glob("*.json"))
        except OSError as exc:
            raise BrokerError(f"cannot list outbox: {exc}", source="outbox") from exc
        entries = [e for p in paths if (e := self._read(p)) is not None]
        return sorted(entries, key=lambda e: e.seq)

    def _read(self, path: Path) -> OutboxEntry | None:
        try:
            return OutboxEntry.from_json(json.loads(path.read_bytes()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError) as exc:
            message = f"cannot read outbox file {path.name}: {exc}"
            raise BrokerError(message, source="outbox") from exc

    def _path(self, state: State, message_id: str) -> Path:
        if not message_id or "/" in message_id or message_id.startswith("."):
            raise NotFound(f"invalid message id {message_id!r}", source="outbox")
        return self.directory / state / f"{message_id}.json"


def flush(
    outbox: Outbox,
    publisher: Publisher,
    *,
    limit: int = 100,
    stop: threading.Event | None = None,
) -> int:
    """Publish up to ``limit`` pending messages, oldest first, marking each sent; return how many.

    A message no queue is bound for (``MessageUnroutable``) stays pending and the next one is
    tried; any other ``BrokerError`` (broker away) ends the pass and is raised.
    """
    sent = 0
    for entry in outbox.pending(limit):
        if stop is not None and stop.is_set():
            break
        message_id = entry.message.message_id
        try:
            publisher.publish(entry.message)
        except MessageUnroutable as exc:
            outbox.record_error(message_id, str(exc))
            continue
        except BrokerError as exc:
            outbox.record_error(message_id, str(exc))
            raise
        outbox.mark_sent(message_id)
        sent += 1
    return sent


class OutboxFlusher:
    """A background thread that keeps publishing the outbox; owns its publisher.

    ``publisher_factory`` runs in the flusher thread, so a pika connection is created and
    used there only. While publishing fails the thread waits with exponential backoff and
    jitter (``min_backoff`` … ``max_backoff``); otherwise it checks every ``interval`` seconds
    or at once after ``flush_now()``. ``stop()`` returns within one publish attempt.
    """

    def __init__(
        self,
        outbox: Outbox,
        publisher_factory: Callable[[], Publisher],
        *,
        interval: float = 2.0,
        min_backoff: float = 0.2,
        max_backoff: float = 30.0,
        batch: int = 100,
    ) -> None:
        self.outbox = outbox
        self._factory = publisher_factory
        self._interval = interval
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._batch = batch
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0
        self.last_error: str | None = None
        self.sent_total = 0

    def start(self) -> OutboxFlusher:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox-flusher", daemon=True)
            self._thread.start()
        return self

    def flush_now(self) -> None:
        """Wake the thread to publish now (e.g. right after a message was added)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        publisher: Publisher | None = None
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    if publisher is None:
                        publisher = self._factory()
                    sent = flush(self.outbox, publisher, limit=self._batch, stop=self._stop)
                    self.sent_total += sent
                    if sent and self.outbox.pending(1):
                        continue  # progress, and more is waiting: go on at once
                    stuck = bool(self.outbox.pending(1))  # only unroutable ones are left
                except BrokerError as exc:
                    self.last_error = str(exc)
                    stuck = True
                    log.warning("outbox flush failed (attempt %d): %s", self.failures + 1, exc)
                except Exception:  # the thread must survive anything and keep trying
                    log.exception("outbox flusher crashed; retrying")
                    stuck = True
                if stuck:
                    self.failures += 1
                    self._wake.wait(self._backoff())
                else:
                    self.failures = 0
                    self.last_error = None
                    self._wake.wait(self._interval)
        finally:
            if publisher is not None:
                with contextlib.suppress(Exception):
                    publisher.close()

    def _backoff(self) -> float:
        ceiling = min(self._max_backoff, self._min_backoff * 2 ** min(self.failures, 20))
        return random.uniform(ceiling / 2, ceiling)


def count_pending(directory: Path) -> int:
    """Messages waiting in the outbox at ``directory``, for the metrics: counted without
    creating anything; an outbox not created yet or unreadable counts as 0."""
    try:
        folder = (Path(directory) / "pending").absolute()
        return sum(1 for p in folder.iterdir() if p.suffix == ".json")
    except OSError:  # not created yet (nothing sent), or unreadable: nothing to count
        return 0


def write_atomic(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` all or nothing: temp file, fsync, rename, fsync directory
    (``durable.replace``). With ``exclusive`` an existing file is kept (no error): first writer
    wins (``durable.create``)."""
    try:
        if exclusive:
            durable.create(path, data)
        else:
            durable.replace(path, data)
    except OSError as exc:
        raise BrokerError(f"cannot write {path.name}: {exc}", source="outbox") from exc


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _encode(entry: OutboxEntry) -> bytes:
    return json.dumps(entry.to_json(), ensure_ascii=False, indent=1).encode("utf-8")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
