"""Which codes a page's content shows with each of its fonts, and which graphics states it
selects: the walk ``pdffonts`` and ``gstates`` need.

``FontUsage`` collects every font and graphics state under a page's resources (page, form
XObjects, tiling patterns, Type 3 glyphs, graphics states with ``/Font``; a direct font or
graphics state dictionary, and a direct ``/Resources`` of a form, pattern or Type 3 font, is
made indirect so it can be told apart) and reads the content: ``Tf`` and ``gs`` set the font,
``q``/``Q`` save and restore it, ``Do`` reads a form with the font in force (and its own
resources, or the ones in force), ``Tj ' " TJ`` show codes (one byte each: what simple fonts
use). ``gs`` also marks the graphics state it names as selected; a ``gs`` whose state is not
found, or a ``Do`` with no resources in force, sets ``unresolved``, content qpdf warns about
sets ``damaged``. Bounded:
``MAX_OPERATORS`` per walk, forms nested at most ``MAX_DEPTH`` deep, each form read once per
font and resources in force.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, Stream

from briefkasten.errors import UnsafeContent

__all__ = ["MAX_DEPTH", "MAX_OPERATORS", "FontKey", "FontUsage", "ObjectKey", "page_streams"]

#: Content operators read per page to find the codes each font shows.
MAX_OPERATORS = 1_000_000
MAX_DEPTH = 12
_SHOW = frozenset({"Tj", "'", '"', "TJ"})
ObjectKey = tuple[int, int]
FontKey = ObjectKey


def page_streams(page: Dictionary) -> list[Stream]:
    """The page's content streams in order."""
    contents = page.get("/Contents")
    streams = [contents] if isinstance(contents, Stream) else _items(contents)
    return [s for s in streams if isinstance(s, Stream)]


def _items(value: object) -> list[object]:
    return list(value) if isinstance(value, Array) else []


class FontUsage:
    """Every font and graphics state under a page's resources, the codes its content shows
    with each font and the graphics states it selects."""

    def __init__(self, pdf: Pdf) -> None:
        self.pdf = pdf
        self.fonts: dict[FontKey, Dictionary] = {}
        self.codes: dict[FontKey, set[int]] = {}
        self.states: dict[ObjectKey, Dictionary] = {}  # graphics states under the resources
        self.selected: set[ObjectKey] = set()  # ... that a ``gs`` names
        self.unresolved = False  # a ``gs`` named a state that is not there
        self.damaged = False  # qpdf warned while parsing (a viewer may read more than it did)
        self.forms: dict[ObjectKey, Stream] = {}  # form XObjects under the resources
        self.drawn: set[ObjectKey] = set()  # ... that a ``Do`` draws
        self.operators = 0
        self.walked: set[tuple[ObjectKey, FontKey | None, ObjectKey | None]] = set()
        self.seen: set[ObjectKey] = set()

    def resources(self, resources: object, depth: int) -> None:
        if not isinstance(resources, Dictionary) or depth > MAX_DEPTH:
            return
        if resources.is_indirect:
            if resources.objgen in self.seen:
                return
            self.seen.add(resources.objgen)
        fonts = resources.get("/Font")
        if isinstance(fonts, Dictionary):
            for name in list(fonts.keys()):
                self.font(fonts, name, depth)
        states = resources.get("/ExtGState")
        states = states if isinstance(states, Dictionary) else Dictionary()
        for name in list(states.keys()):
            state = self.graphics_state(states, name)
            held = state.get("/Font") if state is not None else None
            if isinstance(held, Array) and len(held) == 2:
                self.font(held, 0, depth)
        for kind in ("/XObject", "/Pattern"):
            entries = resources.get(kind)
            for entry in entries.values() if isinstance(entries, Dictionary) else []:
                if isinstance(entry, Stream) and entry.get("/Subtype") != Name.Image:
                    inner = self.own_resources(entry)
                    self.resources(inner, depth + 1)
                    if kind == "/Pattern":  # a tiling pattern's cell starts with no font
                        self.content([entry], inner, depth + 1, None)
                    elif entry.get("/Subtype") == Name.Form and entry.is_indirect:
                        self.forms[entry.objgen] = entry

    def graphics_state(self, holder: Dictionary, name: str) -> Dictionary | None:
        """The graphics state ``holder[name]`` (made indirect, so it can be told apart),
        registered."""
        state = holder.get(name)
        if not isinstance(state, Dictionary):
            return None
        if not state.is_indirect:
            holder[name] = state = self.pdf.make_indirect(state)
        self.states[state.objgen] = state
        return state

    def own_resources(self, holder: Dictionary | Stream) -> object:
        """``holder``'s ``/Resources``, made indirect so that resources in force can be told
        apart (only the page's own may stay direct)."""
        resources = holder.get("/Resources")
        if isinstance(resources, Dictionary) and not resources.is_indirect:
            holder["/Resources"] = resources = self.pdf.make_indirect(resources)
        return resources

    def font(self, holder: Dictionary | Array, name: str | int, depth: int) -> FontKey | None:
        """The font ``holder[name]`` (made indirect, so it can be told apart), registered."""
        font = holder[name]  # type: ignore[index]
        if not isinstance(font, Dictionary):
            return None
        if not font.is_indirect:
            holder[name] = font = self.pdf.make_indirect(font)  # type: ignore[index]
        assert isinstance(font, Dictionary)
        key: FontKey = font.objgen
        if key not in self.fonts:
            self.fonts[key] = font
            if font.get("/Subtype") == Name.Type3:  # glyphs are content with resources
                inner = self.own_resources(font)
                self.resources(inner, depth + 1)
                procs = font.get("/CharProcs")
                glyphs = procs.values() if isinstance(procs, Dictionary) else []
                self.content([g for g in glyphs if isinstance(g, Stream)], inner, depth + 1, None)
        return key

    def content(
        self, streams: list[Stream], resources: object, depth: int, font: FontKey | None
    ) -> None:
        """Read ``streams`` with ``resources``, the font in force at the start ``font``."""
        if depth > MAX_DEPTH:
            raise UnsafeContent(f"content nested deeper than {MAX_DEPTH} levels")
        saved: list[FontKey | None] = []
        for stream in streams:
            try:
                with warnings.catch_warnings(record=True) as heard:  # not logged: counted
                    warnings.simplefilter("always")
                    instructions = pikepdf.parse_content_stream(stream)
                self.damaged = self.damaged or bool(heard)
            except pikepdf.PdfError as exc:
                raise UnsafeContent("content stream cannot be read for its fonts") from exc
            self.operators += len(instructions)
            if self.operators > MAX_OPERATORS:
                raise UnsafeContent(f"more than {MAX_OPERATORS} content operators")
            for instruction in instructions:
                if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                    continue
                operands, operator = instruction.operands, str(instruction.operator)
                if operator == "q":
                    saved.append(font)
                elif operator == "Q":
                    font = saved.pop() if saved else font
                elif operator in _SHOW and font is not None:
                    self.codes.setdefault(font, set()).update(_shown(operator, list(operands)))
                elif operator in ("Tf", "gs", "Do") and operands:
                    font = self.select(operator, operands[0], resources, depth, font)

    def select(
        self, operator: str, operand: object, resources: object, depth: int, font: FontKey | None
    ) -> FontKey | None:
        """The font in force after ``Tf``/``gs``; a form drawn by ``Do`` read with it."""
        kind = {"Tf": "/Font", "gs": "/ExtGState", "Do": "/XObject"}[operator]
        entries = resources.get(kind) if isinstance(resources, Dictionary) else None
        if not isinstance(operand, Name) or not isinstance(entries, Dictionary):
            # a state, or a form drawn with no resources in force: what it selects is unknown
            missing = operator == "gs" or not isinstance(resources, Dictionary)
            self.unresolved = self.unresolved or (missing and operator != "Tf")
            return font
        entry = entries.get(operand)
        if operator == "Tf":
            return self.font(entries, str(operand), depth) if entry is not None else font
        if operator == "gs":
            return self.select_state(entries, str(operand), depth, font)
        if not isinstance(entry, Stream) or entry.get("/Subtype") != Name.Form:
            return font
        own = self.own_resources(entry)
        inner = own if isinstance(own, Dictionary) else resources
        walk = (entry.objgen, font, inner.objgen if isinstance(inner, Dictionary) else None)
        self.drawn.add(entry.objgen)
        if walk not in self.walked:
            self.walked.add(walk)
            self.resources(inner, depth + 1)
            self.content([entry], inner, depth + 1, font)
        return font

    def select_state(
        self, states: Dictionary, name: str, depth: int, font: FontKey | None
    ) -> FontKey | None:
        """``gs``: the state ``states[name]`` selected; the font in force after it."""
        state = self.graphics_state(states, name)
        if state is None:
            self.unresolved = True
            return font
        self.selected.add(state.objgen)
        held = state.get("/Font")
        if isinstance(held, Array) and len(held) == 2:
            return self.font(held, 0, depth) or font
        return font

    def undrawn_forms(self) -> None:
        """Read the forms under the resources that no ``Do`` drew, with their own resources
        (what they select stays in the copy: it must not name a state that was left out)."""
        for key, form in list(self.forms.items()):
            if key not in self.drawn:
                self.drawn.add(key)
                self.content([form], form.get("/Resources"), 1, None)


def _shown(operator: str, operands: Sequence[object]) -> set[int]:
    """The codes a text-showing operator shows (one byte, one code: simple fonts)."""
    parts: list[object]
    if operator == "TJ":
        parts = list(operands[0]) if operands and isinstance(operands[0], Array) else []
    else:
        parts = list(operands[-1:])
    codes: set[int] = set()
    for part in parts:
        if isinstance(part, pikepdf.String):
            codes.update(bytes(part))
    return codes
