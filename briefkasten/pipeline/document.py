"""Building one document: originals in, one searchable PDF and its report out.

``build_document`` is the whole flow for one document: check every original (type, limits: in
a sandboxed child, it is untrusted), turn each page into a one-page PDF (``build_page``:
decode → pipeline steps → bundle) in a process pool, merge. The originals come in as data
(name, SHA-256, media type, size, as received) and are never hashed again; the PDF lands in the
caller's work directory, the text and the report stay in memory (``DocumentResult``).

``ingest`` is the same for files on disk (the CLI and the public API): it hashes each file
once, builds the document and moves the PDF (and report) into place atomically. Nothing is
written to ``output`` unless everything worked.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pypdfium2 as pdfium
from tqdm import tqdm

from briefkasten.config import Settings
from briefkasten.config import load as load_settings
from briefkasten.errors import BriefkastenError, LimitExceeded, ProcessingError
from briefkasten.model import DocumentResult, Original, PageRef, PageResult, StepRecord, safe_name
from briefkasten.pipeline import bundle, languages
from briefkasten.pipeline.bundle import DocumentMeta, merge, raster_page_pdf, vector_page_pdf
from briefkasten.pipeline.doctype import suggest_pages
from briefkasten.pipeline.images import decode
from briefkasten.pipeline.pdfclean import PageLimits, inspect_page
from briefkasten.pipeline.pool import PagePool
from briefkasten.pipeline.runner import Options, Pipeline, load_pipeline, run_steps
from briefkasten.pipeline.sandbox import CpuBudget, page_bounds
from briefkasten.pipeline.sniff import Sniffed, is_jpeg, readable, sniff, sniff_jpeg
from briefkasten.storage.records import atomic_file, sha256_file
from briefkasten.tools import langdetect, tesseract


@dataclass(frozen=True)
class BuiltPages:
    """Every page of a document built (one-page PDFs in the work directory), not yet merged:
    the pipeline that made them and the originals they come from."""

    pages: tuple[PageResult, ...]
    originals: tuple[Original, ...]
    pipeline: Pipeline


def build_document(
    originals: Sequence[Original],
    workdir: Path,
    *,
    settings: Settings,
    pipeline: str | None = None,
    lang: str | None = None,
    title: str | None = None,
    document_type: str = "sonstiges",
    progress: bool = False,
    pool: PagePool | None = None,
    cpu_budget: CpuBudget | None = None,
    refs: Sequence[PageRef] | None = None,
    languages: Sequence[str] | None = None,
) -> DocumentResult:
    """One searchable PDF (``workdir/document.pdf``) from ``originals`` (pages in order):
    ``build_pages``, then ``assemble`` all of them."""
    built = build_pages(
        originals,
        workdir,
        settings=settings,
        pipeline=pipeline,
        lang=lang,
        progress=progress,
        pool=pool,
        cpu_budget=cpu_budget,
        refs=refs,
        languages=languages,
    )
    return assemble(built, built.pages, workdir / "document.pdf", title, document_type)


def build_pages(
    originals: Sequence[Original],
    workdir: Path,
    *,
    settings: Settings,
    pipeline: str | None = None,
    lang: str | None = None,
    progress: bool = False,
    pool: PagePool | None = None,
    cpu_budget: CpuBudget | None = None,
    refs: Sequence[PageRef] | None = None,
    languages: Sequence[str] | None = None,
) -> BuiltPages:
    """Every page of ``originals`` (in order) as a one-page PDF in ``workdir``.

    Every original is sniffed (``page_refs``: type, limits, its pages, without decoding the
    pixels, which each page child does; skipped when the caller
    passes the ``refs`` it sniffed already) and every page processed in a sandboxed child of
    ``pool`` (keep one for many documents), else of a pool of up to ``settings.worker_count``
    children made for this document: untrusted bytes are never parsed in this process.
    ``cpu_budget`` bounds the CPU seconds of all of them together (the worker's per-submission
    budget). ``languages`` bounds the languages a page not in ``lang`` may be read in
    (default ``ocr.languages``; the worker passes the tenant's).
    """
    definition = load_pipeline(pipeline or settings.pipeline.name, settings.pipeline.directory)
    options = Options(
        lang=lang or settings.ocr.lang,
        languages=tuple(settings.ocr.allowed if languages is None else languages),
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
    if refs is None:
        refs = page_refs(originals, settings, pool, cpu_budget)
    pages = _build_all(refs, definition, workdir, options, settings, progress, pool, cpu_budget)
    return BuiltPages(pages, tuple(originals), definition)


def assemble(
    built: BuiltPages,
    pages: Sequence[PageResult],
    output: Path,
    title: str | None = None,
    document_type: str = "sonstiges",
) -> DocumentResult:
    """Merge ``pages`` (some or all of ``built``'s, in order) into one PDF/A at ``output``;
    the document's originals are those its pages come from."""
    sources = {p.source_sha256 for p in pages}
    originals = tuple(o for o in built.originals if o.sha256 in sources) or built.originals
    meta = DocumentMeta(
        title=title or originals[0].name,
        document_type=document_type,
        created=datetime.now(UTC),
        originals=[(o.name, o.sha256) for o in originals],
        steps=[s.name for s in built.pipeline.steps],
    )
    merge([p.pdf for p in pages], output, meta)
    sha256, _ = sha256_file(output)
    return DocumentResult(
        pdf=output,
        sha256=sha256,
        text="\f".join(p.text for p in pages),
        pipeline=built.pipeline.name,
        pipeline_version=built.pipeline.version,
        originals=originals,
        pages=tuple(pages),
    )


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
    """Normalise ``files`` (pages in order) into one searchable PDF at ``output`` (and its
    report at ``report``): ``build_document`` for files on disk, each hashed once here."""
    settings = settings or load_settings()
    pool = pool or PagePool(settings.worker_count, page_bounds(settings.sandbox))
    originals, refs = local_originals(files, settings, pool, cpu_budget)
    output = output.absolute()
    with tempfile.TemporaryDirectory(prefix=".briefkasten-", dir=output.parent) as tmp:
        result = build_document(
            originals,
            Path(tmp),
            settings=settings,
            pipeline=pipeline,
            lang=lang,
            title=title,
            document_type=document_type,
            progress=progress,
            pool=pool,
            cpu_budget=cpu_budget,
            refs=refs,
        )
        result = dataclasses.replace(
            result, suggestion=suggest_pages([p.text for p in result.pages])
        )
        _publish(result, output, report)
    return dataclasses.replace(result, pdf=output)


def _publish(result: DocumentResult, output: Path, report: Path | None) -> None:
    """Move the finished PDF (and report) into place; never leave half of them behind: the
    report is written first, the PDF moved, and only then the report gets its name."""
    if report is None:
        result.pdf.replace(output)
        return
    with atomic_file(report) as writer:
        writer.write(result.report_bytes())
        result.pdf.replace(output)
        os.fchmod(writer.fileno(), output.stat().st_mode & 0o777)  # as the PDF, not 0600


def local_originals(
    files: Sequence[Path], settings: Settings, pool: PagePool, budget: CpuBudget | None = None
) -> tuple[tuple[Original, ...], list[PageRef]]:
    """Files on disk as originals: each sniffed (``page_refs``) and hashed once."""
    _check_files(len(files), settings)
    originals: list[Original] = []
    refs: list[PageRef] = []
    for path in files:
        name = safe_name(path.name)
        sniffed = _sniff(path, name, settings, pool, budget)
        try:
            sha256, size = sha256_file(path)
        except OSError as exc:
            raise ProcessingError(f"cannot read file: {exc.strerror}", source=name) from exc
        original = Original(
            name=name,
            path=path.absolute(),
            sha256=sha256,
            size=size,
            media_type=sniffed.media_type,
            pages=len(sniffed.kinds),
        )
        originals.append(original)
        refs.extend(PageRef(original, i, kind) for i, kind in enumerate(sniffed.kinds))
    _check_pages(len(refs), settings)
    return tuple(originals), refs


def page_refs(
    originals: Sequence[Original],
    settings: Settings,
    pool: PagePool,
    budget: CpuBudget | None = None,
) -> list[PageRef]:
    """Every page of ``originals``, in order. Each original is sniffed in a sandboxed child of
    ``pool`` (its bytes are untrusted: type, limits, page kinds), a JPEG by our own marker walk
    in this process (``sniff.sniff_jpeg``); the whole set is refused if one fails or a limit is
    hit."""
    _check_files(len(originals), settings)
    refs: list[PageRef] = []
    for original in originals:
        sniffed = _sniff(original.path, original.name, settings, pool, budget)
        refs.extend(PageRef(original, i, kind) for i, kind in enumerate(sniffed.kinds))
    _check_pages(len(refs), settings)
    return refs


def _sniff(
    path: Path, name: str, settings: Settings, pool: PagePool, budget: CpuBudget | None
) -> Sniffed:
    try:
        if is_jpeg(path):  # our own pure-Python marker walk: safe in this process
            return sniff_jpeg(path, settings.limits)
        return pool.call(partial(sniff, decode=False), path, settings.limits, budget=budget)
    except BriefkastenError as exc:
        exc.source = name
        raise
    except OSError as exc:
        raise ProcessingError(f"cannot read file: {exc.strerror}", source=name) from exc


def _check_files(count: int, settings: Settings) -> None:
    if not count:
        raise LimitExceeded("no input files")
    if count > settings.limits.max_files:
        raise LimitExceeded(f"{count} files, limit is {settings.limits.max_files}")


def _check_pages(count: int, settings: Settings) -> None:
    if count > settings.limits.max_pages:
        raise LimitExceeded(f"{count} pages in total, limit is {settings.limits.max_pages}")


def build_page(
    ref: PageRef, pipeline: Pipeline, workdir: Path, options: Options, raster_dpi: int
) -> PageResult:
    """Decode, run the pipeline and bundle one page into ``workdir``; runs in a page child."""
    out = workdir / f"page-{ref.original.sha256[:12]}-{ref.index:04d}.pdf"
    early = bundle.EarlyImage(options.jpeg_quality)  # encoded while Tesseract reads
    try:
        unsafe: StepRecord | None = None
        ref = dataclasses.replace(ref, original=readable(ref.original, workdir))
        if ref.kind == "vector":
            vector = _vector_page(ref, out, options)
            if isinstance(vector, PageResult):
                return vector
            ref, unsafe = dataclasses.replace(ref, kind="raster"), vector
        decoded = decode(ref, raster_dpi=raster_dpi, max_pixels=options.max_render_pixels)
        page = run_steps(decoded, pipeline, workdir, options, early.before_step)
        if unsafe is not None:
            page = page.flagged("rasterised_unsafe_content")
            page = page.evolve(history=(unsafe, *page.history))
        if page.orientation_pending:  # no OCR step came after orientation to settle it
            page = page.flagged("orientation_uncertain").evolve(orientation_pending=False)
        started = time.perf_counter()
        how = raster_page_pdf(page, out, jpeg_quality=options.jpeg_quality, early=early)
        bundled = StepRecord("bundle", how, (time.perf_counter() - started) * 1000)
    except BriefkastenError as exc:
        exc.source = exc.source or ref.original.name
        raise
    except Exception as exc:
        raise ProcessingError(
            f"page {ref.index + 1} failed: {type(exc).__name__}", source=ref.original.name
        ) from exc
    finally:
        early.close()
    return PageResult(
        source=ref.original.name,
        source_sha256=ref.original.sha256,
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
        language=(page.ocr.language or None) if page.ocr else None,
        codes=page.codes,
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
    text = _pdf_page_text(ref)
    allowed = frozenset((*options.languages, *languages.codes(options.lang)))
    return PageResult(
        source=ref.original.name,
        source_sha256=ref.original.sha256,
        index=ref.index,
        kind="vector",
        pdf=out,
        text=text,
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
        # Its own text, when lingua is sure of it (only with other languages allowed).
        language=languages.text_language(text, langdetect.detector(allowed).guess)
        if options.languages
        else None,
    )


def _build_all(
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
        return pool.run_pages(build_page, refs, *args, on_done=bar.update, budget=budget)


def _pdf_page_text(ref: PageRef) -> str:
    pdf = pdfium.PdfDocument(ref.original.path)
    try:
        return str(pdf[ref.index].get_textpage().get_text_bounded())
    finally:
        pdf.close()
