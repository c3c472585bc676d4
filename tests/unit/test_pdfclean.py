"""The page rebuild (pdfclean) and the bounded stream measure (streams), unit by unit."""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import zlib
from pathlib import Path

import pikepdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pikepdf import Array, Dictionary, Name, Stream, String

from briefkasten.errors import StreamTooLarge
from briefkasten.pipeline.pdfclean import PageLimits, Sanitised, inspect_page, sanitise_page
from briefkasten.pipeline.streams import (
    MAX_INLINE_IMAGES,
    InlineImages,
    decoded_size,
)
from tests.support.pdfaudit import audit
from tests.support.vectorpages import tiling_pattern, type3_font

LIMITS = PageLimits(max_pixels=1_000_000, max_stream_bytes=1 << 20, max_page_stream_bytes=2 << 20)
SCRIPT = b"<script>alert(1)</script>"


def test_inflate_bomb_is_stopped_at_the_budget() -> None:
    bomb = zlib.compress(bytes(256 << 20), 9)  # 256 MiB of zeros in ~250 KB
    with pytest.raises(StreamTooLarge):
        decoded_size(bomb, ["/FlateDecode"], 1 << 20)
    assert decoded_size(zlib.compress(bytes(1000)), ["/Fl"], 1 << 20) == 1000


def test_filter_chains_and_plain_streams_are_measured() -> None:
    data = b"BT /F1 12 Tf (Hallo) Tj ET" * 100
    a85 = base64.a85encode(zlib.compress(data)) + b"~>"
    assert decoded_size(a85, ["/ASCII85Decode", "/FlateDecode"], 1 << 20) == len(data)
    assert decoded_size(data.hex().encode() + b">", ["/AHx"], 1 << 20) == len(data)
    assert decoded_size(data, [], 1 << 20) == len(data)
    with pytest.raises(StreamTooLarge):
        decoded_size(data, [], 100)


def test_unmeasurable_filter_counts_as_too_large() -> None:
    with pytest.raises(StreamTooLarge):
        decoded_size(b"\x80\x0b", ["/LZWDecode"], 1 << 20)


def test_damaged_flate_counts_what_inflates_before_the_damage() -> None:
    data = os.urandom(100_000)  # does not compress: the damage is far from the start
    broken = zlib.compress(data)[:60_000] + b"garbage!" * 100
    assert 30_000 < decoded_size(broken, ["/FlateDecode"], 1 << 20) < len(data)


def test_inline_image_over_the_pixel_limit_is_found_across_pieces() -> None:
    header = b"q 10 0 0 10 0 0 cm BI /W 60000 /H 60000 /CS /G /BPC 8 /F /Fl ID "
    content = b"0 0 m 1 1 l S\n" * 100_000 + header + zlib.compress(bytes(1000)) + b" EI Q"
    raw = zlib.compress(content)
    with pytest.raises(StreamTooLarge, match="inline image of 60000×60000"):
        decoded_size(raw, ["/FlateDecode"], 8 << 20, InlineImages(1_000_000))
    small = content.replace(b"/W 60000 /H 60000", b"/Width 20 /Height 20")
    look = InlineImages(1_000_000)
    assert decoded_size(zlib.compress(small), ["/FlateDecode"], 8 << 20, look) == len(small)
    assert look.seen == 1


def test_inline_jpeg_is_refused() -> None:
    content = b"q BI /W 8 /H 8 /CS /RGB /BPC 8 /F /DCT ID \xff\xd8\xff\xe1 EI Q"
    with pytest.raises(StreamTooLarge, match="inline JPEG"):
        decoded_size(content, [], 8 << 20, InlineImages(1_000_000))


def test_many_inline_images_are_too_many() -> None:
    content = b"BI /W 1 /H 1 /BPC 8 /CS /G ID \x00 EI\n" * (MAX_INLINE_IMAGES + 1)
    with pytest.raises(StreamTooLarge, match="inline images"):
        decoded_size(content, [], 8 << 20, InlineImages(1_000_000))


def pdf_with(tmp_path: Path, build: object) -> Path:
    """A one-page PDF (with a real Helvetica text line) changed by ``build(pdf, page)``."""
    path = tmp_path / "in.pdf"
    with pikepdf.new() as pdf:
        font = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
        page = pdf.add_blank_page(page_size=(200, 200))
        page.obj.Resources = Dictionary(Font=Dictionary(F1=font))
        page.obj.Contents = Stream(pdf, b"BT /F1 12 Tf 20 100 Td (Hallo Welt) Tj ET")
        build(pdf, page)  # type: ignore[operator]
        pdf.save(path)
    return path


def rebuilt(tmp_path: Path, source: Path) -> tuple[pikepdf.Pdf, tuple[str, ...]]:
    result = sanitise_page(source, tmp_path / "out.pdf", LIMITS)
    assert result.unsafe is None
    assert audit(tmp_path / "out.pdf", payloads=(SCRIPT,)) == []
    return pikepdf.open(tmp_path / "out.pdf"), result.dropped


def test_user_unit_is_folded_into_boxes_and_content(tmp_path: Path) -> None:
    def build(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        page.obj.UserUnit = 2

    out, dropped = rebuilt(tmp_path, pdf_with(tmp_path, build))
    with out:
        page = out.pages[0]
        assert [float(v) for v in page.MediaBox] == [0, 0, 400, 400]
        assert "/UserUnit" not in page.obj
        contents = b"".join(c.read_bytes() for c in page.Contents)
        assert contents.startswith(b"q 2.000000 0 0 2.000000 0 0 cm")
        assert b"(Hallo Welt) Tj" in contents
    assert "/UserUnit" in dropped


def test_inherited_resources_and_boxes_are_resolved(tmp_path: Path) -> None:
    def build(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        pages = pdf.Root.Pages
        pages.Resources = page.obj.Resources
        pages.MediaBox = Array([0, 0, 300, 300])
        pages.Rotate = 90
        del page.obj["/Resources"]
        del page.obj["/MediaBox"]

    out, _ = rebuilt(tmp_path, pdf_with(tmp_path, build))
    with out:
        page = out.pages[0]
        assert [float(v) for v in page.obj.MediaBox] == [0, 0, 300, 300]
        assert page.obj.Rotate == 90
        # the inherited Helvetica, embedded as its Liberation substitute (pdffonts)
        assert str(page.obj.Resources.Font.F1.BaseFont).endswith("+LiberationSans-Regular")


def test_private_keys_deep_in_resources_are_dropped(tmp_path: Path) -> None:
    def build(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        font = page.obj.Resources.Font.F1
        font["/Private"] = Stream(pdf, SCRIPT)
        image = Stream(pdf, bytes(16))
        image.update(
            {
                "/Type": Name.XObject,
                "/Subtype": Name.Image,
                "/Width": 4,
                "/Height": 4,
                "/ColorSpace": Name.DeviceGray,
                "/BitsPerComponent": 8,
                "/Metadata": Stream(pdf, b"<x:xmpmeta>GPSLatitude 52</x:xmpmeta>"),
                "/Mine": Stream(pdf, SCRIPT),
            }
        )
        image["/Mask"] = Stream(pdf, bytes(4))  # a stencil mask (a soft mask would rasterise)
        image.Mask.update(
            {"/Type": Name.XObject, "/Subtype": Name.Image, "/Width": 4, "/Height": 4}
        )
        image.Mask.update({"/ImageMask": True, "/Hidden": Stream(pdf, SCRIPT)})
        state = Dictionary(Type=Name.ExtGState, CA=1.0, Secret=Stream(pdf, SCRIPT))
        shading = Dictionary(
            ShadingType=2,
            ColorSpace=Name.DeviceRGB,
            Coords=Array([0, 0, 1, 0]),
            Function=Dictionary(
                FunctionType=2, Domain=Array([0, 1]), C0=Array([0, 0, 0]), N=1, JS=String("x")
            ),
        )
        pattern = Dictionary(PatternType=2, Shading=shading, ExtGState=state)
        page.obj.Resources.XObject = Dictionary(Im0=image)
        page.obj.Resources.ExtGState = Dictionary(G0=state)
        page.obj.Resources.Pattern = Dictionary(P0=pattern)

    out, dropped = rebuilt(tmp_path, pdf_with(tmp_path, build))
    with out:
        res = out.pages[0].Resources
        assert res.XObject.Im0.Width == 4 and "/Mask" in res.XObject.Im0
        assert float(res.ExtGState.G0.CA) == 1.0
        assert res.Pattern.P0.Shading.ShadingType == 2
        assert res.Pattern.P0.Shading.Function.FunctionType == 2
    for key in ("/Private", "/Metadata", "/Mine", "/Hidden", "/Secret", "/JS"):
        assert key in dropped


def test_type3_font_and_tiling_pattern_resources_are_cleaned(tmp_path: Path) -> None:
    def build(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        evil = Dictionary(Evil=Dictionary(S=Name.JavaScript, JS=String("x")))
        type3 = type3_font(pdf, b"0 0 d0 0 0 10 10 re f", evil)
        junk = Dictionary(ProcSet=Array([Name.PDF]), Junk=Stream(pdf, SCRIPT))
        tile = tiling_pattern(pdf, b"0 0 5 5 re f", junk)
        page.obj.Resources.Font.T3 = type3
        page.obj.Resources.Pattern = Dictionary(P1=tile)

    out, dropped = rebuilt(tmp_path, pdf_with(tmp_path, build))
    with out:
        res = out.pages[0].Resources
        assert res.Font.T3.CharProcs.a.read_bytes() == b"0 0 d0 0 0 10 10 re f"
        assert res.Pattern.P1.read_bytes() == b"0 0 5 5 re f"
        assert list(res.Pattern.P1.Resources.keys()) == ["/ProcSet"]
    assert {"/Evil", "/Junk"} <= set(dropped)


def test_form_nesting_deeper_than_the_bound_is_unsafe(tmp_path: Path) -> None:
    def build(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        inner = None
        for _ in range(20):
            form = Stream(pdf, b"q Q")
            form.update({"/Subtype": Name.Form, "/BBox": Array([0, 0, 1, 1])})
            if inner is not None:
                form["/Resources"] = Dictionary(XObject=Dictionary(X=inner))
            inner = form
        page.obj.Resources.XObject = Dictionary(X=inner)

    reason = inspect_page(pdf_with(tmp_path, build), 0, LIMITS).unsafe
    assert reason is not None and "nested deeper" in reason


def test_page_with_a_huge_inline_image_is_unsafe(tmp_path: Path) -> None:
    def build(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        data = zlib.compress(bytes(1000))
        inline = b"q BI /W 50000 /H 50000 /CS /G /BPC 8 /F /Fl ID " + data + b" EI Q"
        page.contents_add(Stream(pdf, inline), prepend=False)

    reason = inspect_page(pdf_with(tmp_path, build), 0, LIMITS).unsafe
    assert reason is not None and "inline image" in reason


def test_shared_objects_are_copied_once(tmp_path: Path) -> None:
    def build(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        form = pdf.make_indirect(Stream(pdf, b"q Q"))
        form.update({"/Subtype": Name.Form, "/BBox": Array([0, 0, 1, 1])})
        page.obj.Resources.XObject = Dictionary(A=form, B=form)

    out, _ = rebuilt(tmp_path, pdf_with(tmp_path, build))
    with out:
        xobjects = out.pages[0].Resources.XObject
        assert xobjects.A.objgen == xobjects.B.objgen


def test_page_streams_together_over_the_page_limit_are_unsafe(tmp_path: Path) -> None:
    def build(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        for _ in range(3):  # 3 × 0.9 MiB: each under the stream limit, together over the page limit
            stream = Stream(pdf, b"")
            stream.write(zlib.compress(b" " * (900 << 10)), filter=Name.FlateDecode)
            page.contents_add(stream, prepend=False)

    reason = inspect_page(pdf_with(tmp_path, build), 0, LIMITS).unsafe
    assert reason is not None and "more than" in reason


def test_private_streams_in_objects_of_unknown_shape_are_dropped(tmp_path: Path) -> None:
    def build(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        function = Stream(pdf, b"{ 0.5 mul }")
        function.update({"/FunctionType": 4, "/Domain": Array([0, 1]), "/Range": Array([0, 1])})
        shading = Dictionary(
            ShadingType=2,
            ColorSpace=Name.DeviceGray,
            Coords=Array([0, 0, 1, 0]),
            Function=function,
            Extra=Stream(pdf, SCRIPT),
        )
        layer = Dictionary(Type=Name.OCG, Name=String("Ebene 1"), Blob=Stream(pdf, SCRIPT))
        page.obj.Resources.Shading = Dictionary(Sh0=shading)
        page.obj.Resources.Properties = Dictionary(OC0=layer)

    out, dropped = rebuilt(tmp_path, pdf_with(tmp_path, build))
    with out:
        res = out.pages[0].Resources
        assert res.Shading.Sh0.Function.read_bytes() == b"{ 0.5 mul }"
        assert res.Properties.OC0.Type == Name.OCG
    assert {"/Extra", "/Blob"} <= set(dropped)


def test_one_object_reached_by_two_rules_is_copied_by_each(tmp_path: Path) -> None:
    def build(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        font = page.obj.Resources.Font.F1
        font["/Private"] = Stream(pdf, SCRIPT)  # dropped by the font rules
        page.obj.Resources.Properties = Dictionary(P0=font)  # generic path: stream key dropped
        page.obj.Resources.ExtGState = Dictionary(G0=Dictionary(Font=Array([font, 12])))

    out, _ = rebuilt(tmp_path, pdf_with(tmp_path, build))
    with out:
        res = out.pages[0].Resources
        assert "/Private" not in res.Font.F1
        assert "/Private" not in res.Properties.P0
        assert str(res.ExtGState.G0.Font[0].BaseFont).endswith("+LiberationSans-Regular")


def _hostile_bytes() -> bytes:
    """One page with a bit of everything hostile (the shapes of test_active_content)."""
    from tests.integration import test_active_content as hostile

    directory = Path(tempfile.mkdtemp(prefix="pdfclean-"))
    try:

        def everything(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
            for change in (
                hostile.custom_page_key,
                hostile.embedded_exe,
                hostile.private_stream,
                hostile.form_with_js,
                hostile.annotations_and_open_action,
            ):
                change(pdf, page)

        return hostile.hostile(directory, "all", everything).read_bytes()
    finally:
        shutil.rmtree(directory)


_HOSTILE = _hostile_bytes()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(0, len(_HOSTILE) - 1), st.binary(max_size=8)), max_size=12))
def test_mutated_hostile_pdf_never_crashes_and_never_leaks(
    tmp_path: Path, edits: list[tuple[int, bytes]]
) -> None:
    data = bytearray(_HOSTILE)
    for where, junk in edits:
        data[where : where + len(junk)] = junk
    source = tmp_path / "mutated.pdf"
    source.write_bytes(bytes(data))
    checked = inspect_page(source, 0, LIMITS)  # never raises
    result = sanitise_page(source, tmp_path / "out.pdf", LIMITS)
    if checked.unsafe is None and result.unsafe is None:
        assert audit(tmp_path / "out.pdf", payloads=(SCRIPT, b"EVIL-PAYLOAD")) == []
        again = sanitise_page(tmp_path / "out.pdf", tmp_path / "again.pdf", LIMITS)
        assert again == Sanitised()  # a rebuilt page passes the rules unchanged
