"""The separator sheet (Trennblatt): one A4 page with a big QR code the splitter recognises.

``briefkasten link create --separator-pdf F`` writes it beside the link. An applicant puts it
between two documents before scanning or photographing a stack; the ``codes`` step reads its
QR code (``briefkasten:separator:v1:<tenant>:<link_id>``, ``pipeline.codes``) and the splitter
ends a document there and leaves the sheet out.

The sheet shows its title, one line of instruction and the code, nothing else: no case number,
no name, no token (the payload names the tenant and the link's opaque id only, so a lost sheet
opens nothing). Set like the receipt (``gateway.receipt_layout``: DejaVu and Noto Sans Arabic,
shaped), so it can be printed in every applicant language; German by default.
"""

from __future__ import annotations

import io

import segno

from briefkasten import i18n
from briefkasten.gateway.receipt_layout import ReceiptLayout
from briefkasten.pipeline.codes import separator_payload

#: The QR code's side on the sheet (mm) and where it starts from the top: a big code that a
#: phone photo of the whole sheet or a 150 dpi scan reads at once.
QR_SIDE_MM = 120.0
QR_TOP_MM = 75.0
A4_WIDTH_MM = 210.0


def separator_pdf(tenant: str, link_id: str, *, lang: str = i18n.DEFAULT) -> bytes:
    """The separator sheet of ``tenant``'s link ``link_id`` as PDF bytes in ``lang``."""
    lang = lang if lang in i18n.LANGUAGES else i18n.DEFAULT
    texts = i18n.section(lang, "separator")
    code = io.BytesIO()
    # Error correction "h": a sheet that went through a feeder, folded or stamped still reads.
    segno.make(separator_payload(tenant, link_id), error="h", micro=False).save(
        code, kind="png", scale=20, border=4
    )
    code.seek(0)
    pdf = ReceiptLayout.started(lang, texts["title"])
    pdf.line_of(texts["instruction"])
    left = (A4_WIDTH_MM - QR_SIDE_MM) / 2
    pdf.image(code, x=left, y=QR_TOP_MM, w=QR_SIDE_MM, h=QR_SIDE_MM)
    return bytes(pdf.output())
