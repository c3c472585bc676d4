"""``make bench``, hostile section: what the worst accepted uploads cost (issue 9).

Figures:

* ``gateway_hostile_peak_rss_mb``: the real gateway (``python -m briefkasten serve``, embedded
  mode, file storage and spool in the work directory, on 127.0.0.1 at a free port) while
  ``CLIENTS`` clients at once each upload one submission holding the worst accepted PDFs and
  TIFF (see ``gateway_files``); its VmRSS (``/proc/PID/status``) is sampled every 20 ms from a
  thread of this process. Target < 600. Also printed: ``gateway_hostile_baseline_rss_mb`` (after
  one small warm-up upload) and ``gateway_hostile_rss_after_mb`` (``AFTER_S`` s after the last
  answer), and as a note the peak total RSS of the sandbox children (every process below the
  gateway's fork server: sniff children, the embedded worker's page children, their Tesseract).
* ``worker_max_cpu_s_per_1mb_upload``: see ``bench/hostile_worker.py``. Target <= 60.

Every wait has a timeout; the gateway runs in a process group of its own, which is killed at
the end (so no sandbox child outlives the benchmark); nothing asserts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KEY = "bench-hostile-key-0123456789"
TENANT = "bench"
CASE = "12345BG0012345"
CLIENTS = 8
TIFF_FRAMES = 5  # 5 × 8944² = 399,966,720 pixels: just under limits.max_file_pixels (400 M)
HUGE_PAGES = 100  # limits.max_pages
CONTENT_MARGIN = 4096  # bytes under limits.max_page_content_bytes
SAMPLE_S = 0.02
CHILDREN_EVERY = 5  # walk /proc for the children every 5th sample (every 100 ms)
AFTER_S = 5.0
START_TIMEOUT_S = 60.0
UPLOAD_TIMEOUT_S = 240.0
TARGETS = {
    "gateway_hostile_peak_rss_mb": "target < 600",
    "gateway_hostile_baseline_rss_mb": "no target: before the load",
    "gateway_hostile_rss_after_mb": "target: back near the baseline",
    "worker_max_cpu_s_per_1mb_upload": "target <= 60",
}


def ratio(name: str, value: float) -> None:
    print(f"ratio {name} {value:.3f}    # {TARGETS[name]}", flush=True)


def note(text: str) -> None:
    print(f"# {text}", flush=True)


# --- the files -------------------------------------------------------------------------------


def gateway_files(work: Path) -> dict[str, Path]:
    """The worst uploads the gateway accepts (each answered 202, checked in the run):

    * ``inflating.pdf``: one page whose content inflates to just under
      ``limits.max_page_content_bytes`` (~64 KB on disk): the sniff child inflates all of it;
    * ``huge-pages.pdf``: ``limits.max_pages`` pages of 5 × 5 m (~12 KB): every page is opened
      and its text counted in the sniff child, and rendered at the pixel cap in the worker;
    * ``frames.tif``: ``TIFF_FRAMES`` frames of 80 MP sharing one strip (~80 KB): the sniff child
      decodes all 400 MP (just under ``limits.max_file_pixels``).
    """
    from briefkasten.config import LimitSettings
    from tests.support import hostile

    limits = LimitSettings()
    size = limits.max_page_content_bytes - CONTENT_MARGIN
    return {
        "inflating.pdf": hostile.pdf_page_inflating_to(work / "inflating.pdf", size),
        "huge-pages.pdf": hostile.pdf_huge_pages(work / "huge-pages.pdf", pages=HUGE_PAGES),
        "frames.tif": hostile.tiff_of_huge_frames(work / "frames.tif", frames=TIFF_FRAMES),
    }


def over_limit_files(work: Path) -> dict[str, Path]:
    """Each of ``gateway_files`` one step further: the run shows each is refused."""
    from briefkasten.config import LimitSettings
    from tests.support import hostile

    size = LimitSettings().max_page_content_bytes + 1
    return {
        "inflating.pdf": hostile.pdf_page_inflating_to(work / "over-inflating.pdf", size),
        "huge-pages.pdf": hostile.pdf_huge_pages(work / "over-huge.pdf", pages=HUGE_PAGES + 1),
        "frames.tif": hostile.tiff_of_huge_frames(work / "over.tif", frames=TIFF_FRAMES + 1),
    }


def unique(data: bytes, name: str) -> bytes:
    """``data`` made unique (so no upload is a duplicate of another) without changing what it
    decodes to: a PDF comment after ``%%EOF``, or bytes after the TIFF's strip."""
    nonce = secrets.token_hex(8).encode()
    return data + (b"%" + nonce + b"\n" if name.endswith(".pdf") else nonce)


def form(files: list[tuple[str, bytes]], document_type: str = "sonstiges") -> aiohttp.FormData:
    """One submission: one document per file."""
    data = aiohttp.FormData()
    data.add_field("case_number", CASE)
    for name, body in files:
        data.add_field("document_type", document_type)
        data.add_field("file", body, filename=name, content_type="application/octet-stream")
    return data


async def post(
    session: aiohttp.ClientSession, url: str, data: aiohttp.FormData
) -> tuple[int, dict[str, Any]]:
    """POST a submission: (status, JSON body or ``{}``)."""
    headers = {"Authorization": f"Bearer {KEY}"}
    async with session.post(f"{url}/api/v1/submissions", data=data, headers=headers) as response:
        try:
            body = await response.json(content_type=None)
        except ValueError:
            body = {}
        return response.status, body if isinstance(body, dict) else {}


def error_code(body: dict[str, Any]) -> str:
    error = body.get("error")
    return str(error.get("code")) if isinstance(error, dict) else "?"


# --- /proc -----------------------------------------------------------------------------------


def vm_rss_mb(pid: int) -> float:
    """VmRSS of ``pid`` in MiB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def parents() -> dict[int, int]:
    """pid → parent pid of every live (non-zombie) process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z":
            found[int(entry.name)] = int(parent)
    return found


def grandchildren(pid: int) -> set[int]:
    """Every process below a child of ``pid`` (the sandbox children under the fork server, and
    what they started), not the direct children themselves."""
    table = parents()
    children = {p for p, parent in table.items() if parent == pid}
    found: set[int] = set()
    level = {p for p, parent in table.items() if parent in children}
    while level:
        found |= level
        level = {p for p, parent in table.items() if parent in level} - found
    return found


class Sampler(threading.Thread):
    """Samples the gateway's VmRSS every ``SAMPLE_S`` and its sandbox children's total RSS."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.rss: list[float] = []
        self.children: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        count = 0
        while not self.stop.wait(SAMPLE_S):
            self.rss.append(vm_rss_mb(self.pid))
            count += 1
            if count % CHILDREN_EVERY == 0:
                pids = grandchildren(self.pid)
                self.children.append((sum(vm_rss_mb(p) for p in pids), len(pids)))


# --- the gateway -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_env(root: Path) -> dict[str, str]:
    """Embedded mode, everything under ``root``, one API key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")}
    env.update(
        {
            "BRIEFKASTEN_API_KEYS": f"{TENANT}:{KEY}",
            "BRIEFKASTEN_STORAGE": (root / "data").absolute().as_uri(),
            "BRIEFKASTEN_GATEWAY_SPOOL_DIR": str(root / "spool"),
            "BRIEFKASTEN_BROKER_JOURNAL_DIR": str(root / "journal"),
            "BRIEFKASTEN_BROKER_OUTBOX_DIR": str(root / "outbox"),
        }
    )
    return env


@contextlib.contextmanager
def serving(root: Path) -> Any:
    """``python -m briefkasten serve`` in a process group of its own: (process, URL)."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [sys.executable, "-m", "briefkasten", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    with (root / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=serve_env(root),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server, then SIGKILL its process group (its sandbox children included)."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


async def wait_ready(session: aiohttp.ClientSession, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
            async with session.get(f"{url}/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.2)
    tail = log.read_text(errors="replace").strip().splitlines()[-3:]
    raise RuntimeError(f"gateway not ready after {START_TIMEOUT_S:g}s: {' | '.join(tail)}")


def small_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((600, 400)).save(buffer, format="PNG")
    return buffer.getvalue()


async def load(
    pid: int, url: str, files: dict[str, Path], over: dict[str, Path], log: Path
) -> dict[str, Any]:
    """Warm-up, baseline, ``CLIENTS`` concurrent hostile submissions, ``AFTER_S`` s, then each
    of ``over`` alone (to show it is refused)."""
    bodies = {name: path.read_bytes() for name, path in files.items()}
    timeout = aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT_S)
    result: dict[str, Any] = {}
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await wait_ready(session, url, log)
        status, body = await post(session, url, form([("warmup.png", small_png())]))
        if status != 202:
            raise RuntimeError(f"warm-up upload got {status} {error_code(body)}")
        await asyncio.sleep(1.0)
        result["baseline"] = vm_rss_mb(pid)
        sampler = Sampler(pid)
        sampler.start()
        started = time.perf_counter()
        try:
            answers = await asyncio.gather(
                *(
                    post(session, url, form([(n, unique(b, n)) for n, b in bodies.items()]))
                    for _ in range(CLIENTS)
                ),
                return_exceptions=True,
            )
            result["seconds"] = time.perf_counter() - started
            result["end"] = vm_rss_mb(pid)
            await asyncio.sleep(AFTER_S)
            result["after"] = vm_rss_mb(pid)
        finally:
            sampler.stop.set()
            sampler.join(5)
        health = await session.get(f"{url}/healthz")
        result["healthz"] = health.status
        health.release()
        result["over"] = {}
        for name, path in over.items():
            status, body = await post(session, url, form([(name, path.read_bytes())]))
            result["over"][name] = f"{status} {error_code(body)}" if status != 202 else "202"
    result["answers"] = [
        f"{type(a).__name__}"
        if isinstance(a, BaseException)
        else f"{a[0]} {error_code(a[1])}"
        if a[0] != 202
        else "202"
        for a in answers
    ]
    result["peak"] = max(sampler.rss, default=0.0)
    result["samples"] = len(sampler.rss)
    result["children_peak"] = max(sampler.children, default=(0.0, 0))
    result["children_most"] = max((n for _, n in sampler.children), default=0)
    return result


def bench_gateway_rss(work: Path) -> None:
    """``gateway_hostile_peak_rss_mb`` and friends: see the module docstring."""
    from briefkasten import config

    root = work / "hostile-gateway"
    files, over = gateway_files(work), over_limit_files(work)
    with serving(root) as (process, url):
        result = asyncio.run(load(process.pid, url, files, over, root / "serve.log"))
    sizes = ", ".join(f"{n} {p.stat().st_size / 1000:.0f} KB" for n, p in files.items())
    accepted = result["answers"].count("202")
    note(
        f"{CLIENTS} concurrent clients, each one submission of {len(files)} documents ({sizes}; "
        f"each body made unique); answers: {accepted}/{CLIENTS} got 202"
        + ("" if accepted == CLIENTS else f" (others: {sorted(set(result['answers']))})")
        + f", all answered in {result['seconds']:.1f}s; /healthz after: {result['healthz']}"
    )
    note(
        "why these: the inflating page costs the sniff child the most memory (64 MiB inflated, "
        "the page-content limit), the 100 huge pages the most pages per file (limits.max_pages), "
        f"the TIFF the most decoded pixels ({TIFF_FRAMES} × 80 MP, limits.max_file_pixels); "
        "one step further is refused: "
        + ", ".join(f"{n} {v}" for n, v in result["over"].items())
        + f" (content limit + 1 byte, {HUGE_PAGES + 1} pages, {TIFF_FRAMES + 1} frames)"
    )
    settings = config.load(environ=serve_env(root))
    sandbox, workers = settings.sandbox, settings.worker_count
    children, count = result["children_peak"]
    note(
        f"gateway VmRSS sampled every {SAMPLE_S * 1000:.0f} ms ({result['samples']} samples): "
        f"baseline {result['baseline']:.0f} MB, peak {result['peak']:.0f} MB, "
        f"{result['end']:.0f} MB at the last answer, {result['after']:.0f} MB {AFTER_S:g}s later "
        "(the embedded worker is still working the jobs in this process then)"
    )
    note(
        f"sandbox children (below the gateway's fork server, sampled every "
        f"{SAMPLE_S * CHILDREN_EVERY * 1000:.0f} ms): peak total RSS {children:.0f} MB in "
        f"{count} processes (most at once: {result['children_most']}); bounded per child by "
        f"RLIMIT_AS sandbox.memory_mb = {sandbox.memory_mb} MiB for sniffs (sandbox.slots = "
        f"{sandbox.slots} at once) and sandbox.page_memory_mb = {sandbox.page_memory_mb} MiB for "
        f"the embedded worker's pages ({workers} at once), plus the Tesseract each page child runs"
    )
    if accepted != CLIENTS:
        note("not every upload was accepted: the figures below do not show the worst case")
    ratio("gateway_hostile_baseline_rss_mb", result["baseline"])
    ratio("gateway_hostile_peak_rss_mb", result["peak"])
    ratio("gateway_hostile_rss_after_mb", result["after"])


def bench_hostile(pages: list[Path], work: Path) -> None:
    """Both hostile figures; the worker one runs even if the gateway one fails."""
    import hostile_worker  # bench/hostile_worker.py (this directory is on sys.path)

    failure: Exception | None = None
    try:
        bench_gateway_rss(work)
    except Exception as exc:  # a benchmark reports; it never stops the others
        note(f"hostile gateway RSS failed: {type(exc).__name__}: {exc}")
        failure = exc
    hostile_worker.bench_worker_cpu(work)
    if failure is not None:
        raise failure
