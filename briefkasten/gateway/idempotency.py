"""One ``Idempotency-Key``, one submission: requests with the same key take turns.

A per-key ``asyncio.Lock`` in the gateway process and, with ``gateway.rate_limit_storage`` set,
the same key's lock in Redis (``shared.SharedState.hold``) for every gateway: the second of two
concurrent requests (on any gateway) waits until the first has answered, then finds the first's
key record (``Intake.find``) and answers with its receipt. The key record itself (pending
before storing, queued after the job is durable; see ``intake``) is the storage-level claim
that outlives the process, *created if absent* (``briefkasten.idempotency``): without Redis, or
while it is unreachable, two gateways that both found no record cannot both store a
submission; the later one answers ``409 request_in_progress`` and the client's retry gets the
first one's receipt. Holding the Redis lock, a gateway takes over a leftover claim at once (its
holder's lease ran out: it died). Waits are bounded: after ``wait_s`` the waiting request is
answered ``409 request_in_progress``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from briefkasten.errors import RequestInProgress
from briefkasten.gateway.shared import SharedState

#: How long a request waits for an earlier one with the same key (a slow upload) to finish.
WAIT_S = 120.0


@dataclass
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class KeyLocks:
    """Locks by name, created on first use and dropped when nobody holds or waits for them."""

    def __init__(self, wait_s: float = WAIT_S, *, shared: SharedState | None = None) -> None:
        self.wait_s = wait_s
        self.shared = shared or SharedState()
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[bool]:
        """Hold ``name`` in this process and, with Redis, across every gateway: yields whether
        the lock is held on every gateway (Redis answered)."""
        entry = self._entries.setdefault(name, _Entry())
        entry.users += 1
        deadline = time.monotonic() + self.wait_s
        try:
            try:
                async with asyncio.timeout(self.wait_s):
                    await entry.lock.acquire()
            except TimeoutError:
                raise RequestInProgress(
                    "another request with this Idempotency-Key is still in progress"
                ) from None
            try:
                left = max(0.0, deadline - time.monotonic())
                async with self.shared.hold(name, left) as everywhere:
                    yield everywhere
            finally:
                entry.lock.release()
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._entries[name]
