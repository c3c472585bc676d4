"""Two workers building one document at once: one outcome, and every message names its PDF.

A job handed to a second worker while its first worker goes on (a RabbitMQ restart) made both
store a PDF under the same key and publish its own hash: the later PDF replaced the earlier one
while the earlier message named it (seen in the multinode test). Now each build has keys of its
own and the first outcome created wins (``briefkasten.outcomes``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from briefkasten import outcomes, service
from briefkasten.broker.base import Job
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.broker.outbox import Outbox
from briefkasten.config import Settings
from briefkasten.errors import CorruptInput, StorageError
from briefkasten.intake import IncomingDocument, IncomingFile, Intake
from briefkasten.message import DocumentOutcome
from briefkasten.model import DocumentRequest, Submission
from briefkasten.service import Services, build_and_store
from briefkasten.storage import MemoryStorage, layout

CASE = "12345BG0012345"


def _submission(storage: MemoryStorage, tmp_path: Path) -> Submission:
    content = b"\x89PNG original"
    spooled = tmp_path / "spooled.part"
    spooled.write_bytes(content)
    incoming = IncomingFile(
        spooled, "scan.png", hashlib.sha256(content).hexdigest(), len(content), "image/png", 1
    )
    return Intake(storage, MemoryJobQueue()).receive(
        "jc-test", CASE, [IncomingDocument("kontoauszug", (incoming,))]
    )


def _fake_build(
    storage: MemoryStorage, submission: Submission, document: DocumentRequest, build: str
) -> list[DocumentOutcome]:
    """What ``service._build`` stores for one build: a PDF (bytes unique to the build) and a
    text under the build's keys."""
    pdf = storage.put_bytes(
        outcomes.result_key(submission, document, "pdf", build),
        f"%PDF built by {build}".encode(),
        content_type="application/pdf",
    )
    text = storage.put_bytes(
        outcomes.result_key(submission, document, "txt", build), b"text", content_type="text/plain"
    )
    outcome = DocumentOutcome(
        document=document,
        pdf=pdf,
        text=text,
        pages=1,
        quality_flags=[[]],
        ocr_confidence=90.0,
        pipeline=("default", "1"),
        failure_reason=None,
        processed_at="2026-12-07T15:00:00+00:00",
    )
    return [outcome]


def _patch_build(
    monkeypatch: pytest.MonkeyPatch,
    storage: MemoryStorage,
    then: Callable[[list[DocumentOutcome]], list[DocumentOutcome]],
) -> None:
    """``service._build`` replaced: ``_fake_build`` stores the build's objects, ``then`` gets
    its outcome (to wait, or to fail after the objects are stored)."""

    def build(
        document: DocumentRequest,
        submission: Submission,
        services: Services,
        workdir: Path,
        budget: object,
        build: str,
    ) -> list[DocumentOutcome]:
        return then(_fake_build(storage, submission, document, build))

    monkeypatch.setattr(service, "_build", build)


def test_two_builds_at_once_end_with_one_outcome_and_its_objects(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = MemoryStorage("briefkasten")
    submission = _submission(storage, tmp_path)
    (document,) = submission.documents
    both_built = threading.Barrier(2)

    def then(parts: list[DocumentOutcome]) -> list[DocumentOutcome]:
        both_built.wait(timeout=10)  # neither has created the outcome yet
        return parts

    _patch_build(monkeypatch, storage, then)
    services = Services(settings, storage, Outbox(tmp_path / "outbox"), None)
    results: list[list[DocumentOutcome]] = []

    def worker() -> None:
        results.append(build_and_store(document, submission, services, final_attempt=True))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2
    first, second = ([o.to_json() for o in parts] for parts in results)
    assert first == second  # both workers announce the same outcome
    (outcome,) = results[0]
    assert outcome.pdf is not None and outcome.text is not None
    assert hashlib.sha256(storage.get_bytes(outcome.pdf.key)).hexdigest() == outcome.pdf.sha256
    prefix = layout.submission_prefix("jc-test", CASE, submission.submission_id)
    documents = [k for k in storage.list(prefix) if "/documents/" in k]
    # the winner's PDF and text and the outcome record; nothing of the other build
    assert sorted(documents) == sorted(
        [
            outcome.pdf.key,
            outcome.text.key,
            f"{prefix}documents/{document.document_id}.outcome.json",
        ]
    )
    # a third job later takes the stored outcome and builds nothing
    monkeypatch.setattr(service, "_build", None)
    again = build_and_store(document, submission, services, final_attempt=True)
    assert [o.to_json() for o in again] == first


@pytest.mark.parametrize("failure", ["storage", "input"])
def test_a_build_that_fails_leaves_none_of_its_objects(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """A storage failure is retried (nothing kept); a rejected input is delivered as failed
    (its outcome names no objects, so none are kept either)."""
    storage = MemoryStorage("briefkasten")
    submission = _submission(storage, tmp_path)
    (document,) = submission.documents

    def then(parts: list[DocumentOutcome]) -> list[DocumentOutcome]:
        if failure == "storage":
            raise StorageError("storage went away after the PDF", source="test")
        raise CorruptInput("the second page cannot be read")

    _patch_build(monkeypatch, storage, then)
    services = Services(settings, storage, Outbox(tmp_path / "outbox"), None)
    prefix = layout.submission_prefix("jc-test", CASE, submission.submission_id)
    if failure == "storage":
        with pytest.raises(StorageError):
            build_and_store(document, submission, services, final_attempt=True)
        assert [k for k in storage.list(prefix) if "/documents/" in k] == []
        return
    (outcome,) = build_and_store(document, submission, services, final_attempt=True)
    assert outcome.failure_reason and outcome.pdf is None
    outcome_key = f"{prefix}documents/{document.document_id}.outcome.json"
    assert [k for k in storage.list(prefix) if "/documents/" in k] == [outcome_key]


def test_result_keys_carry_the_build_and_are_checked() -> None:
    key = layout.document_key("jc-test", CASE, "a" * 32, "b" * 32, "report.json", build="0" * 16)
    assert key.endswith(f"/documents/{'b' * 32}.{'0' * 16}.report.json")
    assert layout.document_key("jc-test", CASE, "a" * 32, "b" * 32, "outcome.json").endswith(
        f"/documents/{'b' * 32}.outcome.json"
    )
    assert len(outcomes.new_build()) == 16 and outcomes.new_build() != outcomes.new_build()
    for bad in ("../x", "ABCDEF0123456789", "0" * 15, "0" * 17, "a.b"):
        with pytest.raises(Exception, match="build token"):
            layout.document_key("jc-test", CASE, "a" * 32, "b" * 32, "pdf", build=bad)


def test_results_of_a_build_killed_before_its_outcome_are_swept_at_delivery(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed after storing its results but before creating the outcome leaves
    objects no outcome names; the job's next delivery deletes them and keeps its own results
    and results stored before builds had keys (``D.pdf``)."""
    storage = MemoryStorage("briefkasten")
    submission = _submission(storage, tmp_path)
    (document,) = submission.documents
    killed = _fake_build(storage, submission, document, "dead0000dead0000")  # no outcome
    legacy = layout.document_key("jc-test", CASE, submission.submission_id, "c" * 32, "pdf")
    storage.put_bytes(legacy, b"%PDF before build tokens", content_type="application/pdf")
    _patch_build(monkeypatch, storage, lambda parts: parts)
    services = Services(settings, storage, Outbox(tmp_path / "outbox"), None)
    service.deliver(Job("job-1", submission.submission_id, "jc-test"), services)

    prefix = layout.submission_prefix("jc-test", CASE, submission.submission_id)
    documents = sorted(k for k in storage.list(prefix) if "/documents/" in k)
    (outcome,) = outcomes.stored_outcome(storage, submission, document) or []
    assert outcome.pdf is not None and outcome.text is not None
    assert documents == sorted(
        [
            outcome.pdf.key,
            outcome.text.key,
            legacy,
            f"{prefix}documents/{document.document_id}.outcome.json",
        ]
    )
    assert not {o.key for o in (killed[0].pdf, killed[0].text) if o} & set(documents)
    assert outcomes.sweep(storage, submission, [outcome]) == 0  # nothing left to sweep


def test_build_of_reads_the_token_of_result_keys_only() -> None:
    key = layout.document_key("jc-test", CASE, "a" * 32, "b" * 32, "report.json", build="0" * 16)
    assert layout.build_of(key) == "0" * 16
    for other in ("outcome.json", "pdf", "txt"):
        assert (
            layout.build_of(layout.document_key("jc-test", CASE, "a" * 32, "b" * 32, other)) == ""
        )
    assert layout.build_of(f"x/{'b' * 32}.{'0' * 16}") == ""  # a token but no suffix
