"""Work distribution and publishing: jobs to workers, messages to the case systems.

``base`` has the shapes and protocols, ``outbox`` the transactional outbox and its flusher,
``rabbitmq`` the pika adapters (distributed mode), ``subscriber`` the consuming side for the
reference consumer, ``local`` the embedded journal and the ``StubPublisher`` test double.
Nothing above this package sees ``pika``: every broker fault arrives as ``BrokerError``
(temporary, retried).
"""

from briefkasten.broker.base import (
    Job,
    JobQueue,
    MessageUnroutable,
    OutboundMessage,
    Publisher,
)

__all__ = ["Job", "JobQueue", "MessageUnroutable", "OutboundMessage", "Publisher"]
