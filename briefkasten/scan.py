"""The malware scan: a ``Scanner`` protocol, the clamd adapter, the "off" scanner, a test double.

``ClamdScanner`` speaks clamd's own protocol over a unix socket (``unix:///run/clamav/clamd.ctl``)
or TCP (``tcp://127.0.0.1:3310``), one connection per command:

* ``zINSTREAM\\0``, then the file in chunks, each prefixed by its length (4 bytes, big-endian),
  then a zero-length chunk; clamd answers ``stream: OK``, ``stream: <signature> FOUND`` or
  ``<reason> ERROR`` (e.g. ``INSTREAM size limit exceeded. ERROR`` past ``StreamMaxLength``,
  after which clamd closes the socket, often while we are still sending).
* ``zPING\\0`` → ``PONG``; ``zVERSION\\0`` → ``ClamAV 1.4.6/…``.

Written by hand rather than with a PyPI client: the protocol is these few lines, and we need
what the clients do not give together: a timeout on every socket operation, streaming from a
path in fixed chunks (never the whole file in memory), the size-limit answer read even after a
broken pipe, and only our own exceptions leaving the adapter. ``clamd`` 1.0.2 (2014) is
unmaintained; ``clamav-client`` 0.7.2 is kept up but raises its own exception types, and adding
a dependency for ~60 lines is not worth it.

Failing open or closed (``scan.fail_open``) applies only where clamd cannot be *reached*
(connecting fails): the upload is then accepted as ``not_scanned``. Once clamd has taken a
stream, any error or timeout is ``ScanFailed`` and refuses the upload in both modes, so a file
built to break or stall the scanner never gets through because of it.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, Protocol
from urllib.parse import urlsplit

from briefkasten.config import ScanSettings
from briefkasten.errors import ConfigError, ScanFailed, ScanUnavailable

#: What the scan says about a file (and, combined, about a submission).
ScanStatus = Literal["clean", "infected", "not_scanned", "off"]
#: Bytes per INSTREAM chunk (clamd's own default for clamdscan is the same order).
CHUNK = 64 * 1024
#: Longest reply read from clamd; a verdict is one short line.
MAX_REPLY = 4096
#: Seconds at most for PING and VERSION (``/readyz`` gives each check 5 s).
PROBE_TIMEOUT = 3.0


@dataclass(frozen=True)
class Verdict:
    """The scan result of one file; ``signature`` is the name clamd reported when infected."""

    status: ScanStatus
    signature: str | None = None


CLEAN = Verdict("clean")
OFF = Verdict("off")
NOT_SCANNED = Verdict("not_scanned")


class Scanner(Protocol):
    """Scans a file on local disk; ``ScanUnavailable``/``ScanFailed`` when it cannot."""

    def scan_file(self, path: Path) -> Verdict: ...

    def version(self) -> str: ...

    def available(self) -> bool: ...


class OffScanner:
    """No scanner configured: every file is ``off`` (not scanned, and said so)."""

    def scan_file(self, path: Path) -> Verdict:
        return OFF

    def version(self) -> str:
        return "off"

    def available(self) -> bool:
        return True


class StubScanner:
    """In-package test double: files containing one of ``signatures`` (bytes → name) are
    infected; ``down=True`` behaves like an unreachable clamd (honouring ``fail_open``)."""

    def __init__(
        self, signatures: Mapping[bytes, str], *, down: bool = False, fail_open: bool = False
    ) -> None:
        self.signatures = dict(signatures)
        self.down = down
        self.fail_open = fail_open
        self.scanned = 0

    def scan_file(self, path: Path) -> Verdict:
        if self.down:
            if self.fail_open:
                return NOT_SCANNED
            raise ScanUnavailable("stub scanner is down", source="scan")
        self.scanned += 1
        data = path.read_bytes()
        for pattern, name in self.signatures.items():
            if pattern in data:
                return Verdict("infected", name)
        return CLEAN

    def version(self) -> str:
        return "stub"

    def available(self) -> bool:
        return not self.down


class ClamdScanner:
    """clamd over ``address`` (``unix:///path`` or ``tcp://host:port``)."""

    def __init__(self, address: str, *, timeout: float = 30.0, fail_open: bool = False) -> None:
        self.family, self.target = parse_address(address)
        self.timeout = timeout
        self.fail_open = fail_open

    def scan_file(self, path: Path) -> Verdict:
        """INSTREAM the file in ``CHUNK``-sized pieces; clean, infected or an error."""
        try:
            sock = self._connect()
        except ScanUnavailable:
            if self.fail_open:
                return NOT_SCANNED
            raise
        with sock, path.open("rb") as handle:
            return parse_reply(_instream(sock, handle))

    def version(self) -> str:
        return self._command(b"zVERSION\0")

    def available(self) -> bool:
        try:
            return self._command(b"zPING\0") == "PONG"
        except ScanUnavailable:
            return False

    def _command(self, command: bytes) -> str:
        with self._connect(min(self.timeout, PROBE_TIMEOUT)) as sock:
            try:
                sock.sendall(command)
                return _read_reply(sock).decode("ascii", "replace").strip("\0\r\n ")
            except OSError as exc:
                raise ScanFailed(f"clamd did not answer: {_reason(exc)}", source="scan") from exc

    def _connect(self, timeout: float | None = None) -> socket.socket:
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            sock.connect(self.target)
        except OSError as exc:
            sock.close()
            raise ScanUnavailable(f"cannot reach clamd: {_reason(exc)}", source="scan") from exc
        return sock


def parse_address(address: str) -> tuple[socket.AddressFamily, str | tuple[str, int]]:
    """``unix:///path`` → (AF_UNIX, path); ``tcp://host:port`` → (AF_INET[6], (host, port))."""
    parts = urlsplit(address)
    if parts.scheme == "unix" and parts.path.startswith("/") and not parts.netloc:
        return socket.AF_UNIX, parts.path
    if parts.scheme == "tcp" and parts.hostname and not parts.path.strip("/"):
        try:
            port = parts.port
        except ValueError:
            port = None
        if port:
            family = socket.AF_INET6 if ":" in parts.hostname else socket.AF_INET
            return family, (parts.hostname, port)
    raise ConfigError(f"scan.clamd must be unix:///path or tcp://host:port, not {address[:80]!r}")


def frames(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The INSTREAM body: every non-empty chunk behind its 4-byte big-endian length, then the
    zero-length terminator."""
    for chunk in chunks:
        if chunk:
            yield struct.pack(">I", len(chunk)) + chunk
    yield struct.pack(">I", 0)


def parse_reply(reply: bytes) -> Verdict:
    """clamd's answer to INSTREAM: ``stream: OK``, ``stream: <name> FOUND`` or ``… ERROR``."""
    text = reply.rstrip(b"\0\r\n ").decode("ascii", "replace")
    if text == "stream: OK":
        return CLEAN
    if text.startswith("stream: ") and text.endswith(" FOUND"):
        name = text[len("stream: ") : -len(" FOUND")].strip()
        if name:
            return Verdict("infected", name[:200])
    if text.endswith("ERROR"):
        raise ScanFailed(f"clamd refused the stream: {text[:120]}", source="scan")
    if not text:
        raise ScanFailed("clamd closed the connection without a verdict", source="scan")
    raise ScanFailed(f"unexpected answer from clamd: {text[:120]!r}", source="scan")


def _instream(sock: socket.socket, handle: BinaryIO) -> bytes:
    """Send the file; then read the verdict. clamd may close early (size limit): its answer is
    then still waiting to be read, so a broken pipe while sending is not yet an error."""
    try:
        sock.sendall(b"zINSTREAM\0")
        for frame in frames(iter(lambda: handle.read(CHUNK), b"")):
            sock.sendall(frame)
    except (BrokenPipeError, ConnectionResetError):
        pass
    except OSError as exc:
        raise ScanFailed(f"sending to clamd failed: {_reason(exc)}", source="scan") from exc
    try:
        return _read_reply(sock)
    except OSError as exc:
        raise ScanFailed(f"no verdict from clamd: {_reason(exc)}", source="scan") from exc


def _read_reply(sock: socket.socket) -> bytes:
    """Read until clamd's NUL terminator, end of stream or ``MAX_REPLY`` bytes."""
    reply = b""
    while not reply.endswith(b"\0") and len(reply) < MAX_REPLY:
        chunk = sock.recv(MAX_REPLY)
        if not chunk:
            break
        reply += chunk
    return reply


def _reason(exc: OSError) -> str:
    """The error without paths or addresses (``/readyz`` and logs show it)."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    return exc.strerror or type(exc).__name__


def scanner_for(settings: ScanSettings) -> Scanner:
    """The scanner the ``[scan]`` settings name: clamd, or off when ``clamd`` is empty."""
    if not settings.clamd:
        return OffScanner()
    return ClamdScanner(settings.clamd, timeout=settings.timeout_s, fail_open=settings.fail_open)
