"""The text of an output PDF as the extraction tools a DMS or a case worker uses read it.

``TOOLS`` names them: ``plain`` (``pdftotext`` in its default mode: poppler's own reading
order, what many DMS indexers run), ``layout`` (``pdftotext -layout``: the page's physical
layout, columns side by side), ``raw`` (``pdftotext -raw``: the content stream's order, i.e.
the OCR's reading order), ``pdfminer`` (pdfminer.six's ``extract_text``), ``pypdf``
(``PdfReader.extract_text``) and ``pdfium`` (PDFium's text page, what Chromium's viewer copies
and finds; pypdfium2).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

TOOLS = ("plain", "layout", "raw", "pdfminer", "pypdf", "pdfium")
#: The ``pdftotext`` flags of the poppler tools.
PDFTOTEXT = {"plain": [], "layout": ["-layout"], "raw": ["-raw"]}


def pdf_text(pdf: Path, tool: str = "raw", *, page: int | None = None) -> str:
    """The text of every page of ``pdf`` (or only of page ``page``, 0-based) as ``tool`` (one
    of ``TOOLS``) extracts it."""
    if tool in PDFTOTEXT:
        pages = [] if page is None else ["-f", str(page + 1), "-l", str(page + 1)]
        done = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", *PDFTOTEXT[tool], *pages, str(pdf), "-"],
            capture_output=True,
            check=True,
            timeout=120,
        )
        return done.stdout.decode("utf-8", errors="replace")
    if tool == "pdfminer":
        from pdfminer.high_level import extract_text

        return str(extract_text(str(pdf), page_numbers=None if page is None else [page]))
    if tool == "pypdf":
        from pypdf import PdfReader

        pages_read = PdfReader(pdf).pages
        chosen = pages_read if page is None else [pages_read[page]]
        return "\n".join(p.extract_text() for p in chosen)
    if tool == "pdfium":
        import pypdfium2

        document = pypdfium2.PdfDocument(str(pdf))
        try:
            numbers = range(len(document)) if page is None else [page]
            return "\n".join(document[i].get_textpage().get_text_range() for i in numbers)
        finally:
            document.close()
    raise ValueError(f"unknown extraction tool {tool!r}; choose one of {', '.join(TOOLS)}")


def pdf_texts(
    pdf: Path, tools: tuple[str, ...] = TOOLS, *, page: int | None = None
) -> dict[str, str]:
    """``pdf``'s text (or page ``page``'s, 0-based) by each of ``tools``."""
    return {tool: pdf_text(pdf, tool, page=page) for tool in tools}


def pdf_page_count(pdf: Path) -> int:
    """The number of pages of ``pdf``."""
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)
