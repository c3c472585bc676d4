"""Transparency on a born-digital page (PDF/A-1 forbids it): a page that really uses it is
rasterised (``inspect_page``/``sanitise_page`` say why); masks that are not transparency and
groups that change nothing are kept or dropped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name

from briefkasten.pipeline.pdfclean import PageLimits, inspect_page, sanitise_page
from tests.support import vectorpages

LIMITS = PageLimits(max_pixels=1_000_000, max_stream_bytes=1 << 20, max_page_stream_bytes=2 << 20)
IMAGE = b"q 50 0 0 50 100 100 cm /Im9 Do Q"
Build = Callable[[pikepdf.Pdf], object]


def page_with(tmp_path: Path, content: bytes, resources: dict[str, dict[str, Build]]) -> Path:
    font = Dictionary(
        Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Courier, Encoding=Name.WinAnsiEncoding
    )
    source = vectorpages.raw_font_pdf(tmp_path / "text.pdf", font, b"Ein Brief vom Amt")
    return vectorpages.with_drawing(source, tmp_path / "page.pdf", content, resources)


def gstate(**keys: object) -> dict[str, dict[str, Build]]:
    return {"/ExtGState": {"/G9": lambda pdf: Dictionary(Type=Name.ExtGState, **keys)}}


def picture(**keys: object) -> dict[str, dict[str, Build]]:
    def build(pdf: pikepdf.Pdf) -> object:
        made = {k: v(pdf) if callable(v) else v for k, v in keys.items()}
        return vectorpages.image(pdf, **made)

    return {"/XObject": {"/Im9": build}}


FILL = b"q /G9 gs 1 0 0 rg 10 10 100 100 re f Q"


@pytest.mark.parametrize(
    ("content", "resources", "reason"),
    [
        (IMAGE, picture(SMask=vectorpages.image), "soft mask"),
        (IMAGE, picture(SMaskInData=1), "soft mask"),
        (FILL, gstate(ca=0.5), "alpha"),
        (FILL, gstate(CA=0.25), "alpha"),
        (FILL, gstate(BM=Name.Multiply), "blend mode"),
        (FILL, gstate(BM=Array([Name.Normal, Name.Screen])), "blend mode"),
        (FILL, gstate(SMask=Dictionary(Type=Name.Mask, S=Name.Luminosity)), "soft mask"),
    ],
)
def test_real_transparency_rasterises_the_page(
    tmp_path: Path, content: bytes, resources: dict[str, dict[str, Build]], reason: str
) -> None:
    page = page_with(tmp_path, content, resources)
    inspected = inspect_page(page, 0, LIMITS)
    assert inspected.unsafe is not None and reason in inspected.unsafe
    assert "transparency" in inspected.unsafe
    rebuilt = sanitise_page(page, tmp_path / "out.pdf", LIMITS)
    assert rebuilt.unsafe == inspected.unsafe


@pytest.mark.parametrize(
    ("content", "resources"),
    [
        (FILL, gstate(ca=1.0, CA=1, BM=Name.Normal, SMask=Name("/None"))),
        (FILL, gstate(BM=Array([Name.Compatible]))),
        (IMAGE, picture(Mask=vectorpages.stencil)),  # a stencil mask: PDF/A-1 allows it
        (IMAGE, picture(Mask=Array([0, 40]))),  # a colour-key mask: allowed too
    ],
)
def test_opaque_drawing_and_masks_stay_vectors(
    tmp_path: Path, content: bytes, resources: dict[str, dict[str, Build]]
) -> None:
    page = page_with(tmp_path, content, resources)
    assert inspect_page(page, 0, LIMITS).unsafe is None
    assert sanitise_page(page, tmp_path / "out.pdf", LIMITS).unsafe is None


def test_a_form_group_without_transparency_is_dropped(tmp_path: Path) -> None:
    def form(pdf: pikepdf.Pdf) -> object:
        group = Dictionary(Type=Name.Group, S=Name.Transparency, CS=Name.DeviceRGB, I=True)
        return vectorpages.form(pdf, b"0 0 1 rg 0 0 50 50 re f", Group=group)

    page = page_with(tmp_path, b"q /Fm9 Do Q", {"/XObject": {"/Fm9": form}})
    result = sanitise_page(page, tmp_path / "out.pdf", LIMITS)
    assert result.unsafe is None and "/Group" in result.dropped
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        drawn = pdf.pages[0].Resources.XObject.Fm9
        assert "/Group" not in drawn and drawn.read_bytes() == b"0 0 1 rg 0 0 50 50 re f"


def test_interpolation_is_dropped(tmp_path: Path) -> None:
    page = page_with(tmp_path, IMAGE, picture(Interpolate=True))
    result = sanitise_page(page, tmp_path / "out.pdf", LIMITS)
    assert result.unsafe is None and "/Interpolate" in result.dropped
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        assert "/Interpolate" not in pdf.pages[0].Resources.XObject.Im9
