"""A real clamd (Debian ``clamav-daemon``) for integration tests, with a signature database the
tests write themselves: signature downloads are impossible here, so the only signature is the
EICAR test string as a custom ``.ndb`` body signature.

Usage in a test module::

    from tests.support.clamd import clamd_fixture  # noqa: F401  (pytest fixture ``clamd``)

    def test_something(clamd: Clamd) -> None:
        clamd.unix_address   # unix:///…/clamd.sock
        clamd.tcp_address    # tcp://127.0.0.1:PORT
        clamd.stop()         # clamd is away now; the fixture starts it again for the next test

``clamd`` is session-scoped: one daemon per pytest(-xdist) worker process, in a directory of
its own (socket, config, database, log), listening on a unix socket and on a free loopback TCP
port. It is started with ``Foreground yes`` as a child of the test process and never touches
the system's clamd or freshclam. Without the ``clamd`` binary the fixture skips.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.env import need
from tests.support.servers import die_with_parent, free_ports

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
#: clamd refuses INSTREAM streams longer than this (a test proves the refusal).
STREAM_MAX_BYTES = 1024 * 1024
#: The name our signature gets (clamd adds ``.UNOFFICIAL`` to signatures of custom databases).
SIGNATURE = "Briefkasten.Test.EICAR"
FOUND_NAME = f"{SIGNATURE}.UNOFFICIAL"


def eicar() -> bytes:
    """The 68-byte EICAR anti-virus test string, put together here so that no file of the
    repository contains it verbatim (scanners would flag the checkout)."""
    parts = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-", "ANTIVIRUS-TEST-FILE!$H+H*")
    data = "".join(parts).encode("ascii")
    assert len(data) == 68
    return data


class Clamd:
    """One clamd process with its own config and database under ``directory``."""

    def __init__(self, directory: Path, binary: str) -> None:
        self.directory = directory
        self.binary = binary
        self.socket_path = directory / "clamd.sock"
        self.config = directory / "clamd.conf"
        self.log = directory / "clamd.log"
        self.port = free_ports(1, ("clamd",))["clamd"]
        self._process: subprocess.Popen[bytes] | None = None
        self._write_database()

    @property
    def unix_address(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def tcp_address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start clamd; return once it answers ``PING`` on its unix socket."""
        if self.running:
            return
        self.socket_path.unlink(missing_ok=True)
        with (self.directory / "stdout.log").open("ab") as out:
            self._process = subprocess.Popen(
                [self.binary, "--config-file", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._pong():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"clamd did not start; log: {self._log_tail()}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop clamd (SIGTERM; SIGKILL after ``STOP_TIMEOUT`` s)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)

    def _write_database(self) -> None:
        database = self.directory / "db"
        database.mkdir()
        # ndb body signature: Name:TargetType(0 = any file):Offset(* = anywhere):HexBytes
        (database / "briefkasten-test.ndb").write_text(f"{SIGNATURE}:0:*:{eicar().hex()}\n")
        self.config.write_text(
            "\n".join(
                [
                    "Foreground yes",
                    f"LocalSocket {self.socket_path}",
                    "LocalSocketMode 600",
                    f"TCPSocket {self.port}",
                    "TCPAddr 127.0.0.1",
                    f"DatabaseDirectory {database}",
                    f"TemporaryDirectory {self.directory}",
                    f"LogFile {self.log}",
                    f"PidFile {self.directory / 'clamd.pid'}",
                    f"StreamMaxLength {STREAM_MAX_BYTES}",
                    "SelfCheck 0",
                    "",
                ]
            )
        )

    def _pong(self) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2.0)
            try:
                sock.connect(str(self.socket_path))
                sock.sendall(b"zPING\0")
                return sock.recv(64) == b"PONG\0"
            except OSError:
                return False

    def _log_tail(self) -> str:
        texts = []
        for name in ("clamd.log", "stdout.log"):
            with contextlib.suppress(OSError):
                texts.append((self.directory / name).read_text(errors="replace")[-1500:])
        return "\n".join(texts) or "(no log)"


@pytest.fixture(scope="session", name="clamd_server")
def clamd_server_fixture() -> Iterator[Clamd]:
    """The worker process's clamd (started once, stopped at the end of the session)."""
    binary = shutil.which("clamd") or next(
        (p for p in ("/usr/sbin/clamd",) if Path(p).is_file()), None
    )
    need(binary is not None, "clamd not installed (Debian clamav-daemon; make test installs it)")
    assert binary is not None
    # A short directory name: unix socket paths are limited to 107 bytes.
    directory = Path(tempfile.mkdtemp(prefix="bk-clamd-"))
    server = Clamd(directory, binary)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(name="clamd")
def clamd_fixture(clamd_server: Clamd) -> Clamd:
    """The running clamd; a test that stopped it leaves it to be started here again."""
    clamd_server.start()
    return clamd_server
