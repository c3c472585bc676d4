"""The type suggestion on real OCR: one generated page of every type, degraded like a scan,
read by Tesseract (``samples.doctype_eval``'s path: the ``ocr-only`` steps), and one page
through the whole default pipeline (``briefkasten.ingest``) as the worker reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from briefkasten import ingest
from briefkasten.config import Settings
from briefkasten.pipeline.doctype import suggest_pages
from briefkasten.tools import tesseract
from samples.doctype_eval import run_one, scanned
from samples.doctypes import TYPES, render
from tests.support.env import need


@pytest.mark.parametrize("kind", TYPES)
def test_one_scanned_page_of_each_type(kind: str, tmp_path: Path) -> None:
    need(tesseract.available(), "tesseract not installed")
    outcome = run_one(kind, 7, 200, "ocr-only", str(tmp_path))
    assert outcome.error == ""
    assert outcome.suggested == kind, outcome
    if kind != "sonstiges":
        assert outcome.confidence >= 0.6 and outcome.cues


def test_a_pay_slip_through_the_default_pipeline(tmp_path: Path, settings: Settings) -> None:
    need(tesseract.available(), "tesseract not installed")
    img, _ = render("lohnabrechnung", 3, dpi=200)
    photo = tmp_path / "slip.jpg"
    scanned(img, 3).save(photo, "JPEG", quality=90, dpi=(200, 200))
    report = tmp_path / "out.json"
    result = ingest(
        [photo], tmp_path / "out.pdf", settings=settings, pipeline="default", report=report
    )
    suggestion = suggest_pages([page.text for page in result.pages])
    assert result.suggestion == suggestion  # ingest's report carries it too
    assert json.loads(report.read_text())["document"]["suggested_type"]["type"] == "lohnabrechnung"
    assert suggestion.type == "lohnabrechnung"
    assert suggestion.confidence > 0.7
    assert {"brutto", "netto"} <= set(suggestion.cues) or "steuerklasse" in suggestion.cues
