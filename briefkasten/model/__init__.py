"""The domain objects: originals, pages, documents and the report, as frozen dataclasses
(what one OCR run read: ``model.ocr``).

A *document* (Dokument) is what the case worker files: one PDF of one type, made from one or
more uploaded originals whose pages are taken in order.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from briefkasten.model.ocr import Box as Box
from briefkasten.model.ocr import OcrLine as OcrLine
from briefkasten.model.ocr import OcrResult as OcrResult
from briefkasten.model.ocr import OcrWord as OcrWord

PageKind = Literal["raster", "vector"]
#: The reference language (Tesseract's code): listed first among a document's languages.
GERMAN = "deu"


@dataclass(frozen=True)
class Original:
    """One uploaded file as received: its sanitised name, hash, size and sniffed type."""

    name: str
    path: Path
    sha256: str
    size: int
    media_type: str
    pages: int

    def to_report(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.media_type,
        }


@dataclass(frozen=True)
class PageRef:
    """Where a page comes from: page ``index`` of an original. Small and picklable."""

    original: Original
    index: int
    kind: PageKind


@dataclass(frozen=True)
class StepRecord:
    """What one pipeline step did to one page, and how long it took."""

    step: str
    detail: str
    ms: float


@dataclass(frozen=True, eq=False)
class Page:
    """One page on its way through the pipeline.

    ``image`` is an 8-bit array, ``H×W`` (grey) or ``H×W×3`` (RGB), or ``None`` for a
    born-digital PDF page that is passed on untouched. ``passthrough`` names the original
    JPEG while its pixels are still unchanged, so bundling can embed it without re-encoding.
    Steps never mutate a page: they return ``page.evolve(...)``.
    """

    ref: PageRef
    image: np.ndarray | None
    dpi: float
    dpi_estimated: bool = False
    exif_orientation: int = 1
    passthrough: Path | None = None
    lossy_source: bool = False
    rotation: int = 0
    #: The text runs along the right axis, but up and down are left to the OCR run.
    orientation_pending: bool = False
    #: Clockwise turn applied by the PDF page's ``/Rotate`` instead of moving pixels.
    view_rotation: int = 0
    skew_degrees: float = 0.0
    perspective_corrected: bool = False
    flags: tuple[str, ...] = ()
    ocr: OcrResult | None = None
    codes: tuple[str, ...] = ()  # its QR codes' payloads (``pipeline.codes``): never logged
    history: tuple[StepRecord, ...] = ()
    detail: str = field(default="", repr=False)

    @property
    def kind(self) -> PageKind:
        return self.ref.kind

    def evolve(self, detail: str = "", **changes: Any) -> Page:
        """A copy with ``changes``; a new ``image`` drops the JPEG passthrough."""
        if "image" in changes and "passthrough" not in changes:
            changes["passthrough"] = None
        return dataclasses.replace(self, detail=detail, **changes)

    def flagged(self, *flags: str) -> Page:
        new = tuple(f for f in flags if f not in self.flags)
        return dataclasses.replace(self, flags=self.flags + new)


@dataclass(frozen=True)
class PageResult:
    """A finished page: its one-page PDF on disk and what the report says about it."""

    source: str
    index: int
    kind: PageKind
    pdf: Path
    text: str
    rotation: int
    skew_degrees: float
    perspective_corrected: bool
    dpi: float | None
    ocr_confidence: float | None
    flags: tuple[str, ...]
    history: tuple[StepRecord, ...]
    #: The language the page was read as (a Tesseract code); ``None`` without OCR.
    language: str | None = None
    #: The SHA-256 of the original the page comes from (which originals a part holds).
    source_sha256: str = ""
    #: The QR codes' payloads found on the page (``pipeline.codes``): for the flow, never
    #: in the report (a letter's code is a link token).
    codes: tuple[str, ...] = ()

    def to_report(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "index": self.index,
            "kind": self.kind,
            "rotation": self.rotation,
            "skew_degrees": round(self.skew_degrees, 2),
            "perspective_corrected": self.perspective_corrected,
            "dpi": None if self.dpi is None else round(self.dpi, 1),
            "ocr_confidence": None
            if self.ocr_confidence is None
            else round(self.ocr_confidence, 1),
            "language": self.language,
            "flags": list(self.flags),
            "qr_codes": len(self.codes),
            "timings_ms": {r.step: round(r.ms, 1) for r in self.history},
            "steps": [{"step": r.step, "detail": r.detail} for r in self.history],
        }


@dataclass(frozen=True)
class DocumentResult:
    """One finished document: the PDF, its text, the originals and the per-page results."""

    pdf: Path
    sha256: str
    text: str
    pipeline: str
    pipeline_version: str
    originals: tuple[Original, ...]
    pages: tuple[PageResult, ...]
    #: The type its text suggests; ``None`` when none was asked for (``ingest``).
    suggestion: TypeSuggestion | None = None
    #: Set when it was split off an uploaded document (``pipeline.split``).
    split: Split | None = None
    #: The uploaded document's pages (1-based) left out of it: separator sheets and blank
    #: pages between documents (also when it was not split).
    left_out: tuple[int, ...] = ()

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages its pages were read as (Tesseract codes): German first when present,
        then in the order of the pages."""
        found = list(dict.fromkeys(p.language for p in self.pages if p.language))
        return tuple(sorted(found, key=lambda code: code != GERMAN))

    def report(self) -> dict[str, Any]:
        return {
            "pages": [p.to_report() for p in self.pages],
            "originals": [o.to_report() for o in self.originals],
            "document": {
                "sha256": self.sha256,
                "pages": len(self.pages),
                "pipeline": self.pipeline,
                "pipeline_version": self.pipeline_version,
                "languages": list(self.languages),
                "suggested_type": self.suggestion.to_report() if self.suggestion else None,
                "split_from": self.split.to_report() if self.split else None,
                "left_out": list(self.left_out),
            },
        }

    def report_bytes(self) -> bytes:
        """The report as stored and written by ``ingest``: indented UTF-8 JSON."""
        return json.dumps(self.report(), indent=2, ensure_ascii=False).encode("utf-8")


def safe_name(name: str) -> str:
    """The client's file name reduced to harmless metadata (never used as a path)."""
    name = unicodedata.normalize("NFC", Path(name.replace("\\", "/")).name)
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    return name[:120] or "upload"


@dataclass(frozen=True)
class ReceivedFile:
    """One uploaded file as stored: server-made id and key, sanitised name, hash and type."""

    file_id: str
    name: str
    key: str
    sha256: str
    size: int
    media_type: str
    pages: int
    duplicate_of: str | None = None
    #: The applicant says they blacked out parts of it on the upload page (since 1.3).
    redacted_by_applicant: bool = False
    #: A password-protected PDF unlocked at upload: the decrypted copy the worker builds from,
    #: stored beside the untouched original (``key``, ``sha256`` stay the original's).
    decrypted_key: str | None = None
    decrypted_sha256: str | None = None
    decrypted_size: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def build_key(self) -> str:
        """The key the worker builds from: the decrypted copy of an unlocked PDF, else the
        original (whose name, hash and size stay the ones recorded everywhere)."""
        return self.decrypted_key or self.key

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReceivedFile:
        return cls(**data)

    def original(self, path: Path) -> Original:
        """This file, fetched to ``path``, as the builder's input: name, hash, size, type and
        pages as received (never computed again)."""
        return Original(
            name=self.name,
            path=path,
            sha256=self.sha256,
            size=self.size,
            media_type=self.media_type,
            pages=self.pages,
        )


@dataclass(frozen=True)
class Split:
    """Where a document split off an uploaded one comes from: part ``part`` of ``parts``,
    holding ``pages`` (1-based, in upload order) of the uploaded document ``document_id``."""

    document_id: str
    part: int
    parts: int
    pages: tuple[int, ...]
    #: What began the part (``start``, ``separator_sheet``, ``blank_page``, ``type_change``):
    #: for the report, not the message.
    began_with: str = "start"

    def to_json(self) -> dict[str, Any]:
        """The message's ``split_from``."""
        return {
            "document_id": self.document_id,
            "part": self.part,
            "parts": self.parts,
            "pages": list(self.pages),
        }

    def to_report(self) -> dict[str, Any]:
        return {**self.to_json(), "began_with": self.began_with}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Split:
        return cls(data["document_id"], data["part"], data["parts"], tuple(data["pages"]))


@dataclass(frozen=True)
class TypeSuggestion:
    """The document type a text looks like (``pipeline.doctype``), how sure that is (0–1) and
    the cues that said so: cue names (``iban``, ``mrz``), never the text itself."""

    type: str
    confidence: float
    cues: tuple[str, ...] = ()

    def to_report(self) -> dict[str, Any]:
        return {"type": self.type, "confidence": round(self.confidence, 3), "cues": list(self.cues)}


@dataclass(frozen=True)
class DocumentRequest:
    """One document of a submission: its type, an optional note, its files in page order."""

    document_id: str
    document_type: str
    files: tuple[ReceivedFile, ...]
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "document_type": self.document_type,
            "note": self.note,
            "files": [f.to_json() for f in self.files],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentRequest:
        files = tuple(ReceivedFile.from_json(f) for f in data["files"])
        return cls(data["document_id"], data["document_type"], files, data.get("note", ""))


@dataclass(frozen=True)
class Submission:
    """What an applicant handed in at once (Einreichung): documents for one case of one tenant.

    ``case_number`` is the BG-Nummer (e.g. ``12345BG0012345``); a tenant is a job center.
    ``received_at`` is an ISO 8601 UTC timestamp. ``malware_scan`` is what the malware scan
    said before it was stored: ``clean``, ``off`` (no scanner configured; also every manifest
    written before the scan existed) or ``not_scanned`` (clamd away, ``scan.fail_open``).
    """

    submission_id: str
    tenant: str
    case_number: str
    received_at: str
    channel: str
    documents: tuple[DocumentRequest, ...]
    malware_scan: str = "off"

    def to_json(self) -> dict[str, Any]:
        return {
            "submission_id": self.submission_id,
            "tenant": self.tenant,
            "case_number": self.case_number,
            "received_at": self.received_at,
            "channel": self.channel,
            "documents": [d.to_json() for d in self.documents],
            "malware_scan": self.malware_scan,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Submission:
        return cls(
            submission_id=data["submission_id"],
            tenant=data["tenant"],
            case_number=data["case_number"],
            received_at=data["received_at"],
            channel=data["channel"],
            documents=tuple(DocumentRequest.from_json(d) for d in data["documents"]),
            malware_scan=data.get("malware_scan", "off"),
        )
