"""The applicant's receipt (Eingangsbestätigung) of a submission: as the 202 JSON answer
(``receipt_json``) and as a PDF, in German or English (``receipt_pdf``).

It names the job center, the case number, the server's time of receipt and, per document, its
type, page count and every file with name, size and SHA-256 — what an applicant may need to
prove that and what they handed in. Receipts fetched with an upload link show the case number
masked in the middle (``12345BG•••2345``): the applicant recognises it, a finder of a lost QR
code learns nothing new. Made with fpdf2 in DejaVu Sans and Sans Mono (Debian's
fonts-dejavu-core), embedded as subsets. No script, no attachment, no open action (fpdf2's is
removed with pikepdf). PDF/A-2u like the document PDFs (``pipeline/pdfa.py``: XMP claim, sRGB
v2 output intent, header 1.7, ``/ID``). Without the fonts there is no receipt at all, never one
in an unembedded core font: ``receipt_fonts`` raises ``ConfigError``, and ``serve`` and
``worker`` check it at start-up (``cli.startup.check_fonts``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pikepdf
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from briefkasten.catalogue import label
from briefkasten.errors import ConfigError
from briefkasten.model import Submission
from briefkasten.pipeline.pdfa import (
    OUTPUT_CONDITION,
    SRGB_V2,
    VERSION,
    ArchivalMeta,
    cid_set,
    info_entries,
    xmp_packet,
)

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
BERLIN = ZoneInfo("Europe/Berlin")

TEXTS = {
    "de": {
        "title": "Eingangsbestätigung",
        "intro": "Wir haben diese Unterlagen erhalten. Bitte heben Sie diese Bestätigung auf.",
        "jobcenter": "Jobcenter",
        "case": "BG-Nummer",
        "received": "Eingegangen am",
        "submission": "Vorgangsnummer",
        "document": "Dokument",
        "page": "Seite",
        "pages": "Seiten",
        "file": "Datei",
        "bytes": "Bytes",
        "footer": (
            "Diese Bestätigung wurde automatisch erstellt und ist ohne Unterschrift gültig. "
            "Die SHA-256-Prüfsumme zeigt, dass eine Datei unverändert angekommen ist."
        ),
    },
    "en": {
        "title": "Receipt",
        "intro": "We have received these documents. Please keep this receipt.",
        "jobcenter": "Job center",
        "case": "Case number (BG-Nummer)",
        "received": "Received at",
        "submission": "Submission number",
        "document": "Document",
        "page": "page",
        "pages": "pages",
        "file": "File",
        "bytes": "bytes",
        "footer": (
            "This receipt was created automatically and is valid without a signature. "
            "The SHA-256 checksum shows that a file arrived unchanged."
        ),
    },
}


def mask_case_number(case_number: str) -> str:
    """``12345BG0012345`` → ``12345BG•••2345`` (job center and last digits stay readable)."""
    return f"{case_number[:7]}•••{case_number[-4:]}"


def receipt_json(
    submission: Submission, *, masked: bool, status_url: str, receipt_pdf_url: str
) -> dict[str, Any]:
    """The 202 answer to a submission. Link holders see the case number masked, as on the PDF
    receipt: the applicant recognises it, a finder of a lost QR code does not learn it."""
    case = mask_case_number(submission.case_number) if masked else submission.case_number
    return {
        "submission_id": submission.submission_id,
        "received_at": submission.received_at,
        "status_url": status_url,
        "receipt_pdf_url": receipt_pdf_url,
        "malware_scan": submission.malware_scan,
        "receipt": {
            "case_number": case,
            "documents": [
                {
                    "document_id": d.document_id,
                    "document_type": d.document_type,
                    "files": [
                        {
                            "name": f.name,
                            "size": f.size,
                            "sha256": f.sha256,
                            "media_type": f.media_type,
                            "pages": f.pages,
                            "duplicate_of": f.duplicate_of,
                        }
                        for f in d.files
                    ],
                }
                for d in submission.documents
            ],
        },
    }


def received_local(received_at: str) -> str:
    """The ISO UTC time as German local time, e.g. ``24.11.2026, 18:03:00 (CET)``."""
    moment = datetime.fromisoformat(received_at).astimezone(BERLIN)
    return moment.strftime("%d.%m.%Y, %H:%M:%S ") + f"({moment.tzname()})"


def receipt_pdf(
    submission: Submission,
    tenant_name: str,
    *,
    lang: str = "de",
    mask_case: bool = False,
    labels: Mapping[str, tuple[str, str]] | None = None,
) -> bytes:
    """The receipt of ``submission`` as PDF bytes (``labels``: the tenant's own type labels)."""
    texts = TEXTS["en" if lang == "en" else "de"]
    pdf = _Receipt()
    pdf.set_title(texts["title"])
    pdf.set_creator("Briefkasten")
    pdf.add_page()
    pdf.heading(texts["title"])
    pdf.line_of(texts["intro"])
    pdf.ln(2)
    case = mask_case_number(submission.case_number) if mask_case else submission.case_number
    for name, value in (
        (texts["jobcenter"], tenant_name),
        (texts["case"], case),
        (texts["received"], received_local(submission.received_at)),
        (texts["submission"], submission.submission_id),
    ):
        pdf.field(name, value)
    for number, document in enumerate(submission.documents, start=1):
        pages = sum(f.pages for f in document.files)
        pdf.ln(3)
        pdf.subheading(
            f"{texts['document']} {number}: {label(document.document_type, lang, labels)} "
            f"({pages} {texts['page'] if pages == 1 else texts['pages']})"
        )
        for file in document.files:
            size = f"{file.size:,}".replace(",", "." if lang != "en" else ",")
            pdf.line_of(f"{texts['file']}: {file.name} ({size} {texts['bytes']})")
            pdf.mono(f"SHA-256: {file.sha256}")
    pdf.ln(4)
    pdf.small(texts["footer"])
    meta = ArchivalMeta(
        title=texts["title"],
        description=f"{texts['submission']} {submission.submission_id}",
        producer="Briefkasten",
        created=datetime.fromisoformat(submission.received_at),
    )
    return _archival(bytes(pdf.output()), meta)


def _archival(data: bytes, meta: ArchivalMeta) -> bytes:
    """fpdf2 always writes a catalog ``/OpenAction`` (a view of page 1, no script): drop it, so
    that the receipt holds nothing that acts when opened, like every other PDF we hand out; and
    make it PDF/A-2u: our Info entries and XMP claim, the sRGB v2 output intent, header 1.7."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if "/OpenAction" in pdf.Root:
            del pdf.Root["/OpenAction"]
        pdf.trailer.Info = pdf.make_indirect(
            pikepdf.Dictionary({k: pikepdf.String(v) for k, v in info_entries(meta).items()})
        )
        xmp = pikepdf.Stream(pdf, xmp_packet(meta))  # uncompressed, as PDF/A recommends
        xmp.Type, xmp.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
        pdf.Root.Metadata = pdf.make_indirect(xmp)
        profile = pikepdf.Stream(pdf, SRGB_V2)
        profile.N = 3
        intent = pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent,
            S=pikepdf.Name.GTS_PDFA1,
            OutputConditionIdentifier=pikepdf.String(OUTPUT_CONDITION),
            Info=pikepdf.String(OUTPUT_CONDITION),
            DestOutputProfile=pdf.make_indirect(profile),
        )
        pdf.Root.OutputIntents = pikepdf.Array([pdf.make_indirect(intent)])
        for page in pdf.pages:
            if "/Group" in page.obj:
                del page.obj["/Group"]
            fonts = page.obj.Resources.get("/Font") if "/Resources" in page.obj else None
            for font in fonts.values() if isinstance(fonts, pikepdf.Dictionary) else []:
                _add_cid_set(pdf, font)
        out = io.BytesIO()
        pdf.save(
            out,
            deterministic_id=True,
            force_version=VERSION,
            compress_streams=True,
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
        )
    return out.getvalue()


def _add_cid_set(pdf: pikepdf.Pdf, font: pikepdf.Object) -> None:
    """Give an embedded TrueType subset (fpdf2's Type0 fonts) the ``/CIDSet`` that PDF/A-1
    requires (``pdfa.cid_set``; fpdf2 writes it only when claiming PDF/A-1)."""
    if font.get("/Subtype") != pikepdf.Name.Type0:
        return
    descendant = font.DescendantFonts[0]
    mapping = descendant.get("/CIDToGIDMap")
    descriptor = descendant.get("/FontDescriptor")
    if not isinstance(mapping, pikepdf.Stream) or descriptor is None or "/CIDSet" in descriptor:
        return
    descriptor.CIDSet = pdf.make_indirect(pikepdf.Stream(pdf, cid_set(mapping.read_bytes())))


#: The receipt's faces: regular, bold, mono.
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf")


def receipt_fonts() -> tuple[Path, Path, Path]:
    """The installed DejaVu files the receipt embeds; ``ConfigError`` naming the Debian
    package when they are missing (a receipt in a core font would not be PDF/A)."""
    for directory in FONT_DIRS:
        regular, bold, mono = (directory / name for name in FONT_FILES)
        if regular.is_file() and bold.is_file() and mono.is_file():
            return regular, bold, mono
    raise ConfigError(
        f"the receipt fonts {', '.join(FONT_FILES)} are missing from "
        f"{', '.join(str(d) for d in FONT_DIRS)}: install Debian's fonts-dejavu-core"
    )


class _Receipt(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(True, margin=20)
        regular, bold, mono = receipt_fonts()
        self.add_font("dejavu", "", str(regular))
        self.add_font("dejavu", "B", str(bold))
        self.add_font("dejavumono", "", str(mono))

    def _write(self, text: str, size: float, style: str = "", family: str = "dejavu") -> None:
        self.set_font(family, style, size)
        self.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str) -> None:
        self._write(text, 18, "B")
        self.ln(3)

    def subheading(self, text: str) -> None:
        self._write(text, 12, "B")

    def field(self, name: str, value: str) -> None:
        self._write(f"{name}: {value}", 11)

    def line_of(self, text: str) -> None:
        self._write(text, 10.5)

    def mono(self, text: str) -> None:
        self._write(text, 8.5, family="dejavumono")

    def small(self, text: str) -> None:
        self._write(text, 8.5)
