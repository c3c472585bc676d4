"""Instant quality feedback for the upload page, before anything is sent.

Runs the cheap front of the pipeline (``pipelines/precheck.toml``: EXIF orientation,
perspective, DPI estimate, quality flags — no OCR) on the raster pages of one uploaded file and
turns the flags into plain-language advice. The applicant may still send; the pipeline measures
again later and the flags travel to the case worker either way. It parses upload bytes: run it
in the sandbox (``briefkasten.gateway.checks``), never in the gateway process.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefkasten import i18n
from briefkasten.config import Settings
from briefkasten.model import Original, PageRef
from briefkasten.pipeline.images import decode
from briefkasten.pipeline.runner import Options, load_pipeline, run_steps
from briefkasten.pipeline.sniff import readable, sniff

PIPELINE = "precheck"
#: Only the first pages of a long scanned PDF are checked; the answer must come at once.
MAX_PAGES = 3
#: PDF pages are rendered at this resolution for the check (quality is measured at 150 dpi).
RENDER_DPI = 150

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


def precheck(path: Path, settings: Settings) -> tuple[str, int, tuple[Finding, ...]]:
    """(media type, pages, findings) for the file at ``path``; born-digital pages pass."""
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
    with tempfile.TemporaryDirectory(prefix="briefkasten-precheck-") as workdir:
        original = readable(original, Path(workdir))
        for index, kind in enumerate(sniffed.kinds[:MAX_PAGES]):
            if kind != "raster":
                continue
            ref = PageRef(original, index, kind)
            page = decode(ref, raster_dpi=RENDER_DPI, max_pixels=settings.limits.max_render_pixels)
            page = run_steps(page, pipeline, Path(workdir), Options())
            findings.extend(Finding(flag, index + 1) for flag in page.flags if flag in ADVICE)
    return sniffed.media_type, len(sniffed.kinds), tuple(findings)
