"""RabbitMQ helpers for the tests: a unique vhost per test run, and a broker outage on demand.

The broker is the real one on 127.0.0.1:5672 (guest/guest). Every pytest worker gets its own
vhost (``bk-test-<random>``), made with ``rabbitmqctl`` (or the management HTTP API when
``rabbitmqctl`` is missing) and deleted at the end, so parallel runs never share queues.

``broker_stopped()`` stops the whole RabbitMQ application (``rabbitmqctl stop_app``) and always
starts it again. Because that hits every test using RabbitMQ at that moment, tests coordinate
through a file lock: ``rabbit_url`` holds it *shared* for one test, ``broker_stopped`` holds it
*exclusive*; waits are bounded.

Use in a test module::

    from tests.support.rabbit import rabbit_url, rabbit_vhost  # noqa: F401  (pytest fixtures)
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.env import need

HOST = "127.0.0.1"
PORT = 5672
MANAGEMENT = "http://127.0.0.1:15672"
USER = PASSWORD = "guest"
LOCK_FILE = Path(tempfile.gettempdir()) / "briefkasten-rabbitmq-tests.lock"
LOCK_TIMEOUT = 180.0
CTL_TIMEOUT = 60.0


def reachable(timeout: float = 1.0) -> bool:
    """Is something listening on the AMQP port?"""
    try:
        with socket.create_connection((HOST, PORT), timeout=timeout):
            return True
    except OSError:
        return False


def amqp_url(vhost: str) -> str:
    return f"amqp://{USER}:{PASSWORD}@{HOST}:{PORT}/{vhost}"


def _ctl(*args: str, timeout: float = CTL_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=timeout, check=True
    )


def _management(method: str, path: str, body: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{MANAGEMENT}{path}", data=data, method=method)
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10):
        pass


@contextlib.contextmanager
def temporary_vhost(prefix: str = "bk-test") -> Iterator[str]:
    """A fresh vhost with full permissions for guest; yields its AMQP URL; deleted after.

    Created under the shared test lock, so an outage test of another pytest worker
    (``broker_stopped``, exclusive lock) is over first. A broker that is not there at all
    skips (fails under CI=true; ``make test`` starts one); one that is there but refuses fails
    the test.
    """
    vhost = f"{prefix}-{secrets.token_hex(4)}"
    use_ctl = shutil.which("rabbitmqctl") is not None
    with shared_use():
        need(reachable(), f"RabbitMQ is not running on {HOST}:{PORT}")
        try:
            if use_ctl:
                _ctl("add_vhost", vhost)
                _ctl("set_permissions", "-p", vhost, USER, ".*", ".*", ".*")
            else:
                _management("PUT", f"/api/vhosts/{vhost}", {})
                perms = {"configure": ".*", "write": ".*", "read": ".*"}
                _management("PUT", f"/api/permissions/{vhost}/{USER}", perms)
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.fail(f"cannot create a RabbitMQ vhost: {exc}")
    try:
        yield amqp_url(vhost)
    finally:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            if use_ctl:
                _ctl("delete_vhost", vhost)
            else:
                _management("DELETE", f"/api/vhosts/{vhost}")


@contextlib.contextmanager
def _locked(mode: int) -> Iterator[None]:
    with LOCK_FILE.open("a") as handle:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail("timed out waiting for the RabbitMQ test lock")
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared_use() -> contextlib.AbstractContextManager[None]:
    """Hold while a test needs RabbitMQ up (no ``broker_stopped`` can start meanwhile)."""
    return _locked(fcntl.LOCK_SH)


def wait_until_up(timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not reachable(0.5):
        if time.monotonic() > deadline:
            raise TimeoutError("RabbitMQ did not come back")
        time.sleep(0.2)


@contextlib.contextmanager
def broker_stopped() -> Iterator[None]:
    """Stop the RabbitMQ application for the ``with`` body; always start it again.

    Needs ``rabbitmqctl`` (skips otherwise; fails under CI=true). Holds the exclusive test lock
    meanwhile.
    """
    need(
        shutil.which("rabbitmqctl") is not None, "rabbitmqctl is needed to stop and start RabbitMQ"
    )
    with _locked(fcntl.LOCK_EX):
        try:
            _ctl("stop_app")
            deadline = time.monotonic() + 30
            while reachable(0.5) and time.monotonic() < deadline:
                time.sleep(0.1)
            yield
        finally:
            _ctl("start_app")
            _ctl("await_startup", "--timeout", "60", timeout=90)
            wait_until_up()


@pytest.fixture(scope="session")
def rabbit_vhost() -> Iterator[str]:
    """AMQP URL of a vhost of its own for this pytest worker (no lock: see ``rabbit_url``)."""
    with temporary_vhost() as url:
        yield url


@pytest.fixture
def rabbit_url(rabbit_vhost: str) -> Iterator[str]:
    """``rabbit_vhost`` while holding the shared lock, so no outage test runs meanwhile."""
    with shared_use():
        yield rabbit_vhost


def unique(name: str) -> str:
    """A queue or exchange name of its own for one test."""
    return f"{name}.{secrets.token_hex(4)}"
