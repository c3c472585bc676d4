"""Splitting one uploaded document into parts: separator sheets, blank pages, type changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from briefkasten.pipeline.split import PageSignals, Part, Plan, plan

TEXT = PageSignals()
BLANK = PageSignals(blank=True)
SEPARATOR = PageSignals(separator=True)


def typed(kind: str, confidence: float = 0.9) -> PageSignals:
    return PageSignals(suggested_type=kind, confidence=confidence)


def cut(*signals: PageSignals, by_type: bool = True) -> Plan:
    return plan(signals, by_type=by_type, min_confidence=0.6)


def test_one_document_stays_whole() -> None:
    assert cut(typed("kontoauszug"), TEXT, TEXT) == Plan((Part((0, 1, 2), "start"),))
    assert not cut(TEXT).split


def test_a_separator_sheet_ends_a_part_and_is_left_out() -> None:
    result = cut(TEXT, TEXT, SEPARATOR, TEXT)
    assert result.parts == (Part((0, 1), "start"), Part((3,), "separator_sheet"))
    assert result.dropped == (2,)
    assert result.split


def test_separators_at_the_ends_and_in_a_row_make_no_empty_parts() -> None:
    result = cut(SEPARATOR, TEXT, SEPARATOR, SEPARATOR, TEXT, SEPARATOR)
    assert result.parts == (Part((1,), "start"), Part((4,), "separator_sheet"))
    assert result.dropped == (0, 2, 3, 5)


def test_a_separator_with_a_blank_back_is_one_cut() -> None:
    result = cut(TEXT, SEPARATOR, BLANK, TEXT)
    assert result.parts == (Part((0,), "start"), Part((3,), "separator_sheet"))
    assert result.dropped == (1, 2)


def test_a_blank_page_between_documents_ends_a_part() -> None:
    result = cut(TEXT, TEXT, BLANK, TEXT)
    assert result.parts == (Part((0, 1), "start"), Part((3,), "blank_page"))
    assert result.dropped == (2,)


def test_blank_pages_at_the_start_or_end_stay_with_the_document() -> None:
    assert cut(BLANK, TEXT, TEXT, BLANK) == Plan((Part((0, 1, 2, 3), "start"),))


def test_the_empty_backs_of_a_duplex_scan_are_not_separators() -> None:
    result = cut(TEXT, BLANK, TEXT, BLANK, TEXT, BLANK)
    assert result == Plan((Part((0, 1, 2, 3, 4, 5), "start"),))


def test_blank_pages_at_mixed_places_do_separate() -> None:
    result = cut(TEXT, BLANK, TEXT, TEXT, BLANK, TEXT)
    assert [p.pages for p in result.parts] == [(0,), (2, 3), (5,)]


def test_a_confident_change_of_type_begins_a_part() -> None:
    result = cut(typed("kontoauszug"), TEXT, typed("mietvertrag"), TEXT, typed("mietvertrag"))
    assert result.parts == (Part((0, 1), "start"), Part((2, 3, 4), "type_change"))


def test_an_unsure_or_unknown_page_stays_with_its_part() -> None:
    signals = (typed("kontoauszug"), typed("mietvertrag", 0.4), typed("sonstiges", 0.99))
    assert not cut(*signals).split


def test_the_first_confident_page_names_a_part_that_began_unsure() -> None:
    result = cut(TEXT, typed("lohnabrechnung"), typed("kontoauszug"))
    assert result.parts == (Part((0, 1), "start"), Part((2,), "type_change"))


def test_type_changes_are_ignored_without_by_type() -> None:
    signals = (typed("kontoauszug"), typed("mietvertrag"), SEPARATOR, TEXT)
    assert [p.pages for p in cut(*signals, by_type=False).parts] == [(0, 1), (3,)]


def test_nothing_but_blank_pages_and_separators_stays_whole() -> None:
    assert cut(BLANK, SEPARATOR, BLANK) == Plan((Part((0, 1, 2), "start"),))
    assert cut() == Plan((Part((), "start"),))


def test_the_report_counts_pages_from_one() -> None:
    assert cut(TEXT, SEPARATOR, TEXT).to_report() == {
        "parts": [
            {"pages": [1], "began_with": "start"},
            {"pages": [3], "began_with": "separator_sheet"},
        ],
        "left_out": [2],
    }


signals = st.builds(
    PageSignals,
    blank=st.booleans(),
    separator=st.booleans(),
    suggested_type=st.sampled_from(["kontoauszug", "mietvertrag", "sonstiges"]),
    confidence=st.floats(0, 1),
)


@given(st.lists(signals, max_size=30), st.booleans())
def test_every_page_is_in_one_part_or_left_out_and_only_blanks_and_separators_are(
    pages: list[PageSignals], by_type: bool
) -> None:
    result = plan(pages, by_type=by_type, min_confidence=0.6)
    placed = [i for part in result.parts for i in part.pages]
    assert placed == sorted(placed)  # order kept, no page twice
    assert sorted(placed + list(result.dropped)) == list(range(len(pages)))
    assert all(pages[i].blank or pages[i].separator for i in result.dropped)
    assert all(part.pages for part in result.parts) or len(pages) == 0
    assert result.parts[0].reason == "start"
