"""Work distribution and publishing: jobs to workers, messages to the case systems.

``base`` has the shapes and protocols, ``outbox`` the transactional outbox and its flusher,
``amqp`` the RabbitMQ connection, ``rabbitmq`` the pika adapters (distributed mode),
``subscriber`` the consuming side for the reference consumer, ``dead_letters`` the operators'
view of dead jobs, ``local`` the embedded journal and the ``StubPublisher`` test double.
Nothing above this package sees ``pika``: every broker fault arrives as ``BrokerError``
(temporary, retried).

This module is the one place that chooses a backend: RabbitMQ when ``broker.amqp_url`` is set
(distributed mode), else the embedded journal and outbox. The adapters are imported only when
chosen, so ``briefkasten ingest`` and the sandbox children never load pika.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from briefkasten.broker.base import Job, JobQueue, OutboundMessage, Publisher
from briefkasten.config import Settings

if TYPE_CHECKING:
    from briefkasten.broker.dead_letters import LocalDeadLetters, RabbitDeadLetters
    from briefkasten.broker.local import LocalJobQueue
    from briefkasten.broker.rabbitmq import RabbitJobQueue, RabbitPublisher

__all__ = [
    "Job",
    "JobQueue",
    "OutboundMessage",
    "Publisher",
    "distributed",
    "open_dead_letters",
    "open_job_queue",
    "open_publisher",
    "publisher_factory",
]


def distributed(settings: Settings) -> bool:
    """RabbitMQ is configured (``broker.amqp_url``): jobs and messages go through it."""
    return bool(settings.broker.amqp_url)


def open_job_queue(settings: Settings, *, recover: bool = True) -> LocalJobQueue | RabbitJobQueue:
    """The queue jobs go through: RabbitMQ when configured, else the local journal (whose
    claimed jobs go back to pending first with ``recover``; a CLI command that must never take
    over a running worker's jobs passes ``recover=False``)."""
    broker = settings.broker
    if distributed(settings):
        from briefkasten.broker.rabbitmq import RabbitJobQueue

        return RabbitJobQueue(
            broker.amqp_url,
            broker.work_queue,
            max_attempts=broker.max_attempts,
            job_retry_delay=broker.retry_delay,
            job_retry_max_delay=broker.retry_max_delay,
        )
    from briefkasten.broker.local import LocalJobQueue

    return LocalJobQueue(
        broker.journal_dir.absolute(),
        max_attempts=broker.max_attempts,
        recover=recover,
        job_retry_delay=broker.retry_delay,
        job_retry_max_delay=broker.retry_max_delay,
    )


def open_publisher(settings: Settings, exchange: str | None = None) -> RabbitPublisher | None:
    """A RabbitMQ publisher on ``exchange`` (default ``broker.exchange``, the announcements),
    or ``None`` in embedded mode: there the outbox is the sink. A publisher belongs to the
    thread that uses it (pika): open one per thread."""
    if not distributed(settings):
        return None
    from briefkasten.broker.rabbitmq import RabbitPublisher

    return RabbitPublisher(settings.broker.amqp_url, exchange or settings.broker.exchange)


def publisher_factory(settings: Settings) -> Callable[[], Publisher] | None:
    """What makes a publisher of announcements, one per thread that publishes (a pika
    connection never crosses threads), or ``None`` in embedded mode: the outbox is the sink."""
    if not distributed(settings):
        return None
    from briefkasten.broker.rabbitmq import RabbitPublisher

    url, exchange = settings.broker.amqp_url, settings.broker.exchange
    return lambda: RabbitPublisher(url, exchange)


def open_dead_letters(settings: Settings) -> LocalDeadLetters | RabbitDeadLetters:
    """The dead-lettered jobs: RabbitMQ's ``<work_queue>.dead``, else the journal's. Close it
    after use."""
    broker = settings.broker
    if distributed(settings):
        from briefkasten.broker.dead_letters import RabbitDeadLetters

        return RabbitDeadLetters(broker.amqp_url, broker.work_queue)
    from briefkasten.broker.dead_letters import LocalDeadLetters

    return LocalDeadLetters(broker.journal_dir.absolute())
