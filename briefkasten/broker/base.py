"""Shapes and protocols of the broker layer: outbound messages, publishers, jobs, job queues.

Jobs count attempts from 0. A handler that raises an error whose class says ``retry`` (a
``TemporaryFailure``, or a ``ProcessingError`` before the service's final attempt) gets the job
back with ``attempt + 1`` until ``max_attempts`` tries were made; anything else is dead-lettered
at once with its reason (``failure_action`` decides, for every queue alike). A retried job waits
``backoff(job, base, cap)`` seconds first (doubling per attempt), so a storage or broker outage
does not spend every attempt within milliseconds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from briefkasten.errors import BriefkastenError, CorruptJob

#: What a consumer does with a job whose handler raised.
Action = Literal["retry", "dead"]
#: A job handler: returns when the job's result is stored and published; raises otherwise.
Handler = Callable[["Job"], None]
#: Told after a consumer decided a failed job's fate: (the job, retry or dead, an error code —
#: never a message, which may name a file). The worker records it in the submission's status.
FailureHook = Callable[["Job", Action, str], None]
_MAX_REASON = 500


@dataclass(frozen=True)
class OutboundMessage:
    """One message for the case systems, ready to publish: body is the contract's JSON."""

    message_id: str
    routing_key: str
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)
    #: The AMQP ``type`` property, the AsyncAPI ``messageType`` (``contract.MESSAGE_TYPE``);
    #: empty: none (messages written to the outbox before it was set).
    message_type: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "routing_key": self.routing_key,
            "headers": dict(self.headers),
            "body": self.body.decode("utf-8"),
            "message_type": self.message_type,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutboundMessage:
        return cls(
            message_id=data["message_id"],
            routing_key=data["routing_key"],
            body=data["body"].encode("utf-8"),
            headers=dict(data.get("headers") or {}),
            message_type=data.get("message_type") or "",
        )


class Publisher(Protocol):
    """Publishes messages durably (confirmed by the broker) or raises ``BrokerError``.

    A publisher is used by one thread only (pika is not thread-safe): keep one per thread.
    """

    def publish(self, message: OutboundMessage) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Job:
    """Work for a worker: normalise and announce one submission. ``attempt`` counts from 0."""

    job_id: str
    submission_id: str
    tenant: str
    attempt: int = 0

    def to_bytes(self) -> bytes:
        data = {
            "job_id": self.job_id,
            "submission_id": self.submission_id,
            "tenant": self.tenant,
            "attempt": self.attempt,
        }
        return json.dumps(data, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Job:
        """Parse a job; ``CorruptJob`` (never retried) if it is malformed."""
        try:
            data = json.loads(raw)
            job = cls(
                job_id=str(data["job_id"]),
                submission_id=str(data["submission_id"]),
                tenant=str(data["tenant"]),
                attempt=int(data.get("attempt", 0)),
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise CorruptJob(f"malformed job: {type(exc).__name__}", source="job") from exc
        return job

    def next_attempt(self) -> Job:
        return Job(self.job_id, self.submission_id, self.tenant, self.attempt + 1)


class JobQueue(Protocol):
    """Where the gateway puts jobs. ``enqueue`` returns once the job is durable."""

    def enqueue(self, job: Job) -> None: ...


def failure_action(exc: BaseException, job: Job, max_attempts: int) -> tuple[Action, str]:
    """What to do with ``job`` after its handler raised ``exc``: retry or dead-letter, and why.

    Errors whose class says ``retry`` are retried until ``max_attempts`` tries were made; every
    other error (a rejected input, a bug) goes to the dead-letter queue at once. The reason is
    an English operator text.
    """
    reason = failure_reason(exc)
    retryable = isinstance(exc, BriefkastenError) and exc.retry
    if retryable and job.attempt + 1 < max_attempts:
        return "retry", reason
    if retryable:
        return "dead", f"gave up after {job.attempt + 1} attempt(s): {reason}"
    return "dead", reason


def backoff(job: Job, base: float, cap: float) -> float:
    """Seconds to wait before retrying ``job`` (which just failed): ``base * 2**attempt``, ≤ cap."""
    if base <= 0:
        return 0.0
    return float(min(cap, base * 2 ** min(job.attempt, 30)))


def log_reason(exc: BaseException) -> str:
    """What a log line may say about ``exc``: its code and English message, never ``source``
    (which can be an original's file name); an unforeseen error by its type only."""
    if isinstance(exc, BriefkastenError):
        return f"{exc.code}: {exc.message_en}"[:_MAX_REASON]
    return type(exc).__name__


def failure_code(exc: BaseException) -> str:
    """The error code of ``exc`` (``internal_error`` for an unforeseen one): safe for a status."""
    return exc.code if isinstance(exc, BriefkastenError) else BriefkastenError.code


def tell(hook: FailureHook | None, job: Job, action: Action, code: str) -> None:
    """Call ``hook``; whatever it raises is logged by type only and never stops a consumer."""
    if hook is None:
        return
    try:
        hook(job, action, code)
    except Exception as exc:
        logging.getLogger("briefkasten.broker").warning(
            "job %s: recording the failure failed (%s)", job.job_id, log_reason(exc)
        )


def failure_reason(exc: BaseException) -> str:
    """A short English reason for logs and dead-letter headers."""
    text = str(exc) if isinstance(exc, BriefkastenError) else f"{type(exc).__name__}: {exc}"
    return text[:_MAX_REASON]
