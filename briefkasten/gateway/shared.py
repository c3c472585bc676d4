"""State the gateways share: rate-limit counters and Idempotency-Key locks, in Redis or here.

``gateway.rate_limit_storage`` empty (the embedded default): the counters (``limits``' moving
window) and the locks live in this process, so N gateways behind a load balancer allow N × the
configured rate. Set to ``redis://HOST:PORT/DB``, every gateway counts in the same Redis
(``limits.aio.storage.RedisStorage`` over redis-py's asyncio client) and takes the same lock
for one Idempotency-Key (``SET NX PX`` with a random token, renewed while held, released only
by its holder), so a key is worked on by one request at a time across all gateways.

Redis unreachable: **fail open**, with one warning (English, no client data) per
``RETRY_REDIS_S``. The counters fall back to this process's (the limits hold per gateway, as
without Redis) and the lock to the process's lock; the Idempotency-Key record's create-if-absent
in storage (``intake``) still keeps one key at one submission. Applicants must be able to hand
in documents by a deadline, and a limit that is briefly N × looser is the smaller harm than a
gateway that answers 503 to everyone. ``/readyz`` reports Redis (``ping``) and stays ready.
Redis holds nothing that must outlive it: counters and locks only, never document data.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError as LimitsStorageError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from briefkasten.errors import RequestInProgress

log = logging.getLogger("briefkasten.gateway")

#: Seconds one Redis command may take (connect or answer) before it counts as unreachable.
REDIS_TIMEOUT_S = 1.0
#: After a failure, Redis is not asked again for this long (requests do not each wait for it).
RETRY_REDIS_S = 10.0
#: A lock's lease in Redis; renewed every third of it while its request runs.
LOCK_TTL_S = 30.0
#: How often a request waiting for a lock held by another gateway asks again.
LOCK_POLL_S = 0.05
KEY_PREFIX = "briefkasten"
_FAILURES = (RedisError, LimitsStorageError, OSError, TimeoutError)
# Renew or release a lock only if it is still ours (the token), atomically in Redis.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"  # noqa: E501
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"  # noqa: E501


class SharedState:
    """Rate limits (``hit``, ``clear``) and locks (``hold``) over Redis, or this process only.

    Made in ``create_app``; ``close()`` in its cleanup. ``redis_url`` empty: in-process only.
    """

    def __init__(self, redis_url: str = "") -> None:
        self.redis_url = redis_url
        self.memory = MovingWindowRateLimiter(MemoryStorage())
        self._client: aioredis.Redis | None = None
        self._shared: MovingWindowRateLimiter | None = None
        self._down_until = 0.0
        if redis_url:
            self._client = aioredis.Redis.from_url(
                redis_url,
                socket_connect_timeout=REDIS_TIMEOUT_S,
                socket_timeout=REDIS_TIMEOUT_S,
                retry=Retry(NoBackoff(), 0),  # no retries: the fallback is the retry
            )
            storage = RedisStorage(
                "async+" + redis_url,
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=f"{KEY_PREFIX}:limits",
                connection_pool=self._client.connection_pool,  # type: ignore[arg-type]
            )
            self._shared = MovingWindowRateLimiter(storage)

    @property
    def where(self) -> str:
        """For the start-up log: ``in this process`` or ``in Redis at HOST:PORT/DB`` (never
        the password)."""
        if not self.redis_url:
            return "in this gateway process (gateway.rate_limit_storage is empty)"
        parts = urlsplit(self.redis_url)
        db = parts.path.strip("/") or "0"
        return f"in Redis at {parts.hostname}:{parts.port or 6379}/{db}, shared by every gateway"

    @property
    def shared(self) -> bool:
        """Whether Redis is configured (not whether it answers: see ``ping``)."""
        return self._client is not None

    async def hit(self, item: RateLimitItem, *identifiers: str) -> tuple[bool, int]:
        """Count one request: (allowed, seconds until the window frees a slot)."""
        limiter = self._limiter()
        if limiter is not self.memory:
            try:
                return await _hit(limiter, item, identifiers)
            except _FAILURES as exc:
                self._failed("rate limits are counted per gateway process", exc)
        return await _hit(self.memory, item, identifiers)

    async def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Whether one more ``hit`` would be allowed (nothing is counted)."""
        limiter = self._limiter()
        if limiter is not self.memory:
            try:
                return await limiter.test(item, *identifiers)
            except _FAILURES as exc:
                self._failed("rate limits are counted per gateway process", exc)
        return await self.memory.test(item, *identifiers)

    async def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        """Forget the counter (a successful login clears its account's failures)."""
        limiter = self._limiter()
        if limiter is not self.memory:
            try:
                await limiter.clear(item, *identifiers)
            except _FAILURES as exc:
                self._failed("rate limits are counted per gateway process", exc)
        await self.memory.clear(item, *identifiers)

    @contextlib.asynccontextmanager
    async def hold(self, name: str, wait_s: float) -> AsyncIterator[bool]:
        """Hold the lock ``name`` across every gateway sharing the Redis: yields ``True``;
        ``False`` without one or while it is unreachable (nothing held). ``RequestInProgress``
        after waiting ``wait_s`` seconds for another holder."""
        client = self._client if self._limiter() is not self.memory else None
        token = secrets.token_hex(16)
        key = f"{KEY_PREFIX}:lock:{hashlib.sha256(name.encode()).hexdigest()}"
        held = False
        if client is not None:
            try:
                held = await self._acquire(client, key, token, wait_s)
            except _FAILURES as exc:
                self._failed("Idempotency-Key locks are per gateway process", exc)
        if not held:
            yield False
            return
        assert client is not None
        renewer = asyncio.create_task(_renew(client, key, token))
        try:
            yield True
        finally:
            renewer.cancel()
            with contextlib.suppress(*_FAILURES, asyncio.CancelledError):
                await renewer
            with contextlib.suppress(*_FAILURES):
                await client.eval(_RELEASE, 1, key, token)  # type: ignore[misc]

    async def ping(self) -> tuple[bool, str]:
        """For ``/readyz``: always ok (fail open); the detail says whether Redis answers."""
        if self._client is None:
            return True, "not configured: rate limits and locks per gateway process"
        try:
            await self._client.ping()  # type: ignore[misc]
        except _FAILURES:
            return True, "unreachable: rate limits and locks per gateway process (fail open)"
        self._down_until = 0.0
        return True, "ok: rate limits and locks shared by every gateway"

    async def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(*_FAILURES):
                await self._client.aclose()

    async def _acquire(self, client: aioredis.Redis, key: str, token: str, wait_s: float) -> bool:
        deadline = time.monotonic() + wait_s
        ttl_ms = int(LOCK_TTL_S * 1000)
        while not await client.set(key, token, nx=True, px=ttl_ms):
            if time.monotonic() >= deadline:
                raise RequestInProgress(
                    "another request with this Idempotency-Key is still in progress"
                )
            await asyncio.sleep(LOCK_POLL_S)
        return True

    def _limiter(self) -> MovingWindowRateLimiter:
        if self._shared is None or time.monotonic() < self._down_until:
            return self.memory
        return self._shared

    def _failed(self, consequence: str, exc: BaseException) -> None:
        if time.monotonic() >= self._down_until:
            log.warning(
                "Redis (gateway.rate_limit_storage) unreachable: %s for the next %g s (%s)",
                consequence,
                RETRY_REDIS_S,
                type(exc).__name__,
            )
        self._down_until = time.monotonic() + RETRY_REDIS_S


async def _hit(
    limiter: MovingWindowRateLimiter, item: RateLimitItem, identifiers: tuple[str, ...]
) -> tuple[bool, int]:
    if await limiter.hit(item, *identifiers):
        return True, 0
    reset = (await limiter.get_window_stats(item, *identifiers)).reset_time
    return False, max(1, math.ceil(reset - time.time()))


async def _renew(client: aioredis.Redis, key: str, token: str) -> None:
    """Extend the lease every third of it while the request runs (a failure: try again)."""
    while True:
        await asyncio.sleep(LOCK_TTL_S / 3)
        with contextlib.suppress(*_FAILURES):
            await client.eval(_RENEW, 1, key, token, str(int(LOCK_TTL_S * 1000)))  # type: ignore[misc]
