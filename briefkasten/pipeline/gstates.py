"""Which graphics states a page's content selects: only transparency that is drawn counts.

PDF/A-1 forbids transparency. A graphics state (``/ExtGState``) with ``CA``/``ca`` below 1, a
soft mask or a blend mode other than Normal makes a page transparent only when a content
stream selects it with ``gs``; word processors and browsers list such states in the resources
that nothing selects. ``state_use`` reads the page with the walk of ``fontusage``: the page's
content, form XObjects drawn by ``Do`` (nested, with their own resources or the ones in
force), tiling patterns, Type 3 glyphs, the annotations' appearance streams it is given, and
the forms under the resources that nothing draws (their copies keep what they select).

``StateUse.unused(state)`` is true only when the walk is sure: it read every stream (none
failed to parse or drew a warning from qpdf, none over ``fontusage.MAX_OPERATORS`` operators
or ``MAX_DEPTH`` levels), every ``gs`` named a state it found, and ``state`` is listed under
the resources it walked and never selected. Whenever in doubt a state counts as used: the
page is rasterised, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, Stream

from briefkasten.errors import UnsafeContent
from briefkasten.pipeline.fontusage import FontUsage, ObjectKey, page_streams
from briefkasten.pipeline.pdfcopy import number

__all__ = ["ALL_USED", "StateUse", "state_use", "transparency"]

_OPAQUE_BLENDS = frozenset({"/Normal", "/Compatible"})


@dataclass(frozen=True)
class StateUse:
    """The graphics states listed under a page's resources and those its content selects;
    ``complete`` when every stream could be read and every ``gs`` resolved."""

    listed: frozenset[ObjectKey] = frozenset()
    selected: frozenset[ObjectKey] = frozenset()
    complete: bool = False

    def unused(self, state: Dictionary) -> bool:
        """True when no content selects ``state`` for certain; false when in doubt."""
        if not self.complete or not state.is_indirect:
            return False
        return state.objgen in self.listed and state.objgen not in self.selected


#: Nothing known: every graphics state counts as used.
ALL_USED = StateUse()


def transparency(state: Dictionary) -> str | None:
    """Why ``state`` makes what it paints transparent (PDF/A-1 forbids it), or ``None``."""
    for key in list(state.keys()):
        reason = _transparent(key, state[key])
        if reason is not None:
            return reason
    return None


def _transparent(key: str, value: object) -> str | None:
    alpha = number(value) if key in ("/CA", "/ca") else None
    if alpha is not None and alpha < 1:
        return "constant alpha below 1 (transparency)"
    if key == "/SMask" and value != Name("/None"):
        return "soft mask in a graphics state (transparency)"
    blends = list(value) if isinstance(value, Array) else [value]
    if key == "/BM" and any(str(blend) not in _OPAQUE_BLENDS for blend in blends):
        return "blend mode other than Normal (transparency)"
    return None


def state_use(
    pdf: Pdf, page: Dictionary, resources: object, appearances: Sequence[Stream] = ()
) -> StateUse:
    """Which graphics states ``page`` (its resources ``resources``, resolved from the page
    tree) and the appearance streams ``appearances`` select. Direct states and resources in
    ``pdf`` are made indirect on the way (so that they can be told apart)."""
    usage = FontUsage(pdf)
    try:
        usage.resources(resources, 0)
        for stream in appearances:
            usage.resources(usage.own_resources(stream), 1)
        if not any(transparency(state) for state in usage.states.values()):
            return ALL_USED  # nothing to decide: an opaque state is copied either way
        usage.content(page_streams(page), resources, 0, None)
        for stream in appearances:
            usage.content([stream], stream.get("/Resources"), 1, None)
        usage.undrawn_forms()
    except (UnsafeContent, pikepdf.PdfError, ValueError, TypeError, KeyError, IndexError):
        return ALL_USED  # a stream that cannot be read, too much of it, odd objects: as before
    if usage.unresolved or usage.damaged:
        return ALL_USED
    return StateUse(frozenset(usage.states), frozenset(usage.selected), complete=True)
