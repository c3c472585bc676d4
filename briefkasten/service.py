"""The flow, in one place: load job → run pipeline → store result → record outbox message → publish.

``process`` is what every worker runs for one queued submission, in embedded and in distributed
mode alike. It is idempotent by document id: a document whose results are already stored is not
normalised again, and the message id is derived from the submission id, so a retried job
publishes the same message (consumers deduplicate by ``message_id``). No document is ever stuck:
when normalisation fails for good, the document is still delivered with its originals and a
``normalisation_failed`` flag and reason.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from briefkasten.broker.base import Action, Job, Publisher
from briefkasten.broker.outbox import Outbox
from briefkasten.config import MIB, LimitSettings, Settings
from briefkasten.errors import BrokerError, NotFound
from briefkasten.intake import load_submission, recorded_status, write_status
from briefkasten.message import DocumentOutcome, build_message
from briefkasten.model import Submission
from briefkasten.monitoring import Metrics
from briefkasten.normalise import normalise_document
from briefkasten.pipeline.pool import PagePool
from briefkasten.pipeline.sandbox import CpuBudget
from briefkasten.storage.base import Storage

log = logging.getLogger("briefkasten.service")


@dataclass(frozen=True)
class Services:
    """Everything ``process`` touches, opened once per worker and passed down."""

    settings: Settings
    storage: Storage
    outbox: Outbox
    publisher: Publisher | None
    pool: PagePool | None = None
    metrics: Metrics | None = None


def cpu_budget(submission: Submission, limits: LimitSettings) -> CpuBudget:
    """The CPU seconds one attempt at ``submission`` may cost: ``worker_cpu_s_per_mib`` per MiB
    of its originals, at least ``worker_cpu_s_min``. A tiny file that would cost far more (a
    hundred huge pages in 16 KB) ends as ``too_complex``, delivered with its originals."""
    size = sum(f.size for d in submission.documents for f in d.files)
    seconds = max(limits.worker_cpu_s_min, size / MIB * limits.worker_cpu_s_per_mib)
    return CpuBudget(seconds)


def process(job: Job, services: Services) -> None:
    """Normalise every document of the job's submission, store the results, announce them."""
    started = time.perf_counter()
    storage = services.storage
    submission = load_submission(storage, job.tenant, job.submission_id)
    if _delivered(storage, job):
        return
    final_attempt = job.attempt + 1 >= services.settings.broker.max_attempts
    budget = cpu_budget(submission, services.settings.limits)
    outcomes: list[DocumentOutcome] = []
    for document in submission.documents:  # "processing", refreshed per document (a heartbeat)
        done = {o.document.document_id: o.status_entry() for o in outcomes}
        write_status(storage, submission, "processing", done)
        outcomes.append(
            normalise_document(
                document, submission, services, final_attempt=final_attempt, budget=budget
            )
        )
    message = build_message(
        submission,
        outcomes,
        bucket=storage.bucket,
        routing_prefix=services.settings.routing_prefix_for(job.tenant),
    )
    services.outbox.add(message)  # durable from here on: "delivered" to the outbox
    if services.publisher is not None:
        try:
            services.publisher.publish(message)
            services.outbox.mark_sent(message.message_id)
        except BrokerError as exc:  # the outbox flusher keeps retrying it
            services.outbox.record_error(message.message_id, str(exc))
            log.warning(
                "message %s not yet published: %s",
                message.message_id,
                exc.code,
                extra={"submission_id": submission.submission_id, "tenant": job.tenant},
            )
    failed = [o for o in outcomes if o.failure_reason]
    documents = {o.document.document_id: o.status_entry() for o in outcomes}
    write_status(storage, submission, "delivered", documents)
    if services.metrics is not None:
        for outcome in outcomes:
            services.metrics.document_delivered(job.tenant, failed=bool(outcome.failure_reason))
    log.info(
        "submission %s delivered: %d document(s), %d with normalisation failed",
        submission.submission_id,
        len(outcomes),
        len(failed),
        extra={
            "submission_id": submission.submission_id,
            "job_id": job.job_id,
            "tenant": job.tenant,
            "attempt": job.attempt,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )


def _delivered(storage: Storage, job: Job) -> bool:
    """Was this submission delivered already (a second job for it: the client's retry and the
    reconciler both queued it, or a redelivery after the ack was lost)? Its message is in
    the outbox then, so this job ends without publishing it again."""
    status = recorded_status(storage, job.tenant, job.submission_id)
    if status is None or status.get("status") != "delivered":
        return False
    log.info(
        "submission %s already delivered; job %s ends without a second message",
        job.submission_id,
        job.job_id,
        extra={"submission_id": job.submission_id, "job_id": job.job_id, "tenant": job.tenant},
    )
    return True


def record_failure(storage: Storage, job: Job, action: Action, code: str) -> None:
    """The status after a failed attempt, so none stays ``processing`` with nobody on it:
    ``failed`` with the error code once the job is dead-lettered, ``received`` again while it
    waits for its next attempt. A delivered or deleted submission keeps its status."""
    try:
        submission = load_submission(storage, job.tenant, job.submission_id)
    except NotFound:
        return
    current = recorded_status(storage, job.tenant, job.submission_id) or {}
    if current.get("status") in ("delivered", "deleted"):
        return
    if action == "dead":
        write_status(storage, submission, "failed", reason=code)
    else:
        write_status(storage, submission, "received")
