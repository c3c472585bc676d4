"""``make bench``, gateway section: upload throughput against bare aiohttp, and RSS under load.

Figures (targets from issue 3):

* ``gateway_vs_bare_aiohttp``: uploads/s of our gateway (``create_app`` with file storage and
  the embedded on-disk ``LocalJobQueue``, no worker consuming) divided by uploads/s of a bare
  aiohttp handler that does the mandatory work of a durable upload (``baselines.bare_app``): it
  streams each multipart part with ``read_chunk()`` into a file with aiofiles while hashing it
  (SHA-256), fsyncs the file and its directory and answers 202 — our gateway minus its checks
  (sniffing), intake record, manifest, hash marker and job (issue 13 made the baseline
  durable; before it had no fsync). Target >= 0.8.
* ``gateway_vs_bare_with_records``: the gateway against a third server, the bare handler plus
  the five small durable records a recoverable intake writes per submission, with plain ``os``
  calls (``baselines.records_app``), and ``bare_with_records_vs_bare``: what those records
  alone cost a Python handler. The gap between gateway and bare handler is mostly these
  records (docs/deployment.md, "Where a gateway's time goes"); the first of the two ratios is
  what our own code adds on top of them (proposed target >= 0.8).

  All servers run as subprocesses of this file (``--serve gateway|bare|records``, one event
  loop each, same ``run_app`` arguments) on 127.0.0.1 ports they bind themselves; one client
  (aiohttp ``ClientSession``) sends the same bodies to each: ``CONCURRENCY`` concurrent
  uploads of ~2 MiB JPEG pages (``case_number``, ``document_type=kontoauszug``, one
  ``file``), each body made unique by a hex nonce after the JPEG's end marker. Every round
  runs each server once, in an order rotated from round to round; before each server's turn
  the output directories are emptied and ``sync`` flushes dirty pages, so write-back of one
  server's data does not land in another's timing. Ratios of the medians. A ``#`` line gives
  each server's CPU per upload (``/proc``: the whole process and its event loop thread), which
  drifts less than wall time on a shared machine: the figure to compare when changing the
  gateway's per-upload work.
* ``gateway_rss_growth_mb``: the gateway alone in a fresh subprocess; after one small warm-up
  upload its VmRSS is the baseline, VmHWM is reset (``/proc/PID/clear_refs``), then 50
  concurrent ~20 MB PNG uploads (RGB noise, incompressible) arrive; growth = the peak (VmHWM after
  the load, or the highest VmRSS sampled every 20 ms if higher: the kernel's counters are
  approximate) minus the baseline; target < 100.

Diagnosis only: with ``BENCH_FSYNC=off`` in the environment every server's ``os.fsync`` does
nothing (the figures then say how much of each server's time its fsyncs take, not what a
durable upload costs; the output says so); ``BENCH_RECORDS`` cuts the records server down
(``baselines``).

Everything lives in the work directory the caller gives and is removed at the end; servers
are killed in ``finally``; every client call has a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import secrets
import select
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

KEY = "bench-key-0123456789"
TENANT = "bench"
CASE = "12345BG0012345"
DOCUMENT_TYPE = "kontoauszug"
MIB = 1024 * 1024
JPEG_BYTES = 2 * MIB
CONCURRENCY = 8
UPLOADS_PER_ROUND = 64
ROUNDS = 5
RSS_UPLOADS = 50
RSS_SIDE = 2600  # 2600×2600 RGB noise: ~20.3 MB as PNG, 6.8 MP (limit 80 MP)
START_TIMEOUT_S = 30.0
ROUND_TIMEOUT_S = 120.0
RSS_TIMEOUT_S = 300.0
SAMPLE_INTERVAL_S = 0.02
TARGETS = {
    "gateway_vs_bare_aiohttp": "target >= 0.8",
    "gateway_vs_bare_with_records": "proposed target >= 0.8 (docs/deployment.md)",
    "bare_with_records_vs_bare": "what the records alone cost; no target",
    "gateway_rss_growth_mb": "target < 100",
}


def _ratio(name: str, value: float) -> None:
    print(f"ratio {name} {value:.3f}    # {TARGETS[name]}", flush=True)


def _note(text: str) -> None:
    print(f"# {text}", flush=True)


# --- the servers (child processes) -----------------------------------------------------------


def _gateway_app() -> web.Application:
    """Our gateway as ``serve`` builds it, minus the embedded worker (nothing consumes jobs)."""
    from briefkasten import config
    from briefkasten.broker.local import LocalJobQueue
    from briefkasten.gateway import create_app
    from briefkasten.storage import open_storage

    settings = config.load()
    storage = open_storage(settings.storage.resolved_url())
    jobs = LocalJobQueue(settings.broker.journal_dir.absolute(), recover=False)
    return create_app(settings, storage=storage, jobs=jobs)


def fsync_off() -> bool:
    """``BENCH_FSYNC=off``: the diagnostic run of the module docstring."""
    return os.environ.get("BENCH_FSYNC") == "off"


def _no_fsync(fd: object) -> None:
    """``os.fsync`` of a ``BENCH_FSYNC=off`` server: nothing."""


def serve(kind: str, directory: Path) -> None:
    """Child mode: bind 127.0.0.1 on a free port, print it, serve until terminated."""
    from baselines import bare_app, records_app  # bench/baselines.py (beside this file)

    if fsync_off():
        os.fsync = _no_fsync

    apps = {"bare": bare_app, "records": records_app}
    app = _gateway_app() if kind == "gateway" else apps[kind](directory)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print(sock.getsockname()[1], flush=True)
    web.run_app(app, sock=sock, print=None, handle_signals=True)


# --- starting and stopping them --------------------------------------------------------------


class Server:
    """A ``--serve`` child process: its URL, pid and output directories."""

    def __init__(self, kind: str, root: Path) -> None:
        self.kind = kind
        self.root = root
        self.data = root / "data"  # storage (gateway, records) or written files (bare)
        self.log = root / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")}
        env.update(
            {
                "BRIEFKASTEN_API_KEYS": f"{TENANT}:{KEY}",
                "BRIEFKASTEN_STORAGE": self.data.absolute().as_uri(),
                "BRIEFKASTEN_GATEWAY_SPOOL_DIR": str(self.root / "spool"),
                "BRIEFKASTEN_BROKER_JOURNAL_DIR": str(self.root / "journal"),
                "BRIEFKASTEN_BROKER_OUTBOX_DIR": str(self.root / "outbox"),
            }
        )
        return env

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, str(Path(__file__).resolve()), "--serve", self.kind]
        command.append(str(self.data))
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=log, env=self.env(), cwd=self.root
            )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT_S)
        line = self.process.stdout.readline().strip() if ready else b""
        if not line.isdigit():
            raise RuntimeError(f"{self.kind} server did not start: {self.log_tail()}")
        self.url = f"http://127.0.0.1:{int(line)}"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def clear(self) -> None:
        """Empty the output directory (between rounds, while the server is idle)."""
        if self.data.is_dir():
            for child in self.data.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-3:])
        return ""


@contextlib.contextmanager
def running(*servers: Server) -> Iterator[None]:
    try:
        for server in servers:
            server.start()
        yield
    finally:
        for server in servers:
            server.stop()


async def _wait_ready(session: aiohttp.ClientSession, server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"{server.url}/healthz") as response:
                if response.status == 200:
                    return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.kind} server not ready: {server.log_tail()}")
        await asyncio.sleep(0.1)


# --- the client ------------------------------------------------------------------------------


def _form(file: Any, filename: str, content_type: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("case_number", CASE)
    form.add_field("document_type", DOCUMENT_TYPE)
    form.add_field("file", file, filename=filename, content_type=content_type)
    return form


async def _post(session: aiohttp.ClientSession, url: str, form: aiohttp.FormData) -> int:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with session.post(f"{url}/api/v1/submissions", data=form, headers=headers) as response:
        await response.read()
        return response.status


async def _round(session: aiohttp.ClientSession, url: str, jpeg: bytes) -> tuple[float, int]:
    """``UPLOADS_PER_ROUND`` uploads, ``CONCURRENCY`` at a time: (seconds, how many got 202)."""
    # Hex, not random bytes: 16 random bytes after the end marker hold ``FF DA`` (start of scan)
    # about once in 4,400 bodies, and the sniffer then calls the file truncated (422).
    bodies = [jpeg + secrets.token_hex(16).encode() for _ in range(UPLOADS_PER_ROUND)]
    queue = list(range(UPLOADS_PER_ROUND))
    accepted = 0

    async def uploader() -> None:
        nonlocal accepted
        while queue:
            i = queue.pop()
            status = await _post(session, url, _form(bodies[i], f"seite-{i}.jpg", "image/jpeg"))
            accepted += status == 202

    started = time.perf_counter()
    await asyncio.gather(*(uploader() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started, accepted


def _settle(*servers: Server) -> None:
    """Idle servers, empty directories, no dirty pages left from the previous round."""
    for server in servers:
        server.clear()
    os.sync()


def _cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU seconds of process ``pid`` (or of its thread ``thread``)."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _throughput(
    servers: list[Server], jpeg: bytes
) -> tuple[dict[str, list[float]], dict[str, list[tuple[float, float]]]]:
    """Seconds per round of each server, and its CPU seconds per round (whole process, event
    loop thread). Each round runs every server once, in an order rotated from round to round."""
    timeout = aiohttp.ClientTimeout(total=ROUND_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=2 * CONCURRENCY)
    times: dict[str, list[float]] = {server.kind: [] for server in servers}
    cpu: dict[str, list[tuple[float, float]]] = {server.kind: [] for server in servers}
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        for server in servers:
            await _wait_ready(session, server)
            await _round(session, server.url, jpeg)  # warm-up: connections, threads, caches
        for number in range(ROUNDS):
            shift = number % len(servers)
            for server in servers[shift:] + servers[:shift]:
                _settle(*servers)
                used = _cpu_seconds(server.pid), _cpu_seconds(server.pid, server.pid)
                seconds, accepted = await _round(session, server.url, jpeg)
                now = _cpu_seconds(server.pid), _cpu_seconds(server.pid, server.pid)
                cpu[server.kind].append((now[0] - used[0], now[1] - used[1]))
                if accepted != UPLOADS_PER_ROUND:
                    raise RuntimeError(
                        f"{server.kind}: only {accepted}/{UPLOADS_PER_ROUND} uploads got 202; "
                        f"{server.log_tail()}"
                    )
                times[server.kind].append(seconds)
    _settle(*servers)
    return times, cpu


def jpeg_page(source: Path) -> bytes:
    """A phone-photo-like JPEG of a dense A4 page: some sensor noise, padded to ``JPEG_BYTES``.

    The padding goes after the end-of-image marker (decoders ignore it), so the gateway's
    sniffing sees a valid JPEG of a real page.
    """
    import numpy as np
    from PIL import Image

    with Image.open(source) as page:
        gray = np.asarray(page.convert("L"), dtype=np.int16)
    noisy = gray + np.random.default_rng(3).normal(0, 5, gray.shape).astype(np.int16)
    image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).convert("RGB")
    for quality in (90, 85, 80, 75, 70, 60, 50):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        data = buffer.getvalue()
        if len(data) <= JPEG_BYTES:
            break
    return data + b"\0" * max(0, JPEG_BYTES - len(data))


LABELS = {
    "gateway": "gateway (create_app, file storage, LocalJobQueue on disk, no worker)",
    "bare": "bare aiohttp (multipart → aiofiles + sha256, fsync file and directory, 202)",
    "records": "bare aiohttp + the intake's 5 durable records (baselines.records_app)",
}


def bench_throughput(pages: list[Path], work: Path) -> None:
    """``gateway_vs_bare_aiohttp`` and ``gateway_vs_bare_with_records``: module docstring."""
    from baselines import records_variant  # bench/baselines.py (beside this file)

    variant = records_variant()  # an unknown BENCH_RECORDS fails before any server starts
    jpeg = jpeg_page(pages[0])
    servers = [Server(kind, work / f"throughput-{kind}") for kind in LABELS]
    try:
        with running(*servers):
            times, cpu = asyncio.run(_throughput(servers, jpeg))
    finally:
        for server in servers:
            shutil.rmtree(server.root, ignore_errors=True)
    megabytes = UPLOADS_PER_ROUND * len(jpeg) / 1e6
    if fsync_off():
        _note("BENCH_FSYNC=off: no server fsyncs (a diagnosis, not figures of a durable upload)")
    if variant != "all":
        _note(f"BENCH_RECORDS={variant}: the records server writes fewer records (a diagnosis)")
    rates = {}
    for kind, label in LABELS.items():
        median = statistics.median(times[kind])
        rates[kind] = UPLOADS_PER_ROUND / median
        spread = ", ".join(f"{s:.2f}" for s in times[kind])
        _note(
            f"{label}: {rates[kind]:.1f} uploads/s, {megabytes / median:.1f} MB/s "
            f"(median of {ROUNDS} rounds; seconds per round: {spread})"
        )
    _note(
        f"each round: {UPLOADS_PER_ROUND} uploads of a {len(jpeg) / 1e6:.2f} MB JPEG page "
        f"(A4@300 dpi), {CONCURRENCY} concurrent, one aiohttp ClientSession; "
        f"all servers are subprocesses on 127.0.0.1; {os.cpu_count()} cores shared with the client"
    )
    _note(
        "the gateway does more per file than bare: sniff (JPEG end marker, header), move "
        "spool → storage with fsync of file and directory, intake record (storing, then "
        "queued), hash marker, manifest, job journal; the records server writes those "
        "records too, with plain os calls and nothing else"
    )
    per_upload = {
        kind: [
            statistics.median(c[i] for c in cpu[kind]) / UPLOADS_PER_ROUND * 1000 for i in (0, 1)
        ]
        for kind in cpu
    }
    _note(
        "server CPU per upload (median of the rounds; drifts less than wall time on a shared "
        "machine), whole process / its event loop: "
        + "; ".join(f"{kind} {p[0]:.1f} / {p[1]:.1f} ms" for kind, p in per_upload.items())
    )
    cores = len(os.sched_getaffinity(0))
    _note(
        "per core: "
        + ", ".join(f"{kind} {rate / cores:.1f} uploads/s" for kind, rate in rates.items())
        + f" ({cores} cores, shared with the client: a lower bound for a gateway with a core "
        "of its own)"
    )
    _ratio("gateway_vs_bare_aiohttp", rates["gateway"] / rates["bare"])
    _ratio("gateway_vs_bare_with_records", rates["gateway"] / rates["records"])
    _ratio("bare_with_records_vs_bare", rates["records"] / rates["bare"])


# --- RSS -------------------------------------------------------------------------------------


def _proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of ``pid`` in MB (MiB)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values


def _reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0; our own child, so we may)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def noise_png(path: Path) -> None:
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(5).integers(0, 256, (RSS_SIDE, RSS_SIDE, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format="PNG", compress_level=1)


async def _rss_load(server: Server, big: Path, small: bytes) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=RSS_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=RSS_UPLOADS)
    result: dict[str, Any] = {}
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await _wait_ready(session, server)
        result["start"] = _proc_status(server.pid)["VmRSS"]
        status = await _post(session, server.url, _form(small, "warmup.jpg", "image/jpeg"))
        if status != 202:
            raise RuntimeError(f"warm-up upload got {status}: {server.log_tail()}")
        await asyncio.sleep(0.5)
        os.sync()
        result["baseline"] = _proc_status(server.pid)["VmRSS"]
        result["hwm_reset"] = _reset_peak(server.pid)
        samples: list[float] = []

        async def upload(i: int) -> int:
            with big.open("rb") as handle:
                return await _post(session, server.url, _form(handle, f"scan-{i}.png", "image/png"))

        async def sample() -> None:
            while True:
                samples.append(_proc_status(server.pid)["VmRSS"])
                await asyncio.sleep(SAMPLE_INTERVAL_S)

        sampler = asyncio.create_task(sample())
        started = time.perf_counter()
        try:
            statuses = await asyncio.gather(*(upload(i) for i in range(RSS_UPLOADS)))
        finally:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
        result["seconds"] = time.perf_counter() - started
        after = _proc_status(server.pid)
        result["hwm"] = after["VmHWM"]
        result["end"] = after["VmRSS"]
        result["sampled_max"] = max(samples, default=0.0)
        result["accepted"] = sum(s == 202 for s in statuses)
        result["statuses"] = sorted(set(statuses))
        await asyncio.sleep(1.0)
        result["settled"] = _proc_status(server.pid)["VmRSS"]
    return result


def bench_rss(pages: list[Path], work: Path) -> None:
    """``gateway_rss_growth_mb``: see the module docstring."""
    root = work / "rss"
    root.mkdir(parents=True, exist_ok=True)
    server = Server("gateway", root / "gateway")
    big = root / "noise.png"
    try:
        noise_png(big)
        size = big.stat().st_size
        small = jpeg_page(pages[0])
        with running(server):
            result = asyncio.run(_rss_load(server, big, small))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    total_mb = RSS_UPLOADS * size / 1e6
    _note(
        f"{RSS_UPLOADS} concurrent uploads of a {RSS_SIDE}×{RSS_SIDE} RGB noise PNG "
        f"(~{size / 1e6:.1f} MB each, ~{total_mb / 1000:.1f} GB in all; default limits: "
        f"50 MiB per file, 80 MP) in {result['seconds']:.1f}s: "
        f"{result['accepted']}/{RSS_UPLOADS} got 202 (statuses {result['statuses']}); "
        "identical bodies, so 49 are flagged duplicate_of"
    )
    _note(
        f"gateway VmRSS: {result['start']:.0f} MB at start, {result['baseline']:.0f} MB after a "
        f"warm-up upload (baseline), sampled max {result['sampled_max']:.0f} MB, "
        f"VmHWM {result['hwm']:.0f} MB"
        + ("" if result["hwm_reset"] else " (VmHWM could not be reset: includes startup)")
        + f", {result['end']:.0f} MB when the last answer came, "
        f"{result['settled']:.0f} MB a second later"
    )
    if result["accepted"] != RSS_UPLOADS:
        _note("not every upload was accepted: the figure below is not meaningful")
    peak = max(result["hwm"], result["sampled_max"])
    _ratio("gateway_rss_growth_mb", peak - result["baseline"])


def bench_gateway(pages: list[Path], work: Path) -> None:
    """Both gateway figures; the RSS one runs even if throughput fails."""
    failure: Exception | None = None
    try:
        bench_throughput(pages, work)
    except Exception as exc:  # a benchmark reports; it never stops the others
        _note(f"gateway throughput failed: {type(exc).__name__}: {exc}")
        failure = exc
    bench_rss(pages, work)
    if failure is not None:
        raise failure


if __name__ == "__main__":
    if sys.argv[1:2] != ["--serve"] or len(sys.argv) != 4:
        sys.exit("usage: gateway.py --serve gateway|bare|records DIRECTORY  (bench.py runs this)")
    serve(sys.argv[2], Path(sys.argv[3]))
