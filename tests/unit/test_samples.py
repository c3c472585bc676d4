"""The sample generator and the evaluation helpers (fast: no OCR)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from samples import classes, evaluate, generate, report
from samples.extract import TOOLS, pdf_text
from samples.generate import (
    KINDS,
    MultiPagePlan,
    Plan,
    make_sample,
    phone_photo,
    quarter_turn,
    render_form,
    render_page,
    skew,
)
from tests.support.textpages import layer_pdf

SET_DIR = Path(__file__).resolve().parents[2] / "samples" / "set"
UMLAUTS = set("äöüÄÖÜß")


@pytest.mark.parametrize("kind", KINDS)
def test_render_page_is_deterministic_and_dense(kind: str) -> None:
    img, text = render_page(kind, seed=7, dpi=150)
    again, text_again = render_page(kind, seed=7, dpi=150)
    assert text == text_again
    assert img.tobytes() == again.tobytes()
    assert img.mode == "RGB"
    assert img.size == (1240, 1754)  # A4 at 150 dpi
    assert img.info["dpi"] == (150, 150)
    assert len(text.splitlines()) >= 30
    assert UMLAUTS & set(text)
    assert "ß" in text
    _, other = render_page(kind, seed=8, dpi=150)
    assert other != text


def test_kinds_have_their_content() -> None:
    brief = render_page("brief", seed=1, dpi=100)[1]
    assert re.search(r"BG-Nummer: \d{5}BG\d{7}", brief)
    assert re.search(r"Datum: \d\d\.\d\d\.\d{4}", brief)
    konto = render_page("kontoauszug", seed=1, dpi=100)[1]
    assert "Buchungstext" in konto and re.search(r"[+-]\d+,\d\d €", konto)
    lohn = render_page("lohnabrechnung", seed=1, dpi=100)[1]
    for word in ("Brutto", "Lohnsteuer", "Sozialversicherung", "Netto"):
        assert word.lower() in lohn.lower()
    miet = render_page("mietvertrag", seed=1, dpi=100)[1]
    assert re.search(r"§ ?1\.? Mietsache", miet)


def test_fonts_can_be_chosen_and_wrong_input_is_refused() -> None:
    for font in generate.available_fonts():
        assert render_page("brief", seed=3, dpi=72, font=font)[1]
    with pytest.raises(ValueError):
        render_page("brief", seed=3, font="Comic Sans")
    with pytest.raises(ValueError):
        render_page("rechnung", seed=3)


def test_render_form_has_little_text() -> None:
    img, text = render_form(seed=2, dpi=100)
    assert 5 <= len(text.splitlines()) <= 20
    assert img.info["dpi"] == (100, 100)
    dark = np.asarray(img.convert("L")) < 128
    assert dark.mean() > 0.005  # boxes and lines are drawn


def _line_image() -> Image.Image:
    img = Image.new("RGB", (400, 300), "white")
    ImageDraw.Draw(img).rectangle((50, 148, 350, 152), fill="black")
    img.info["dpi"] = (200, 200)
    return img


def test_skew_turns_counter_clockwise_and_keeps_dpi() -> None:
    out = skew(_line_image(), 10.0)
    assert out.info["dpi"] == (200, 200)
    assert out.width > 400 and out.height > 300
    ys, xs = np.nonzero(np.asarray(out.convert("L")) < 100)
    left_y = ys[xs == xs.min()].mean()
    right_y = ys[xs == xs.max()].mean()
    assert right_y < left_y  # the right end went up: counter-clockwise


def test_skew_black_border() -> None:
    white = np.asarray(skew(_line_image(), 5.0, border="white"))
    black = np.asarray(skew(_line_image(), 5.0, border="black"))
    assert white[0, 0].tolist() == [255, 255, 255]
    assert black[0, 0].tolist() == [0, 0, 0]
    assert black[black.shape[0] // 2, 2].tolist() == [0, 0, 0]  # the scanner lid margin
    assert (np.asarray(skew(_line_image(), 0.0, border="black"))[0, 0] == 0).all()
    with pytest.raises(ValueError):
        skew(_line_image(), 5.0, border="grey")


def test_quarter_turn_is_counter_clockwise() -> None:
    img = Image.new("RGB", (40, 20), "white")
    img.putpixel((0, 0), (255, 0, 0))
    img.info["dpi"] = (300, 300)
    turned = quarter_turn(img, 1)
    assert turned.size == (20, 40)
    assert turned.getpixel((0, 39)) == (255, 0, 0)  # top-left went to bottom-left
    assert turned.info["dpi"] == (300, 300)
    assert quarter_turn(img, 2).getpixel((39, 19)) == (255, 0, 0)
    assert quarter_turn(img, 3).getpixel((19, 0)) == (255, 0, 0)
    assert quarter_turn(img, 4).tobytes() == img.tobytes()


def test_phone_photo() -> None:
    page, _ = render_page("mietvertrag", seed=4, dpi=100)
    photo, info = phone_photo(page, seed=5)
    again, info_again = phone_photo(page, seed=5)
    assert photo.tobytes() == again.tobytes() and info == info_again
    assert photo.mode == "RGB"
    assert photo.info["dpi"] == (72, 72)
    assert photo.width < photo.height
    corners = np.array(info["corners"])
    assert corners.shape == (4, 2)
    assert (corners >= 0).all() and (corners[:, 0] < photo.width).all()
    assert (corners[:, 1] < photo.height).all()
    tl, tr, br, bl = corners
    assert tl[0] < tr[0] and bl[0] < br[0] and tl[1] < bl[1] and tr[1] < br[1]
    grey = np.asarray(photo.convert("L"), dtype=float)
    cx, cy = corners.mean(axis=0).astype(int)
    assert grey[cy - 20 : cy + 20, cx - 20 : cx + 20].mean() > grey[:10, :10].mean()
    assert 50 < float(info["page_dpi"]) < 110  # type: ignore[arg-type]


def test_low_resolution() -> None:
    page, _ = render_page("brief", seed=1, dpi=300)
    small = generate.low_resolution(page, 100)
    assert small.info["dpi"] == (100.0, 100.0)
    assert abs(small.width - page.width / 3) <= 1


def test_make_sample_truth() -> None:
    img, entry = make_sample(Plan("kontoauszug", 9, skew=-4.5, border="black", turns=3), dpi=100)
    assert entry["expected"] == {
        "skew_degrees": 4.5,
        "rotation": 270,
        "perspective_corrected": False,
    }
    assert img.width > img.height  # turned by 270
    img, entry = make_sample(Plan("brief", 9, photo=True), dpi=100)
    assert entry["expected"]["skew_degrees"] is None and entry["expected"]["perspective_corrected"]
    assert entry["dpi"] == 72 and len(entry["corners"]) == 4
    _, entry = make_sample(Plan("form", 9), dpi=100)
    assert entry["expected"]["skew_degrees"] == 0.0 and entry["kind"] == "form"


def test_coverage_plans() -> None:
    plans = generate.coverage_plans(0)
    assert len(plans) == 12
    skews = [p.skew for p in plans]
    assert min(skews) <= -15 and max(skews) >= 12 and max(abs(s) for s in skews) <= 20
    assert {p.turns for p in plans} == {0, 1, 2, 3}
    assert 2 <= sum(p.photo for p in plans) <= 3
    assert any(p.border == "black" for p in plans) and any(p.kind == "form" for p in plans)
    assert generate.coverage_plans(0) == plans and generate.coverage_plans(1) != plans


def test_generate_set_writes_truth(tmp_path: Path) -> None:
    entries = generate.generate_set(tmp_path, count=3, seed=2, dpi=72)
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert truth["pages"] == entries and len(entries) == 3
    for e in entries:
        assert (tmp_path / e["file"]).is_file()
        assert e["expected"]["rotation"] == 90 * e["quarter_turns"]
        if e["expected"]["skew_degrees"] is not None:
            assert e["expected"]["skew_degrees"] == pytest.approx(-e["skew"])


def test_committed_set_matches_its_truth() -> None:
    truth = json.loads((SET_DIR / "truth.json").read_text(encoding="utf-8"))
    pages = truth["pages"]
    assert {p["file"] for p in pages} == {p.name for p in SET_DIR.iterdir()} - {"truth.json"}
    assert sum(p.stat().st_size for p in SET_DIR.iterdir()) < 3_000_000
    for entry in pages:
        with Image.open(SET_DIR / entry["file"]) as img:
            assert round(img.info["dpi"][0]) == entry["dpi"]
            assert (img.width > img.height) == (entry["quarter_turns"] % 2 == 1)
        assert UMLAUTS & set(entry["text"])
    by_kind = {p["kind"]: p for p in pages}
    assert by_kind["mietvertrag"]["phone_photo"] and by_kind["mietvertrag"]["dpi"] == 72
    assert by_kind["kontoauszug"]["skew"] != 0 and by_kind["lohnabrechnung"]["quarter_turns"] == 1


def test_committed_set_is_reproducible(tmp_path: Path) -> None:
    generate.write_small_demo(tmp_path)
    fresh = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    committed = json.loads((SET_DIR / "truth.json").read_text(encoding="utf-8"))
    assert fresh == committed


def test_cli_small_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert generate.main(["--out", str(tmp_path), "--count", "1", "--dpi", "72"]) == 0
    assert (tmp_path / "truth.json").is_file()
    assert "1 pages" in capsys.readouterr().out


def test_cer_normalises_whitespace_and_quotes() -> None:
    assert evaluate.char_errors("Größe  der\n\nWohnung", "Größe der Wohnung") == (0, 17)
    assert evaluate.char_errors("\u201eja\u201c", '"ja"') == (0, 4)
    assert evaluate.char_errors("Strasse", "Straße") == (2, 6)
    assert evaluate.word_misses("Betrag 5,00 € Lohnsteuer", "Lohnsteuer 5,00 € Betrag") == (0, 4)
    assert evaluate.word_misses("Lohnsteuer", "Lohnsteuer Netto Netto") == (2, 3)


def test_summary_and_failures(tmp_path: Path) -> None:
    entry = make_sample(Plan("brief", 1, skew=3.0, turns=1), dpi=72)[1] | {"file": "a.png"}

    def broken(image: Path, output: Path, pipeline: str) -> object:
        raise RuntimeError("no pipeline")

    failed = evaluate.run_page(broken, tmp_path / "a.png", tmp_path / "a.pdf", "default")
    assert failed.error and "no pipeline" in failed.error
    texts = dict.fromkeys(TOOLS, entry["text"]) | {"plain": ""}
    good = evaluate.Run(texts, 1.0, rotation=90, skew_degrees=-3.2, perspective_corrected=False)
    scores = [evaluate.Score(entry, failed, good, "skew")]
    summary = evaluate.summarise(scores)
    assert summary["failures"] == 1
    assert summary["cer_before"] == 1.0 and summary["cer_after"] == 0.0
    assert summary["cer_raw"] == 0.0 and summary["cer_pypdf"] == 0.0
    assert summary["cer_plain"] == 1.0  # nothing extracted: every character missing
    assert summary["deskew_mean_error_deg"] == pytest.approx(0.2)
    assert summary["orientation_accuracy"] == 1.0
    lines = evaluate.report_lines(summary)
    assert "eval deskew_max_error_deg 0.200" in lines and "eval pages 1" in lines
    assert "eval skew.cer_plain 1.000" in evaluate.report_lines(summary, prefix="skew.")
    assert "FAILED a.png (before)" in evaluate.table(scores)
    table = report.class_table({"skew": summary}, summary)
    head, _, row, overall = table.splitlines()
    assert head.split()[:3] == ["class", "pages", "fail"] and "pdfminer" in head
    assert row.split()[:3] == ["skew", "1", "1"] and overall.startswith("all ")


def test_layout_tool_is_measured_against_the_page_as_it_sits() -> None:
    _, entry = make_sample(Plan("merkblatt", 3), dpi=72)
    assert entry["layout_text"] != entry["text"]
    assert sorted(entry["layout_text"].split()) == sorted(entry["text"].split())
    run = evaluate.Run({"layout": entry["layout_text"], "plain": entry["text"]}, 1.0)
    score = evaluate.Score(entry, run, run)
    assert score.errors(run, tool="layout")[0] == 0
    assert score.errors(run, tool="plain")[0] == 0
    assert char_errors_of(entry["layout_text"], entry["text"]) > 0.3  # the columns interleave


def char_errors_of(text: str, truth: str) -> float:
    distance, length = evaluate.char_errors(text, truth)
    return distance / length


def test_merkblatt_has_columns_side_by_side_and_the_truth_column_by_column() -> None:
    for seed in (5, 6):
        sheet = generate.render_sheet("merkblatt", seed=seed, dpi=100)
        xs = sorted({x for _, x, _ in sheet.placed})
        assert len(xs) in (2, 3)  # the left margin (first column) and one or two more
        second = [i for i, (_, x, _) in enumerate(sheet.placed) if x == xs[1]]
        assert second == list(range(second[0], second[-1] + 1))  # one run in the truth
        before = sheet.placed[second[0] - 1]
        assert before[1] == xs[0] and before[0] > sheet.placed[second[0]][0]  # column 1 ended
        assert [t for _, _, t in sheet.placed] == sheet.truth().splitlines()
        assert "43.456,78 €" in sheet.truth() and "ß" in sheet.truth()


def test_class_registry_every_class_makes_its_pages() -> None:
    assert list(classes.CLASSES) == [
        "skew",
        "rotation",
        "photos",
        "multi-column",
        "tables",
        "curved",
        "folded",
        "multi-page",
        "languages",
    ]
    seeds: set[int] = set()
    pages = 0
    for name, klass in classes.CLASSES.items():
        plans = klass.plans(0, 4)
        assert len(plans) == 4 and all(isinstance(p, Plan | MultiPagePlan) for p in plans), name
        assert klass.plans(0, 4) == plans and klass.plans(1, 4) != plans, name
        assert klass.plans(0, 2) == plans[:2], name  # more pages add pages, the first stay
        page_plans = [page for p in plans for page in generate.page_plans(p)]
        seeds |= {p.seed for p in page_plans}
        pages += len(page_plans)
        assert klass.description
    assert len(seeds) == pages  # no two pages, of one class or of two, share a document
    skew = classes.CLASSES["skew"].plans(0, 4)
    assert {p.skew > 0 for p in skew} == {True, False}
    assert {p.border for p in skew} == {"white", "black"}
    assert all(2 <= abs(p.skew) <= 20 and not p.turns and not p.photo for p in skew)
    assert {p.turns for p in classes.CLASSES["rotation"].plans(0, 3)} == {1, 2, 3}
    assert all(p.photo for p in classes.CLASSES["photos"].plans(0, 3))
    assert {p.kind for p in classes.CLASSES["multi-column"].plans(0, 2)} == {"merkblatt"}
    tables = {p.kind for p in classes.CLASSES["tables"].plans(0, 2)}
    assert tables == {"kontoauszug", "lohnabrechnung"}
    for warp in ("curved", "folded"):
        plans = classes.CLASSES[warp].plans(0, 2)
        assert all(p.photo and p.warp == warp for p in plans)


def test_classes_are_selected_by_name() -> None:
    assert [c.name for c in classes.select("tables,skew")] == ["skew", "tables"]
    assert len(classes.select(None)) == len(classes.CLASSES)
    with pytest.raises(ValueError, match="crumpled"):
        classes.select("skew,crumpled")
    plans = classes.plans_of(classes.select("photos"), 2, 1)
    assert list(plans) == ["photos"] and len(plans["photos"]) == 1


def test_cli_refuses_an_unknown_class(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        evaluate.main(["--classes", "nope"])
    assert "unknown class nope" in capsys.readouterr().err


@pytest.mark.parametrize("tool", ["pdfminer", "pypdf"])
def test_extraction_tools_read_the_text_layer(tmp_path: Path, tool: str) -> None:
    lines = ["Größe der Wohnung: 61,50 m²", "Miete 612,50 € monatlich"]
    pdf = layer_pdf(tmp_path / "p.pdf", lines)
    assert evaluate.normalise(pdf_text(pdf, tool)) == evaluate.normalise("\n".join(lines))
    with pytest.raises(ValueError, match="unknown extraction tool"):
        pdf_text(pdf, "ocrmypdf")


class _Page:
    index, rotation, skew_degrees, perspective_corrected = 0, 0, 0.0, False
    flags: tuple[str, ...] = ()
    history: tuple[object, ...] = ()


class _Result:
    pages = (_Page(),)


def test_evaluate_runs_each_pipeline_once_and_reads_the_output_with_every_tool(
    tmp_path: Path,
) -> None:
    """A fake runner: ``default`` writes the truth as its text layer, ``ocr-only`` its first
    half. One run per page and pipeline; every tool reads the same PDF."""
    plans = classes.CLASSES["tables"].plans(0, 2)
    entries = generate.write_plans(tmp_path / "set", plans, dpi=72)
    calls: list[tuple[str, str]] = []

    def runner(image: Path, output: Path, pipeline: str) -> _Result:
        calls.append((image.name, pipeline))
        text = next(e["text"] for e in entries if e["file"] == image.name).splitlines()
        layer_pdf(output, text if pipeline == "default" else text[: len(text) // 2])
        return _Result()

    tools = ("pdfminer", "pypdf")
    out = tmp_path / "out"
    scores = evaluate.evaluate(
        entries, tmp_path / "set", out, runner, tools=tools, before_tools=("pypdf",)
    )
    assert sorted(calls) == sorted((e["file"], p) for e in entries for p in ("ocr-only", "default"))
    assert len(list(out.glob("*.pdf"))) == 4
    summary = evaluate.summarise(scores, tools=tools)
    assert summary["cer_pdfminer"] == 0.0 and summary["cer_pypdf"] == 0.0
    assert summary["orientation_accuracy"] == 1.0 and summary["pages"] == 2
    for score in scores:
        assert set(score.after.texts) == set(tools) and set(score.before.texts) == {"pypdf"}
        distance, length = score.errors(score.before, tool="pypdf")
        assert 0.3 < distance / length < 0.7  # half the lines
