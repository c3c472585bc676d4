"""``make eval``'s extraction tools on a PDF with the pipeline's own text layer (no OCR), and
a multi-page sample scored page by page (the real pipeline, with Tesseract)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from PIL import Image

from briefkasten import ingest
from briefkasten.config import Settings
from briefkasten.model import DocumentResult
from briefkasten.tools import tesseract
from samples import classes
from samples.evaluate import Score, normalise, run_file, summarise
from samples.extract import TOOLS, pdf_texts
from samples.generate import write_plans
from tests.support.env import need
from tests.support.textpages import layer_pdf


def test_every_tool_reads_every_line(tmp_path: Path) -> None:
    need(shutil.which("pdftotext"), "pdftotext not installed (poppler-utils)")
    lines = ["Kontoauszug Nr. 7 vom 31.01.2024", "Größe, Maß und Fuß: 612,50 €"]
    texts = pdf_texts(layer_pdf(tmp_path / "p.pdf", lines))
    assert tuple(texts) == TOOLS
    for tool, text in texts.items():
        assert normalise(text) == normalise("\n".join(lines)), tool


def test_a_three_page_scan_is_scored_page_by_page(tmp_path: Path, settings: Settings) -> None:
    """One file of the ``multi-page`` class (a 3-page TIFF, pages at 0, 90 and 180 degrees)
    through the real pipeline; each page scored against its own truth. A page's rotation set
    wrong afterwards makes that page and the file count wrong."""
    need(shutil.which("pdftotext"), "pdftotext not installed (poppler-utils)")
    need(tesseract.available(), "tesseract not installed")
    entries = write_plans(tmp_path / "set", classes.multi_page_plans(0, 1), dpi=150)
    assert [(e["page"], e["expected"]["rotation"]) for e in entries] == [(0, 0), (1, 90), (2, 180)]
    tiff = tmp_path / "set" / entries[0]["file"]
    assert {e["file"] for e in entries} == {tiff.name}
    with Image.open(tiff) as img:
        assert img.n_frames == 3

    def runner(image: Path, output: Path, pipeline: str) -> DocumentResult:
        return ingest([image], output, settings=settings, pipeline=pipeline)

    runs = run_file(runner, tiff, tmp_path / "out.pdf", "default", pages=[0, 1, 2])
    scores = [
        Score(entry, run, run, "multi-page") for entry, run in zip(entries, runs, strict=True)
    ]
    assert [s.after.error for s in scores] == [None] * 3
    assert [s.orientation_ok for s in scores] == [True] * 3
    for score in scores:
        distance, length = score.errors(score.after)
        assert distance / length < 0.05, score.label  # the page's own text, not another's
    assert summarise(scores, tools=("raw",))["file_orientation_accuracy"] == 1.0

    turned = dataclasses.replace(runs[2], rotation=(runs[2].rotation or 0) + 180)
    wrong = [*scores[:2], Score(entries[2], turned, turned, "multi-page")]
    assert [s.orientation_ok for s in wrong] == [True, True, False]
    summary = summarise(wrong, tools=("raw",))
    assert summary["orientation_accuracy"] == pytest.approx(2 / 3)
    assert summary["files"] == 1 and summary["file_orientation_accuracy"] == 0.0
