"""Building one document: originals in, one searchable PDF and its report out.

``ingest`` is the whole flow for one document: check every original (type, limits), turn
each page into a one-page PDF (decode → pipeline steps → bundle) in a process pool, merge, and
write the PDF and report atomically. Nothing is written to ``output`` unless everything worked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tempfile
import time
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from tqdm import tqdm

from briefkasten import config
from briefkasten.config import Settings
from briefkasten.errors import BriefkastenError, LimitExceeded, ProcessingError
from briefkasten.model import DocumentResult, Original, PageRef, PageResult, StepRecord
from briefkasten.pipeline import Options, Pipeline, load_pipeline, run_steps
from briefkasten.pipeline.bundle import DocumentMeta, merge, raster_page_pdf, vector_page_pdf
from briefkasten.pipeline.images import decode
from briefkasten.pipeline.pdfclean import PageLimits, inspect_page
from briefkasten.pipeline.pool import PagePool
from briefkasten.pipeline.sandbox import CpuBudget, page_bounds
from briefkasten.pipeline.sniff import sniff
from briefkasten.tools import tesseract

_CHUNK = 1024 * 1024


def ingest(
    files: Sequence[Path],
    output: Path,
    *,
    settings: Settings | None = None,
    pipeline: str | None = None,
    lang: str | None = None,
    title: str | None = None,
    document_type: str = "sonstiges",
    report: Path | None = None,
    progress: bool = False,
    pool: PagePool | None = None,
    cpu_budget: CpuBudget | None = None,
) -> DocumentResult:
    """Normalise ``files`` (pages in order) into one searchable PDF at ``output``.

    Every original is sniffed and every page processed in a sandboxed child of ``pool`` (keep
    one for many documents), else of a pool of up to ``settings.worker_count`` children made
    for this document: untrusted bytes are never parsed in this process. ``cpu_budget`` bounds
    the CPU seconds of all of them together (the worker's per-submission budget).
    """
    settings = settings or config.load()
    definition = load_pipeline(pipeline or settings.pipeline.name, settings.pipeline.directory)
    options = Options(
        lang=lang or settings.ocr.lang,
        ocr_timeout=settings.ocr.timeout_s,
        jpeg_quality=settings.pipeline.jpeg_quality,
        max_render_pixels=settings.limits.max_render_pixels,
        max_pixels=settings.limits.max_pixels,
        max_stream_bytes=settings.limits.max_stream_bytes,
        max_page_stream_bytes=settings.limits.max_page_stream_bytes,
    )
    if any(step.name == "ocr" for step in definition.steps):
        tesseract.check_lang(options.lang)
    pool = pool or PagePool(settings.worker_count, page_bounds(settings.sandbox))
    originals, refs = inspect(files, settings, pool, cpu_budget)
    output = output.absolute()
    with tempfile.TemporaryDirectory(prefix=".briefkasten-", dir=output.parent) as tmp:
        workdir = Path(tmp)
        pages = _process_all(
            refs, definition, workdir, options, settings, progress, pool, cpu_budget
        )
        meta = DocumentMeta(
            title=title or originals[0].name,
            document_type=document_type,
            created=datetime.now(UTC),
            originals=[(o.name, o.sha256) for o in originals],
            steps=[s.name for s in definition.steps],
        )
        merged = workdir / "document.pdf"
        merge([p.pdf for p in pages], merged, meta)
        result = DocumentResult(
            pdf=output,
            sha256=_sha256(merged),
            text="\f".join(p.text for p in pages),
            pipeline=definition.name,
            pipeline_version=definition.version,
            originals=originals,
            pages=pages,
        )
        _publish(merged, output, result.report(), report)
    return result


def _publish(pdf: Path, output: Path, report_data: dict[str, Any], report: Path | None) -> None:
    """Move the finished PDF (and report) into place; never leave half of them behind."""
    if report is None:
        pdf.replace(output)
        return
    part = report.with_name(f".{report.name}.part")
    try:
        part.write_text(json.dumps(report_data, indent=2, ensure_ascii=False), encoding="utf-8")
        pdf.replace(output)
        part.replace(report)
    finally:
        part.unlink(missing_ok=True)


def inspect(
    files: Sequence[Path], settings: Settings, pool: PagePool, budget: CpuBudget | None = None
) -> tuple[tuple[Original, ...], list[PageRef]]:
    """Sniff (in a sandboxed child of ``pool``) and hash every original; refuse the whole set
    if one fails or a limit is hit."""
    limits = settings.limits
    if not files:
        raise LimitExceeded("no input files")
    if len(files) > limits.max_files:
        raise LimitExceeded(f"{len(files)} files, limit is {limits.max_files}")
    originals: list[Original] = []
    refs: list[PageRef] = []
    for path in files:
        name = safe_name(path.name)
        try:
            sniffed = pool.call(sniff, path, limits, budget=budget)
        except BriefkastenError as exc:
            exc.source = name
            raise
        except OSError as exc:
            raise ProcessingError(f"cannot read file: {exc.strerror}", source=name) from exc
        original = Original(
            name=name,
            path=path.absolute(),
            sha256=_sha256(path),
            size=path.stat().st_size,
            media_type=sniffed.media_type,
            pages=len(sniffed.kinds),
        )
        originals.append(original)
        refs.extend(PageRef(original, i, kind) for i, kind in enumerate(sniffed.kinds))
    if len(refs) > limits.max_pages:
        raise LimitExceeded(f"{len(refs)} pages in total, limit is {limits.max_pages}")
    return tuple(originals), refs


def process_page(
    ref: PageRef, pipeline: Pipeline, workdir: Path, options: Options, raster_dpi: int
) -> PageResult:
    """Decode, run the pipeline and bundle one page into ``workdir``; runs in a page child."""
    out = workdir / f"page-{ref.original.sha256[:12]}-{ref.index:04d}.pdf"
    try:
        unsafe: StepRecord | None = None
        if ref.kind == "vector":
            vector = _vector_page(ref, out, options)
            if isinstance(vector, PageResult):
                return vector
            ref, unsafe = dataclasses.replace(ref, kind="raster"), vector
        decoded = decode(ref, raster_dpi=raster_dpi, max_pixels=options.max_render_pixels)
        page = run_steps(decoded, pipeline, workdir, options)
        if unsafe is not None:
            page = page.flagged("rasterised_unsafe_content")
            page = page.evolve(history=(unsafe, *page.history))
        if page.orientation_pending:  # no OCR step came after orientation to settle it
            page = page.flagged("orientation_uncertain").evolve(orientation_pending=False)
        started = time.perf_counter()
        how = raster_page_pdf(page, out, jpeg_quality=options.jpeg_quality)
        bundled = StepRecord("bundle", how, (time.perf_counter() - started) * 1000)
    except BriefkastenError as exc:
        exc.source = exc.source or ref.original.name
        raise
    except Exception as exc:
        raise ProcessingError(
            f"page {ref.index + 1} failed: {type(exc).__name__}", source=ref.original.name
        ) from exc
    if page.ocr is not None and page.ocr.text_pdf is not None:
        page.ocr.text_pdf.unlink(missing_ok=True)
    return PageResult(
        source=ref.original.name,
        index=ref.index,
        kind="raster",
        pdf=out,
        text=page.ocr.text if page.ocr else "",
        rotation=page.rotation,
        skew_degrees=page.skew_degrees,
        perspective_corrected=page.perspective_corrected,
        dpi=page.dpi,
        ocr_confidence=page.ocr.confidence if page.ocr else None,
        flags=page.flags,
        history=(*page.history, bundled),
    )


def _vector_page(ref: PageRef, out: Path, options: Options) -> PageResult | StepRecord:
    """The born-digital page copied and sanitised, or why it must be rasterised instead."""
    started = time.perf_counter()
    limits = PageLimits(options.max_pixels, options.max_stream_bytes, options.max_page_stream_bytes)
    how, sanitised = "", inspect_page(ref.original.path, ref.index, limits)
    if sanitised.unsafe is None:
        how, copied = vector_page_pdf(ref, out, limits)
        sanitised = sanitised.also(copied)
    elapsed = (time.perf_counter() - started) * 1000
    if sanitised.unsafe is not None:
        return StepRecord("sanitize", f"rasterised: {sanitised.unsafe}", elapsed)
    return PageResult(
        source=ref.original.name,
        index=ref.index,
        kind="vector",
        pdf=out,
        text=_pdf_page_text(ref),
        rotation=0,
        skew_degrees=0.0,
        perspective_corrected=False,
        dpi=None,
        ocr_confidence=None,
        flags=(),
        history=(
            StepRecord("sanitize", sanitised.detail(), elapsed),
            StepRecord("bundle", how, 0.0),
        ),
    )


def _process_all(
    refs: Sequence[PageRef],
    pipeline: Pipeline,
    workdir: Path,
    options: Options,
    settings: Settings,
    progress: bool,
    pool: PagePool,
    budget: CpuBudget | None,
) -> tuple[PageResult, ...]:
    args = (pipeline, workdir, options, settings.pipeline.raster_dpi)
    show = progress and len(refs) > 1
    with tqdm(total=len(refs), unit="page", disable=not show, leave=False) as bar:
        return pool.run(process_page, refs, *args, on_done=bar.update, budget=budget)


def _pdf_page_text(ref: PageRef) -> str:
    pdf = pdfium.PdfDocument(ref.original.path)
    try:
        return str(pdf[ref.index].get_textpage().get_text_bounded())
    finally:
        pdf.close()


def safe_name(name: str) -> str:
    """The client's file name reduced to harmless metadata (never used as a path)."""
    name = unicodedata.normalize("NFC", Path(name.replace("\\", "/")).name)
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    return name[:120] or "upload"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
