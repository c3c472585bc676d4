"""Born-digital PDF pages rebuilt from an allowlist: nothing active, nothing hidden leaves.

``sanitise_page`` copies one page into a new PDF by building every object anew: the page takes
only the keys in ``PAGE_KEYS``, its ``/Resources`` only the categories in ``RESOURCE_KEYS``, and
each resource only the keys its kind needs (fonts, images, form XObjects, graphics states,
patterns, shadings), recursing into the resources of form XObjects, tiling patterns and
Type3 fonts. What is not on a list is dropped (custom keys, ``/AA``, ``/Annots``,
``/Metadata`` — XMP of an image may hold GPS —, ``/PieceInfo``, ``/Thumb``, ``/OPI``, reference
XObjects, PostScript XObjects, file specifications, actions); the names of dropped keys (never
values) are returned for the page's history. Objects of unknown shape below an allowed key are
copied with a denylist (``DENY_KEYS``) and never followed into pages, the catalog, annotations,
file specifications or actions. ``/UserUnit`` is folded into the boxes and the content.

Stream data is copied raw, never decoded, except: the decompressed size of every non-image
stream is measured with a bounded decoder (``limits.max_stream_bytes`` per stream and
``limits.max_page_stream_bytes`` per page), and an embedded JPEG (``/DCTDecode``) is cut at
its end and stripped of EXIF/XMP by ``jpeg.clean_jpeg``. ``inspect_page`` runs the same walk
(plus the annotations' appearance streams) on the original page before PDFium touches it and
says why it must be rasterised instead: an image over ``limits.max_pixels``, an inline image
over it, a stream over a size limit or with a filter that cannot be measured, form XObjects
nested deeper than ``MAX_FORM_DEPTH`` or in a loop, a JPEG that cannot be cleaned, JPEG 2000
(whose metadata boxes we do not clean), transparency (an image with a soft mask, a graphics
state with alpha below 1, a soft mask or a blend mode other than Normal that the content
selects with ``gs``: PDF/A-1 forbids it), or a structure pikepdf cannot read. Such a graphics
state that nothing selects (``gstates``) is left out of the copy; when in doubt it counts as
selected. A form's ``/Group`` and an image's ``/Interpolate`` are dropped (PDF/A).
``sanitise_page`` also embeds fonts the file did not (``pdffonts``), or says why the page
must be rasterised for one.

pikepdf (qpdf), not pypdf: qpdf gives raw stream bytes without decoding and writes them back
as they are (``StreamDecodeLevel.none``), repairs damaged cross-reference tables the same way
for every page, resolves loops in the page tree, and is already installed (img2pdf needs it).
pypdf's clone copies whole object graphs, and its limits (75 MB) are process-global settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, Stream

from briefkasten.errors import InputRejected, UnsafeContent
from briefkasten.pipeline.gstates import ALL_USED, StateUse, state_use, transparency
from briefkasten.pipeline.jpeg import clean_jpeg
from briefkasten.pipeline.pdfcopy import (
    STREAM_KEYS,
    Copier,
    PageLimits,
    Sanitised,
    Value,
    filters_of,
    number,
)
from briefkasten.pipeline.pdffonts import embed_fonts

__all__ = ["PAGE_KEYS", "RESOURCE_KEYS", "PageLimits", "Sanitised", "inspect_page", "sanitise_page"]

MAX_FORM_DEPTH = 12
_INHERITED_DEPTH = 32
_MAX_USER_UNIT = 75_000.0  # the largest PDF 2.0 allows
_BOXES = ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox")
PAGE_KEYS = frozenset({"/Type", "/Parent", *_BOXES, "/Rotate", "/Contents", "/Resources"})
_PAGE_KEYS_KEPT = PAGE_KEYS | {"/Group", "/UserUnit"}  # /Group cleaned; /UserUnit folded
RESOURCE_KEYS = frozenset(
    {"/Font", "/XObject", "/ExtGState", "/ColorSpace", "/Pattern", "/Shading", "/ProcSet"}
    | {"/Properties"}
)
_IMAGE_KEYS = STREAM_KEYS | {
    "/Type", "/Subtype", "/Width", "/Height", "/ColorSpace", "/BitsPerComponent", "/Intent",
    "/ImageMask", "/Mask", "/Decode", "/SMask", "/SMaskInData", "/Matte",
    "/OC", "/Name",
}  # fmt: skip
_FORM_KEYS = STREAM_KEYS | {
    "/Type", "/Subtype", "/FormType", "/BBox", "/Matrix", "/Resources", "/Group", "/OC", "/Name"
}  # fmt: skip
_GROUP_KEYS = frozenset({"/Type", "/S", "/CS", "/I", "/K"})
_FONT_KEYS = frozenset({
    "/Type", "/Subtype", "/BaseFont", "/Name", "/FirstChar", "/LastChar", "/Widths",
    "/FontDescriptor", "/Encoding", "/ToUnicode", "/DescendantFonts", "/CIDSystemInfo",
    "/DW", "/W", "/DW2", "/W2", "/CIDToGIDMap", "/FontBBox", "/FontMatrix", "/CharProcs",
    "/Resources",
})  # fmt: skip
_DESCRIPTOR_KEYS = frozenset({
    "/Type", "/FontName", "/FontFamily", "/FontStretch", "/FontWeight", "/Flags", "/FontBBox",
    "/ItalicAngle", "/Ascent", "/Descent", "/Leading", "/CapHeight", "/XHeight", "/StemV",
    "/StemH", "/AvgWidth", "/MaxWidth", "/MissingWidth", "/FontFile", "/FontFile2",
    "/FontFile3", "/CharSet", "/Style", "/Lang", "/FD", "/CIDSet",
})  # fmt: skip
_FONT_FILE_KEYS = STREAM_KEYS | {"/Length1", "/Length2", "/Length3", "/Subtype"}
_GSTATE_KEYS = frozenset({
    "/Type", "/LW", "/LC", "/LJ", "/ML", "/D", "/RI", "/OP", "/op", "/OPM", "/Font", "/BG",
    "/BG2", "/UCR", "/UCR2", "/TR", "/TR2", "/HT", "/FL", "/SM", "/SA", "/BM", "/SMask", "/CA",
    "/ca", "/AIS", "/TK", "/UseBlackPtComp", "/HTO",
})  # fmt: skip
_TILING_KEYS = STREAM_KEYS | {
    "/Type", "/PatternType", "/PaintType", "/TilingType", "/BBox", "/XStep", "/YStep",
    "/Resources", "/Matrix",
}  # fmt: skip
_SHADING_PATTERN_KEYS = frozenset({"/Type", "/PatternType", "/Shading", "/Matrix", "/ExtGState"})


def inspect_page(path: Path, index: int, limits: PageLimits) -> Sanitised:
    """Page ``index`` of the original: what a rebuild drops, or why it must be rasterised.

    Walks the annotations' appearance streams too (PDFium's flattening draws them)."""
    try:
        with pikepdf.open(path) as pdf:
            page = pdf.pages[index].obj
            appearances = _appearances(page)
            states = state_use(pdf, page, _inherited(page, "/Resources"), appearances)
            rebuild = _Rebuild(Pdf.new(), limits, states)
            rebuild.page(page)
            for stream in appearances:
                rebuild.form(stream, depth=1)
    except UnsafeContent as unsafe:
        return Sanitised(unsafe=str(unsafe))
    except (pikepdf.PdfError, ValueError, TypeError, KeyError, IndexError, RecursionError):
        return Sanitised(unsafe="page structure cannot be checked")
    return Sanitised(dropped=tuple(sorted(rebuild.dropped)))


def sanitise_page(source: Path, target: Path, limits: PageLimits, index: int = 0) -> Sanitised:
    """Write page ``index`` of ``source`` rebuilt from the allowlist as a one-page PDF."""
    try:
        with pikepdf.open(source) as pdf, Pdf.new() as out:
            original = pdf.pages[index].obj
            states = state_use(pdf, original, _inherited(original, "/Resources"))
            rebuild = _Rebuild(out, limits, states)
            page = out.make_indirect(rebuild.page(original))
            fonts = embed_fonts(out, page)
            out.pages.append(pikepdf.Page(page))
            out.save(
                target,
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
                deterministic_id=True,
            )
    except UnsafeContent as unsafe:
        return Sanitised(unsafe=str(unsafe))
    except (pikepdf.PdfError, ValueError, TypeError, KeyError, IndexError, RecursionError):
        return Sanitised(unsafe="page structure cannot be rebuilt")
    return Sanitised(dropped=tuple(sorted(rebuild.dropped)), fonts=fonts)


def _array(value: object) -> Iterable[object]:
    return list(value) if isinstance(value, Array) else []


def _appearances(page: Dictionary) -> list[Stream]:
    """The annotations' appearance streams, every state of each (PDFium's flattening draws
    them)."""
    found: list[Stream] = []
    for annot in _array(page.get("/Annots")):
        ap = annot.get("/AP") if isinstance(annot, Dictionary) else None
        for state in ap.values() if isinstance(ap, Dictionary) else []:
            candidates = [state, *(state.values() if isinstance(state, Dictionary) else [])]
            found += [stream for stream in candidates if isinstance(stream, Stream)]
    return found


class _Rebuild(Copier):
    """One page's objects copied into ``target`` by the rules of each kind of object."""

    def __init__(self, target: Pdf, limits: PageLimits, states: StateUse = ALL_USED) -> None:
        super().__init__(target, limits)
        self.forms: list[tuple[int, int]] = []  # the form XObjects being walked, outermost first
        self.states = states  # which graphics states the content selects

    # -- the page -------------------------------------------------------------------------------

    def page(self, page: Dictionary) -> Dictionary:
        self.drop(set(page.keys()) - _PAGE_KEYS_KEPT)
        unit = number(_inherited(page, "/UserUnit")) or 1.0
        if not 0 < unit <= _MAX_USER_UNIT:  # nonsense: the default
            unit = 1.0
        new = Dictionary(Type=Name.Page)
        for key in _BOXES:
            box = _inherited(page, key) if key in ("/MediaBox", "/CropBox") else page.get(key)
            if isinstance(box, Array) and _is_rect(box):
                new[key] = Array([(number(v) or 0.0) * unit for v in box])
        if "/MediaBox" not in new:  # required; PDFium's copy always has one
            new["/MediaBox"] = Array([0, 0, 612 * unit, 792 * unit])
        rotate = number(_inherited(page, "/Rotate"))
        if rotate is not None and int(rotate) % 90 == 0:
            new["/Rotate"] = int(rotate) % 360
        resources = _inherited(page, "/Resources")
        if isinstance(resources, Dictionary):
            new["/Resources"] = self.resources(resources, depth=0)
        contents: list[object] = [self.content(c) for c in _streams(page.get("/Contents"))]
        if unit != 1.0:
            self.drop(["/UserUnit"])
            prefix = Stream(self.target, f"q {unit:.6f} 0 0 {unit:.6f} 0 0 cm\n".encode())
            contents = [prefix, *contents, Stream(self.target, b"\nQ\n")]
        new["/Contents"] = Array(contents)
        group = page.get("/Group")
        if isinstance(group, Dictionary):
            new["/Group"] = self.dictionary(group, _GROUP_KEYS, self.any_value)
        return new

    def content(self, stream: Stream) -> object:
        return self.stream(stream, STREAM_KEYS, self.any_value, measure=True, content=True)

    # -- resources ------------------------------------------------------------------------------

    def resources(self, resources: Dictionary, depth: int) -> object:
        def copy(res: object) -> Dictionary:
            assert isinstance(res, Dictionary)
            new = Dictionary()
            for key in list(res.keys()):
                value = res[key]
                if key == "/ProcSet" and isinstance(value, Array):
                    new[key] = Array([Name(str(n)) for n in value if isinstance(n, Name)])
                elif key in RESOURCE_KEYS and isinstance(value, Dictionary):
                    new[key] = self.category(value, key, depth)
                else:
                    self.drop([key])
            return new

        return self.once(resources, copy, "resources")

    def category(self, entries: Dictionary, key: str, depth: int) -> object:
        cleaners: dict[str, Callable[[object], object]] = {
            "/Font": lambda v: self.font(v, depth),
            "/XObject": lambda v: self.xobject(v, depth),
            "/ExtGState": lambda v: self.gstate(v, depth, listed=True),
            "/Pattern": lambda v: self.pattern(v, depth),
        }
        cleaner = cleaners.get(key, self.any)

        def copy(source: object) -> Dictionary:
            assert isinstance(source, Dictionary)
            new = Dictionary()
            for name in list(source.keys()):
                cleaned = cleaner(source[name])
                if cleaned is not None:
                    new[name] = cleaned
            return new

        return self.once(entries, copy, key)

    def xobject(self, obj: object, depth: int) -> object:
        subtype = obj.get("/Subtype") if isinstance(obj, Stream) else None
        if isinstance(obj, Stream) and subtype == Name.Image:
            return self.image(obj)
        if isinstance(obj, Stream) and subtype == Name.Form:
            return self.form(obj, depth + 1)
        self.drop([f"/XObject{subtype}" if isinstance(subtype, Name) else "/XObject"])
        return None

    def form(self, form: Stream, depth: int) -> object:
        if depth > MAX_FORM_DEPTH:
            raise UnsafeContent(f"form XObjects nested deeper than {MAX_FORM_DEPTH}")
        ident = form.objgen if form.is_indirect else None
        if ident is not None and ident in self.forms:
            raise UnsafeContent("form XObjects refer to each other in a loop")
        if ident is not None:
            self.forms.append(ident)
        try:
            return self.stream(form, _FORM_KEYS, self._container(depth), True, content=True)
        finally:
            if ident is not None:
                self.forms.pop()

    def _container(self, depth: int) -> Value:
        """Values of a form XObject or tiling pattern: its resources, its group."""

        def value(key: str, v: object) -> object:
            if key == "/Resources" and isinstance(v, Dictionary):
                return self.resources(v, depth)
            if key == "/Group":  # nothing on the page is transparent (see gstate): a no-op
                self.drop([key])
                return None
            return self.any(v)

        return value

    def image(self, image: Stream) -> object:
        width, height = number(image.get("/Width")) or 0, number(image.get("/Height")) or 0
        if width * height > self.limits.max_pixels:
            raise UnsafeContent(f"image of {width:.0f}×{height:.0f} pixels over the pixel limit")
        if isinstance(image.get("/SMask"), Stream) or number(image.get("/SMaskInData")):
            raise UnsafeContent("image with a soft mask (transparency)")
        filters = [str(f) for f in filters_of(image)]
        if "/JPXDecode" in filters:
            raise UnsafeContent("JPEG 2000 image (its metadata is not cleaned)")
        if "/DCTDecode" in filters or "/DCT" in filters:
            if len(filters) != 1:
                raise UnsafeContent("JPEG image inside another filter")
            return self.once(image, self._jpeg, "jpeg")
        return self.stream(image, _IMAGE_KEYS, self._image_value, measure=False)

    def _image_value(self, key: str, value: object) -> object:
        if key in ("/SMask", "/Mask") and isinstance(value, Stream):
            return self.image(value)
        return self.any(value)

    def _jpeg(self, image: object) -> Stream:
        assert isinstance(image, Stream)
        try:
            data = clean_jpeg(image.read_raw_bytes())
        except InputRejected as exc:
            raise UnsafeContent("JPEG image cannot be cleaned") from exc
        new = Stream(self.target, b"")
        self.copy_keys(image, new, _IMAGE_KEYS, self._image_value, skip=STREAM_KEYS)
        parms = image.get("/DecodeParms")
        new.write(
            data,
            filter=Name.DCTDecode,
            decode_parms=self.any(parms) if isinstance(parms, Dictionary) else None,  # type: ignore[arg-type]
            type_check=False,
        )
        return new

    def font(self, font: object, depth: int) -> object:
        if not isinstance(font, Dictionary):
            return None

        def value(key: str, v: object) -> object:
            if key == "/FontDescriptor" and isinstance(v, Dictionary):
                return self.dictionary(v, _DESCRIPTOR_KEYS, self._font_file)
            if key == "/Resources" and isinstance(v, Dictionary):  # Type3
                return self.resources(v, depth + 1)
            if key == "/CharProcs" and isinstance(v, Dictionary):  # Type3 glyphs: content
                return self.dictionary(v, None, self._char_proc)
            if key == "/DescendantFonts" and isinstance(v, Array):
                return Array([self.font(f, depth) for f in v if isinstance(f, Dictionary)])
            return self.any(v)

        return self.dictionary(font, _FONT_KEYS, value)

    def _char_proc(self, key: str, value: object) -> object:
        return self.content(value) if isinstance(value, Stream) else None

    def _font_file(self, key: str, value: object) -> object:
        if key.startswith("/FontFile") and isinstance(value, Stream):
            return self.stream(value, _FONT_FILE_KEYS, self.any_value, measure=True)
        return self.any(value)

    def gstate(self, state: object, depth: int, listed: bool = False) -> object:
        """A graphics state's copy; unsafe when it is transparent and may be selected. One
        ``listed`` in a resource dictionary that nothing selects is left out instead."""
        if not isinstance(state, Dictionary):
            return None
        reason = transparency(state)
        if reason is not None and listed and self.states.unused(state):
            self.drop(["/ExtGStateUnused"])
            return None
        if reason is not None:
            raise UnsafeContent(reason)

        def value(key: str, v: object) -> object:
            if key == "/Font" and isinstance(v, Array) and len(v) == 2:
                return Array([self.font(v[0], depth), self.any(v[1])])
            return self.any(v)

        return self.dictionary(state, _GSTATE_KEYS, value)

    def pattern(self, pattern: object, depth: int) -> object:
        if isinstance(pattern, Stream):  # tiling pattern: a content stream with resources
            return self.stream(pattern, _TILING_KEYS, self._container(depth + 1), True, True)
        if isinstance(pattern, Dictionary):

            def value(key: str, v: object) -> object:
                return self.gstate(v, depth) if key == "/ExtGState" else self.any(v)

            return self.dictionary(pattern, _SHADING_PATTERN_KEYS, value)
        return None


def _inherited(page: Dictionary, key: str) -> object:
    node: object = page
    for _ in range(_INHERITED_DEPTH):
        if not isinstance(node, Dictionary):
            return None
        if key in node:
            return node[key]
        node = node.get("/Parent")
    return None


def _streams(contents: object) -> list[Stream]:
    if isinstance(contents, Stream):
        return [contents]
    return [c for c in _array(contents) if isinstance(c, Stream)]


def _is_rect(value: Array) -> bool:
    return len(value) == 4 and all(number(v) is not None for v in value)
