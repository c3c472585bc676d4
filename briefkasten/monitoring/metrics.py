"""The Prometheus metrics of one process.

One ``Metrics`` object per process holds its own ``CollectorRegistry`` (tests build many apps
in one process; the global registry would refuse the second set of names). The gateway serves
it on ``GET /metrics``, ``briefkasten worker --metrics-port`` on a port of its own; in embedded
mode gateway and worker share one object. Queue depth, outbox and dead letters are gauges
computed at scrape time by ``_QueueCollector`` (cheap probes: a passive ``queue_declare`` on a
short-lived connection, or counting files in the journal and outbox).

Every counter and histogram series whose label values are known up front exists at 0 from the
first scrape (``start_at_zero``): the outcomes (``accepted``, ``duplicate``, every error code of
``errors.py``), the document results, the pipeline steps, the publish results, and the tenants
of the settings (``[tenants.<id>]`` tables and the tenants of the API keys). A series that is
born at 1 with its first event has no ``increase()`` over the window it was born in: after a
restart an alert such as ``BriefkastenNoDocumentsDelivered`` would fire although documents
were delivered. Each process creates the series of its own role (``ROLES``): the gateway's
uploads, the worker's pages, documents and steps; in embedded mode both. The publish results
start at 0 where a publisher is made (``publisher_factory``: RabbitMQ configured).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from briefkasten.broker.base import OutboundMessage, Publisher
from briefkasten.broker.local import count_jobs
from briefkasten.broker.outbox import count_pending
from briefkasten.config import Settings
from briefkasten.errors import (
    BrokerError,
    ConfigError,
    MessageUnroutable,
    StorageError,
    error_codes,
)
from briefkasten.model import DocumentResult
from briefkasten.pipeline.runner import RECORDED_STEPS
from briefkasten.storage.base import Storage, StoredObject

log = logging.getLogger("briefkasten.monitoring")

#: Seconds: pipeline steps take milliseconds (geometry) to a minute (OCR of a large page).
STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
#: Tesseract's mean word confidence, 0–100.
CONFIDENCE_BUCKETS = (10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0, 100.0)
PROBE_TIMEOUT = 2.0
#: The processes' roles: which series a process creates at 0 (``start_at_zero``).
GATEWAY, WORKER = "gateway", "worker"
ROLES = (GATEWAY, WORKER)
#: ``briefkasten_uploads_total{result}`` besides the error codes.
UPLOAD_OUTCOMES = ("accepted", "duplicate")
#: ``briefkasten_documents_total{result}``.
DOCUMENT_RESULTS = ("normalised", "normalisation_failed")
#: ``briefkasten_publish_total{result}`` (``CountingPublisher``).
PUBLISH_RESULTS = ("ok", "unroutable", "error")


def known_tenants(settings: Settings) -> tuple[str, ...]:
    """The tenants the settings name: ``[tenants.<id>]`` tables and the API keys' tenants."""
    named = {t.id for t in settings.tenants} | set(settings.api_key_tenants().values())
    return tuple(sorted(named))


class Metrics:
    """The metrics of one process, in a registry of its own; the series of ``tenants`` and
    the known outcomes for ``roles`` exist at 0 from the start."""

    def __init__(self, tenants: Iterable[str] = (), roles: Collection[str] = ROLES) -> None:
        self.registry = CollectorRegistry()
        reg = self.registry
        ProcessCollector(registry=reg)
        PlatformCollector(registry=reg)
        self.uploads = Counter(
            "briefkasten_uploads",
            "Submissions received by the gateway, by outcome (accepted, duplicate or error code)",
            ["tenant", "result"],
            registry=reg,
        )
        self.upload_bytes = Counter(
            "briefkasten_upload_bytes",
            "Bytes of accepted uploads",
            ["tenant"],
            registry=reg,
        )
        self.pages = Counter(
            "briefkasten_pages_processed",
            "Pages normalised by the workers",
            ["tenant"],
            registry=reg,
        )
        self.documents = Counter(
            "briefkasten_documents",
            "Documents delivered (to the outbox), normalised or with normalisation_failed",
            ["tenant", "result"],
            registry=reg,
        )
        self.stage_seconds = Histogram(
            "briefkasten_stage_seconds",
            "Time per page spent in each pipeline step",
            ["step"],
            buckets=STAGE_BUCKETS,
            registry=reg,
        )
        self.ocr_confidence = Histogram(
            "briefkasten_ocr_confidence",
            "Tesseract's mean word confidence per page (0-100)",
            ["tenant"],
            buckets=CONFIDENCE_BUCKETS,
            registry=reg,
        )
        self.publish = Counter(
            "briefkasten_publish",
            "Attempts to publish announcement messages to RabbitMQ, by result",
            ["result"],
            registry=reg,
        )
        self.malware_found = Counter(
            "briefkasten_malware_found",
            "Uploaded files the malware scan (clamd) found a signature in (quarantined)",
            ["tenant"],
            registry=reg,
        )
        self.storage_errors = Counter(
            "briefkasten_storage_errors",
            "Storage operations that failed (StorageError)",
            registry=reg,
        )
        self.start_at_zero(tuple(tenants), roles)

    def start_at_zero(self, tenants: Collection[str], roles: Collection[str] = ROLES) -> None:
        """Create the series of ``tenants`` and every known label value (value 0) for the
        process's ``roles``, so that ``increase()`` sees their first events."""
        if GATEWAY in roles:
            for tenant in tenants:
                for result in (*UPLOAD_OUTCOMES, *error_codes()):
                    self.uploads.labels(tenant, result)
                self.upload_bytes.labels(tenant)
                self.malware_found.labels(tenant)
        if WORKER in roles:
            for tenant in tenants:
                self.pages.labels(tenant)
                self.ocr_confidence.labels(tenant)
                for result in DOCUMENT_RESULTS:
                    self.documents.labels(tenant, result)
            for step in RECORDED_STEPS:
                self.stage_seconds.labels(step)

    @classmethod
    def for_settings(cls, settings: Settings, roles: Collection[str] = ROLES) -> Metrics:
        """Metrics with the scrape-time queue, outbox and dead-letter gauges for ``settings``,
        the series of its tenants for ``roles`` at 0."""
        metrics = cls(known_tenants(settings), roles)
        metrics.registry.register(_QueueCollector(settings))
        return metrics

    def upload(self, tenant: str, result: str, size: int = 0) -> None:
        self.uploads.labels(tenant, result).inc()
        if size:
            self.upload_bytes.labels(tenant).inc(size)

    def malware(self, tenant: str) -> None:
        """One file quarantined by the malware scan."""
        self.malware_found.labels(tenant).inc()

    def document_processed(self, tenant: str, result: DocumentResult) -> None:
        """Pages, step timings (from each page's history) and OCR confidences of a document."""
        self.pages.labels(tenant).inc(len(result.pages))
        for page in result.pages:
            for record in page.history:
                self.stage_seconds.labels(record.step).observe(record.ms / 1000)
            if page.ocr_confidence is not None:
                self.ocr_confidence.labels(tenant).observe(page.ocr_confidence)

    def document_delivered(self, tenant: str, *, failed: bool) -> None:
        self.documents.labels(tenant, "normalisation_failed" if failed else "normalised").inc()

    def exposition(self) -> bytes:
        """The text exposition format (blocking: the queue probe may wait up to seconds)."""
        return generate_latest(self.registry)

    def serve(self, port: int, host: str = "127.0.0.1") -> Callable[[], None]:
        """Serve ``/metrics`` over HTTP from a daemon thread; returns a function to stop it."""
        server, thread = start_http_server(port, addr=host, registry=self.registry)

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(5)

        return stop

    def storage(self, storage: Storage) -> Storage:
        return CountingStorage(storage, self.storage_errors.inc)

    def publisher(self, publisher: Publisher) -> Publisher:
        return CountingPublisher(publisher, self.publish)

    def publisher_factory(
        self, factory: Callable[[], Publisher] | None
    ) -> Callable[[], Publisher] | None:
        if factory is None:
            return None
        for result in PUBLISH_RESULTS:  # this process publishes (embedded mode never does)
            self.publish.labels(result)
        made = factory
        return lambda: self.publisher(made())


class _QueueCollector(Collector):
    """Gauges computed when scraped: jobs waiting, dead letters, outbox messages pending."""

    def __init__(self, settings: Settings) -> None:
        self._broker = settings.broker

    def collect(self) -> Iterable[Metric]:
        broker = self._broker
        waiting: int | None
        dead: int | None
        if broker.amqp_url:
            waiting, dead = self._rabbit_depths()
        else:
            waiting, dead = count_jobs(broker.journal_dir)
        yield from _gauge("briefkasten_jobs_in_queue", "Jobs waiting for a worker", waiting)
        yield from _gauge("briefkasten_dead_letters", "Jobs in the dead-letter queue", dead)
        pending = count_pending(broker.outbox_dir)
        yield from _gauge(
            "briefkasten_outbox_pending", "Announcement messages not yet published", pending
        )

    def _rabbit_depths(self) -> tuple[int | None, int | None]:
        from briefkasten.broker.probe import queue_depths  # pika only where RabbitMQ is used

        work, dead = self._broker.work_queue, f"{self._broker.work_queue}.dead"
        try:
            depths = queue_depths(self._broker.amqp_url, (work, dead), timeout=PROBE_TIMEOUT)
        except (BrokerError, ConfigError) as exc:
            log.warning("metrics: cannot count queues (%s)", exc.code)
            return None, None
        return depths[work], depths[dead]


def _gauge(name: str, documentation: str, value: int | None) -> Iterator[Metric]:
    if value is not None:  # unknown (broker away): leave the series out rather than say 0
        yield GaugeMetricFamily(name, documentation, value=value)


class CountingPublisher:
    """A ``Publisher`` that counts its publishes by result: ok, unroutable, error."""

    def __init__(self, inner: Publisher, counter: Counter) -> None:
        self._inner = inner
        self._counter = counter

    def publish(self, message: OutboundMessage) -> None:
        try:
            self._inner.publish(message)
        except MessageUnroutable:
            self._counter.labels("unroutable").inc()
            raise
        except BrokerError:
            self._counter.labels("error").inc()
            raise
        self._counter.labels("ok").inc()

    def close(self) -> None:
        self._inner.close()


class CountingStorage:
    """A ``Storage`` that counts every ``StorageError`` its inner storage raises."""

    def __init__(self, inner: Storage, on_error: Callable[[], None]) -> None:
        self._inner = inner
        self._on_error = on_error

    @property
    def bucket(self) -> str:
        return self._inner.bucket

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StorageError:
            self._on_error()
            raise

    def put_file(self, key: str, source: Path, *, content_type: str) -> StoredObject:
        stored: StoredObject = self._call(
            self._inner.put_file, key, source, content_type=content_type
        )
        return stored

    def adopt_file(self, key: str, source: Path, *, content_type: str, sha256: str) -> StoredObject:
        stored: StoredObject = self._call(
            self._inner.adopt_file, key, source, content_type=content_type, sha256=sha256
        )
        return stored

    def put_bytes(self, key: str, data: bytes, *, content_type: str) -> StoredObject:
        stored: StoredObject = self._call(
            self._inner.put_bytes, key, data, content_type=content_type
        )
        return stored

    def create_bytes(self, key: str, data: bytes, *, content_type: str) -> bool:
        return bool(self._call(self._inner.create_bytes, key, data, content_type=content_type))

    def get_file(self, key: str, destination: Path) -> None:
        self._call(self._inner.get_file, key, destination)

    def get_bytes(self, key: str) -> bytes:
        data: bytes = self._call(self._inner.get_bytes, key)
        return data

    def exists(self, key: str) -> bool:
        return bool(self._call(self._inner.exists, key))

    def delete(self, key: str) -> None:
        self._call(self._inner.delete, key)

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = self._call(self._inner.list, prefix)
        return keys

    def check(self) -> None:
        self._call(self._inner.check)

    def __repr__(self) -> str:
        return f"CountingStorage({self._inner!r})"
