"""What the environment must provide, and waiting for a condition: shared by every tier.

``need(condition, reason)`` is the one place where a test meets a missing server or program
(RabbitMQ, SeaweedFS, clamd, chromium, promtool, Tesseract, a tmpfs mount): locally it skips
with ``reason``; under ``CI=true`` (CI sets it; ``.ci/run`` runs ``make test``) it fails with the
same reason, so a broken CI environment cannot pass by skipping. ``missing(reason)`` is the same
without a condition.

``wait_for(condition, what, timeout)`` polls until ``condition()`` is true and fails with what it
waited for after ``timeout`` seconds; ``await wait_for_async(...)`` is the same in a test's
event loop (``condition`` may be a coroutine function there).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import Awaitable, Callable
from typing import NoReturn

import pytest

#: How often ``wait_for`` looks again (seconds).
POLL = 0.05


def in_ci() -> bool:
    """True when the environment variable ``CI`` is ``true`` (any case), as CI systems set it."""
    return os.environ.get("CI", "").strip().lower() == "true"


def missing(reason: str) -> NoReturn:
    """Skip the test for ``reason`` (a server or program is missing), or fail under CI."""
    if in_ci():
        pytest.fail(f"CI=true, so this is a failure, not a skip: {reason}", pytrace=False)
    pytest.skip(reason)


def need(condition: object, reason: str) -> None:
    """Go on if ``condition`` is true; else ``missing(reason)``."""
    if not condition:
        missing(reason)


def wait_for(
    condition: Callable[[], object],
    what: str = "the condition",
    timeout: float = 20.0,
    *,
    poll: float = POLL,
    ignore: tuple[type[BaseException], ...] = (),
) -> None:
    """Poll ``condition`` until it is true; ``AssertionError`` naming ``what`` after ``timeout``.

    Exceptions of the types in ``ignore`` raised by ``condition`` count as "not yet".
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except ignore:
            pass
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


async def wait_for_async(
    condition: Callable[[], object] | Callable[[], Awaitable[object]],
    what: str = "the condition",
    timeout: float = 10.0,
    *,
    poll: float = 0.02,
) -> None:
    """``wait_for`` inside an event loop: sleeps with ``asyncio.sleep``; awaits ``condition()``
    when it returns an awaitable."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(poll)
