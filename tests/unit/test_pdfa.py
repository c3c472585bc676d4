"""The PDF/A-2u pieces as pure functions: the XMP claim, the Info entries it must match, the ICC
profile's version, the CIDSet bits. Preflight on real outputs: tests/integration/test_pdfa.py."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

from briefkasten.pipeline.pdfa import SRGB_V2, ArchivalMeta, cid_set, info_entries, xmp_packet

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
}
BERLIN_WINTER = timezone(timedelta(hours=1))


def parsed(meta: ArchivalMeta) -> ET.Element:
    packet = xmp_packet(meta).decode("utf-8")
    body = packet[packet.index("<x:xmpmeta") : packet.index("<?xpacket end")]
    description = ET.fromstring(body).find(".//rdf:Description", NS)
    assert description is not None
    return description


def test_xmp_claims_pdfa_2u_and_matches_the_info_entries() -> None:
    meta = ArchivalMeta(
        title="Kontoauszug <März> & Co",
        description="kontoauszug",
        producer="Briefkasten",
        created=datetime(2026, 11, 24, 11, 0, 5, tzinfo=BERLIN_WINTER),
        keywords="Briefkasten; kontoauszug",
    )
    xmp, info = parsed(meta), info_entries(meta)
    assert xmp.findtext("pdfaid:part", namespaces=NS) == "2"
    assert xmp.findtext("pdfaid:conformance", namespaces=NS) == "U"
    assert xmp.findtext("dc:title/rdf:Alt/rdf:li", namespaces=NS) == info["/Title"]
    assert info["/Title"] == "Kontoauszug <März> & Co"
    assert xmp.findtext("dc:description/rdf:Alt/rdf:li", namespaces=NS) == info["/Subject"]
    assert xmp.findtext("xmp:CreatorTool", namespaces=NS) == info["/Creator"]
    assert xmp.findtext("pdf:Producer", namespaces=NS) == info["/Producer"]
    assert xmp.findtext("pdf:Keywords", namespaces=NS) == info["/Keywords"]
    assert xmp.findtext("xmp:CreateDate", namespaces=NS) == "2026-11-24T10:00:05Z"
    assert info["/CreationDate"] == info["/ModDate"] == "D:20261124100005Z"


def test_without_keywords_neither_side_has_them() -> None:
    meta = ArchivalMeta("Quittung", "s1", "Briefkasten", datetime(2026, 1, 1, tzinfo=UTC))
    assert "/Keywords" not in info_entries(meta)
    assert parsed(meta).find("pdf:Keywords", NS) is None


def test_output_intent_profile_is_icc_version_2_srgb() -> None:
    assert SRGB_V2[36:40] == b"acsp"  # an ICC profile
    assert SRGB_V2[8] == 2  # major version 2: PDF/A-1's rule, allowed by PDF/A-2
    assert SRGB_V2[16:20] == b"RGB " and SRGB_V2[12:16] == b"mntr"
    assert int.from_bytes(SRGB_V2[0:4], "big") == len(SRGB_V2)


def test_cid_set_marks_cid_zero_and_every_mapped_cid() -> None:
    # CIDs 0..9; CIDs 1, 3 and 9 map to glyphs 5, 7, 300; the others to glyph 0
    gids = [0, 5, 0, 7, 0, 0, 0, 0, 0, 300]
    mapping = b"".join(g.to_bytes(2, "big") for g in gids)
    assert cid_set(mapping) == bytes([0b11010000, 0b01000000])
    assert cid_set(b"") == bytes([0b10000000])
