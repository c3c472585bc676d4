"""Several gateways and workers as real processes on one machine, and the load that drives them.

The multi-node test (``tests/e2e/test_multinode.py``) and ``make bench`` (``bench/multinode.py``)
share this: ``Cluster`` starts ``briefkasten serve`` (gateways) and ``briefkasten worker``
processes configured only through the environment, on one RabbitMQ vhost, one S3 bucket and,
when given, one Redis; ``Load`` sends submissions from concurrent clients spread over the
gateways, as a load balancer without sticky sessions would: a client whose gateway refuses
the connection, or answers 5xx, tries the next one with the same ``Idempotency-Key``. Some
submissions go in as tus uploads begun on one gateway and finished on another. Every wait is
bounded; processes are killed in ``stop``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import io
import os
import secrets
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.servers import free_port, stop_group

TENANT = "jc-cluster"
KEY = "cluster-key-0123456789"
CASE = "12345BG0012345"
START_TIMEOUT_S = 90.0
#: One submission may take this long, retries included (a gateway killed, RabbitMQ restarting).
SUBMISSION_DEADLINE_S = 180.0
REQUEST_TIMEOUT_S = 60.0


def clean_environ(**settings: str) -> dict[str, str]:
    """This process's environment without its ``BRIEFKASTEN_*`` variables, plus ``settings``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")}
    return {**clean, **settings}


@dataclasses.dataclass
class Node:
    """One ``briefkasten serve`` or ``briefkasten worker`` process."""

    kind: str  # "gateway" or "worker"
    name: str
    root: Path
    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}.log"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        if self.kind == "gateway":
            command = ["serve", "--port", str(self.port)]
        else:  # its metrics port tells when it is up
            command = ["worker", "--idle-timeout", "3600", "--metrics-port", str(self.port)]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "briefkasten", *command],
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its children too: killpg takes the whole node
            )
        self.starts += 1

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            probe = "/healthz" if self.kind == "gateway" else "/metrics"
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + probe, timeout=2) as answer,
            ):
                if answer.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready within {START_TIMEOUT_S:.0f} s: {self.tail()}")

    def kill(self, *, gently: bool = False) -> None:
        """SIGKILL (``gently``: SIGTERM, SIGKILL after 30 s) to the node and its children."""
        if self.process is not None:
            stop_group(self.process, kill=not gently, timeout=30)

    def tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


@dataclasses.dataclass
class Cluster:
    """``gateways`` gateways and ``workers`` workers on shared RabbitMQ, S3 (and Redis)."""

    root: Path
    amqp_url: str
    storage_url: str
    exchange: str
    work_queue: str
    redis_url: str = ""
    gateways: list[Node] = dataclasses.field(default_factory=list)
    workers: list[Node] = dataclasses.field(default_factory=list)

    def env(self, name: str) -> dict[str, str]:
        env = {
            **clean_environ(),
            "BRIEFKASTEN_AMQP_URL": self.amqp_url,
            "BRIEFKASTEN_STORAGE": self.storage_url,
            "BRIEFKASTEN_BROKER_EXCHANGE": self.exchange,
            "BRIEFKASTEN_BROKER_WORK_QUEUE": self.work_queue,
            "BRIEFKASTEN_BROKER_OUTBOX_DIR": str(self.root / name / "outbox"),
            "BRIEFKASTEN_BROKER_JOURNAL_DIR": str(self.root / name / "journal"),
            "BRIEFKASTEN_BROKER_MAX_ATTEMPTS": "10",
            "BRIEFKASTEN_BROKER_RETRY_DELAY": "1",
            "BRIEFKASTEN_BROKER_RETRY_MAX_DELAY": "5",
            "BRIEFKASTEN_API_KEYS": f"{TENANT}:{KEY}",
            "BRIEFKASTEN_LINKS_SECRET": "cluster-secret-" + "x" * 40,
            "BRIEFKASTEN_GATEWAY_SPOOL_DIR": str(self.root / name / "spool"),
            "BRIEFKASTEN_GATEWAY_TUS_STORE": "storage",
            "BRIEFKASTEN_GATEWAY_RATE_LIMIT_PER_IP": "100000/minute",
            "BRIEFKASTEN_GATEWAY_PRECHECK_WORKERS": "0",
            "BRIEFKASTEN_PIPELINE_NAME": "ocr-only",
            "BRIEFKASTEN_PIPELINE_WORKERS": "1",
        }
        if self.redis_url:
            env["BRIEFKASTEN_GATEWAY_RATE_LIMIT_STORAGE"] = self.redis_url
        return env

    def start(self, gateways: int, workers: int) -> None:
        for kind, count, nodes in (
            ("gateway", gateways, self.gateways),
            ("worker", workers, self.workers),
        ):
            for number in range(count):
                name = f"{kind}-{number}"
                nodes.append(Node(kind, name, self.root / name, self.env(name)))
        for node in (*self.gateways, *self.workers):
            node.start()
        for node in (*self.gateways, *self.workers):
            node.wait_ready()

    def restart(self, node: Node) -> None:
        node.start()
        node.wait_ready()

    def stop(self) -> None:
        for node in (*self.gateways, *self.workers):
            node.kill(gently=True)

    def logs(self) -> str:
        return "\n".join(f"--- {n.name}\n{n.tail()}" for n in (*self.gateways, *self.workers))


@contextlib.contextmanager
def started(*nodes: Node) -> Iterator[None]:
    """``nodes`` started and answering for the ``with`` body; SIGTERM to them at its end."""
    try:
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()
        yield
    finally:
        for node in nodes:
            node.kill(gently=True)


@contextlib.contextmanager
def running(cluster: Cluster, gateways: int, workers: int) -> Iterator[Cluster]:
    try:
        cluster.start(gateways, workers)
        yield cluster
    finally:
        cluster.stop()


# --- the load ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Sent:
    """One submission as the client made it, and what it got back."""

    number: int
    page: bytes
    via_tus: bool
    submission_id: str = ""
    latency_s: float = 0.0
    attempts: int = 0
    gateways: list[str] = dataclasses.field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.page).hexdigest()


class Load:
    """``total`` submissions from ``clients`` concurrent clients over ``gateways``; every
    ``tus_every``-th one as a tus upload begun on one gateway and resumed on the next."""

    def __init__(
        self,
        gateways: list[Node],
        page: Callable[[int], bytes],
        *,
        total: int,
        clients: int,
        tus_every: int = 10,
    ) -> None:
        self.gateways = gateways
        self.sent = [
            Sent(n, page(n), via_tus=tus_every > 0 and n % tus_every == 0) for n in range(total)
        ]
        self.clients = clients
        self.accepted = 0
        self.failures: list[str] = []
        self.started = self.finished = 0.0

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        connector = aiohttp.TCPConnector(limit=2 * self.clients, force_close=True)
        todo = list(reversed(self.sent))
        self.started = time.monotonic()
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

            async def client() -> None:
                while todo:
                    await self._submit(session, todo.pop())

            await asyncio.gather(*(client() for _ in range(self.clients)))
        self.finished = time.monotonic()

    async def _submit(self, session: aiohttp.ClientSession, sent: Sent) -> None:
        key = f"cluster-{sent.number}-{secrets.token_hex(4)}"
        began = time.monotonic()
        first = sent.number % len(self.gateways)
        delay = 0.2
        while time.monotonic() - began < SUBMISSION_DEADLINE_S:
            gateway = self.gateways[(first + sent.attempts) % len(self.gateways)]
            sent.attempts += 1
            sent.gateways.append(gateway.name)
            try:
                if sent.via_tus:
                    status, body = await self._via_tus(session, sent, gateway, key)
                else:
                    status, body = await self._via_form(session, sent, gateway, key)
            except (TimeoutError, aiohttp.ClientError, ConnectionError) as exc:
                status, body = 0, {"error": type(exc).__name__}
            if status == 202:
                sent.submission_id = body["submission_id"]
                sent.latency_s = time.monotonic() - began
                self.accepted += 1
                return
            if status and status < 500 and status not in (409, 429):
                self.failures.append(f"{sent.number}: {status} {body}")
                return
            await asyncio.sleep(delay)  # the load balancer's next try, a little later
            delay = min(delay * 2, 3.0)
        self.failures.append(f"{sent.number}: no 202 within {SUBMISSION_DEADLINE_S:.0f} s")

    async def _via_form(
        self, session: aiohttp.ClientSession, sent: Sent, gateway: Node, key: str
    ) -> tuple[int, Any]:
        form = aiohttp.FormData()
        form.add_field("case_number", CASE)
        form.add_field("document_type", "kontoauszug")
        form.add_field(
            "file", sent.page, filename=f"seite-{sent.number}.png", content_type="image/png"
        )
        headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": key}
        async with session.post(
            f"{gateway.url}/api/v1/submissions", data=form, headers=headers
        ) as answer:
            return answer.status, await _json(answer)

    async def _via_tus(
        self, session: aiohttp.ClientSession, sent: Sent, gateway: Node, key: str
    ) -> tuple[int, Any]:
        """Create on ``gateway``, send the first half there, the rest (after ``HEAD``) and the
        submission through the next gateway: an upload resumed elsewhere."""
        other = self.gateways[(self.gateways.index(gateway) + 1) % len(self.gateways)]
        tus = {"Authorization": f"Bearer {KEY}", "Tus-Resumable": "1.0.0"}
        name = base64.b64encode(f"seite-{sent.number}.png".encode()).decode()
        async with session.post(
            f"{gateway.url}/api/v1/tus/",
            headers={
                **tus,
                "Upload-Length": str(len(sent.page)),
                "Upload-Metadata": f"filename {name}",
            },
        ) as answer:
            if answer.status != 201:
                return answer.status, await _json(answer)
            location = answer.headers["Location"]
        half = len(sent.page) // 2
        for node, start, end in ((gateway, 0, half), (other, None, len(sent.page))):
            if start is None:
                async with session.head(f"{node.url}{location}", headers=tus) as answer:
                    if answer.status != 200:
                        return answer.status, {}
                    start = int(answer.headers["Upload-Offset"])
            headers = {
                **tus,
                "Upload-Offset": str(start),
                "Content-Type": "application/offset+octet-stream",
            }
            async with session.patch(
                f"{node.url}{location}", data=sent.page[start:end], headers=headers
            ) as answer:
                if answer.status != 204:
                    return answer.status, await _json(answer)
        body = {
            "case_number": CASE,
            "documents": [
                {"document_type": "kontoauszug", "uploads": [location.rsplit("/", 1)[1]]}
            ],
        }
        headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": key}
        async with session.post(
            f"{other.url}/api/v1/submissions", json=body, headers=headers
        ) as answer:
            return answer.status, await _json(answer)

    def p95_latency_s(self) -> float:
        latencies = sorted(s.latency_s for s in self.sent if s.submission_id)
        if len(latencies) < 2:
            return latencies[0] if latencies else 0.0
        return statistics.quantiles(latencies, n=20)[-1]

    def summary(self) -> str:
        retried = sum(1 for s in self.sent if s.attempts > 1)
        return (
            f"{self.accepted}/{len(self.sent)} accepted in {self.finished - self.started:.1f} s, "
            f"{retried} after a retry on another gateway, p95 receipt latency "
            f"{self.p95_latency_s():.2f} s"
        )


async def _json(answer: aiohttp.ClientResponse) -> Any:
    with contextlib.suppress(aiohttp.ContentTypeError, ValueError):
        return await answer.json()
    return {"text": (await answer.text())[:200]}


def small_page(number: int) -> bytes:
    """A small text page, different for every number (no two submissions share a hash)."""
    from tests.support import factories

    buffer = io.BytesIO()
    lines = (f"Kontoauszug Nr. {number}", f"Buchung {number * 7 % 1000} Miete")
    factories.text_page(lines, size=(700, 300), font_size=28).save(
        buffer, format="PNG", dpi=(150, 150)
    )
    return buffer.getvalue()
