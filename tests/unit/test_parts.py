"""From built pages to the documents they hold: the plan under each mode, each part's type,
the outcome record and the status of a split document (pure parts, no OCR)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from briefkasten.errors import MalformedId
from briefkasten.message import DocumentOutcome, parts_from_json, parts_to_json, status_entry
from briefkasten.model import DocumentRequest, PageResult, ReceivedFile, Split, TypeSuggestion
from briefkasten.pipeline.parts import page_signals, part_types, plan_for
from briefkasten.storage import layout
from briefkasten.storage.base import StoredObject

SEPARATOR = "briefkasten:separator:v1:default:0123456789abcdef"
TYPES = ("kontoauszug", "mietvertrag", "lohnabrechnung", "sonstiges")


def page(text: str = "", *, flags: tuple[str, ...] = (), codes: tuple[str, ...] = ()) -> PageResult:
    return PageResult(
        source="scan.pdf",
        index=0,
        kind="image",
        pdf=Path("/nonexistent.pdf"),
        text=text,
        rotation=0,
        skew_degrees=0.0,
        perspective_corrected=False,
        dpi=300.0,
        ocr_confidence=90.0,
        flags=flags,
        history=(),
        codes=codes,
    )


def fake_suggest(texts: Sequence[str]) -> TypeSuggestion:
    """The type is the first word of the texts, sure when it is a known type."""
    words = " ".join(texts).split()
    if words and words[0] in TYPES and words[0] != "sonstiges":
        return TypeSuggestion(words[0], 0.95, (f"{words[0]}_cue",))
    return TypeSuggestion("sonstiges", 0.1)


def separator(p: PageResult) -> bool:
    return SEPARATOR in p.codes


STACK = [
    page("kontoauszug Seite 1"),
    page("weiter mit Buchungen"),
    page("", codes=(SEPARATOR,)),
    page("mietvertrag zwischen"),
    page("", flags=("blank",)),
    page("lohnabrechnung Mai"),
]


def test_auto_cuts_at_the_separator_the_blank_page_and_a_type_change() -> None:
    layout_ = plan_for(
        [*STACK[:2], page("mietvertrag"), *STACK[2:]],
        mode="auto",
        suggest=fake_suggest,
        is_separator=separator,
        min_confidence=0.8,
    )
    assert [p.pages for p in layout_.parts] == [(0, 1), (2,), (4,), (6,)]
    assert [p.reason for p in layout_.parts] == [
        "start",
        "type_change",
        "separator_sheet",
        "blank_page",
    ]
    assert layout_.dropped == (3, 5)


def test_separators_mode_ignores_type_changes() -> None:
    pages = [page("kontoauszug"), page("mietvertrag"), *STACK[2:]]
    layout_ = plan_for(
        pages, mode="separators", suggest=fake_suggest, is_separator=separator, min_confidence=0.8
    )
    assert [p.pages for p in layout_.parts] == [(0, 1), (3,), (5,)]


def test_off_keeps_every_page_in_one_part() -> None:
    layout_ = plan_for(
        STACK, mode="off", suggest=fake_suggest, is_separator=separator, min_confidence=0.8
    )
    assert [p.pages for p in layout_.parts] == [tuple(range(len(STACK)))]
    assert layout_.dropped == ()


def test_a_type_change_below_the_confidence_threshold_does_not_cut() -> None:
    pages = [page("kontoauszug"), page("mietvertrag")]
    layout_ = plan_for(
        pages, mode="auto", suggest=fake_suggest, is_separator=separator, min_confidence=0.99
    )
    assert len(layout_.parts) == 1


def test_a_page_flagged_blank_with_some_text_is_not_a_blank_page() -> None:
    # a signature page: little ink (the quality flag says blank), but OCR read something
    pages = [page("mietvertrag Seite 1"), page("Unterschrift", flags=("blank",)), page("x")]
    layout_ = plan_for(
        pages, mode="auto", suggest=fake_suggest, is_separator=separator, min_confidence=0.8
    )
    assert [p.pages for p in layout_.parts] == [(0, 1, 2)] and layout_.dropped == ()


def test_signals_do_not_ask_for_a_type_of_an_empty_page() -> None:
    asked: list[Sequence[str]] = []

    def suggest(texts: Sequence[str]) -> TypeSuggestion:
        asked.append(texts)
        return fake_suggest(texts)

    signals = page_signals([page("  \n"), page("kontoauszug")], suggest, separator)
    assert asked == [["kontoauszug"]]
    assert signals[0].suggested_type == "sonstiges" and signals[0].confidence == 0.0
    assert signals[1].suggested_type == "kontoauszug"


@pytest.mark.parametrize(
    ("suggested", "chosen", "expected"),
    [
        # the applicant's type goes to the part that looks like it, not to the first
        (["mietvertrag", "kontoauszug"], "kontoauszug", ["mietvertrag", "kontoauszug"]),
        # none looks like it: the first part keeps it
        (["mietvertrag", "lohnabrechnung"], "kontoauszug", ["kontoauszug", "lohnabrechnung"]),
        # a type the tenant's catalogue lacks becomes sonstiges
        (["kontoauszug", "heizkosten"], "kontoauszug", ["kontoauszug", "sonstiges"]),
        # one part: always the applicant's type, whatever the text says
        (["mietvertrag"], "kontoauszug", ["kontoauszug"]),
    ],
)
def test_part_types(suggested: list[str], chosen: str, expected: list[str]) -> None:
    suggestions = [TypeSuggestion(t, 0.9) for t in suggested]
    assert part_types(suggestions, chosen, TYPES, 0.8) == expected


def test_an_unsure_suggestion_of_another_part_becomes_sonstiges() -> None:
    suggestions = [TypeSuggestion("kontoauszug", 0.9), TypeSuggestion("mietvertrag", 0.5)]
    assert part_types(suggestions, "kontoauszug", TYPES, 0.8) == ["kontoauszug", "sonstiges"]


FILE = ReceivedFile("f" * 32, "scan.pdf", "k", "a" * 64, 10, "application/pdf", 6)
UPLOADED = DocumentRequest("d" * 32, "kontoauszug", (FILE,))


def outcome(document_id: str, kind: str, pages: int, part: int | None) -> DocumentOutcome:
    pdf = StoredObject("bucket", f"{document_id}.pdf", "b" * 64, 100, "application/pdf")
    return DocumentOutcome(
        document=DocumentRequest(document_id, kind, (FILE,)),
        pdf=pdf,
        text=None,
        pages=pages,
        quality_flags=[[] for _ in range(pages)],
        ocr_confidence=90.0,
        pipeline=("default", "1"),
        failure_reason=None,
        processed_at="2026-12-03T12:00:00+00:00",
        suggested_type=kind,
        suggested_type_confidence=0.9,
        split_from=None if part is None else Split(UPLOADED.document_id, part, 2, (part,)),
    )


def test_the_outcome_record_of_a_split_document_reads_back_with_each_part() -> None:
    parts = [
        outcome(f"{UPLOADED.document_id}-1", "kontoauszug", 2, 1),
        outcome(f"{UPLOADED.document_id}-2", "mietvertrag", 1, 2),
    ]
    restored = parts_from_json(parts_to_json(parts), UPLOADED)
    assert [o.document.document_id for o in restored] == [o.document.document_id for o in parts]
    assert [o.document.document_type for o in restored] == ["kontoauszug", "mietvertrag"]
    assert restored[1].split_from == Split(UPLOADED.document_id, 2, 2, (2,))


def test_an_outcome_recorded_before_splitting_is_the_uploaded_document_itself() -> None:
    older = outcome(UPLOADED.document_id, "kontoauszug", 2, None).to_json()
    (restored,) = parts_from_json(older, UPLOADED)
    assert restored.document == UPLOADED
    assert restored.split_from is None


def test_the_status_of_a_split_document_lists_its_parts() -> None:
    parts = [
        outcome(f"{UPLOADED.document_id}-1", "kontoauszug", 2, 1),
        outcome(f"{UPLOADED.document_id}-2", "mietvertrag", 1, 2),
    ]
    entry = status_entry(parts)
    assert entry["status"] == "delivered" and entry["pages"] == 3
    assert [(p["document_id"], p["document_type"]) for p in entry["parts"]] == [
        (f"{UPLOADED.document_id}-1", "kontoauszug"),
        (f"{UPLOADED.document_id}-2", "mietvertrag"),
    ]
    assert status_entry(parts[:1]) == {"status": "delivered", "pages": 2}


@pytest.mark.parametrize("suffix", ["-1", "-12", "-9999"])
def test_a_part_id_is_a_valid_document_key(suffix: str) -> None:
    key = layout.document_key("default", "12345BG0012345", "c" * 32, "d" * 32 + suffix, "pdf")
    assert key.endswith(f"/documents/{'d' * 32}{suffix}.pdf")


@pytest.mark.parametrize("bad", ["-0", "-01", "-", "-1-2", "/../x", "-12345"])
def test_a_malformed_part_id_is_refused(bad: str) -> None:
    with pytest.raises(MalformedId, match="invalid document id"):
        layout.document_key("default", "12345BG0012345", "c" * 32, "d" * 32 + bad, "pdf")
