"""The flow, in one place: what a worker does with one queued submission.

::

    deliver(job, services)                          one submission, embedded or distributed
      load the submission (its manifest)            intake.load_submission
      delivered already (a second job)? → end       _delivered
      for each document:                            build_and_store
        status "processing" (a heartbeat)           status.write_status
        outcome stored already? → take it           (idempotent by document id)
        fetch its originals (unlocked: decrypted)   Storage.get_file
        build its pages                             pipeline.document.build_pages
        split it into the documents it holds        pipeline.parts (pipeline.split)
        per part: store PDF, text, report           _store (under the build's own keys)
        then create the outcome of all parts        outcomes.commit (first build wins)
      delete results of builds killed meanwhile     outcomes.sweep
      build the message                             message.build_message
      outbox → publish → mark sent                  _announce
      status "delivered"                            status.write_status

Idempotent by document id: a document whose outcome is already stored (``outcome.json``, created
last, with the outcome of each part it was split into) is not built again, and the message id is
derived from the submission id, so a retried job publishes the same message (consumers deduplicate
by ``message_id``). Two workers building the same document at once (a job handed out again while
its first worker goes on) store under keys of their own build; the first to create the outcome
wins and the other takes its outcome (``outcomes``), so both messages name the same PDF. No
document is ever stuck: when building it fails for good, the document is still delivered with
its originals and a ``normalisation_failed`` flag and reason. Errors are sorted per document: a
rejected input fails at once, a processing error is retried until the final attempt, a
temporary failure (storage, broker) always propagates so the job is retried.

The originals travel as data: name, SHA-256, media type and size come from the manifest (the
gateway computed them once); the builder only sniffs each original again for its pages, a check
of untrusted bytes in the sandbox.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from briefkasten.broker.base import Action, Job, OutboundMessage, Publisher
from briefkasten.broker.outbox import Outbox
from briefkasten.config import MIB, LimitSettings, Settings
from briefkasten.errors import BrokerError, InputRejected, NotFound, ProcessingError
from briefkasten.intake import load_submission
from briefkasten.links import letter_found
from briefkasten.message import (
    DocumentOutcome,
    build_message,
    status_entry,
)
from briefkasten.model import DocumentRequest, DocumentResult, Original, Submission, safe_name
from briefkasten.monitoring.metrics import Metrics
from briefkasten.outcomes import commit, discard, new_build, result_key, stored_outcome, sweep
from briefkasten.pipeline.codes import is_separator
from briefkasten.pipeline.doctype import suggest_pages
from briefkasten.pipeline.document import build_pages
from briefkasten.pipeline.parts import assemble_parts, plan_for
from briefkasten.pipeline.pool import PagePool
from briefkasten.pipeline.sandbox import CpuBudget
from briefkasten.status import recorded_status, write_status
from briefkasten.storage.base import Storage

log = logging.getLogger("briefkasten.service")

PDF = "application/pdf"
TEXT = "text/plain; charset=utf-8"
JSON = "application/json"


@dataclass(frozen=True)
class Services:
    """Everything ``deliver`` touches, opened once per worker and passed down."""

    settings: Settings
    storage: Storage
    outbox: Outbox
    publisher: Publisher | None
    pool: PagePool | None = None
    metrics: Metrics | None = None


def deliver(job: Job, services: Services) -> None:
    """Build every document of the job's submission, store the results, announce them."""
    started = time.perf_counter()
    storage = services.storage
    submission = load_submission(storage, job.tenant, job.submission_id)
    if _delivered(storage, job):
        return
    final_attempt = job.attempt + 1 >= services.settings.broker.max_attempts
    budget = cpu_budget(submission, services.settings.limits)
    results: list[list[DocumentOutcome]] = []  # per uploaded document: what it became
    for document in submission.documents:  # "processing", refreshed per document (a heartbeat)
        write_status(storage, submission, "processing", _entries(submission, results))
        results.append(
            build_and_store(
                document, submission, services, final_attempt=final_attempt, budget=budget
            )
        )
    outcomes = [outcome for parts in results for outcome in parts]
    sweep(storage, submission, outcomes)  # what builds killed before their outcome left
    message = build_message(
        submission,
        outcomes,
        bucket=storage.bucket,
        routing_prefix=services.settings.routing_prefix_for(job.tenant),
    )
    _announce(message, submission, services)
    write_status(storage, submission, "delivered", _entries(submission, results))
    if services.metrics is not None:
        for outcome in outcomes:
            services.metrics.document_delivered(job.tenant, failed=bool(outcome.failure_reason))
    log.info(
        "submission %s delivered: %d document(s), %d with normalisation failed",
        submission.submission_id,
        len(outcomes),
        len([o for o in outcomes if o.failure_reason]),
        extra={
            "submission_id": submission.submission_id,
            "job_id": job.job_id,
            "tenant": job.tenant,
            "attempt": job.attempt,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )


def cpu_budget(submission: Submission, limits: LimitSettings) -> CpuBudget:
    """The CPU seconds one attempt at ``submission`` may cost: ``worker_cpu_s_per_mib`` per MiB
    of its originals, at least ``worker_cpu_s_min``. A tiny file that would cost far more (a
    hundred huge pages in 16 KB) ends as ``too_complex``, delivered with its originals."""
    size = sum(f.size for d in submission.documents for f in d.files)
    seconds = max(limits.worker_cpu_s_min, size / MIB * limits.worker_cpu_s_per_mib)
    return CpuBudget(seconds)


def build_and_store(
    document: DocumentRequest,
    submission: Submission,
    services: Services,
    *,
    final_attempt: bool,
    budget: CpuBudget | None = None,
) -> list[DocumentOutcome]:
    """One uploaded document: its stored outcome record if there is one, else build it (one
    document, or its parts when it holds several), store each one's PDF, text and report under
    this build's keys, and create the outcome record last (also when it failed for good); if
    another build created it meanwhile, that one stands (``outcomes.commit``)."""
    storage = services.storage
    stored = stored_outcome(storage, submission, document)
    if stored is not None:
        return stored
    code = ""
    build = new_build()
    with tempfile.TemporaryDirectory(prefix="briefkasten-doc-") as tmp:
        try:
            parts = _build(document, submission, services, Path(tmp), budget, build)
        except InputRejected as exc:
            parts, code = [_failed(document, f"{exc.code}: {exc}")], exc.code
        except ProcessingError as exc:
            if not final_attempt:
                discard(storage, submission, build)
                raise
            parts, code = [_failed(document, f"{exc.code}: {exc}")], exc.code
        except BaseException:
            discard(storage, submission, build)
            raise
    if parts[0].failure_reason:  # the code only: the reason may name an original file
        discard(storage, submission, build)  # what the failed build stored, nothing names
        log.warning(
            "document %s of submission %s: normalisation failed (%s)",
            document.document_id,
            submission.submission_id,
            code,
            extra={**_ids(submission, document), "error": code},
        )
    return commit(storage, submission, document, parts, build)  # first build wins


def _build(
    document: DocumentRequest,
    submission: Submission,
    services: Services,
    workdir: Path,
    budget: CpuBudget | None,
    build: str,
) -> list[DocumentOutcome]:
    """Fetch the originals into ``workdir``, build the document there (split into the
    documents it holds, ``pipeline.split``), store the results under ``build``'s keys."""
    settings = services.settings
    originals: list[Original] = []
    for number, received in enumerate(document.files):
        local = workdir / f"{number:03d}" / safe_name(received.name)  # one folder per file
        local.parent.mkdir()
        services.storage.get_file(received.build_key, local)
        originals.append(received.original(local))
    started = time.perf_counter()
    built = build_pages(
        originals,
        workdir,
        settings=settings,
        pipeline=settings.pipeline_for(submission.tenant),
        languages=settings.ocr_languages_for(submission.tenant),
        pool=services.pool,
        cpu_budget=budget,
    )
    layout = plan_for(
        built.pages,
        mode=settings.pipeline.split,
        suggest=suggest_pages,
        is_separator=lambda page: is_separator(page.codes),
        min_confidence=settings.pipeline.split_min_confidence,
    )
    pieces = assemble_parts(
        built,
        layout,
        workdir,
        document_id=document.document_id,
        chosen_type=document.document_type,
        catalogue=settings.catalogue_for(submission.tenant),
        title=submission.case_number,
        suggest=suggest_pages,
        min_confidence=settings.pipeline.split_min_confidence,
    )
    seconds = time.perf_counter() - started
    outcomes = []
    for piece in pieces:
        part = piece.request(document)
        _observe(part, submission, services, piece.result, seconds / len(pieces))
        outcomes.append(_store(part, submission, services, piece.result, build))
    return outcomes


def _store(
    document: DocumentRequest,
    submission: Submission,
    services: Services,
    result: DocumentResult,
    build: str,
) -> DocumentOutcome:
    """PDF (hashed once, by the builder), text and report; the outcome that names them."""
    storage = services.storage

    def key(suffix: str) -> str:
        return result_key(submission, document, suffix, build)

    pdf = storage.adopt_file(key("pdf"), result.pdf, content_type=PDF, sha256=result.sha256)
    text = storage.put_bytes(key("txt"), result.text.encode("utf-8"), content_type=TEXT)
    storage.put_bytes(key("report.json"), result.report_bytes(), content_type=JSON)
    confidences = [p.ocr_confidence for p in result.pages if p.ocr_confidence is not None]
    suggestion = result.suggestion
    codes = [code for page in result.pages for code in page.codes]
    letter = letter_found(codes, submission, services.settings, storage)
    return DocumentOutcome(
        document=document,
        pdf=pdf,
        text=text,
        pages=len(result.pages),
        quality_flags=[list(p.flags) for p in result.pages],
        ocr_confidence=sum(confidences) / len(confidences) if confidences else None,
        pipeline=(result.pipeline, result.pipeline_version),
        failure_reason=None,
        processed_at=_now(),
        languages=result.languages,
        suggested_type=suggestion.type if suggestion else None,
        suggested_type_confidence=round(suggestion.confidence, 3) if suggestion else None,
        contains_jobcenter_letter=letter,
        split_from=result.split,
    )


def _failed(document: DocumentRequest, reason: str) -> DocumentOutcome:
    return DocumentOutcome(
        document=document,
        pdf=None,
        text=None,
        pages=sum(f.pages for f in document.files),
        quality_flags=[],
        ocr_confidence=None,
        pipeline=None,
        failure_reason=reason[:500],
        processed_at=_now(),
    )


def _observe(
    document: DocumentRequest,
    submission: Submission,
    services: Services,
    result: DocumentResult,
    seconds: float,
) -> None:
    """Metrics (pages, step timings, OCR confidence) and one log line per step, ids only."""
    if services.metrics is not None:
        services.metrics.document_processed(submission.tenant, result)
    ids = _ids(submission, document)
    for number, page in enumerate(result.pages, start=1):
        for record in page.history:
            log.debug(
                "page %d: step %s took %.1f ms",
                number,
                record.step,
                record.ms,
                extra={**ids, "page": number, "step": record.step, "duration_ms": record.ms},
            )
    log.info(
        "document %s normalised: %d page(s)",
        document.document_id,
        len(result.pages),
        extra={**ids, "pages": len(result.pages), "duration_ms": round(seconds * 1000, 1)},
    )


def _announce(message: OutboundMessage, submission: Submission, services: Services) -> None:
    """Into the outbox (durable from here on: "delivered"), then published if a publisher is
    there; a message RabbitMQ did not take stays pending for the outbox flusher."""
    services.outbox.add(message)
    if services.publisher is None:
        return
    try:
        services.publisher.publish(message)
        services.outbox.mark_sent(message.message_id)
    except BrokerError as exc:  # the outbox flusher keeps retrying it
        services.outbox.record_error(message.message_id, str(exc))
        log.warning(
            "message %s not yet published: %s",
            message.message_id,
            exc.code,
            extra={"submission_id": submission.submission_id, "tenant": submission.tenant},
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


def _entries(
    submission: Submission, results: list[list[DocumentOutcome]]
) -> dict[str, dict[str, object]]:
    """The status entries of the uploaded documents done so far (``results`` in order)."""
    done = zip(submission.documents, results, strict=False)  # the documents done so far
    return {document.document_id: status_entry(parts) for document, parts in done}


def _ids(submission: Submission, document: DocumentRequest) -> dict[str, str]:
    return {
        "submission_id": submission.submission_id,
        "document_id": document.document_id,
        "tenant": submission.tenant,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
