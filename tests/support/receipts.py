"""Receipts for the tests: a submission to print, and what a receipt PDF draws and says."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pikepdf
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar, LTComponent, LTContainer
from pypdf import PdfReader

from briefkasten.model import DocumentRequest, ReceivedFile, Submission

CASE = "12345BG0012345"
SUBMISSION_ID = "0123456789abcdef0123456789abcdef"
BIDI_CHARS = "\u200e\u200f\u061c\u2066\u2067\u2068\u2069\u202a\u202b\u202c"
#: Direction marks, isolates, embeddings (pdftotext adds RLE…PDF around RTL runs): invisible,
#: not part of what one reads.
BIDI_FORMAT = dict.fromkeys(map(ord, BIDI_CHARS))


def submission(*names: str, document_type: str = "kontoauszug") -> Submission:
    """A submission of one document with a file per name (sizes 1234, 56789, …)."""
    files = tuple(
        ReceivedFile(
            f"f{i}", name, f"k{i}", f"{i:x}" * 64, 1234 + 55555 * i, "application/pdf", 1 + i
        )
        for i, name in enumerate(names or ("Kontoauszug März.pdf",))
    )
    return Submission(
        SUBMISSION_ID,
        "demo",
        CASE,
        "2026-11-24T10:00:00+00:00",
        "upload",
        (DocumentRequest("d1", document_type, files),),
    )


def text_of(pdf: bytes) -> str:
    """pypdf's text of every page (it orders right-to-left runs logically), direction marks
    removed."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "\n".join(page.extract_text() for page in pages).translate(BIDI_FORMAT)


def notdef_shows(pdf: bytes) -> int:
    """How many glyphs the content streams draw as ``.notdef`` (glyph 0) in an embedded Type0
    font: a missing glyph, a box or a gap, whatever fpdf2 warned or did not."""
    count = 0
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            fonts = page.obj.Resources.Font
            maps = {str(k): _cid_to_gid(v) for k, v in fonts.items()}
            current: dict[int, int] | None = None
            for operands, operator in pikepdf.parse_content_stream(page):
                if operator == pikepdf.Operator("Tf"):
                    current = maps.get(str(operands[0]))
                elif operator in (pikepdf.Operator("Tj"), pikepdf.Operator("TJ")):
                    assert current is not None, "text shown without a Type0 font"
                    for data in _strings(operands):
                        count += sum(1 for cid in _codes(data) if current.get(cid, cid) == 0)
    return count


def _codes(data: bytes) -> list[int]:
    """Two bytes a code, as fpdf2's Identity-H fonts have them."""
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _cid_to_gid(font: pikepdf.Object) -> dict[int, int]:
    assert font.Subtype == pikepdf.Name.Type0
    return dict(enumerate(_codes(font.DescendantFonts[0].CIDToGIDMap.read_bytes())))


def _strings(operands: list[object]) -> Iterator[bytes]:
    for operand in operands:
        if isinstance(operand, pikepdf.String):
            yield bytes(operand)
        elif isinstance(operand, pikepdf.Array):
            yield from _strings(list(operand))


def chars(pdf: bytes) -> list[tuple[int, LTChar]]:
    """Every character pdfminer finds, with its page number (from 1), in drawing order."""
    found: list[tuple[int, LTChar]] = []

    def walk(number: int, item: LTComponent) -> None:
        if isinstance(item, LTChar):
            found.append((number, item))
        elif isinstance(item, LTContainer):
            for child in item:
                walk(number, child)

    for number, page in enumerate(extract_pages(io.BytesIO(pdf)), start=1):
        walk(number, page)
    return found
