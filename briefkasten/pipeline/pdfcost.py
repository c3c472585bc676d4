"""What a PDF page costs before anyone parses it: its decompressed content bytes.

A page's content streams (and those of the form XObjects it draws, recursively) are inflated
with a bounded decompressor that stops as soon as the page is over
``limits.max_page_content_bytes``: a 1 MB file whose page inflates to 1 GB costs one MiB of
memory here, not a gigabyte in PDFium. (Pages with images or streams over the limits are
rasterised rather than copied: ``pipeline.pdfclean``; rendering is bounded by the sandbox.)
Runs inside the sandbox (``briefkasten.pipeline.sandbox``), like every parse of
upload bytes; pypdf reads the structure, nothing is decoded that is not counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from briefkasten.config import LimitSettings
from briefkasten.errors import CorruptInput, StreamTooLarge, TooComplex
from briefkasten.pipeline.streams import decoded_size, measurable

#: Form XObjects inside form XObjects deeper than this are refused (real files use 2 or 3).
MAX_FORM_DEPTH = 12


def check_pages(path: Path, limits: LimitSettings) -> None:
    """Refuse the PDF as ``TooComplex`` if a page's content inflates to too many bytes."""
    try:
        reader = PdfReader(path, strict=False)
        pages = list(reader.pages)
    except RecursionError as exc:
        raise CorruptInput("PDF page tree loops or is nested too deeply") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise CorruptInput(f"cannot read PDF structure: {type(exc).__name__}") from exc
    for number, page in enumerate(pages, start=1):
        try:
            budget = _Budget(limits, number)
            budget.content(page.get("/Contents"))
            budget.resources(page.get("/Resources"), depth=0)
        except RecursionError as exc:
            raise CorruptInput(f"PDF page {number} is nested too deeply") from exc
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CorruptInput(f"PDF page {number} is damaged: {type(exc).__name__}") from exc


class _Budget:
    """Counts one page's decompressed content bytes against the limit."""

    def __init__(self, limits: LimitSettings, number: int) -> None:
        self.limits = limits
        self.number = number
        self.used = 0
        self.seen: set[int] = set()

    def content(self, contents: Any) -> None:
        contents = _resolve(contents)
        if isinstance(contents, ArrayObject):
            for item in contents:
                self.content(item)
        elif isinstance(contents, StreamObject):
            self._count(contents)

    def resources(self, resources: Any, depth: int) -> None:
        resources = _resolve(resources)
        if not isinstance(resources, DictionaryObject):
            return
        xobjects = _resolve(resources.get("/XObject"))
        if not isinstance(xobjects, DictionaryObject):
            return
        for reference in xobjects.values():
            if isinstance(reference, IndirectObject):
                if reference.idnum in self.seen:
                    continue  # drawn again (or a loop): counted once
                self.seen.add(reference.idnum)
            xobject = _resolve(reference)
            if not isinstance(xobject, StreamObject):
                continue
            if xobject.get("/Subtype") == "/Form":
                if depth >= MAX_FORM_DEPTH:
                    raise TooComplex(f"PDF page {self.number}: form XObjects nested too deeply")
                self._count(xobject)
                self.resources(xobject.get("/Resources"), depth + 1)

    def _count(self, stream: StreamObject) -> None:
        left = self.limits.max_page_content_bytes - self.used
        self.used += _inflated_size(stream, left)
        if self.used > self.limits.max_page_content_bytes:
            raise TooComplex(
                f"PDF page {self.number} has more than "
                f"{self.limits.max_page_content_bytes} bytes of content"
            )


def _inflated_size(stream: StreamObject, cap: int) -> int:
    """The decoded size of ``stream``, or a number above ``cap`` once it is over it."""
    filters = _resolve(stream.get("/Filter"))
    names = [str(_resolve(f)) for f in filters] if isinstance(filters, ArrayObject) else []
    if filters is not None and not names:
        names = [str(filters)]
    raw: bytes = stream._data  # the encoded bytes as stored in the file
    if measurable(names):  # Flate, hex, ASCII85: in bounded steps (``pipeline.streams``)
        try:
            return decoded_size(raw, names, cap)
        except StreamTooLarge:
            return cap + 1
    # Other filters (LZW, RunLength, chains with them): decoded whole, inside the sandbox's
    # memory limit; their expansion ratios are small compared with Flate's.
    return len(stream.get_data())


def _resolve(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value
