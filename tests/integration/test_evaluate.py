"""``make eval``'s extraction tools on a PDF with the pipeline's own text layer (no OCR)."""

from __future__ import annotations

import shutil
from pathlib import Path

from samples.evaluate import normalise
from samples.extract import TOOLS, pdf_texts
from tests.support.env import need
from tests.support.textpages import layer_pdf


def test_every_tool_reads_every_line(tmp_path: Path) -> None:
    need(shutil.which("pdftotext"), "pdftotext not installed (poppler-utils)")
    lines = ["Kontoauszug Nr. 7 vom 31.01.2024", "Größe, Maß und Fuß: 612,50 €"]
    texts = pdf_texts(layer_pdf(tmp_path / "p.pdf", lines))
    assert tuple(texts) == TOOLS
    for tool, text in texts.items():
        assert normalise(text) == normalise("\n".join(lines)), tool
