"""Bundling: one-page PDFs per page, then one document PDF with metadata and nothing active.

- Image pages go through img2pdf: an unchanged JPEG original is embedded without re-encoding,
  cut at its primary image's end and without any APPn/COM segment but ICC/Adobe, wherever it
  stands (``jpeg.clean_jpeg``: no EXIF/GPS, no appended file leaves; a JPEG the walker refuses
  is re-encoded), an unchanged PNG's compressed pixel data is copied as it is, changed pages
  are encoded as JPEG when the source was lossy already and as lossless PNG/Flate otherwise.
  Colour is kept; no JBIG2.
- The invisible text layer (``textlayer.py``, from Tesseract's lines and word boxes) lies
  *under* the image: it is drawn first in the page's content.
- Born-digital PDF pages keep their text and vectors: PDFium flattens form fields and
  annotations into the page, then ``pdfclean`` rebuilds the page from an allowlist of page and
  resource keys (no annotation, action, file or metadata survives; see there) and embeds a
  Liberation subset for each font the file did not embed (``pdffonts``); a page with
  transparency is rasterised instead. The output is built from pages only, so no
  catalog-level JavaScript, open action or embedded file survives.
- PDF/A-2u (``pdfa``): document info and the XMP claim from one set of values, an ICC v2 sRGB
  output intent, header 1.7, a trailer ``/ID``, no transparency group on any page.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import img2pdf
import numpy as np
import pypdfium2 as pdfium
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)

from briefkasten.errors import CorruptInput, InputRejected, ProcessingError
from briefkasten.model import Page, PageRef
from briefkasten.pipeline.jpeg import clean_jpeg
from briefkasten.pipeline.pdfa import (
    HEADER,
    OUTPUT_CONDITION,
    SRGB_V2,
    ArchivalMeta,
    cid_set,
    info_entries,
    xmp_packet,
)
from briefkasten.pipeline.pdfclean import PAGE_KEYS, PageLimits, Sanitised, sanitise_page
from briefkasten.pipeline.textlayer import add_text_layer

PRODUCER = "Briefkasten"


@dataclass(frozen=True)
class DocumentMeta:
    title: str
    document_type: str
    created: datetime
    originals: Sequence[tuple[str, str]]  # (name, sha256)
    steps: Sequence[str]
    producer: str = PRODUCER


#: Pages up to this many pixels are encoded early. The thread's copy of the pixels (BGR for
#: OpenCV) and the encoded bytes are held while Tesseract reads (~25 MB for a 12-MP photo's
#: page); a larger page is encoded after OCR, as before, within the page child's memory limit.
EARLY_MAX_PIXELS = 16_000_000


class EarlyImage:
    """The page image encoded for its PDF in a thread while the OCR step reads the page.

    The OCR step never changes pixels, and Tesseract and the encoders release the GIL: the
    encoding (~30-60 ms for a 12-MP photo's page) is done on a core Tesseract leaves free by
    the time the page is bundled. ``raster_page_pdf`` takes it only if the page still has the
    pixels it was started on (a later step turned it: encoded again). ``close`` waits for the
    thread.
    """

    def __init__(self, jpeg_quality: int) -> None:
        self._quality = jpeg_quality
        self._executor: ThreadPoolExecutor | None = None
        #: The page the encoding started on, and the encoding.
        self._pending: tuple[Page, Future[tuple[bytes, str]]] | None = None

    def before_step(self, step: str, page: Page) -> None:
        """Start encoding ``page`` before its ``ocr`` step (once; not for a page over
        ``EARLY_MAX_PIXELS``, nor when no thread can be started: it is encoded when bundled)."""
        if step != "ocr" or self._executor is not None or page.image is None:
            return
        if page.image.shape[0] * page.image.shape[1] > EARLY_MAX_PIXELS:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="early-image")
        try:
            self._pending = page, self._executor.submit(_page_image_bytes, page, self._quality)
        except RuntimeError:  # no thread to be had (the child's limits): encoded later
            return

    def encoded(self, page: Page, jpeg_quality: int) -> tuple[bytes, str] | None:
        """The encoding of ``page`` (its error raised here) if it has the pixels, source and
        quality the encoding was started on; ``None`` otherwise."""
        if self._pending is None or jpeg_quality != self._quality:
            return None
        started, future = self._pending
        if page.image is not started.image or page.passthrough != started.passthrough:
            return None
        if page.lossy_source != started.lossy_source:
            return None
        return future.result()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)


def raster_page_pdf(
    page: Page, out: Path, *, jpeg_quality: int, early: EarlyImage | None = None
) -> str:
    """Write ``page`` as a one-page PDF with its text layer; return how the image was stored.
    ``early``: the image encoded while OCR ran, if it still fits the page."""
    assert page.image is not None
    encoded = None if early is None else early.encoded(page, jpeg_quality)
    data, how = encoded or _page_image_bytes(page, jpeg_quality)
    layout = img2pdf.get_fixed_dpi_layout_fun((page.dpi, page.dpi))
    image_pdf = img2pdf.convert(data, layout_fun=layout, rotation=img2pdf.Rotation.none)
    writer = PdfWriter(clone_from=io.BytesIO(image_pdf))
    if page.ocr is not None:
        # Drawn first, so the invisible text lies under the image.
        height, width = page.image.shape[:2]
        add_text_layer(writer, writer.pages[0], page.ocr.lines, (width, height))
    if page.view_rotation:
        writer.pages[0].rotate(page.view_rotation)
    with out.open("wb") as handle:
        writer.write(handle)
    return how


def _page_image_bytes(page: Page, jpeg_quality: int) -> tuple[bytes, str]:
    assert page.image is not None
    if page.passthrough is not None:
        data = page.passthrough.read_bytes()
        if page.ref.original.media_type != "image/jpeg":
            # img2pdf takes only the pixel data (IDAT) and the ICC profile from a PNG.
            return data, "original PNG passed through"
        try:
            return clean_jpeg(data), "original JPEG passed through"
        except InputRejected:  # Pillow decoded what the walker refuses: when in doubt, re-encode
            pass
    pixels = page.image if page.image.ndim == 2 else cv2.cvtColor(page.image, cv2.COLOR_RGB2BGR)
    pixels = np.ascontiguousarray(pixels)
    if page.lossy_source:
        ok, buf = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        how = f"JPEG quality {jpeg_quality}"
    else:
        ok, buf = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 3])
        how = "lossless PNG"
    if not ok:
        raise ProcessingError("cannot encode page image", source=page.ref.original.name)
    return buf.tobytes(), how


def vector_page_pdf(ref: PageRef, out: Path, limits: PageLimits) -> tuple[str, Sanitised]:
    """Copy a born-digital PDF page with forms and annotations flattened, then rebuild it from
    the allowlist (``pdfclean``). ``Sanitised.unsafe`` says when it must be rasterised instead."""
    flat = out.with_name(f"{out.stem}.flat.pdf")
    try:
        source = pdfium.PdfDocument(ref.original.path)
        try:
            page = source[ref.index]
            pdfium.raw.FPDFPage_Flatten(page.raw, pdfium.raw.FLAT_PRINT)
            target = pdfium.PdfDocument.new()
            target.import_pages(source, [ref.index])
            target.save(flat)
            target.close()
        finally:
            source.close()
        sanitised = sanitise_page(flat, out, limits)
    except pdfium.PdfiumError as exc:
        raise CorruptInput(f"cannot copy PDF page: {exc}", source=ref.original.name) from exc
    finally:
        flat.unlink(missing_ok=True)
    return "born-digital page copied, annotations flattened", sanitised


def merge(pages: Sequence[Path], output: Path, meta: DocumentMeta) -> None:
    """Merge one-page PDFs into ``output`` as PDF/A-2u (``pdfa``): metadata, XMP claim, sRGB v2
    output intent, header 1.7, trailer ``/ID``; pages keep only allowlisted keys and no
    transparency group."""
    writer = PdfWriter()
    for path in pages:
        page = PdfReader(path).pages[0]
        for key in [k for k in page if k not in PAGE_KEYS]:  # annotations, actions, /Group
            del page[NameObject(key)]
        writer.add_page(page)
    for page in writer.pages:
        _add_cid_sets(writer, page.get("/Resources"), set())
    archival = ArchivalMeta(
        title=meta.title,
        description=meta.document_type,
        producer=meta.producer,
        created=meta.created,
        keywords=f"Briefkasten; {meta.document_type}",
    )
    writer.add_metadata(
        {
            **info_entries(archival),
            "/BriefkastenOriginals": json.dumps(
                [{"name": n, "sha256": h} for n, h in meta.originals], ensure_ascii=False
            ),
            "/BriefkastenSteps": ", ".join(meta.steps),
        }
    )
    root = writer.root_object
    root[NameObject("/Metadata")] = writer._add_object(_xmp_stream(archival))
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(_output_intent(writer))])
    writer.compress_identical_objects()
    writer.pdf_header = HEADER
    writer.generate_file_identifiers()
    with output.open("wb") as handle:
        writer.write(handle)


def _add_cid_sets(writer: PdfWriter, resources: object, seen: set[int]) -> None:
    """Give each embedded TrueType subset under ``resources`` (fonts of the page and of its form
    XObjects) a ``/CIDSet`` when it has none; a font mapped ``/Identity`` is left as it is."""
    resources = _resolved(resources)
    if not isinstance(resources, DictionaryObject) or id(resources) in seen:
        return
    seen.add(id(resources))
    for font in _dictionary(resources.get("/Font")).values():
        font = _dictionary(font)
        descendants = _resolved(font.get("/DescendantFonts"))
        if font.get("/Subtype") != "/Type0" or not isinstance(descendants, ArrayObject):
            continue
        descendant = _dictionary(descendants[0] if descendants else None)
        mapping = _resolved(descendant.get("/CIDToGIDMap"))
        descriptor = _dictionary(descendant.get("/FontDescriptor"))
        if isinstance(mapping, StreamObject) and descriptor and "/CIDSet" not in descriptor:
            stream = DecodedStreamObject()
            stream.set_data(cid_set(mapping.get_data()))
            descriptor[NameObject("/CIDSet")] = writer._add_object(stream)
    for xobject in _dictionary(resources.get("/XObject")).values():
        xobject = _dictionary(xobject)
        if xobject.get("/Subtype") == "/Form":
            _add_cid_sets(writer, xobject.get("/Resources"), seen)


def _resolved(value: object) -> object:
    return value.get_object() if isinstance(value, PdfObject) else value


def _dictionary(value: object) -> DictionaryObject:
    value = _resolved(value)
    return value if isinstance(value, DictionaryObject) else DictionaryObject()


def _output_intent(writer: PdfWriter) -> DictionaryObject:
    profile = DecodedStreamObject()
    profile.set_data(SRGB_V2)
    profile[NameObject("/N")] = NumberObject(3)
    compressed = profile.flate_encode()
    intent = DictionaryObject()
    intent[NameObject("/Type")] = NameObject("/OutputIntent")
    intent[NameObject("/S")] = NameObject("/GTS_PDFA1")
    intent[NameObject("/OutputConditionIdentifier")] = TextStringObject(OUTPUT_CONDITION)
    intent[NameObject("/Info")] = TextStringObject(OUTPUT_CONDITION)
    intent[NameObject("/DestOutputProfile")] = writer._add_object(compressed)
    return intent


def _xmp_stream(meta: ArchivalMeta) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(xmp_packet(meta))  # uncompressed, as PDF/A recommends for the XMP
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    return stream
