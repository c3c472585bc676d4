"""A private Redis for the tests: Debian's ``redis-server`` on a free loopback port.

Usage in a test module (or once in ``tests/conftest.py``)::

    from tests.support.redis_server import redis_server_fixture, redis_url_fixture  # noqa: F401

    def test_something(redis_url: str) -> None:       # a database emptied for this test
        ...

    def test_outage(redis_server: RedisServer) -> None:
        redis_server.stop()                           # Redis is away now (same port)
        ...
        redis_server.start()                          # back (empty: nothing is persisted)

``redis_server`` is session-scoped: one ``redis-server`` per pytest(-xdist) worker process,
``--save '' --appendonly no`` (nothing on disk), bound to 127.0.0.1 only, with a random
password. A test that stops it must start it again (``try/finally``); the fixture restarts a
stopped server for the next test anyway. Without ``redis-server`` installed (``make redis``
installs it) the fixture skips, or fails under ``CI=true`` (``env.need``).
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.env import need
from tests.support.servers import die_with_parent, free_ports, stop_group

STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def redis_binary() -> Path | None:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None
    )
    return Path(found) if found else None


class RedisServer:
    """One ``redis-server`` on ``127.0.0.1:port``; ``url(db)`` is its ``redis://`` URL."""

    def __init__(self, binary: Path, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.password = secrets.token_hex(12)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self.log = directory / "redis.log"

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start (on the same port after a ``stop``); return once it answers ``PING``."""
        if self.running:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_ports(1, ("redis",))["redis"]
        command = [
            str(self.binary),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--requirepass",
            self.password,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.directory),
            "--databases",
            "64",
        ]
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent if sys.platform == "linux" else None,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.ping():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop(kill=True)
                raise RuntimeError(f"redis-server did not start; log: {self.log}")
            time.sleep(0.05)

    def ping(self) -> bool:
        """``AUTH`` + ``PING`` over a plain socket: does it answer ``+PONG``?"""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                sock.sendall(f"AUTH {self.password}\r\nPING\r\n".encode())
                answer = b""
                while b"PONG" not in answer and len(answer) < 200:
                    chunk = sock.recv(200)
                    if not chunk:
                        break
                    answer += chunk
                return b"+PONG" in answer
        except OSError:
            return False

    def stop(self, *, kill: bool = False) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_group(process, kill=kill)


@pytest.fixture(scope="session", name="redis_server")
def redis_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = redis_binary()
    need(binary, "redis-server is not installed (make redis installs Debian's redis-server)")
    assert binary is not None
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


_databases: list[int] = []


@pytest.fixture(name="redis_url")
def redis_url_fixture(redis_server: RedisServer) -> str:
    """The URL of a database of its own for this test (1-63, round robin; flushed first)."""
    redis_server.start()  # an earlier test may have left it stopped
    db = 1 + len(_databases) % 63
    _databases.append(db)
    with socket.create_connection(("127.0.0.1", redis_server.port), timeout=2.0) as sock:
        sock.sendall(f"AUTH {redis_server.password}\r\nSELECT {db}\r\nFLUSHDB\r\n".encode())
        answer = b""
        deadline = time.monotonic() + 5.0
        while answer.count(b"+OK") < 3 and time.monotonic() < deadline:
            chunk = sock.recv(200)
            if not chunk:
                break
            answer += chunk
    assert answer.count(b"+OK") == 3, answer
    return redis_server.url(db)
