"""``make bench``, hostile section: the most worker CPU an accepted upload of <= 1 MB can cost.

``worker_max_cpu_s_per_1mb_upload`` (target <= 60, the default ``limits.worker_cpu_s_min``):
each candidate (``candidates``: one submission of at most 1 MB) is posted to our gateway
(``bench/gateway.py --serve gateway``: ``create_app``, file storage, the on-disk job journal, no
worker), which must answer 202, so its sniff (in the sandbox) accepted every file. Then each
accepted submission is run through ``briefkasten.service.deliver`` in a fresh process of its
own (``--worker-child``: embedded settings, the ``default`` pipeline, one page worker, the
gateway's storage), and its CPU seconds are counted there:

* the worker process's own CPU: ``getrusage(RUSAGE_SELF)`` around ``process``;
* the sandbox children's CPU: they are children of the worker's fork server, which reaps them,
  so the fork server's ``cutime + cstime`` (``/proc/PID/stat``) grows by exactly what they (and
  the Tesseract each one waited for) used;
* cross-checks: ``CpuBudget.spent`` of the submission (``service.cpu_budget`` is wrapped to
  see it; what children report, a killed child counted at its whole limit) and the machine's
  busy CPU time from ``/proc/stat`` over the child's run (every process on the machine: an
  upper bound on a shared machine).

The figure is the largest own + children total. Each worker child has a wall-clock timeout
and runs in a process group of its own, killed at the end.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import hostile as common  # bench/hostile.py

MAX_BYTES = 1_000_000
JPEG_FILES = 20
DENSE_PAGES = 100
WORKER_TIMEOUT_S = 480.0
IDLE_S = 1.0  # the Worker loop ends after this long without a job
PARALLEL = 2  # worker processes at once (each counts its own CPU)
UPLOAD_TIMEOUT_S = 120.0


# --- the candidates --------------------------------------------------------------------------


def dense_raster_pdf(path: Path, pages: int = DENSE_PAGES) -> Path:
    """``pages`` A4 pages all drawing one greyscale JPEG of a dense text page at 300 dpi: no
    text characters (so every page is raster, rendered and OCRed), one image on disk."""
    from samples import generate
    from tests.support import hostile

    image, _ = generate.render_page("kontoauszug", seed=11, dpi=300)
    gray = image.convert("L")
    buffer = io.BytesIO()
    gray.save(buffer, format="JPEG", quality=50)
    jpeg = buffer.getvalue()
    width, height = gray.size
    first_page = 6
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        hostile.stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q"),
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n"
        % (width, height, len(jpeg))
        + jpeg
        + b"\nendstream",
        b"<< /XObject << /Im0 4 0 R >> >>",
    ]
    for _ in range(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources 5 0 R "
            b"/Contents 3 0 R >>"
        )
    path.write_bytes(hostile.pdf_bytes(objects))
    return path


def smooth_jpeg(side: int) -> bytes:
    """A ``side``² grey gradient as a progressive JPEG."""
    from PIL import Image

    gradient = Image.linear_gradient("L").rotate(30).resize((side, side), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    gradient.save(buffer, format="JPEG", progressive=True, quality=75, optimize=True)
    return buffer.getvalue()


def smooth_jpegs(count: int, budget: int) -> tuple[int, bytes]:
    """The largest gradient JPEG (side, bytes) of which ``count`` fit in ``budget`` bytes."""
    side = 8944  # 80 MP, limits.max_pixels
    while side > 500:
        data = smooth_jpeg(side)
        if count * (len(data) + 400) <= budget:  # 400: the multipart headers of one file
            return side, data
        side = int(side * 0.85)
    return side, smooth_jpeg(side)


Candidate = tuple[str, list[tuple[str, bytes]]]


def candidates(work: Path) -> list[Candidate]:
    """(label, files of one document) for every candidate submission, each <= ``MAX_BYTES``."""
    from tests.support import hostile

    files = common.gateway_files(work)
    a4 = hostile.pdf_of_pages(work / "a4-pages.pdf", 100)
    dense = dense_raster_pdf(work / "dense-raster.pdf")
    side, jpeg = smooth_jpegs(JPEG_FILES, MAX_BYTES)
    big_side, big = smooth_jpegs(2, MAX_BYTES)
    found: list[Candidate] = [
        ("100 huge pages (5 × 5 m) PDF", [("huge.pdf", files["huge-pages.pdf"].read_bytes())]),
        ("100 A4 pages PDF (one shared line)", [("a4.pdf", a4.read_bytes())]),
        (
            f"{DENSE_PAGES} dense text pages as one shared image (0 chars)",
            [("dense.pdf", dense.read_bytes())],
        ),
        (
            f"TIFF of {common.TIFF_FRAMES} frames of 80 MP sharing a strip",
            [("frames.tif", files["frames.tif"].read_bytes())],
        ),
        (
            f"{JPEG_FILES} progressive grey-gradient JPEGs of {side}² ({side * side / 1e6:.0f} MP)",
            [(f"seite{i}.jpg", common.unique(jpeg, "x.jpg")) for i in range(JPEG_FILES)],
        ),
        (
            f"2 progressive grey-gradient JPEGs of {big_side}² ({big_side**2 / 1e6:.0f} MP)",
            [(f"foto{i}.jpg", common.unique(big, "x.jpg")) for i in range(2)],
        ),
        (
            "one page inflating to just under the page-content limit",
            [("inflating.pdf", files["inflating.pdf"].read_bytes())],
        ),
    ]
    return [(label, f) for label, f in found if sum(len(b) for _, b in f) <= MAX_BYTES]


# --- submitting them -------------------------------------------------------------------------


async def submit_all(url: str, key: str, found: list[Candidate]) -> list[tuple[int, str]]:
    """POST each candidate as one submission of one document: (status, submission id or code)."""
    timeout = aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT_S)
    answers = []
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for _, files in found:
            data = aiohttp.FormData()
            data.add_field("case_number", common.CASE)
            data.add_field("document_type", "sonstiges")
            for name, body in files:
                data.add_field("file", body, filename=name, content_type="application/octet-stream")
            headers = {"Authorization": f"Bearer {key}"}
            async with session.post(
                f"{url}/api/v1/submissions", data=data, headers=headers
            ) as response:
                body = await response.json(content_type=None)
                status = response.status
            answers.append(
                (status, str(body["submission_id"]) if status == 202 else common.error_code(body))
            )
    return answers


def submit(root: Path, found: list[Candidate]) -> list[tuple[int, str]]:
    import gateway  # bench/gateway.py

    server = gateway.Server("gateway", root)  # its storage, journal, spool: as worker_env's
    with gateway.running(server):
        return asyncio.run(submit_all(server.url, gateway.KEY, found))


def worker_env(root: Path) -> dict[str, str]:
    env = common.serve_env(root)
    env["BRIEFKASTEN_PIPELINE_WORKERS"] = "1"
    env["BRIEFKASTEN_PIPELINE_NAME"] = "default"
    env["BRIEFKASTEN_BROKER_RETRY_DELAY"] = "0"  # retries at once: same CPU, less waiting
    env["BRIEFKASTEN_RETENTION_SWEEP_INTERVAL_S"] = "0"
    return env


# --- measuring one submission (child mode) ---------------------------------------------------


def _children_cpu(pid: int) -> float:
    """cutime + cstime of ``pid``: the CPU of the children it reaped."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


class Spies:
    """Wraps ``service.cpu_budget`` and ``service.build_and_store`` to see each attempt's
    budget and each document's outcome or error (the product code runs unchanged)."""

    def __init__(self) -> None:
        from briefkasten import service

        self.budgets: list[Any] = []
        self.outcomes: list[str] = []
        self.errors: list[str] = []
        real_budget = service.cpu_budget
        real_build = service.build_and_store

        def budget(*args: Any) -> Any:
            self.budgets.append(real_budget(*args))
            return self.budgets[-1]

        def build(*args: Any, **kwargs: Any) -> Any:
            try:
                parts = real_build(*args, **kwargs)
            except Exception as exc:
                self.errors.append(f"attempt {len(self.budgets)}: {type(exc).__name__} {exc}")
                raise
            reason = parts[0].failure_reason
            self.outcomes.append(f"normalisation_failed ({reason})" if reason else "delivered")
            return parts

        service.cpu_budget = budget  # type: ignore[assignment]
        service.build_and_store = build  # type: ignore[assignment]


def worker_child(submission_id: str) -> None:
    """Child mode: the real ``Worker`` loop (``service.deliver``, retries as configured) on a
    journal holding only this submission's job; print its CPU as one JSON line."""
    import dataclasses
    import multiprocessing
    import threading
    from multiprocessing import forkserver

    from briefkasten import config
    from briefkasten.broker import open_job_queue
    from briefkasten.broker.base import Job
    from briefkasten.pipeline.sandbox import PRELOAD
    from briefkasten.storage import open_storage
    from briefkasten.worker import Worker

    settings = config.load()
    journal = Path(f"journal-{submission_id}").absolute()
    broker = dataclasses.replace(settings.broker, journal_dir=journal)
    settings = dataclasses.replace(settings, broker=broker)
    spies = Spies()
    queue = open_job_queue(settings)
    queue.enqueue(Job(f"bench-{submission_id}", submission_id, common.TENANT))
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()  # the Sandbox's fork server: started now, to read it before
    server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    storage = open_storage(settings.storage.resolved_url())
    worker = Worker(settings, storage, queue, threading.Event())
    own_before = resource.getrusage(resource.RUSAGE_SELF)
    children_before = _children_cpu(server)
    started = time.perf_counter()
    handled = worker.run(idle_timeout=IDLE_S)
    wall = time.perf_counter() - started - IDLE_S
    children = _children_cpu(server) - children_before
    own_after = resource.getrusage(resource.RUSAGE_SELF)
    own = sum(getattr(own_after, f) - getattr(own_before, f) for f in ("ru_utime", "ru_stime"))
    result = {
        "own": own,
        "children": children,
        "wall": wall,
        "handled": handled,
        "budgets": [b.seconds for b in spies.budgets],
        "spent": [b.spent for b in spies.budgets],
        "outcomes": spies.outcomes,
        "errors": spies.errors,
        "dead": len(queue.dead_jobs()) if hasattr(queue, "dead_jobs") else 0,
    }
    print(json.dumps(result), flush=True)


def machine_busy_s() -> float:
    """Busy CPU seconds of the whole machine so far (``/proc/stat``, all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def measure(root: Path, submission_id: str) -> dict[str, Any]:
    """Run ``--worker-child`` for one submission (bounded, own process group)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker-child", submission_id]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=worker_env(root),
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,
        )
        try:
            out, _ = process.communicate(timeout=WORKER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return {"error": f"no result within {WORKER_TIMEOUT_S:g}s (killed)"}
        finally:
            common.stop_group(process)
        errors.seek(0)
        tail = errors.read().decode(errors="replace").strip().splitlines()[-1:]
    lines = out.decode(errors="replace").strip().splitlines()
    if process.returncode != 0 or not lines:
        return {"error": f"exit code {process.returncode}: {' '.join(tail)}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def describe(label: str, files: list[tuple[str, bytes]], result: dict[str, Any]) -> str:
    size = sum(len(b) for _, b in files)
    head = f"{label}: {len(files)} file(s), {size / 1000:.0f} KB"
    if "error" in result:
        return f"{head}: worker run failed: {result['error']}"
    spent = " + ".join(f"{s:.1f}" for s in result["spent"])
    budgets = sorted(set(result["budgets"]))
    text = (
        f"{head}: {result['own'] + result['children']:.1f} CPU s (worker process "
        f"{result['own']:.2f} + sandbox children {result['children']:.1f}) in "
        f"{len(result['spent'])} attempt(s), CpuBudget.spent {spent} (budget {budgets} per "
        f"attempt), wall {result['wall']:.1f}s; outcome: {', '.join(result['outcomes']) or '-'}"
    )
    if result["errors"]:
        text += f"; attempts that raised: {' | '.join(result['errors'])}"
    if result["dead"]:
        text += f"; {result['dead']} dead-lettered job(s)"
    return text


def bench_worker_cpu(work: Path) -> None:
    """``worker_max_cpu_s_per_1mb_upload``: see the module docstring."""
    root = work / "hostile-worker"
    found = candidates(work)
    answers = submit(root, found)
    runs = [(c, a[1]) for c, a in zip(found, answers, strict=True) if a[0] == 202]
    for (label, _), (status, code) in zip(found, answers, strict=True):
        if status != 202:
            common.note(f"{label}: refused at upload ({status} {code}), not a candidate")
    busy, started = machine_busy_s(), time.perf_counter()
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda run: measure(root, run[1]), runs))
    busy, seconds = machine_busy_s() - busy, time.perf_counter() - started
    totals = [r["own"] + r["children"] for r in results if "error" not in r]
    for ((label, files), _), result in zip(runs, results, strict=True):
        common.note(describe(label, files, result))
    common.note(
        "CPU s = worker process (getrusage RUSAGE_SELF around service.deliver) + sandbox "
        "children (cutime + cstime of the worker's fork server, which reaps them) over every "
        "attempt the real Worker loop makes (broker.max_attempts, retry delay 0 here); each "
        f"submission in a fresh worker process, pipeline 'default', 1 page worker, {PARALLEL} "
        "submissions at a time"
    )
    common.note(
        f"cross-check: the runs' CPU s add up to {sum(totals):.1f}; the whole machine was busy "
        f"for {busy:.1f} CPU s in those {seconds:.0f}s (/proc/stat: every process on this "
        f"machine, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} now)"
    )
    attempts = [(s, r["budgets"][0]) for r in results if "error" not in r for s in r["spent"]]
    if attempts:
        spent, budget = max(attempts)
        common.note(
            f"most CPU s of one attempt (CpuBudget.spent): {spent:.1f} of a {budget:g} s budget; "
            "an upload costs more than its budget only by being attempted again"
        )
    common.ratio("worker_max_cpu_s_per_1mb_upload", max(totals, default=0.0))


if __name__ == "__main__":
    if sys.argv[1:2] != ["--worker-child"] or len(sys.argv) != 3:
        sys.exit("usage: hostile_worker.py --worker-child SUBMISSION_ID  (bench.py runs this)")
    worker_child(sys.argv[2])
