"""Splitting: where one uploaded document holds several, and which pages each one gets.

Applicants photograph a Kontoauszug and then a Mietvertrag in one series, or put a stack
through a scanner with blank pages or our separator sheet between the documents. Courts and
e-files want one PDF per document, so a document's pages are cut into parts:

- a **separator sheet** (the QR code ``briefkasten link create --separator-pdf`` prints) ends
  a part and is left out;
- a **blank page** between two pages with content ends a part and is left out, unless the
  blank pages look like the empty backs of a duplex scan (every second page blank): those
  stay where they are, flagged ``blank``;
- a **change of type** (``by_type``): a page whose own text says confidently that it is a
  different type than the part so far (a Mietvertrag after Kontoauszug pages) begins a new
  part. A page that says nothing confident (a second page, a table) stays with its part.

The decision is a pure function of what was measured per page (``PageSignals``), so it is
explained in the report (each part says what began it) and tested without OCR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

#: The type a page or document gets when nothing convincing was found.
UNKNOWN = "sonstiges"

Reason = Literal["start", "separator_sheet", "blank_page", "type_change"]


@dataclass(frozen=True)
class PageSignals:
    """What one page says about where documents begin: blank, our separator sheet, and the
    type its own text suggests (with the suggestion's confidence, 0–1)."""

    blank: bool = False
    separator: bool = False
    suggested_type: str = UNKNOWN
    confidence: float = 0.0


@dataclass(frozen=True)
class Part:
    """One document to be: its pages (0-based indices into the uploaded document's pages, in
    order) and what began it."""

    pages: tuple[int, ...]
    reason: Reason

    def to_report(self) -> dict[str, object]:
        return {"pages": [i + 1 for i in self.pages], "began_with": self.reason}


@dataclass(frozen=True)
class Plan:
    """The parts (at least one) and the pages left out (separator sheets, blank pages
    between documents), 0-based."""

    parts: tuple[Part, ...]
    dropped: tuple[int, ...] = ()

    @property
    def split(self) -> bool:
        return len(self.parts) > 1

    def to_report(self) -> dict[str, object]:
        return {
            "parts": [p.to_report() for p in self.parts],
            "left_out": [i + 1 for i in self.dropped],
        }


def plan(signals: Sequence[PageSignals], *, by_type: bool, min_confidence: float) -> Plan:
    """Cut the pages described by ``signals`` into parts (see the module's docstring).

    Never loses a page with content: every page is in a part or is a separator sheet or a
    blank page between two parts. A document of nothing but blank pages and separators stays
    whole (nothing would be left to deliver).
    """
    count = len(signals)
    separators = {i for i, s in enumerate(signals) if s.separator}
    if all(s.blank or s.separator for s in signals):
        return Plan((Part(tuple(range(count)), "start"),))
    dropped = separators | _separating_blanks(signals, separators)
    parts: list[Part] = []
    pages: list[int] = []
    reason: Reason = "start"
    kind: str | None = None  # the confident type of the part so far
    pending: Reason | None = None  # a separator or blank page came since the last page
    for index, signal in enumerate(signals):
        if index in dropped:
            pending = "separator_sheet" if index in separators else pending or "blank_page"
            continue
        confident = _confident_type(signal, min_confidence)
        change = by_type and confident is not None and kind is not None and confident != kind
        if pages and (pending is not None or change):
            parts.append(Part(tuple(pages), reason))
            pages, kind = [], None
            reason = pending if pending is not None else "type_change"
        pending = None
        pages.append(index)
        kind = kind or confident
    parts.append(Part(tuple(pages), reason))
    return Plan(tuple(parts), tuple(sorted(dropped)))


def _confident_type(signal: PageSignals, min_confidence: float) -> str | None:
    if signal.suggested_type == UNKNOWN or signal.confidence < min_confidence:
        return None
    return signal.suggested_type


def _separating_blanks(signals: Sequence[PageSignals], separators: set[int]) -> set[int]:
    """The blank pages that separate documents: those with a page of content somewhere before
    and after them; none when the blanks are the backs of a duplex scan."""
    if _duplex_backs(signals, separators):
        return set()
    content = [i for i, s in enumerate(signals) if not s.blank and i not in separators]
    return {i for i, s in enumerate(signals) if s.blank and content[0] < i < content[-1]}


def _duplex_backs(signals: Sequence[PageSignals], separators: set[int]) -> bool:
    """Every second page blank (at least two of them, all at the same parity): the empty backs
    of a duplex scan of one-sided pages, not separators."""
    blank = [i for i, s in enumerate(signals) if s.blank and i not in separators]
    if len(blank) < 2:
        return False
    parity = {i % 2 for i in blank}
    if len(parity) != 1:
        return False
    backs = range(parity.pop(), len(signals), 2)
    return sum(1 for i in backs if signals[i].blank) >= 0.75 * len(backs)
