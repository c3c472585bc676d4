"""Workers: take queued submissions and run ``service.deliver`` on them.

Distributed mode (``broker.amqp_url`` set): jobs come from the durable RabbitMQ work queue, any
number of ``briefkasten worker`` processes on any machine, small prefetch, ack only after the
result is stored and published, dead-letter after ``max_attempts``. Embedded mode: the same
loop over the on-disk job journal, inside ``briefkasten serve``; a restart resumes unfinished
jobs. Either way, pages run in a warm ``PagePool`` and an outbox flusher keeps retrying
messages RabbitMQ did not confirm; a retention ``Sweeper`` deletes handed-over submissions, a
``Reconciler`` queues what was never queued (or got stuck) and deletes orphaned originals and,
with RabbitMQ, a ``ConfirmationListener`` records the case systems' confirmations. A job that
fails is recorded in the submission's status: ``received`` while it waits for a retry, ``failed``
(with the error code) once it is dead-lettered.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from briefkasten.broker import distributed, publisher_factory
from briefkasten.broker.base import Action, Job, JobQueue
from briefkasten.broker.local import LocalJobQueue
from briefkasten.broker.outbox import Outbox, OutboxFlusher
from briefkasten.broker.rabbitmq import RabbitJobQueue
from briefkasten.config import Settings
from briefkasten.housekeeping.confirmations import ConfirmationListener
from briefkasten.housekeeping.periodic import Background
from briefkasten.housekeeping.reconcile import Reconciler
from briefkasten.housekeeping.retention import Sweeper
from briefkasten.monitoring.metrics import Metrics
from briefkasten.pipeline.pool import PagePool
from briefkasten.pipeline.sandbox import page_bounds
from briefkasten.service import Services, deliver, record_failure
from briefkasten.storage.base import Storage

log = logging.getLogger("briefkasten.worker")


@dataclass
class Worker:
    """One worker: a queue, a page pool, storage, outbox and publisher."""

    settings: Settings
    storage: Storage
    queue: LocalJobQueue | RabbitJobQueue
    stop: threading.Event
    #: The process's metrics (``serve`` shares the gateway's); by default the worker's own.
    metrics: Metrics | None = None

    def run(self, *, idle_timeout: float | None = None) -> int:
        """Handle jobs until ``stop`` is set (or idle for ``idle_timeout`` s); returns the count."""
        settings = self.settings
        outbox = Outbox(settings.broker.outbox_dir.absolute())
        metrics = self.metrics or Metrics()
        factory = metrics.publisher_factory(publisher_factory(settings))
        publisher = factory() if factory else None
        flusher = OutboxFlusher(outbox, factory).start() if factory else None
        housekeeping = start_housekeeping(settings, self.storage, outbox, self.queue)
        try:
            with PagePool(settings.worker_count, page_bounds(settings.sandbox)) as pool:
                storage = metrics.storage(self.storage)  # counts storage errors
                services = Services(settings, storage, outbox, publisher, pool, metrics)

                def handle(job: Job) -> None:
                    deliver(job, services)

                def failed(job: Job, action: Action, code: str) -> None:
                    record_failure(storage, job, action, code)

                if isinstance(self.queue, RabbitJobQueue):
                    return self.queue.consume(
                        handle,
                        prefetch=settings.broker.prefetch,
                        stop_event=self.stop,
                        idle_timeout=idle_timeout,
                        on_failure=failed,
                    )
                return self.queue.consume(
                    handle, stop_event=self.stop, idle_timeout=idle_timeout, on_failure=failed
                )
        finally:
            for task in housekeeping:
                task.stop()
            if flusher is not None:
                flusher.stop()
            if publisher is not None:
                publisher.close()


def start_housekeeping(
    settings: Settings, storage: Storage, outbox: Outbox, jobs: JobQueue | None = None
) -> list[Background]:
    """Retention: the periodic sweep, and (with RabbitMQ) the confirmations listener; with ``jobs``
    the reconciler, which queues into it what was never queued or got stuck."""
    tasks: list[Background] = []
    if jobs is not None and settings.reconcile.interval_s > 0:
        interval = settings.reconcile.interval_s
        tasks.append(Reconciler(storage, settings, jobs, interval=interval).start())
    if settings.retention.sweep_interval_s > 0:
        interval = settings.retention.sweep_interval_s
        tasks.append(Sweeper(storage, settings, outbox, interval=interval).start())
    if distributed(settings):
        tasks.append(ConfirmationListener(storage, settings).start())
    return tasks


def start_in_thread(worker: Worker) -> threading.Thread:
    """Run ``worker`` in a daemon thread (embedded mode inside ``serve``)."""

    def run() -> None:
        try:
            worker.run()
        except Exception:
            log.exception("embedded worker stopped")

    thread = threading.Thread(target=run, name="embedded-worker", daemon=True)
    thread.start()
    return thread
