"""Copying PDF objects into a new PDF, key by key: the machinery under ``pdfclean``.

``Copier`` builds every object anew in its target (never ``copy_foreign``, which would drag
whole object graphs along): dictionaries and streams key by key through an allowlist or, for
objects of unknown shape, the denylist ``DENY_KEYS``; dictionaries that act or point back into
the document (``DENY_TYPES``, actions, file specifications) are not followed at all. Shared
objects are copied once, reference loops end, the number of objects is bounded, stream data is
copied raw and the decompressed size of measured streams is bounded per stream and per page
(``streams.decoded_size``). ``UnsafeContent`` says the page must be rasterised instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, Stream

from briefkasten.errors import StreamTooLarge, UnsafeContent
from briefkasten.pipeline.streams import InlineImages, decoded_size

#: Objects one page may consist of before it counts as too complex.
MAX_OBJECTS = 50_000
STREAM_KEYS = frozenset({"/Length", "/Filter", "/DecodeParms", "/DL"})
#: Never copied below an allowed key, whatever the object: actions, files, structure, metadata.
DENY_KEYS = frozenset({
    "/JS", "/JavaScript", "/AA", "/A", "/OpenAction", "/Launch", "/URI", "/EmbeddedFile",
    "/EmbeddedFiles", "/EF", "/FS", "/RichMedia", "/Metadata", "/PieceInfo", "/Thumb",
    "/Annots", "/Names", "/AcroForm", "/XFA", "/OPI", "/Ref", "/Alternates", "/StructParent",
    "/StructParents", "/Parent", "/P", "/Pg", "/F", "/FFilter", "/FDecodeParms", "/Dest",
    "/Next", "/GoToR", "/Movie", "/Sound", "/Rendition", "/LastModified", "/ID",
})  # fmt: skip
#: Objects never followed into (they tie the page to the document or act).
DENY_TYPES = frozenset({
    "/Page", "/Pages", "/Catalog", "/Annot", "/Filespec", "/EmbeddedFile", "/Action",
    "/Metadata", "/StructElem", "/StructTreeRoot", "/Sig", "/Outlines",
})  # fmt: skip
#: Keys of objects of unknown shape that may hold a stream (functions, halftones, shadings,
#: masks, CMaps, JBIG2 globals); a stream under any other key there is private data: dropped.
STREAM_VALUED_KEYS = frozenset({
    "/Function", "/TransferFunction", "/TR", "/TR2", "/BG", "/BG2", "/UCR", "/UCR2", "/HT",
    "/JBIG2Globals", "/Shading", "/Mask", "/SMask", "/G", "/Default", "/UseCMap",
})  # fmt: skip
_SAFE_NAME = re.compile(r"[^A-Za-z0-9]")


@dataclass(frozen=True)
class PageLimits:
    """What a born-digital page may hold and still be copied as vectors."""

    max_pixels: int
    max_stream_bytes: int
    max_page_stream_bytes: int


@dataclass(frozen=True)
class Sanitised:
    """The outcome of a rebuild: dropped key names (sorted), the fonts that were embedded
    (``"Helvetica→LiberationSans-Regular"``, sorted), or why to rasterise instead."""

    dropped: tuple[str, ...] = ()
    unsafe: str | None = None
    fonts: tuple[str, ...] = ()

    def also(self, other: Sanitised) -> Sanitised:
        """Both outcomes: the dropped keys and fonts of each, the first reason to rasterise."""
        return Sanitised(
            dropped=tuple(sorted({*self.dropped, *other.dropped})),
            unsafe=self.unsafe or other.unsafe,
            fonts=tuple(sorted({*self.fonts, *other.fonts})),
        )

    def detail(self) -> str:
        if not self.dropped:
            said = "nothing dropped"
        else:
            shown = ", ".join(self.dropped[:12])
            more = f" and {len(self.dropped) - 12} more" if len(self.dropped) > 12 else ""
            keys = "key" if len(self.dropped) == 1 else "keys"
            said = f"dropped {len(self.dropped)} {keys}: {shown}{more}"
        if self.fonts:
            fonts = ", ".join(self.fonts[:12])
            more = f" and {len(self.fonts) - 12} more" if len(self.fonts) > 12 else ""
            said += f"; embedded fonts for unembedded ones: {fonts}{more}"
        return said


Value = Callable[[str, object], object]


class Copier:
    """Objects copied into ``target``; what was dropped is collected in ``dropped``."""

    def __init__(self, target: Pdf, limits: PageLimits) -> None:
        self.target = target
        self.limits = limits
        self.memo: dict[tuple[int, int, str], object] = {}
        self.dropped: set[str] = set()
        self.stream_bytes = 0
        self.objects = 0

    def any(self, value: object) -> object:
        """Copy an object of unknown shape: denylisted keys dropped, never into pages/actions."""
        if isinstance(value, Stream):
            if _denied(value):
                self.drop(["/" + _type_name(value)])
                return None
            return self.stream(value, None, self._generic(value), measure=True)
        if isinstance(value, Dictionary):
            if _denied(value):
                self.drop(["/" + _type_name(value)])
                return None
            return self.dictionary(value, None, self._generic(value))
        if isinstance(value, Array):
            return self.once(value, self._array_copy, "array")
        if isinstance(value, Name):
            return Name(str(value))
        if isinstance(value, pikepdf.String):
            return pikepdf.String(bytes(value))
        if isinstance(value, pikepdf.Object):  # null or an operator: nothing a resource needs
            return None
        return value

    def any_value(self, key: str, value: object) -> object:
        return self.any(value)

    def _generic(self, holder: Dictionary | Stream) -> Value:
        """Values of an object of unknown shape: a stream only under a key that holds one."""
        if holder.get("/HalftoneType") == 5:  # keys are colorant names, values halftones
            return self.any_value

        def value(key: str, v: object) -> object:
            if isinstance(v, Stream) and key not in STREAM_VALUED_KEYS:
                self.drop([key])
                return None
            return self.any(v)

        return value

    def _array_copy(self, value: object) -> Array:
        assert isinstance(value, Array)
        return Array([self.any(v) for v in value])

    def dictionary(self, obj: Dictionary, allowed: frozenset[str] | None, value: Value) -> object:
        def copy(source: object) -> Dictionary:
            assert isinstance(source, Dictionary)
            new = Dictionary()
            self.copy_keys(source, new, allowed, value)
            return new

        return self.once(obj, copy, _role(allowed, value))

    def stream(
        self,
        stream: Stream,
        allowed: frozenset[str] | None,
        value: Value,
        measure: bool,
        content: bool = False,
    ) -> object:
        """A copy of ``stream`` with its raw data; ``measure`` its decoded size, and for
        ``content`` (a content stream) look for inline images over the pixel limit too."""

        def copy(source: object) -> Stream:
            assert isinstance(source, Stream)
            raw = source.read_raw_bytes()
            if measure:
                self.measure(raw, source, content)
            new = Stream(self.target, b"")
            self.copy_keys(source, new, allowed, value, skip=STREAM_KEYS)
            filters, parms = source.get("/Filter"), source.get("/DecodeParms")
            new.write(
                raw,
                filter=self.any(filters) if filters is not None else None,  # type: ignore[arg-type]
                decode_parms=self.any(parms) if parms is not None else None,  # type: ignore[arg-type]
                type_check=False,
            )
            return new

        return self.once(stream, copy, f"stream {_role(allowed, value)} {measure}")

    def copy_keys(
        self,
        source: Dictionary | Stream,
        new: Dictionary | Stream,
        allowed: frozenset[str] | None,
        value: Value,
        skip: frozenset[str] = frozenset(),
    ) -> None:
        for key in list(source.keys()):
            if key in skip:
                continue
            if key in DENY_KEYS or (allowed is not None and key not in allowed):
                self.drop([key])
                continue
            cleaned = value(key, source[key])
            if cleaned is not None:
                new[key] = cleaned

    def measure(self, raw: bytes, stream: Stream, content: bool = False) -> None:
        budget = min(
            self.limits.max_stream_bytes, self.limits.max_page_stream_bytes - self.stream_bytes
        )
        look = InlineImages(self.limits.max_pixels) if content else None
        try:
            size = decoded_size(raw, [str(f) for f in filters_of(stream)], budget, look)
        except StreamTooLarge as exc:
            raise UnsafeContent(str(exc)) from exc
        self.stream_bytes += size

    def once(self, obj: object, copy: Callable[[object], object], role: str) -> object:
        """``copy(obj)``, made indirect and remembered when ``obj`` is an indirect object.

        Remembered per ``role`` (the rules it was copied by): an object reached both as a
        font and as something of unknown shape is copied once by each rule."""
        self.objects += 1
        if self.objects > MAX_OBJECTS:
            raise UnsafeContent(f"page has more than {MAX_OBJECTS} objects")
        if not (isinstance(obj, pikepdf.Object) and obj.is_indirect):
            return copy(obj)
        key = (*obj.objgen, role)
        if key not in self.memo:
            self.memo[key] = None  # a reference loop ends here (the key is left out)
            made = copy(obj)
            if isinstance(made, Dictionary | Array) and not isinstance(made, Stream):
                made = self.target.make_indirect(made)
            self.memo[key] = made
        return self.memo[key]

    def drop(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.dropped.add("/" + _SAFE_NAME.sub("", key)[:32])


def _role(allowed: frozenset[str] | None, value: Value) -> str:
    """Which rules copy an object: its allowlist and what copies its values."""
    keys = "any" if allowed is None else str(id(allowed))
    return f"{keys} {getattr(value, '__qualname__', '')}"


def filters_of(stream: Stream) -> list[object]:
    """The stream's filter names in order."""
    filters = stream.get("/Filter")
    if isinstance(filters, Name):
        return [filters]
    return list(filters) if isinstance(filters, Array) else []


def number(value: object) -> float | None:
    """A PDF number as ``float``; ``None`` for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return float(value)


#: Action types (``/S``): a dictionary with one of them acts.
_ACTIONS = frozenset({
    "/GoTo", "/GoToR", "/GoToE", "/Launch", "/Thread", "/URI", "/Sound", "/Movie", "/Hide",
    "/Named", "/SubmitForm", "/ResetForm", "/ImportData", "/JavaScript", "/SetOCGState",
    "/Rendition", "/Trans", "/GoTo3DView", "/RichMediaExecute",
})  # fmt: skip


def _denied(value: Dictionary | Stream) -> bool:
    kind, action = value.get("/Type"), value.get("/S")
    if isinstance(kind, Name) and str(kind) in DENY_TYPES:
        return True
    if isinstance(action, Name) and str(action) in _ACTIONS:
        return True
    return "/EF" in value  # a file specification without its /Type


def _type_name(value: Dictionary | Stream) -> str:
    for key in ("/Type", "/S"):
        name = value.get(key)
        if isinstance(name, Name):
            return str(name)
    return "unknown"
