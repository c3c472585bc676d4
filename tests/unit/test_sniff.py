"""Sniffing and limits: every rejection class, decided before decoding."""

from __future__ import annotations

import dataclasses
import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from briefkasten.config import LimitSettings, Settings
from briefkasten.errors import (
    CorruptInput,
    EmptyInput,
    LimitExceeded,
    PasswordProtected,
    UnsupportedType,
)
from briefkasten.model import Original, PageRef
from briefkasten.pipeline.images import decode
from briefkasten.pipeline.precheck import precheck
from briefkasten.pipeline.sniff import Sniffed, media_type_of, readable, sniff
from tests.support import factories, hostile

LIMITS = LimitSettings()


def test_zero_bytes_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "leer.jpg"
    path.write_bytes(b"")
    with pytest.raises(EmptyInput):
        sniff(path, LIMITS)


def test_text_file_named_jpg_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "foto.jpg"
    path.write_text("Das ist kein Bild, sondern Text.\n")
    with pytest.raises(UnsupportedType):
        sniff(path, LIMITS)


def test_truncated_jpeg_is_corrupt(tmp_path: Path) -> None:
    whole = tmp_path / "whole.jpg"
    factories.text_page().save(whole, quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(CorruptInput):
        sniff(cut, LIMITS)


def test_truncated_png_is_corrupt(tmp_path: Path) -> None:
    whole = tmp_path / "whole.png"
    factories.text_page().save(whole)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    with pytest.raises(CorruptInput):
        sniff(cut, LIMITS)


def test_without_decoding_a_cut_png_passes_the_sniff_and_fails_at_decode(tmp_path: Path) -> None:
    """``decode=False`` (the worker's sniff) leaves the pixels to the page child's decode,
    which refuses the cut file with the same kind of error."""
    whole = tmp_path / "whole.png"
    factories.text_page().save(whole)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    sniffed = sniff(cut, LIMITS, decode=False)
    assert sniffed == Sniffed("image/png", ("raster",))
    original = Original("cut.png", cut, "0" * 64, cut.stat().st_size, "image/png", 1)
    with pytest.raises(CorruptInput, match="cannot decode image"):
        decode(PageRef(original, 0, "raster"), raster_dpi=300)


def test_without_decoding_the_limits_still_hold(tmp_path: Path) -> None:
    path = tmp_path / "gross.png"
    Image.new("L", (400, 300), 255).save(path)
    with pytest.raises(LimitExceeded):
        sniff(path, replace(LIMITS, max_pixels=100_000), decode=False)


def test_png_bomb_is_refused_from_its_header_without_allocating(tmp_path: Path) -> None:
    bomb = factories.png_header_bomb(tmp_path / "bomb.png")
    tracemalloc.start()
    try:
        with pytest.raises(LimitExceeded, match="35000×35000"):
            sniff(bomb, LIMITS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024  # 35000² pixels would need > 1 GB


def test_file_over_the_byte_limit(tmp_path: Path) -> None:
    path = tmp_path / "page.png"
    factories.text_page().save(path)
    with pytest.raises(LimitExceeded, match="bytes"):
        sniff(path, replace(LIMITS, max_file_bytes=1000))


def test_password_protected_pdf(tmp_path: Path) -> None:
    plain = factories.born_digital_pdf(tmp_path / "plain.pdf")
    locked = factories.encrypted_pdf(plain, tmp_path / "locked.pdf", user="geheim", owner="x")
    with pytest.raises(PasswordProtected):
        sniff(locked, LIMITS)


def test_owner_password_only_pdf_opens(tmp_path: Path) -> None:
    plain = factories.born_digital_pdf(tmp_path / "plain.pdf")
    owner_only = factories.encrypted_pdf(plain, tmp_path / "owner.pdf", user="", owner="x")
    assert sniff(owner_only, LIMITS).kinds == ("vector",)


def test_pdf_without_pages_is_empty(tmp_path: Path) -> None:
    with pytest.raises(EmptyInput):
        sniff(factories.empty_pdf(tmp_path / "empty.pdf"), LIMITS)


def test_pdf_page_limit(tmp_path: Path) -> None:
    one = factories.born_digital_pdf(tmp_path / "one.pdf")
    three = factories.merged_pdf(tmp_path / "three.pdf", one, one, one)
    with pytest.raises(LimitExceeded, match="3 pages"):
        sniff(three, replace(LIMITS, max_pages=2))


def test_mixed_pdf_is_classified_page_by_page(tmp_path: Path) -> None:
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    scan = factories.scanned_pdf(tmp_path / "scan.pdf")
    mixed = factories.merged_pdf(tmp_path / "mixed.pdf", digital, scan, digital)
    assert sniff(mixed, LIMITS).kinds == ("vector", "raster", "vector")


def test_pdf_with_junk_before_header_is_accepted(tmp_path: Path) -> None:
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"From: scanner@example\r\n\r\n" + digital.read_bytes())
    assert sniff(junk, LIMITS).media_type == "application/pdf"


@pytest.mark.parametrize("junk", [2000, 64 * 1024])
def test_pdf_with_up_to_64_kib_of_junk_is_read_page_by_page(tmp_path: Path, junk: int) -> None:
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    scan = factories.scanned_pdf(tmp_path / "scan.pdf")
    mixed = factories.merged_pdf(tmp_path / "mixed.pdf", digital, scan)
    path = hostile.pdf_after_junk(mixed, tmp_path / "junk.pdf", junk)
    assert sniff(path, LIMITS) == Sniffed("application/pdf", ("vector", "raster"))


def test_pdf_with_64_kib_and_one_byte_of_junk_is_refused(tmp_path: Path) -> None:
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    path = hostile.pdf_after_junk(digital, tmp_path / "junk.pdf", 64 * 1024 + 1)
    with pytest.raises(UnsupportedType):
        sniff(path, LIMITS)


def test_truncated_pdf_after_junk_is_corrupt(tmp_path: Path) -> None:
    whole = hostile.pdf_after_junk(
        factories.born_digital_pdf(tmp_path / "digital.pdf"), tmp_path / "whole.pdf", 5000
    )
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(CorruptInput):
        sniff(cut, LIMITS)


def test_junk_with_only_a_fake_header_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_bytes(b"J" * 3000 + b"%PDF-1.4\n" + b"not a pdf body\n" * 400)
    with pytest.raises(CorruptInput):
        sniff(path, LIMITS)


def test_junk_holding_a_fake_header_before_the_real_pdf_still_reads(tmp_path: Path) -> None:
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    junk = b"X-Scanner: %PDF-1.7 (fake)\r\n" + b"J" * 30000
    path = hostile.pdf_after_junk(digital, tmp_path / "fake.pdf", junk)
    assert sniff(path, LIMITS) == Sniffed("application/pdf", ("vector",))
    original = Original("fake.pdf", path, "f" * 64, path.stat().st_size, "application/pdf", 1)
    copy = readable(original, tmp_path).path
    text = pdfium.PdfDocument(copy)[0].get_textpage().get_text_bounded()
    assert "Jobcenter" in text


def test_readable_copy_starts_at_the_header_and_leaves_the_original(tmp_path: Path) -> None:
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    path = hostile.pdf_after_junk(digital, tmp_path / "junk.pdf", 20000)
    before = path.read_bytes()
    original = Original("junk.pdf", path, "a" * 64, len(before), "application/pdf", 1)
    work = tmp_path / "work"
    work.mkdir()
    seen = readable(original, work)
    assert seen.path != path and seen.path.read_bytes() == digital.read_bytes()
    assert (seen.name, seen.sha256, seen.size) == (original.name, original.sha256, original.size)
    assert path.read_bytes() == before
    assert readable(original, work).path == seen.path  # pages of one PDF share the copy
    clean = dataclasses.replace(original, path=digital)
    assert readable(clean, work) is clean


def test_palette_gif_is_one_page(tmp_path: Path) -> None:
    path = tmp_path / "brief.gif"
    factories.text_page().convert("P", palette=Image.Palette.ADAPTIVE).save(path)
    assert sniff(path, LIMITS) == Sniffed("image/gif", ("raster",))


def test_animated_gif_is_its_first_frame(tmp_path: Path) -> None:
    frames = [factories.text_page(("Erste Seite",)), factories.text_page(("Zweite Seite",))]
    path = hostile.animated_gif(tmp_path / "anim.gif", frames)
    assert sniff(path, LIMITS) == Sniffed("image/gif", ("raster",))


def test_gif_with_more_frames_than_the_page_limit_is_refused(tmp_path: Path) -> None:
    small = [Image.new("L", (40, 40), shade) for shade in range(0, 250, 50)]
    path = hostile.animated_gif(tmp_path / "many.gif", small)
    with pytest.raises(LimitExceeded, match="5 frames"):
        sniff(path, replace(LIMITS, max_pages=4))


def test_gif_canvas_over_the_pixel_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.gif"
    Image.new("L", (400, 300), 255).save(path)
    with pytest.raises(LimitExceeded, match="400×300"):
        sniff(path, replace(LIMITS, max_pixels=100_000))


def test_truncated_gif_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "page.gif"
    factories.text_page().convert("P", palette=Image.Palette.ADAPTIVE).save(path)
    path.write_bytes(path.read_bytes()[:4000])
    with pytest.raises(CorruptInput):
        sniff(path, LIMITS)


def test_decoding_an_animated_gif_takes_the_first_frame_and_flags_it(tmp_path: Path) -> None:
    frames = [factories.text_page(("Erste Seite",)), factories.text_page(("Zweite Seite",))]
    path = hostile.animated_gif(tmp_path / "anim.gif", frames)
    original = Original("anim.gif", path, "b" * 64, path.stat().st_size, "image/gif", 1)
    page = decode(PageRef(original, 0, "raster"), raster_dpi=300)
    assert page.flags == ("first_frame_only",)
    assert "first of 2 frames" in page.history[0].detail
    with Image.open(path) as gif:
        first = np.asarray(gif.convert("RGB"))
    assert page.image is not None and np.array_equal(page.image, first)
    single = tmp_path / "one.gif"
    frames[0].convert("P", palette=Image.Palette.ADAPTIVE).save(single)
    alone = dataclasses.replace(original, path=single)
    assert decode(PageRef(alone, 0, "raster"), raster_dpi=300).flags == ()


def test_multi_page_tiff_counts_frames(tmp_path: Path) -> None:
    path = tmp_path / "scan.tif"
    first, second = factories.text_page(mode="L"), factories.text_page(mode="L")
    first.save(path, save_all=True, append_images=[second], compression="tiff_deflate")
    assert sniff(path, LIMITS).kinds == ("raster", "raster")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"<html><script>", None),
        (b"PK\x03\x04", None),
        (b"GIF89a\x10\x00", "image/gif"),
        (b"GIF87a\x10\x00", "image/gif"),
        (b"GIF88a\x10\x00", None),
        (b"J" * 65536 + b"%PDF-1.7\n", "application/pdf"),
        (b"J" * 65537 + b"%PDF-1.7\n", None),
    ],
)
def test_magic_table(head: bytes, expected: str | None) -> None:
    assert media_type_of(head) == expected


def test_jpeg_cut_after_its_exif_thumbnail_is_still_truncated(tmp_path: Path) -> None:
    page = factories.text_page()
    exif = page.getexif()
    whole = tmp_path / "thumb.jpg"
    thumb = tmp_path / "t.jpg"
    page.resize((160, 226)).save(thumb, quality=80)
    exif[0x010F] = "Phone"
    page.save(whole, quality=90, exif=exif.tobytes() + thumb.read_bytes())  # FF D9 early on
    data = whole.read_bytes()
    assert data.find(b"\xff\xd9") < len(data) - 2  # an end marker before the real end
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(CorruptInput):
        sniff(cut, LIMITS)
    assert sniff(whole, LIMITS).media_type == "image/jpeg"


def test_progressive_jpeg_cut_between_scans_is_truncated(tmp_path: Path) -> None:
    whole = tmp_path / "progressive.jpg"
    factories.text_page().save(whole, quality=90, progressive=True)
    data = whole.read_bytes()
    second_scan = data.find(b"\xff\xda", data.find(b"\xff\xda") + 2)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: second_scan + 200])
    with pytest.raises(CorruptInput):
        sniff(cut, LIMITS)


def test_jpeg_with_a_trailer_holding_a_scan_marker_is_accepted(tmp_path: Path) -> None:
    """Phones append trailers or a motion-photo video after the end marker; such bytes may hold
    ``FF DA`` and must not make a complete image look truncated."""
    whole = tmp_path / "whole.jpg"
    factories.text_page().save(whole, quality=90)
    trailer = tmp_path / "trailer.jpg"
    trailer.write_bytes(whole.read_bytes() + b"ftypmp42\x00\xff\xda\x00\x0c" + bytes(64))
    assert sniff(trailer, LIMITS).media_type == "image/jpeg"
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[:-2] + b"\x00\xff\xda\x00")  # no end marker, a stray SOS
    with pytest.raises(CorruptInput):
        sniff(cut, LIMITS)


def test_the_upload_precheck_reads_a_scanned_pdf_after_junk(
    tmp_path: Path, settings: Settings
) -> None:
    dark = Image.new("RGB", (1240, 1754), (25, 25, 25))
    scan = factories.scanned_pdf(tmp_path / "scan.pdf", dark)
    path = hostile.pdf_after_junk(scan, tmp_path / "junk.pdf", 40000)
    media_type, pages, findings = precheck(path, settings)
    assert (media_type, pages) == ("application/pdf", 1)
    assert [finding.page for finding in findings] and all(f.page == 1 for f in findings)
