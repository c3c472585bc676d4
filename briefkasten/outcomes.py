"""One outcome per document, however many workers build it at once: the build's own keys and a
first-writer-wins outcome record.

A job can be processed twice at the same time: RabbitMQ hands it to a second worker when the
first one's channel goes (a broker restart, a lost connection) while the first one goes on
building. Both build the document; each build makes PDFs that differ in their bytes (the
creation time is in them). So that no message ever names a PDF that another build replaced,
every build stores its results under keys of its own (``layout.document_key(..., build=B)``:
``D.<B>.pdf``, ``D.<B>.txt``, ``D.<B>.report.json``), and only then *creates* the document's
``outcome.json`` — created if absent, atomically (``Storage.create_bytes``). The build that
created it has won; a build that finds it there deletes its own objects and returns the
winner's outcome, so every message for the submission names the same objects with the right
hashes. A build that fails deletes what it stored (``discard``). A build that died before its
outcome (its worker killed) leaves objects no outcome names: ``sweep`` deletes them once every
document of the submission has its outcome — from then on a build still running can only lose,
and it deletes its own objects when it does.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable, Sequence

from briefkasten.errors import BriefkastenError
from briefkasten.message import DocumentOutcome, parts_from_json, parts_to_json
from briefkasten.model import DocumentRequest, Submission
from briefkasten.storage import layout
from briefkasten.storage.base import Storage
from briefkasten.storage.records import create_json, get_json, load_json

log = logging.getLogger("briefkasten.outcomes")

OUTCOME = "outcome.json"


def new_build() -> str:
    """The token of one build of a document (in its result keys)."""
    return secrets.token_hex(8)


def result_key(submission: Submission, document: DocumentRequest, suffix: str, build: str) -> str:
    """Where build ``build`` stores the ``suffix`` result (``pdf``, ``txt``, ``report.json``)."""
    return layout.document_key(
        submission.tenant,
        submission.case_number,
        submission.submission_id,
        document.document_id,
        suffix,
        build=build,
    )


def stored_outcome(
    storage: Storage, submission: Submission, document: DocumentRequest
) -> list[DocumentOutcome] | None:
    """The document's outcome (of each part it was split into), if one build stored it."""
    stored = get_json(storage, _outcome_key(submission, document))
    return None if stored is None else parts_from_json(stored, document)


def commit(
    storage: Storage,
    submission: Submission,
    document: DocumentRequest,
    parts: list[DocumentOutcome],
    build: str,
) -> list[DocumentOutcome]:
    """Create the document's outcome from this build's ``parts``; if another build created it
    first, delete this build's objects and return that build's outcome instead."""
    key = _outcome_key(submission, document)
    if create_json(storage, key, parts_to_json(parts), ensure_ascii=False):
        return parts
    winner = parts_from_json(load_json(storage, key), document)
    discard(storage, submission, build)
    log.info(
        "document %s of submission %s was built twice at once; the first outcome stands",
        document.document_id,
        submission.submission_id,
        extra={"submission_id": submission.submission_id, "document_id": document.document_id},
    )
    return winner


def discard(storage: Storage, submission: Submission, build: str) -> int:
    """Delete the objects of build ``build`` (best effort: ``sweep`` or retention deletes what
    is left)."""
    return _delete_builds(storage, submission, lambda token: token == build)


def sweep(storage: Storage, submission: Submission, kept: Sequence[DocumentOutcome]) -> int:
    """Delete the results of every build of ``submission`` whose results no outcome in ``kept``
    (the outcomes of all its documents) names; called when every document has its outcome.
    Results from before builds had keys of their own are never touched. Best effort."""
    named = {
        layout.build_of(stored.key)
        for outcome in kept
        for stored in (outcome.pdf, outcome.text)
        if stored is not None
    }
    deleted = _delete_builds(storage, submission, lambda token: token not in named)
    if deleted:
        log.info(
            "submission %s: %d result(s) of builds that ended before their outcome deleted",
            submission.submission_id,
            deleted,
            extra={"submission_id": submission.submission_id},
        )
    return deleted


def _delete_builds(storage: Storage, submission: Submission, chosen: Callable[[str], bool]) -> int:
    """Delete every result under the submission's ``documents/`` whose build token is
    ``chosen``; how many. Never raises a storage error (what is left goes with retention)."""
    deleted = 0
    with contextlib.suppress(BriefkastenError):
        for key in storage.list(_documents_prefix(submission)):
            token = layout.build_of(key)
            if token and chosen(token):
                storage.delete(key)
                deleted += 1
    return deleted


def _outcome_key(submission: Submission, document: DocumentRequest) -> str:
    return layout.document_key(
        submission.tenant,
        submission.case_number,
        submission.submission_id,
        document.document_id,
        OUTCOME,
    )


def _documents_prefix(submission: Submission) -> str:
    prefix = layout.submission_prefix(
        submission.tenant, submission.case_number, submission.submission_id
    )
    return f"{prefix}documents/"
