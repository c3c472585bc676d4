"""The dashboard's state in storage, shared by every gateway: ended sessions, used codes.

* **Logout** writes ``layout.admin_revocation_key(sha256(token id))`` with the time the token
  would have expired. Every request with a session token looks that key up (no cache: one
  ``exists`` per dashboard request, which polls every 5 s), so a logout on one gateway is seen
  by all of them at once.
* **One-time codes**: a code accepted for operator O at TOTP time step N marks
  ``layout.totp_used_key(O, N)``; the same code (the same step) is refused afterwards, on any
  gateway. Within one process the check-and-mark is atomic (a lock); across gateways two
  logins with the same code in the same few milliseconds could both pass (storage has no
  create-if-absent), which needs the password as well.
* ``sweep`` deletes revocations whose token has expired and marks older than the codes'
  validity; the gateway runs it after a successful login, at most once per session TTL.

Blocking (storage may be S3): the gateway calls this in its executor.
"""

from __future__ import annotations

import hashlib
import threading
import time

from briefkasten.errors import BriefkastenError
from briefkasten.storage import layout
from briefkasten.storage.base import Storage
from briefkasten.storage.records import load_json, put_json

#: How long a used code is remembered: it is valid for its step ± 1 (``valid_window=1``).
CODE_MEMORY_STEPS = 3


class AdminState:
    """Revoked sessions and used one-time codes in ``storage``."""

    def __init__(self, storage: Storage, *, totp_interval: int = 30) -> None:
        self._storage = storage
        self._interval = totp_interval
        self._lock = threading.Lock()
        self._last_sweep = 0.0

    def revoke(self, token_id: str, *, expires_at: float) -> None:
        """End the session with this token id for every gateway."""
        record = {"expires_at": expires_at, "revoked_at": time.time()}
        put_json(self._storage, _revocation_key(token_id), record)

    def is_revoked(self, token_id: str) -> bool:
        return self._storage.exists(_revocation_key(token_id))

    def use_code(self, operator: str, step: int) -> bool:
        """Mark operator's code of time ``step`` used; ``False`` if it already was."""
        key = layout.totp_used_key(operator, step)
        with self._lock:
            if self._storage.exists(key):
                return False
            put_json(self._storage, key, {"used_at": time.time()})
        return True

    def sweep_due(self, every_s: float, now: float | None = None) -> bool:
        """Whether a sweep is due (at most one per ``every_s`` seconds in this process)."""
        now = time.time() if now is None else now
        with self._lock:
            if now - self._last_sweep < every_s:
                return False
            self._last_sweep = now
        return True

    def sweep(self, now: float | None = None) -> int:
        """Delete expired revocations and old code marks; how many were deleted."""
        now = time.time() if now is None else now
        gone = 0
        for key in self._storage.list(layout.ADMIN_REVOKED):
            try:
                expires_at = float(load_json(self._storage, key)["expires_at"])
            except (BriefkastenError, ValueError, KeyError, TypeError):
                continue  # gone meanwhile or unreadable: leave it
            if expires_at < now:
                self._storage.delete(key)
                gone += 1
        oldest_step = int(now // self._interval) - CODE_MEMORY_STEPS
        for key in self._storage.list(layout.ADMIN_TOTP_USED):
            step = key.rsplit("/", 1)[-1].removesuffix(".json")
            if step.isdigit() and int(step) < oldest_step:
                self._storage.delete(key)
                gone += 1
        return gone


def _revocation_key(token_id: str) -> str:
    return layout.admin_revocation_key(hashlib.sha256(token_id.encode()).hexdigest())
