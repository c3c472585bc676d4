"""One exception hierarchy for Briefkasten.

Every class states what it means at each edge: the CLI exit code, the HTTP status, whether a
job is retried, a plain-language German message for applicants (``message_de``: the text of
``error.<code>`` in the German catalogue of ``briefkasten.i18n``, where the other applicant
languages have theirs) and an English one for operators and logs. Messages never contain
document content.

::

    BriefkastenError                      exit 4, HTTP 500, retried
    ├── ConfigError                       exit 2, HTTP 500, not retried
    ├── InputRejected                     exit 3, HTTP 422, not retried (the applicant can fix it)
    │   ├── UnsupportedType               HTTP 415
    │   ├── CorruptInput                  HTTP 422
    │   ├── PasswordProtected             HTTP 422 (+ PdfPasswordWrong, …AttemptsExceeded)
    │   ├── EmptyInput                    HTTP 422
    │   ├── LimitExceeded                 HTTP 413
    │   ├── TooComplex                    HTTP 422 (decoding it would exceed memory/CPU/time)
    │   ├── MalwareFound                  HTTP 422 (clamd found a signature; file quarantined)
    │   ├── InvalidRequest                HTTP 400 (a form field is missing or malformed)
    │   │   ├── RequestTimeout            HTTP 408 (the body stalled or took too long)
    │   │   ├── TusVersionUnsupported     HTTP 412 (tus: no or another Tus-Resumable)
    │   │   ├── OffsetMismatch            HTTP 409 (tus: Upload-Offset wrong, or a writer busy)
    │   │   ├── ChecksumMismatch          HTTP 460 (tus: the chunk's Upload-Checksum differs)
    │   │   ├── UploadInterrupted         HTTP 400 (tus: the connection broke mid-chunk)
    │   │   └── WrongContentType          HTTP 415 (tus: PATCH not offset+octet-stream)
    │   └── QuotaExceeded                 HTTP 413 (unfinished resumable uploads of one owner)
    ├── Unauthorized                      exit 2, HTTP 401, not retried
    │   ├── LinkExpired                   the upload link's expiry date has passed
    │   └── LinkRevoked                   the job center revoked the upload link
    ├── Forbidden                         exit 2, HTTP 403, not retried (e.g. a foreign Origin)
    ├── RateLimited                       HTTP 429, retried later (too many requests)
    ├── NotFound                          exit 2, HTTP 404, not retried
    │   └── MalformedId                   an id that cannot name anything
    ├── MisdirectedRequest                exit 2, HTTP 421, not retried (Host not allowed)
    ├── RequestInProgress                 HTTP 409, retried later (same Idempotency-Key in flight)
    ├── CorruptJob                        a queued job that cannot be parsed: dead-lettered
    ├── ProcessingError                   exit 4, HTTP 500
    │   ├── ToolError                     an external program failed or is missing
    │   └── ChildDied                     a sandbox child was killed from outside (retried)
    └── TemporaryFailure                  exit 5, HTTP 503, retried (a server is away)
        ├── StorageError                  object storage (files or S3)
        ├── SpoolFull                     the gateway's spool disk or global upload quota is full
        ├── BrokerError                   RabbitMQ or the outbox
        │   └── MessageUnroutable         no queue is bound for one message (it stays pending)
        └── ScanUnavailable               clamd cannot be reached (scan fails closed)
            └── ScanFailed                clamd answered with an error (never bypassed)

    Verdict                               internal, not an error: never leaves the pipeline
    ├── StreamTooLarge                    a PDF stream decodes past its budget (or cannot be
    │                                     measured): the caller decides what that means
    └── UnsafeContent                     a born-digital page must be rasterised, not copied

``Verdict`` is a second root on purpose: its classes are results of measuring that the
pipeline raises and catches itself (``pipeline.streams``, ``pdfcopy``, ``pdfclean``,
``pdfcost``). They are not ``BriefkastenError``: no edge ever maps them to an exit code or an
HTTP status, and one that escaped would be an unforeseen error (a bug), as before.
"""

from __future__ import annotations

from typing import ClassVar

from briefkasten import i18n


class BriefkastenError(Exception):
    """Base of every error Briefkasten raises on purpose."""

    code: ClassVar[str] = "internal_error"
    exit_code: ClassVar[int] = 4
    http_status: ClassVar[int] = 500
    #: The HTTP reason phrase where the status is not a standard one (tus's 460).
    http_reason: ClassVar[str | None] = None
    retry: ClassVar[bool] = True
    #: For applicants: ``error.<code>`` of the German catalogue (set per class).
    message_de: ClassVar[str] = i18n.text(i18n.DEFAULT, "error.internal_error")

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls.message_de = i18n.text(i18n.DEFAULT, f"error.{cls.code}")

    def __init__(self, message_en: str, *, source: str | None = None) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.source = source

    def __reduce__(self) -> tuple[object, ...]:
        # Keeps ``source`` when an error crosses a process pool boundary.
        return (type(self), (self.message_en,), {"source": self.source})

    def __str__(self) -> str:
        if self.source:
            return f"{self.source}: {self.message_en}"
        return self.message_en


class ConfigError(BriefkastenError):
    """The configuration or a pipeline definition is invalid (an operator must fix it)."""

    code = "config_error"
    exit_code = 2
    retry = False


class InputRejected(BriefkastenError):
    """An uploaded file cannot be accepted; the applicant can fix it by sending another file."""

    code = "input_rejected"
    exit_code = 3
    http_status = 422
    retry = False


class UnsupportedType(InputRejected):
    """The real file type (from its content, not its name) is not on the allowlist."""

    code = "unsupported_type"
    http_status = 415


class CorruptInput(InputRejected):
    """The file claims a supported type but cannot be read (damaged or truncated)."""

    code = "corrupt_input"


class PasswordProtected(InputRejected):
    """A PDF needs a password to be opened (the gateway keeps a tus upload for its unlock)."""

    code = "pdf_password_required"


class PdfPasswordWrong(PasswordProtected):  # the password given does not open it; tries left
    code = "pdf_password_wrong"


class PdfPasswordAttemptsExceeded(PasswordProtected):  # three wrong tries: the upload is gone
    code = "pdf_password_attempts_exceeded"


class EmptyInput(InputRejected):
    """The file has no content: zero bytes, or a PDF without pages."""

    code = "empty_input"


class LimitExceeded(InputRejected):
    """A size, pixel, page or file-count limit from the configuration is exceeded."""

    code = "limit_exceeded"
    http_status = 413


class TooComplex(InputRejected):
    """Decoding or rendering the file would take more memory, CPU time or wall time than a
    sandboxed child may use (``pipeline.sandbox``), or it has more scans, frames or content
    than the limits allow: a file built to cost far more than its size."""

    code = "too_complex"
    http_status = 422


class MalwareFound(InputRejected):
    """The malware scan (clamd) found a signature in a file; the submission is refused and the
    file is kept in quarantine for operators (never processed, never delivered)."""

    code = "malware_found"


class InvalidRequest(InputRejected):
    """The request itself is malformed: a missing field, a bad case number, an unknown type."""

    code = "invalid_request"
    http_status = 400


class RequestTimeout(InvalidRequest):
    """The request body stopped arriving (no byte for a while) or took longer than allowed."""

    code = "request_timeout"
    http_status = 408


class QuotaExceeded(InputRejected):
    """One upload link or API key has too many unfinished resumable uploads in the spool."""

    code = "quota_exceeded"
    http_status = 413


class Unauthorized(BriefkastenError):
    """No valid API key or upload token."""

    code = "unauthorized"
    exit_code = 2
    http_status = 401
    retry = False


class LinkExpired(Unauthorized):
    """The upload link's expiry date has passed."""

    code = "link_expired"


class LinkRevoked(Unauthorized):
    """The upload link was revoked by the job center."""

    code = "link_revoked"


class Forbidden(BriefkastenError):
    """Authenticated or not, this request is not allowed (a cross-site request, a switched-off
    feature)."""

    code = "forbidden"
    exit_code = 2
    http_status = 403
    retry = False


class RateLimited(BriefkastenError):
    """Too many requests from one address or with one upload link in a short time."""

    code = "rate_limited"
    http_status = 429

    def __init__(
        self, message_en: str, *, source: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message_en, source=source)
        #: Seconds until a retry can succeed (``Retry-After``); ``None``: the default.
        self.retry_after = retry_after


class NotFound(BriefkastenError):
    """The submission, document or message asked for does not exist (for this tenant)."""

    code = "not_found"
    exit_code = 2
    http_status = 404
    retry = False


class MalformedId(NotFound):
    """An id that cannot name anything (not lowercase hex of the right length): nothing exists
    under it, so it is not found; it never reaches a storage key."""


class MisdirectedRequest(BriefkastenError):
    """The request names a host this gateway does not serve (``gateway.allowed_hosts``)."""

    code = "misdirected_request"
    exit_code = 2
    http_status = 421
    retry = False


class RequestInProgress(BriefkastenError):
    """A request with the same ``Idempotency-Key`` is still being received."""

    code = "request_in_progress"
    http_status = 409


class CorruptJob(BriefkastenError):
    """Bytes on the job queue that are not a job: dead-lettered at once, never retried."""

    code = "corrupt_job"
    retry = False


class ProcessingError(BriefkastenError):
    """Normalisation failed for a reason the applicant cannot fix."""

    code = "processing_failed"


class ToolError(ProcessingError):
    """An external program (Tesseract) failed, timed out or is not installed."""

    code = "tool_failed"


class ChildDied(ProcessingError):
    """A sandboxed child process was killed from outside (the kernel's OOM killer, an operator)
    or vanished without an answer. Not the file's fault: the job is retried."""

    code = "child_died"


class TemporaryFailure(BriefkastenError):
    """A server we depend on is away for now; the same request will work later."""

    code = "temporarily_unavailable"
    exit_code = 5
    http_status = 503


class StorageError(TemporaryFailure):
    """Object storage (local files or S3) failed."""

    code = "storage_unavailable"


class SpoolFull(TemporaryFailure):
    """The gateway's spool has no room left (disk full or the global upload quota reached)."""

    code = "spool_full"


class BrokerError(TemporaryFailure):
    """RabbitMQ or the local outbox failed."""

    code = "broker_unavailable"


class MessageUnroutable(BrokerError):
    """The broker accepted the connection but no queue is bound for this routing key.

    Only this message is affected: it stays in the outbox and is retried later, while the
    messages after it are still published.
    """

    code = "message_unroutable"


class ScanUnavailable(TemporaryFailure):
    """The malware scanner (clamd) cannot be reached; uploads wait until it is back (fail
    closed) unless ``scan.fail_open`` is set."""

    code = "scan_unavailable"


class ScanFailed(ScanUnavailable):
    """clamd took the file but answered with an error (e.g. ``INSTREAM size limit exceeded``)
    or not in time. Refused even with ``scan.fail_open``: a file made to break the scan must
    not get through because of it."""

    code = "scan_failed"


class TusVersionUnsupported(InvalidRequest):
    """The client speaks a tus version we do not (or sent no ``Tus-Resumable``)."""

    code = "tus_version_unsupported"
    http_status = 412


class OffsetMismatch(InvalidRequest):
    """``Upload-Offset`` is not where the upload stands, or another request is writing."""

    code = "offset_mismatch"
    http_status = 409


class ChecksumMismatch(InvalidRequest):
    """The chunk's ``Upload-Checksum`` does not match what arrived; the chunk is discarded."""

    code = "checksum_mismatch"
    http_status = 460
    http_reason = "Checksum Mismatch"


class UploadInterrupted(InvalidRequest):
    """The connection broke or stalled mid-chunk; what arrived is kept (without checksum)."""

    code = "upload_interrupted"


class WrongContentType(InvalidRequest):
    """A ``PATCH`` without ``Content-Type: application/offset+octet-stream``."""

    code = "wrong_content_type"
    http_status = 415


class Verdict(Exception):
    """Base of the pipeline's internal verdicts: control flow, never an error of an edge."""


class StreamTooLarge(Verdict):  # a result of measuring, caught by the caller
    """The stream decodes to more than the budget, or its filter cannot be measured."""


class UnsafeContent(Verdict):  # a verdict, not an error: rasterise the page
    """The page must be rasterised; ``args[0]`` says why (no content, no names)."""


def error_codes() -> tuple[str, ...]:
    """Every ``code`` of the ``BriefkastenError`` tree, sorted (the outcomes the metrics know)."""
    found: set[str] = set()
    todo: list[type[BriefkastenError]] = [BriefkastenError]
    while todo:
        cls = todo.pop()
        found.add(cls.code)
        todo.extend(cls.__subclasses__())
    return tuple(sorted(found))
