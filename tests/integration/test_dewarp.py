"""Curved and folded phone photos through ``ingest`` with real Tesseract, with and without the
dewarp step: the step makes the text readable, and it is the step that does it.

The unit tier's part (the fitted field, flat and hostile pages): ``tests/unit/test_dewarp.py``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from briefkasten import ingest
from briefkasten.config import Settings
from briefkasten.tools import tesseract
from samples.evaluate import char_errors
from samples.extract import pdf_text
from samples.generate import Plan, make_sample
from samples.warps import write_pipelines
from tests.support.env import need

TARGET_CER = 0.03


@pytest.fixture(autouse=True)
def tesseract_installed() -> None:
    need(tesseract.available(), "tesseract not installed")


@pytest.mark.parametrize(
    "plan",
    [
        # A rent contract bent around a cylinder (bow 2.2 % of the page height).
        Plan("mietvertrag", 502, photo=True, warp="curved"),
        # A letter bent harder (bow 3.8 %, the edge seen at a steep slope): 21 % CER without
        # the step. Its lower lines bow so much that closing a line's words gives a blob over
        # 2.5 text heights tall, which the line finder once dropped (5-7 % CER after dewarp).
        Plan("brief", 500, photo=True, warp="curved"),
        # A rent contract folded in half down the page: every line kinked at the crease.
        Plan("mietvertrag", 502, photo=True, warp="folded"),
    ],
    ids=["curved", "curved-strong", "folded"],
)
def test_warped_photo_reads_only_with_dewarp(
    plan: Plan, settings: Settings, tmp_path: Path
) -> None:
    img, entry = make_sample(plan, dpi=300)
    photo = tmp_path / plan.name(0)
    img.save(photo, quality=90)
    write_pipelines(tmp_path / "pipelines", settings.pipeline.directory)
    settings = dataclasses.replace(
        settings,
        pipeline=dataclasses.replace(settings.pipeline, directory=tmp_path / "pipelines"),
    )
    rates = {}
    for pipeline in ("default", "no-dewarp"):
        out = tmp_path / f"{pipeline}.pdf"
        result = ingest([photo], out, settings=settings, pipeline=pipeline)
        errors, length = char_errors(pdf_text(out), entry["text"])
        rates[pipeline] = errors / length
        steps = [r.step for r in result.pages[0].history]
        assert ("dewarp" in steps) == (pipeline == "default")
        if pipeline == "default":
            detail = next(r.detail for r in result.pages[0].history if r.step == "dewarp")
            assert detail.startswith("dewarped: spline field"), detail
    assert rates["default"] <= TARGET_CER, rates
    assert rates["no-dewarp"] >= 2 * TARGET_CER, rates  # without the step the page reads badly
