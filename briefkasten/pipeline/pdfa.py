"""What makes a PDF we hand out PDF/A-2u: the XMP packet that claims it, and the output intent's
ICC profile. Used by ``bundle.merge`` (pypdf) and the receipt (``gateway/receipt.py``, pikepdf).

The claim: ``pdfaid:part=2``, ``pdfaid:conformance=U``, with ``dc:title``, ``dc:description``,
``xmp:CreatorTool``, ``pdf:Producer``, ``pdf:Keywords`` and the dates equal to the Info
dictionary's entries (``info_entries`` makes both from one ``ArchivalMeta``). The profile is an
ICC **version 2** sRGB profile (``icc/sRGB-v2.icc``, from Debian's icc-profiles-free, zlib
licence, see ``icc/LICENSE.txt``), so PDF/A-1's colour rules hold too. Writers also set the
header to ``%PDF-1.7`` and a trailer ``/ID``; the pages carry no transparency group; an
embedded TrueType subset gets the ``/CIDSet`` PDF/A-1 requires (``cid_set``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

__all__ = [
    "HEADER",
    "OUTPUT_CONDITION",
    "SRGB_V2",
    "VERSION",
    "ArchivalMeta",
    "cid_set",
    "info_entries",
    "pdf_date",
    "xmp_packet",
]

VERSION = "1.7"
HEADER = b"%PDF-1.7"
OUTPUT_CONDITION = "sRGB IEC61966-2.1"
SRGB_V2 = (Path(__file__).parent / "icc" / "sRGB-v2.icc").read_bytes()


@dataclass(frozen=True)
class ArchivalMeta:
    """The document-level metadata shared by the Info dictionary and the XMP packet."""

    title: str
    description: str
    producer: str
    created: datetime
    keywords: str = ""


def pdf_date(moment: datetime) -> str:
    """``D:YYYYMMDDHHmmSSZ`` in UTC (the Info dictionary's form of the XMP date)."""
    return moment.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")


def info_entries(meta: ArchivalMeta) -> dict[str, str]:
    """The Info dictionary's standard entries, matching ``xmp_packet(meta)`` one for one."""
    entries = {
        "/Title": meta.title,
        "/Subject": meta.description,
        "/Creator": meta.producer,
        "/Producer": meta.producer,
        "/CreationDate": pdf_date(meta.created),
        "/ModDate": pdf_date(meta.created),
    }
    if meta.keywords:
        entries["/Keywords"] = meta.keywords
    return entries


def xmp_packet(meta: ArchivalMeta) -> bytes:
    """The XMP metadata stream's content: the PDF/A-2u claim and the Info entries as XMP."""
    stamp = meta.created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    keywords = f"\n   <pdf:Keywords>{escape(meta.keywords)}</pdf:Keywords>" if meta.keywords else ""
    xmp = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>U</pdfaid:conformance>
   <dc:title><rdf:Alt>
    <rdf:li xml:lang="x-default">{escape(meta.title)}</rdf:li>
   </rdf:Alt></dc:title>
   <dc:description><rdf:Alt>
    <rdf:li xml:lang="x-default">{escape(meta.description)}</rdf:li>
   </rdf:Alt></dc:description>
   <dc:format>application/pdf</dc:format>
   <xmp:CreateDate>{stamp}</xmp:CreateDate>
   <xmp:ModifyDate>{stamp}</xmp:ModifyDate>
   <xmp:MetadataDate>{stamp}</xmp:MetadataDate>
   <xmp:CreatorTool>{escape(meta.producer)}</xmp:CreatorTool>
   <pdf:Producer>{escape(meta.producer)}</pdf:Producer>{keywords}
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return xmp.encode("utf-8")


def cid_set(cid_to_gid_map: bytes) -> bytes:
    """The ``/CIDSet`` of a CIDFontType2 subset from its ``/CIDToGIDMap`` stream: one bit per
    CID, most significant first, set for CID 0 and every CID mapped to a glyph other than 0."""
    glyphs = np.frombuffer(cid_to_gid_map[: len(cid_to_gid_map) // 2 * 2], dtype=">u2")
    used = np.concatenate([[True], glyphs[1:] != 0]) if glyphs.size else np.ones(1, bool)
    last = int(np.flatnonzero(used)[-1])  # the set stops at the last CID in use
    return np.packbits(used[: last + 1]).tobytes()  # most significant bit first
