"""The text of an output PDF as the extraction tools a DMS or a case worker uses read it.

``TOOLS`` names them: ``plain`` (``pdftotext`` in its default mode: poppler's own reading
order, what many DMS indexers run), ``layout`` (``pdftotext -layout``: the page's physical
layout, columns side by side), ``raw`` (``pdftotext -raw``: the content stream's order, i.e.
the OCR's reading order), ``pdfminer`` (pdfminer.six's ``extract_text``) and ``pypdf``
(``PdfReader.extract_text``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

TOOLS = ("plain", "layout", "raw", "pdfminer", "pypdf")
#: The ``pdftotext`` flags of the poppler tools.
PDFTOTEXT = {"plain": [], "layout": ["-layout"], "raw": ["-raw"]}


def pdf_text(pdf: Path, tool: str = "raw") -> str:
    """The text of every page of ``pdf`` as ``tool`` (one of ``TOOLS``) extracts it."""
    if tool in PDFTOTEXT:
        done = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", *PDFTOTEXT[tool], str(pdf), "-"],
            capture_output=True,
            check=True,
            timeout=120,
        )
        return done.stdout.decode("utf-8", errors="replace")
    if tool == "pdfminer":
        from pdfminer.high_level import extract_text

        return str(extract_text(str(pdf)))
    if tool == "pypdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    raise ValueError(f"unknown extraction tool {tool!r}; choose one of {', '.join(TOOLS)}")


def pdf_texts(pdf: Path, tools: tuple[str, ...] = TOOLS) -> dict[str, str]:
    """``pdf``'s text by each of ``tools``."""
    return {tool: pdf_text(pdf, tool) for tool in tools}
