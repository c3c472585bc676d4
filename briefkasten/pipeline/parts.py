"""From one uploaded document's built pages to the documents it holds.

``split.plan`` decides where documents begin from what each page says (``page_signals``:
blank, our separator sheet, the type its own text suggests); ``assemble_parts`` turns the plan
into one PDF per part (``document.assemble``), each with its type:

- the part that looks like the type the applicant chose keeps that type (the first part when
  none does): the applicant's choice is never overruled for the document they meant;
- every other part gets its confident suggestion when the tenant's catalogue has that type,
  else ``sonstiges`` (a case worker sorts it; nothing is refused after the 202).

Separator sheets and blank pages between documents are left out of the PDFs also when the
document is not split (the report says which); the originals stay untouched either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from briefkasten.model import (
    DocumentRequest,
    DocumentResult,
    PageResult,
    Split,
    TypeSuggestion,
)
from briefkasten.pipeline.document import BuiltPages, assemble
from briefkasten.pipeline.split import UNKNOWN, PageSignals, Plan, plan

#: The type suggestion for some pages' texts (``pipeline.doctype.suggest_pages``).
Suggest = Callable[[Sequence[str]], TypeSuggestion]
#: Is this page our separator sheet (by its QR codes; ``pipeline.codes.is_separator``)?
IsSeparator = Callable[[PageResult], bool]


@dataclass(frozen=True)
class Piece:
    """One document to deliver: part ``number`` (1-based) of ``count``, its PDF and type."""

    number: int
    count: int
    result: DocumentResult
    document_type: str

    def request(self, uploaded: DocumentRequest) -> DocumentRequest:
        """The document this piece is, as a request of its own: ``uploaded`` itself (with its
        type) when it was not split, else ``<document_id>-<n>`` with the files its pages come
        from."""
        if self.count == 1:
            return replace(uploaded, document_type=self.document_type)
        sources = {o.sha256 for o in self.result.originals}
        return replace(
            uploaded,
            document_id=f"{uploaded.document_id}-{self.number}",
            document_type=self.document_type,
            files=tuple(f for f in uploaded.files if f.sha256 in sources),
        )


def page_signals(
    pages: Sequence[PageResult], suggest: Suggest, is_separator: IsSeparator
) -> list[PageSignals]:
    """What each page says about where documents begin. A page is blank only with the
    ``blank`` quality flag and no OCR text at all (a page with a signature or one short line
    is never left out)."""
    signals = []
    for page in pages:
        text = page.text.strip()
        suggestion = suggest([page.text]) if text else None
        signals.append(
            PageSignals(
                blank="blank" in page.flags and not text,
                separator=is_separator(page),
                suggested_type=suggestion.type if suggestion else UNKNOWN,
                confidence=suggestion.confidence if suggestion else 0.0,
            )
        )
    return signals


def plan_for(
    pages: Sequence[PageResult],
    *,
    mode: str,
    suggest: Suggest,
    is_separator: IsSeparator,
    min_confidence: float,
) -> Plan:
    """The plan for ``pages`` under ``mode`` (``pipeline.split``): ``auto`` cuts at separator
    sheets, blank pages between documents and type changes, ``separators`` only at the first
    two, ``off`` never (one part of every page)."""
    if mode == "off" or not pages:
        return plan([PageSignals()] * len(pages), by_type=False, min_confidence=1.0)
    signals = page_signals(pages, suggest, is_separator)
    return plan(signals, by_type=mode == "auto", min_confidence=min_confidence)


def assemble_parts(
    built: BuiltPages,
    layout: Plan,
    workdir: Path,
    *,
    document_id: str,
    chosen_type: str,
    catalogue: Sequence[str],
    title: str,
    suggest: Suggest,
    min_confidence: float,
) -> list[Piece]:
    """One PDF per part of ``layout`` in ``workdir`` (``document.pdf`` when there is one part,
    ``part-<n>.pdf`` otherwise), each with its suggestion, type and, when split, where it
    comes from."""
    parts = layout.parts
    suggestions = [suggest([built.pages[i].text for i in part.pages]) for part in parts]
    types = part_types(suggestions, chosen_type, catalogue, min_confidence)
    pieces = []
    parted = zip(parts, suggestions, types, strict=True)
    for number, (part, suggestion, kind) in enumerate(parted, start=1):
        pages = [built.pages[i] for i in part.pages]
        output = workdir / ("document.pdf" if len(parts) == 1 else f"part-{number}.pdf")
        result = assemble(built, pages, output, f"{kind} {title}".strip(), kind)
        split = None
        if layout.split:
            split = Split(
                document_id=document_id,
                part=number,
                parts=len(parts),
                pages=tuple(i + 1 for i in part.pages),
                began_with=part.reason,
            )
        left_out = tuple(i + 1 for i in layout.dropped)
        result = replace(result, suggestion=suggestion, split=split, left_out=left_out)
        pieces.append(Piece(number, len(parts), result, kind))
    return pieces


def part_types(
    suggestions: Sequence[TypeSuggestion],
    chosen_type: str,
    catalogue: Sequence[str],
    min_confidence: float,
) -> list[str]:
    """The type of each part: ``chosen_type`` for the first part that looks like it (the first
    part if none does); the others their confident suggestion if ``catalogue`` has it, else
    ``sonstiges``."""
    if len(suggestions) == 1:
        return [chosen_type]
    chosen = next(
        (i for i, s in enumerate(suggestions) if s.type == chosen_type),
        0,
    )
    types = []
    for index, suggestion in enumerate(suggestions):
        if index == chosen:
            types.append(chosen_type)
        elif suggestion.confidence >= min_confidence and suggestion.type in catalogue:
            types.append(suggestion.type)
        else:
            types.append(UNKNOWN)
    return types
