"""The ``multi-page`` eval class: 3-page TIFF and PDF scans and their per-page scoring (no OCR:
a fake runner writes each page's truth as its text layer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from briefkasten.model import StepRecord
from samples import classes, evaluate, generate
from samples.generate import MultiPagePlan, Plan
from tests.support.textpages import layer_pdf


def multi_page(count: int) -> list[MultiPagePlan]:
    return classes.multi_page_plans(0, count)


def test_each_file_has_three_kinds_in_three_turns_and_the_files_cover_every_angle() -> None:
    plans = multi_page(4)
    assert [p.container for p in plans] == ["tiff", "pdf", "tiff", "pdf"]
    for plan in plans:
        assert len(plan.pages) == 3
        assert len({p.kind for p in plan.pages}) == 3
        assert len({p.turns for p in plan.pages}) == 3
        assert all(0.3 <= abs(p.skew) <= 2.0 and not p.photo for p in plan.pages)
    assert {p.turns for plan in plans[:2] for p in plan.pages} == {0, 1, 2, 3}
    assert plans[0].name(0) == "000_3pages_rot0-90-180.tif"
    assert plans[1].name(1) == "001_3pages_rot90-270-180.pdf"


def test_a_multi_page_plan_is_a_flat_scan_in_a_known_container() -> None:
    page = Plan("brief", 1)
    with pytest.raises(ValueError, match="container"):
        MultiPagePlan((page,), container="zip")
    with pytest.raises(ValueError, match="at least one page"):
        MultiPagePlan(())
    with pytest.raises(ValueError, match="flat scans"):
        MultiPagePlan((page, Plan("brief", 2, photo=True)))
    assert generate.page_plans(page) == (page,)
    assert generate.page_plans(MultiPagePlan((page, page))) == (page, page)


def test_the_files_hold_their_pages_each_turned_its_own_way(tmp_path: Path) -> None:
    plans = multi_page(2)
    entries = generate.write_plans(tmp_path, plans, dpi=72)
    assert len(entries) == 6
    tiff, pdf = entries[0]["file"], entries[3]["file"]
    assert [e["file"] for e in entries] == [tiff] * 3 + [pdf] * 3
    assert [e["page"] for e in entries] == [0, 1, 2] * 2
    assert [e["container"] for e in entries] == ["tiff"] * 3 + ["pdf"] * 3
    turns = [p.turns for plan in plans for p in plan.pages]
    assert [e["expected"]["rotation"] for e in entries] == [90 * t for t in turns]
    assert [e["expected"]["skew_degrees"] for e in entries] == [
        -p.skew for plan in plans for p in plan.pages
    ]
    assert len({e["text"] for e in entries}) == 6
    with Image.open(tmp_path / tiff) as img:
        assert img.n_frames == 3
        for index in range(3):
            img.seek(index)
            assert (img.width > img.height) == (turns[index] % 2 == 1)
            assert img.info["dpi"] == (72, 72)
    pages = PdfReader(tmp_path / pdf).pages
    assert len(pages) == 3
    for page, turn in zip(pages, turns[3:], strict=True):
        assert (page.mediabox.width > page.mediabox.height) == (turn % 2 == 1)
        assert not page.extract_text().strip()  # image only, as from a scanner


@dataclass(frozen=True)
class FakePage:
    index: int
    rotation: int
    skew_degrees: float
    perspective_corrected: bool = False
    flags: tuple[str, ...] = ()
    history: tuple[StepRecord, ...] = field(default=())


@dataclass(frozen=True)
class FakeResult:
    pages: tuple[FakePage, ...]


def fake_runner(
    entries: list[dict[str, Any]], order: list[int], rotations: dict[int, int]
) -> evaluate.Runner:
    """Writes the file's pages in ``order`` (each page's truth as its text layer) and reports
    them in that order, page ``i`` with rotation ``rotations.get(i, expected)``."""

    def run(image: Path, output: Path, pipeline: str) -> FakeResult:
        writer = PdfWriter()
        pages = []
        for index in order:
            entry = entries[index]
            lines = entry["text"].splitlines()  # 600 dpi: the longest line fits on the page
            part = layer_pdf(output.with_suffix(f".{index}.pdf"), lines, dpi=600)
            writer.append(str(part))
            rotation = rotations.get(index, entry["expected"]["rotation"])
            history = (StepRecord("orientation", f"turned {rotation}° clockwise (test)", 1.0),)
            pages.append(
                FakePage(index, rotation, entry["expected"]["skew_degrees"], history=history)
            )
        writer.write(str(output))
        return FakeResult(tuple(pages))

    return run


def test_each_page_is_scored_against_its_own_truth_wherever_the_output_puts_it(
    tmp_path: Path,
) -> None:
    entries = generate.write_plans(tmp_path / "set", multi_page(1), dpi=72)
    runner = fake_runner(entries, order=[2, 0, 1], rotations={})
    tools = ("raw", "pypdf", "pdfminer")
    scores = evaluate.evaluate(entries, tmp_path / "set", tmp_path / "out", runner, tools=tools)
    assert [s.entry["page"] for s in scores] == [0, 1, 2]
    for score in scores:
        for tool in tools:
            assert score.errors(score.after, tool=tool)[0] == 0, (score.label, tool)
    summary = evaluate.summarise(scores, tools=tools)
    assert summary["pages"] == 3 and summary["files"] == 1
    assert summary["orientation_accuracy"] == 1.0 and summary["file_orientation_accuracy"] == 1.0
    assert summary["cer_after"] == 0.0 and summary["cer_pypdf"] == 0.0


def test_one_page_turned_wrong_makes_its_page_and_its_file_wrong(tmp_path: Path) -> None:
    entries = generate.write_plans(tmp_path / "set", multi_page(1), dpi=72)
    wrong = (entries[2]["expected"]["rotation"] + 180) % 360  # delivered upside down
    runner = fake_runner(entries, order=[0, 1, 2], rotations={2: wrong})
    scores = evaluate.evaluate(entries, tmp_path / "set", tmp_path / "out", runner, tools=("raw",))
    assert [s.orientation_ok for s in scores] == [True, True, False]
    summary = evaluate.summarise(scores, tools=("raw",))
    assert summary["orientation_accuracy"] == pytest.approx(2 / 3)
    assert summary["files"] == 1 and summary["file_orientation_accuracy"] == 0.0
    assert summary["cer_after"] == 0.0  # the text is right; the page is still counted wrong
    table = evaluate.table(scores)
    assert f"WRONG ORIENTATION {entries[0]['file']} p3: expected 180, got {wrong}" in table
    assert f"orientation: turned {wrong}° clockwise (test)" in table


def test_a_page_missing_from_the_output_fails_every_page_of_the_file(tmp_path: Path) -> None:
    entries = generate.write_plans(tmp_path / "set", multi_page(1), dpi=72)
    runner = fake_runner(entries, order=[0, 1], rotations={})
    runs = evaluate.run_file(
        runner, tmp_path / "set" / entries[0]["file"], tmp_path / "o.pdf", "x", pages=[0, 1, 2]
    )
    assert [r.error for r in runs] == ["page 3 not in the output"] * 3
    score = evaluate.Score(entries[0], runs[0], runs[0])
    distance, length = score.errors(score.after)
    assert not score.orientation_ok and distance == length > 0  # CER 1
