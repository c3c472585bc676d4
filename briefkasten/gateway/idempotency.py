"""One ``Idempotency-Key``, one submission: requests with the same key take turns.

A per-key ``asyncio.Lock`` in the gateway process: the second of two concurrent requests waits
until the first has answered, then finds the first's key record (``Intake.find``) and answers
with its receipt. The key record itself (pending before storing, queued after the job is
durable; see ``intake``) is the storage-level claim that outlives the process: a retry after a
crash or a 503 finds the first submission by it. Across several gateway processes two
requests with one key can still race between reading and writing that record (object storage
has no create-if-absent here); a shared lock (Redis) is a later step. Waits are bounded: after
``wait_s`` the waiting request is answered ``409 request_in_progress``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from briefkasten.errors import RequestInProgress

#: How long a request waits for an earlier one with the same key (a slow upload) to finish.
WAIT_S = 120.0


@dataclass
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class KeyLocks:
    """Locks by name, created on first use and dropped when nobody holds or waits for them."""

    def __init__(self, wait_s: float = WAIT_S) -> None:
        self.wait_s = wait_s
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        entry = self._entries.setdefault(name, _Entry())
        entry.users += 1
        try:
            try:
                async with asyncio.timeout(self.wait_s):
                    await entry.lock.acquire()
            except TimeoutError:
                raise RequestInProgress(
                    "another request with this Idempotency-Key is still in progress"
                ) from None
            try:
                yield
            finally:
                entry.lock.release()
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._entries[name]
