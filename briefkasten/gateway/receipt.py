"""The applicant's receipt (Eingangsbestätigung) of a submission: as the 202 JSON answer
(``receipt_json``) and as a PDF in any applicant language (``receipt_pdf``; German for a language
we do not have).

It names the job center, the case number, the server's time of receipt and, per document, its
type, page count and every file with name, size and SHA-256 — what an applicant may need to
prove that and what they handed in. Receipts fetched with an upload link show the case number
masked in the middle (``12345BG•••2345``): the applicant recognises it, a finder of a lost QR
code learns nothing new. The texts are the catalogue's (``i18n.section(lang, "receipt")``), the
type labels ``catalogue.label``; dates are Berlin time in each language's way, digits Latin.

Made with fpdf2 (``receipt_layout``): shaped with HarfBuzz, in DejaVu Sans and Sans Mono and Noto
Sans Arabic (``receipt_fonts``), embedded as subsets with ToUnicode; Arabic and Persian
receipts run right to left (right-aligned, the label right of its value) with the BG-Nummer,
numbers, dates and checksums as left-to-right runs. File names and other outside text are
cleaned before they are set (no bidi overrides, no control characters). No script, no
attachment, no open action (fpdf2's is removed with pikepdf). PDF/A-2u like the document PDFs
(``pipeline/pdfa.py``: XMP claim, sRGB v2 output intent, header 1.7, ``/ID``). Without the fonts
there is no receipt at all, never one in an unembedded core font: ``receipt_fonts`` raises
``ConfigError``, and ``serve`` and ``worker`` check it at start-up
(``cli.startup.check_fonts``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pikepdf

from briefkasten import i18n
from briefkasten.catalogue import label
from briefkasten.gateway.receipt_fonts import receipt_fonts
from briefkasten.gateway.receipt_layout import ReceiptLayout
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

__all__ = ["check_receipt_texts", "receipt_fonts", "receipt_json", "receipt_pdf"]

BERLIN = ZoneInfo("Europe/Berlin")


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


#: How each language writes a date and time (digits Latin everywhere): day first with dots
#: where that is the custom, ISO 8601 for English, Arabic and Persian (unambiguous, and a run of
#: digits that stays left to right).
DATE_FORMATS: Mapping[str, str] = {
    **{lang: "%d.%m.%Y, %H:%M:%S" for lang in ("de", "uk", "ru", "tr", "ro", "bg", "pl")},
    **{lang: "%Y-%m-%d, %H:%M:%S" for lang in ("en", "ar", "fa")},
}
#: The thousands separator of a byte count.
THOUSANDS: Mapping[str, str] = {
    **{lang: "." for lang in ("de", "tr", "ro")},
    **{lang: "\u00a0" for lang in ("uk", "ru", "bg", "pl")},
    **{lang: "," for lang in ("en", "ar", "fa")},
}


def received_local(received_at: str, lang: str = i18n.DEFAULT) -> str:
    """The ISO UTC time as Berlin local time in ``lang``'s way, e.g. ``24.11.2026, 18:03:00
    (CET)`` (German and any language we do not have) or ``2026-11-24, 18:03:00 (CET)``."""
    moment = datetime.fromisoformat(received_at).astimezone(BERLIN)
    pattern = DATE_FORMATS.get(lang, DATE_FORMATS[i18n.DEFAULT])
    return moment.strftime(pattern) + f" ({moment.tzname()})"


def byte_count(size: int, lang: str = i18n.DEFAULT) -> str:
    """``1234567`` as ``1.234.567`` (German), ``1,234,567`` (English) and so on."""
    return f"{size:,}".replace(",", THOUSANDS.get(lang, THOUSANDS[i18n.DEFAULT]))


def check_receipt_texts() -> None:
    """Every receipt text and built-in type label of every language can be drawn with the
    installed fonts (``ConfigError`` naming the characters otherwise): at start-up, not when
    an applicant asks for the receipt."""
    layout = ReceiptLayout(rtl=False)
    for lang in i18n.LANGUAGES:
        texts = [*i18n.section(lang, "receipt").values(), *i18n.section(lang, "type").values()]
        for text in texts:
            layout.check(text)
            layout.check(text, "B")


def receipt_pdf(
    submission: Submission,
    tenant_name: str,
    *,
    lang: str = i18n.DEFAULT,
    mask_case: bool = False,
    labels: Mapping[str, tuple[str, str]] | None = None,
) -> bytes:
    """The receipt of ``submission`` as PDF bytes in ``lang`` (German for a language we do not
    have; ``labels``: the tenant's own type labels)."""
    lang = lang if lang in i18n.LANGUAGES else i18n.DEFAULT
    texts = i18n.section(lang, "receipt")
    pdf = ReceiptLayout.started(lang, texts["title"])
    pdf.line_of(texts["intro"])
    pdf.ln(2)
    case = mask_case_number(submission.case_number) if mask_case else submission.case_number
    for name, value in (
        (texts["jobcenter"], pdf.outside(tenant_name)),
        (texts["case"], pdf.ltr(case)),
        (texts["received"], pdf.ltr(received_local(submission.received_at, lang))),
        (texts["submission"], pdf.ltr(submission.submission_id)),
    ):
        pdf.field(name, value)
    for number, document in enumerate(submission.documents, start=1):
        pages = sum(f.pages for f in document.files)
        kind = pdf.outside(label(document.document_type, lang, labels))
        word = texts["page"] if pages == 1 else i18n.plural(lang, "receipt.pages", pages)
        count = f"{pdf.ltr(str(pages))} {word}"
        pdf.ln(3)
        pdf.subheading(f"{texts['document']} {pdf.ltr(str(number))}: {kind} ({count})")
        for file in document.files:
            size = pdf.ltr(byte_count(file.size, lang))
            pdf.line_of(f"{texts['file']}: {pdf.outside(file.name)} ({size} {texts['bytes']})")
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
