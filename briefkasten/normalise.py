"""One document of a submission: fetch its originals, run ``ingest``, store PDF, text and report.

Idempotent by document id: the outcome is stored last (``outcome.json``); when it exists, the
document was done before and is not normalised again. Errors the pipeline raises are sorted
here: a rejected input fails at once, a processing error is retried until the final attempt,
a temporary failure (storage, broker) always propagates so the job is retried.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from briefkasten.errors import InputRejected, ProcessingError
from briefkasten.message import DocumentOutcome
from briefkasten.model import DocumentRequest, DocumentResult, Submission
from briefkasten.pipeline.document import ingest, safe_name
from briefkasten.pipeline.sandbox import CpuBudget
from briefkasten.storage import layout
from briefkasten.storage.base import Storage

if TYPE_CHECKING:
    from briefkasten.service import Services

log = logging.getLogger("briefkasten.service")


def normalise_document(
    document: DocumentRequest,
    submission: Submission,
    services: Services,
    *,
    final_attempt: bool,
    budget: CpuBudget | None = None,
) -> DocumentOutcome:
    storage = services.storage
    outcome_key = _key(submission, document, "outcome.json")
    if storage.exists(outcome_key):
        return DocumentOutcome.from_json(json.loads(storage.get_bytes(outcome_key)), document)
    ids = {
        "submission_id": submission.submission_id,
        "document_id": document.document_id,
        "tenant": submission.tenant,
    }
    code = ""
    with tempfile.TemporaryDirectory(prefix="briefkasten-doc-") as tmp:
        workdir = Path(tmp)
        try:
            outcome = _normalise(document, submission, services, workdir, budget)
        except InputRejected as exc:
            outcome, code = _failed(document, f"{exc.code}: {exc}"), exc.code
        except ProcessingError as exc:
            if not final_attempt:
                raise
            outcome, code = _failed(document, f"{exc.code}: {exc}"), exc.code
    if outcome.failure_reason:  # the code only: the reason may name an original file
        log.warning(
            "document %s of submission %s: normalisation failed (%s)",
            document.document_id,
            submission.submission_id,
            code,
            extra={**ids, "error": code},
        )
    _put_json(storage, outcome_key, outcome.to_json())
    return outcome


def _normalise(
    document: DocumentRequest,
    submission: Submission,
    services: Services,
    workdir: Path,
    budget: CpuBudget | None,
) -> DocumentOutcome:
    storage = services.storage
    files = []
    for number, received in enumerate(document.files):
        # Under its received (already sanitised) name, one folder per file: the report and the
        # PDF's metadata name the original as the applicant sent it, not "000.png".
        local = workdir / f"{number:03d}" / safe_name(received.name)
        local.parent.mkdir()
        storage.get_file(received.key, local)
        files.append(local)
    pdf, report = workdir / "document.pdf", workdir / "report.json"
    started = time.perf_counter()
    result = ingest(
        files,
        pdf,
        settings=services.settings,
        pipeline=services.settings.pipeline_for(submission.tenant),
        title=f"{document.document_type} {submission.case_number}",
        document_type=document.document_type,
        report=report,
        pool=services.pool,
        cpu_budget=budget,
    )
    _observe(document, submission, services, result, time.perf_counter() - started)
    text = workdir / "document.txt"
    text.write_text(result.text, encoding="utf-8")
    return _stored(document, submission, storage, result, pdf, text, report)


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
    ids = {
        "submission_id": submission.submission_id,
        "document_id": document.document_id,
        "tenant": submission.tenant,
    }
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


def _stored(
    document: DocumentRequest,
    submission: Submission,
    storage: Storage,
    result: DocumentResult,
    pdf: Path,
    text: Path,
    report: Path,
) -> DocumentOutcome:
    stored_pdf = storage.put_file(
        _key(submission, document, "pdf"), pdf, content_type="application/pdf"
    )
    stored_text = storage.put_file(
        _key(submission, document, "txt"), text, content_type="text/plain; charset=utf-8"
    )
    storage.put_file(
        _key(submission, document, "report.json"), report, content_type="application/json"
    )
    confidences = [p.ocr_confidence for p in result.pages if p.ocr_confidence is not None]
    return DocumentOutcome(
        document=document,
        pdf=stored_pdf,
        text=stored_text,
        pages=len(result.pages),
        quality_flags=[list(p.flags) for p in result.pages],
        ocr_confidence=sum(confidences) / len(confidences) if confidences else None,
        pipeline=(result.pipeline, result.pipeline_version),
        failure_reason=None,
        processed_at=_now(),
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


def _key(submission: Submission, document: DocumentRequest, suffix: str) -> str:
    return layout.document_key(
        submission.tenant,
        submission.case_number,
        submission.submission_id,
        document.document_id,
        suffix,
    )


def _put_json(storage: Storage, key: str, data: dict[str, object]) -> None:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    storage.put_bytes(key, body, content_type="application/json")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
