"""An audit of a finished PDF for anything active, attached or locating: one checker for tests.

``audit(path)`` walks EVERY object (all indirect objects from the cross-reference table and
everything nested in them, stream dictionaries included), decodes every stream, and looks into
every embedded JPEG with the marker walker. It returns findings as short strings; an empty list
means clean. Written against pikepdf (qpdf), not the code under test's own walk.
"""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

from briefkasten.errors import InputRejected
from briefkasten.pipeline.jpeg import KEPT_APP_KINDS, Segment, jpeg_layout

#: Keys that make a PDF act, attach or reach out, wherever they stand.
FORBIDDEN_KEYS = frozenset(
    {
        "/JavaScript",
        "/JS",
        "/AA",
        "/OpenAction",
        "/Launch",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/EF",
        "/RichMedia",
        "/URI",
        "/Annots",
        "/AcroForm",
        "/XFA",
        "/Names",
        "/PieceInfo",
        "/Thumb",
        "/OPI",
    }
)
#: Name values that mean an action, a file or a multimedia object.
FORBIDDEN_NAMES = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/URI",
        "/Filespec",
        "/EmbeddedFile",
        "/RichMedia",
        "/RichMediaExecute",
        "/SubmitForm",
        "/ImportData",
        "/GoToR",
        "/GoToE",
        "/Movie",
        "/Sound",
        "/Rendition",
    }
)
_LOCATION = re.compile(rb"GPS(Latitude|Longitude|Altitude|Position|VersionID)|exif:GPS", re.I)
_SCRIPT = re.compile(rb"<\s*script|javascript:", re.I)
MAX_DEPTH = 200


def audit(path: Path, *, payloads: tuple[bytes, ...] = ()) -> list[str]:
    """Everything in ``path`` that should not be there (and any of ``payloads`` found)."""
    findings: list[str] = []
    with pikepdf.open(path) as pdf:
        seen: set[tuple[int, int]] = set()
        _walk(pdf.trailer, findings, seen, payloads, "trailer", 0)
        for obj in pdf.objects:
            _walk(obj, findings, seen, payloads, "obj", 0)
    return sorted(set(findings))


def _walk(
    obj: object,
    findings: list[str],
    seen: set[tuple[int, int]],
    payloads: tuple[bytes, ...],
    where: str,
    depth: int,
) -> None:
    if depth > MAX_DEPTH:
        findings.append(f"{where}: nested deeper than {MAX_DEPTH}")
        return
    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        if obj.objgen in seen:
            return
        seen.add(obj.objgen)
    if isinstance(obj, Name) and str(obj) in FORBIDDEN_NAMES:
        findings.append(f"{where}: name {obj}")
    if isinstance(obj, Array):
        for item in obj:
            _walk(item, findings, seen, payloads, where, depth + 1)
        return
    if not isinstance(obj, Dictionary | Stream):
        return
    for key in list(obj.keys()):
        if key in FORBIDDEN_KEYS:
            findings.append(f"{where}: key {key}")
        if key == "/Metadata" and obj.get("/Type") != Name.Catalog:
            findings.append(f"{where}: /Metadata on a {_kind(obj)}")
        _walk(obj[key], findings, seen, payloads, f"{where}{key}", depth + 1)
    if isinstance(obj, Stream):
        _stream(obj, findings, payloads, where)


def _stream(stream: Stream, findings: list[str], payloads: tuple[bytes, ...], where: str) -> None:
    filters = stream.get("/Filter")
    names = [str(f) for f in (filters if isinstance(filters, Array) else [filters]) if f]
    if names and names[-1] in ("/DCTDecode", "/DCT"):
        data = stream.read_raw_bytes() if len(names) == 1 else b""
        findings.extend(f"{where}: {f}" for f in jpeg_findings(data))
    else:
        try:
            data = stream.read_bytes()
        except pikepdf.PdfError:
            data = stream.read_raw_bytes()
    if _LOCATION.search(data):
        findings.append(f"{where}: location data in a stream")
    if _SCRIPT.search(data):
        findings.append(f"{where}: script text in a stream")
    if b"Exif\x00" in data:
        findings.append(f"{where}: EXIF block in a stream")
    findings.extend(f"{where}: payload {p[:12]!r}" for p in payloads if p in data)


def jpeg_findings(data: bytes) -> list[str]:
    """What an embedded JPEG carries beyond its pixels (metadata, data after its end)."""
    try:
        layout = jpeg_layout(data)
    except InputRejected:
        return ["JPEG the walker cannot read"]
    found = [
        f"JPEG {s.name} {s.kind} segment after {s.scans_before} scans"
        for s in layout.metadata
        if (s.kind not in KEPT_APP_KINDS and not _plain_jfif(s)) or s.scans_before
    ]
    if layout.trailing:
        found.append(f"JPEG has {layout.trailing} bytes after its end")
    return found


def _plain_jfif(segment: Segment) -> bool:
    """A JFIF header without a thumbnail (what encoders write): density only, harmless."""
    return segment.kind == "jfif" and segment.end - segment.offset == 18


def _kind(obj: Dictionary | Stream) -> str:
    for key in ("/Type", "/Subtype"):
        value = obj.get(key)
        if isinstance(value, Name):
            return str(value)
    return "stream" if isinstance(obj, Stream) else "dictionary"
