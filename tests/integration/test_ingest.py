"""End to end through ``ingest`` with real Tesseract: every format and awkward but valid input."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pillow_heif import register_heif_opener
from pypdf import PdfReader
from rapidfuzz import fuzz

from briefkasten import ingest
from briefkasten.config import Settings
from briefkasten.errors import CorruptInput
from tests.support import factories, hostile

register_heif_opener()
KEY_PHRASES = ("Sehr geehrte Frau Müller", "Größe der Wohnung", "Mit freundlichen Grüßen")


def pdftotext(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def assert_readable(text: str) -> None:
    for phrase in KEY_PHRASES:
        assert fuzz.partial_ratio(phrase, text) >= 90, (phrase, text)


def save(image: Image.Image, path: Path, **options: object) -> Path:
    image.save(path, **options)
    return path


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("page.jpg", {"quality": 90, "dpi": (150, 150)}),
        ("page.png", {"dpi": (150, 150)}),
        ("page.webp", {"quality": 90}),
        ("page.bmp", {}),
        ("page.heic", {"quality": 90}),
    ],
)
def test_each_image_format_becomes_one_searchable_page(
    tmp_path: Path, settings: Settings, name: str, options: dict[str, object]
) -> None:
    source = save(factories.text_page(), tmp_path / name, **options)
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    assert len(PdfReader(tmp_path / "out.pdf").pages) == 1
    assert_readable(pdftotext(tmp_path / "out.pdf"))
    assert result.originals[0].media_type.startswith("image/")


def test_multi_page_tiff_keeps_page_order(tmp_path: Path, settings: Settings) -> None:
    first = factories.text_page(("Erste Seite", "Übersicht"), mode="L")
    second = factories.text_page(("Zweite Seite", "Gebühren"), mode="L")
    tiff = tmp_path / "scan.tif"
    first.save(tiff, save_all=True, append_images=[second], dpi=(150, 150))
    result = ingest([tiff], tmp_path / "out.pdf", settings=settings)
    assert [p.index for p in result.pages] == [0, 1]
    text = pdftotext(tmp_path / "out.pdf")
    assert text.index("Erste") < text.index("Zweite")


def test_born_digital_pdf_keeps_its_text_untouched(tmp_path: Path, settings: Settings) -> None:
    source = factories.born_digital_pdf(tmp_path / "digital.pdf")
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    assert result.pages[0].kind == "vector"
    assert result.pages[0].ocr_confidence is None  # not OCRed
    text = pdftotext(tmp_path / "out.pdf")
    for line in factories.LINES:
        assert line in text  # exact: the original text objects, not OCR


def test_mixed_pdf_is_handled_page_by_page(tmp_path: Path, settings: Settings) -> None:
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    scan = factories.scanned_pdf(tmp_path / "scan.pdf")
    mixed = factories.merged_pdf(tmp_path / "mixed.pdf", digital, scan)
    result = ingest([mixed], tmp_path / "out.pdf", settings=settings)
    assert [p.kind for p in result.pages] == ["vector", "raster"]
    assert result.pages[1].ocr_confidence is not None
    page_texts = pdftotext(tmp_path / "out.pdf").split("\f")
    assert "Sehr geehrte Frau Müller" in page_texts[0]
    assert_readable(page_texts[1])


def test_several_files_form_one_document_in_order(tmp_path: Path, settings: Settings) -> None:
    one = save(factories.text_page(("Blatt eins",)), tmp_path / "a.png")
    two = factories.born_digital_pdf(tmp_path / "b.pdf", ("Blatt zwei",))
    result = ingest([one, two], tmp_path / "out.pdf", settings=settings)
    assert [p.source for p in result.pages] == ["a.png", "b.pdf"]
    text = pdftotext(tmp_path / "out.pdf")
    assert text.index("eins") < text.index("zwei")


def test_a_cut_png_among_good_pages_fails_the_document_and_writes_nothing(
    tmp_path: Path, settings: Settings
) -> None:
    """The worker's sniff does not decode pixels; the page child's decode refuses the file."""
    good, whole, cut = tmp_path / "gut.png", tmp_path / "whole.png", tmp_path / "cut.png"
    factories.text_page(("eins",)).save(good)
    factories.text_page(("zwei",)).save(whole)
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    with pytest.raises(CorruptInput, match="cannot decode image") as caught:
        ingest([good, cut], tmp_path / "out.pdf", settings=settings)
    assert caught.value.source == "cut.png"
    assert not (tmp_path / "out.pdf").exists()


def test_pdf_with_junk_before_the_header(tmp_path: Path, settings: Settings) -> None:
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"Content-Type: application/pdf\r\n\r\n" + digital.read_bytes())
    ingest([junk], tmp_path / "out.pdf", settings=settings)
    assert "Frau Müller" in pdftotext(tmp_path / "out.pdf")


def test_owner_password_only_pdf_is_processed(tmp_path: Path, settings: Settings) -> None:
    plain = factories.born_digital_pdf(tmp_path / "plain.pdf")
    owner_only = factories.encrypted_pdf(plain, tmp_path / "owner.pdf", user="", owner="x")
    ingest([owner_only], tmp_path / "out.pdf", settings=settings)
    assert "Frau Müller" in pdftotext(tmp_path / "out.pdf")


def test_cmyk_jpeg_without_profile_keeps_its_colours(tmp_path: Path, settings: Settings) -> None:
    page = factories.text_page()
    page.paste((200, 20, 20), (900, 1500, 1100, 1650))  # a red stamp
    source = save(page.convert("CMYK"), tmp_path / "cmyk.jpg", quality=95, dpi=(150, 150))
    ingest([source], tmp_path / "out.pdf", settings=settings)
    rendered = render(tmp_path / "out.pdf")
    red = rendered[int(1575 / 1754 * rendered.shape[0]), int(1000 / 1240 * rendered.shape[1])]
    assert red[0] > 150 and red[1] < 90 and red[2] < 90
    assert_readable(pdftotext(tmp_path / "out.pdf"))


def test_sixteen_bit_grey_png(tmp_path: Path, settings: Settings) -> None:
    grey = np.asarray(factories.text_page(mode="L")).astype(np.uint16) * 257
    source = tmp_path / "deep.png"
    Image.fromarray(grey).save(source)  # mode I;16
    assert Image.open(source).mode.startswith("I")
    ingest([source], tmp_path / "out.pdf", settings=settings)
    assert_readable(pdftotext(tmp_path / "out.pdf"))


def test_alpha_png_is_put_on_white(tmp_path: Path, settings: Settings) -> None:
    page = factories.text_page().convert("RGBA")
    pixels = np.asarray(page).copy()
    white = pixels[..., :3].min(axis=2) > 200
    pixels[white, 3] = 0  # transparent background: black if composited wrongly
    pixels[white, :3] = 0
    source = tmp_path / "alpha.png"
    Image.fromarray(pixels, "RGBA").save(source)
    ingest([source], tmp_path / "out.pdf", settings=settings)
    assert render(tmp_path / "out.pdf").mean() > 200
    assert_readable(pdftotext(tmp_path / "out.pdf"))


def test_palette_png(tmp_path: Path, settings: Settings) -> None:
    source = save(
        factories.text_page().convert("P", palette=Image.Palette.ADAPTIVE), tmp_path / "palette.png"
    )
    ingest([source], tmp_path / "out.pdf", settings=settings)
    assert_readable(pdftotext(tmp_path / "out.pdf"))


def test_one_pixel_image_gets_a_flag_not_a_crash(tmp_path: Path, settings: Settings) -> None:
    source = save(Image.new("RGB", (1, 1), "white"), tmp_path / "dot.png")
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    assert "low_resolution" in result.pages[0].flags
    assert len(PdfReader(tmp_path / "out.pdf").pages) == 1


def test_report_lists_originals_with_their_hashes(tmp_path: Path, settings: Settings) -> None:
    jpeg = save(factories.text_page(), tmp_path / "a.jpg", quality=90, dpi=(150, 150))
    pdf = factories.born_digital_pdf(tmp_path / "b.pdf")
    result = ingest([jpeg, pdf], tmp_path / "out.pdf", settings=settings)
    report = result.report()
    assert [o["sha256"] for o in report["originals"]] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in (jpeg, pdf)
    ]
    assert (
        report["document"]["sha256"]
        == hashlib.sha256((tmp_path / "out.pdf").read_bytes()).hexdigest()
    )
    info = PdfReader(tmp_path / "out.pdf").metadata
    assert info is not None
    assert hashlib.sha256(jpeg.read_bytes()).hexdigest() in str(info["/BriefkastenOriginals"])


def render(pdf: Path) -> np.ndarray:
    out = pdf.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-singlefile", str(pdf), str(out)], check=True, timeout=60
    )
    return np.asarray(Image.open(out.with_suffix(".png")).convert("RGB"))


def test_upside_down_table_is_shown_upright(tmp_path: Path, settings: Settings) -> None:
    """A table of figures whose up/down only the OCR run can tell: turned via /Rotate."""
    from samples.generate import quarter_turn, render_page

    page, truth = render_page("kontoauszug", seed=11, dpi=300)
    source = save(quarter_turn(page, 2), tmp_path / "kopfueber.png", dpi=(300, 300))
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    assert result.pages[0].rotation == 180
    assert any("upside down" in r.detail for r in result.pages[0].history)
    assert PdfReader(tmp_path / "out.pdf").pages[0].rotation == 180
    shown = render(tmp_path / "out.pdf").mean(axis=2)
    upright = np.asarray(page.convert("L").resize(shown.shape[::-1]), dtype=np.float64)
    assert np.corrcoef(shown.ravel(), upright.ravel())[0, 1] > 0.8
    assert truth.splitlines()[0] in pdftotext(tmp_path / "out.pdf")


def test_palette_and_animated_gif_become_their_first_frame(
    tmp_path: Path, settings: Settings
) -> None:
    palette = tmp_path / "brief.gif"
    factories.text_page().convert("P", palette=Image.Palette.ADAPTIVE).save(palette)
    other = factories.text_page(("Zweites Bild", "Nicht verwenden"))
    animated = hostile.animated_gif(tmp_path / "anim.gif", [factories.text_page(), other])
    result = ingest([palette, animated], tmp_path / "out.pdf", settings=settings)
    assert [o.media_type for o in result.originals] == ["image/gif", "image/gif"]
    assert ["first_frame_only" in p.flags for p in result.pages] == [False, True]
    reader = PdfReader(tmp_path / "out.pdf")
    assert len(reader.pages) == 2
    for number in (1, 2):
        assert_readable(pdftotext_page(tmp_path / "out.pdf", number))
    assert "Zweites" not in pdftotext(tmp_path / "out.pdf")


def test_scanned_pdf_after_64_kib_of_junk_is_read_and_its_hash_kept(
    tmp_path: Path, settings: Settings
) -> None:
    scan = factories.scanned_pdf(tmp_path / "scan.pdf")
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    both = factories.merged_pdf(tmp_path / "both.pdf", scan, digital)
    source = hostile.pdf_after_junk(both, tmp_path / "junk.pdf", 64 * 1024)
    uploaded = source.read_bytes()
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    assert [p.kind for p in result.pages] == ["raster", "vector"]
    assert result.originals[0].sha256 == hashlib.sha256(uploaded).hexdigest()
    assert source.read_bytes() == uploaded
    for number in (1, 2):
        assert_readable(pdftotext_page(tmp_path / "out.pdf", number))


def pdftotext_page(pdf: Path, number: int) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-f", str(number), "-l", str(number), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
