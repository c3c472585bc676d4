"""Instant quality feedback for the upload page, before anything is sent.

Runs the cheap front of the pipeline (``pipelines/precheck.toml``: EXIF orientation,
perspective, DPI estimate, quality flags — no OCR) on the raster pages of one uploaded file and
turns the flags into plain-language advice. The applicant may still send; the pipeline measures
again later and the flags travel to the case worker either way. Where the file already has
text (the born-digital pages of a PDF: a payroll portal's pay slip, a bank's statement), the
check also suggests the document's type from it (``pipeline.doctype``), so that the page can
ask "Stimmt der Typ?" before sending; photos get no suggestion here (that would need OCR).
It parses upload bytes: run it in the sandbox (``briefkasten.gateway.checks``), never in the
gateway process.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

from briefkasten import i18n
from briefkasten.config import Settings
from briefkasten.model import Original, PageRef, TypeSuggestion
from briefkasten.pipeline.doctype import suggest_pages
from briefkasten.pipeline.images import decode
from briefkasten.pipeline.runner import Options, load_pipeline, run_steps
from briefkasten.pipeline.sniff import readable, sniff

PIPELINE = "precheck"
#: Only the first pages of a long scanned PDF are checked; the answer must come at once.
MAX_PAGES = 3
#: PDF pages are rendered at this resolution for the check (quality is measured at 150 dpi).
RENDER_DPI = 150

#: Letters a file's text must have before its type is suggested (less says nothing).
MIN_TEXT_LETTERS = 40

#: The quality flags the applicant gets advice for (``advice.<flag>`` in the catalogues of
#: ``briefkasten.i18n``, one per applicant language).
ADVICE: frozenset[str] = frozenset(i18n.section(i18n.DEFAULT, "advice"))


@dataclass(frozen=True)
class Finding:
    """One piece of advice for one page of the file (``page`` counts from 1)."""

    code: str
    page: int

    def to_json(self) -> dict[str, Any]:
        key = f"advice.{self.code}"
        return {
            "code": self.code,
            "page": self.page,
            "message_de": i18n.text("de", key),
            "message_en": i18n.text("en", key),
        }


@dataclass(frozen=True)
class Checked:
    """What the check found: the file's media type and pages, the advice, and the type its
    text suggests (``None`` when it has no text of its own)."""

    media_type: str
    pages: int
    findings: tuple[Finding, ...]
    suggestion: TypeSuggestion | None = None


def precheck(path: Path, settings: Settings) -> tuple[str, int, tuple[Finding, ...]]:
    """(media type, pages, findings) for the file at ``path``; born-digital pages pass."""
    checked = check_upload(path, settings)
    return checked.media_type, checked.pages, checked.findings


def check_upload(path: Path, settings: Settings) -> Checked:
    """The advice for the raster pages of the file at ``path`` (its first ``MAX_PAGES``) and
    the type its born-digital pages' text suggests."""
    sniffed = sniff(path, settings.limits)
    original = Original(
        name="upload",
        path=path,
        sha256="",
        size=path.stat().st_size,
        media_type=sniffed.media_type,
        pages=len(sniffed.kinds),
    )
    pipeline = load_pipeline(PIPELINE, settings.pipeline.directory)
    findings: list[Finding] = []
    texts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="briefkasten-precheck-") as workdir:
        original = readable(original, Path(workdir))
        for index, kind in enumerate(sniffed.kinds[:MAX_PAGES]):
            if kind != "raster":
                texts.append(page_text(original.path, index))
                continue
            ref = PageRef(original, index, kind)
            page = decode(ref, raster_dpi=RENDER_DPI, max_pixels=settings.limits.max_render_pixels)
            page = run_steps(page, pipeline, Path(workdir), Options())
            findings.extend(Finding(flag, index + 1) for flag in page.flags if flag in ADVICE)
    letters = sum(ch.isalpha() for text in texts for ch in text)
    suggestion = suggest_pages(texts) if letters >= MIN_TEXT_LETTERS else None
    return Checked(sniffed.media_type, len(sniffed.kinds), tuple(findings), suggestion)


def page_text(path: Path, index: int) -> str:
    """The text of born-digital page ``index`` of the PDF at ``path``."""
    pdf = pdfium.PdfDocument(path)
    try:
        return str(pdf[index].get_textpage().get_text_bounded())
    finally:
        pdf.close()
