"""The document type a text looks like: rules and a small scoring model, explainable.

``suggest(text)`` scores one page's OCR text, ``suggest_pages(texts)`` a whole document, and
both answer a ``model.TypeSuggestion``: the type (a code of ``catalogue``), a confidence in
[0, 1] and the names of the cues that decided (``kontoauszug``, ``buchungstag``, ``mrz``), never
the text itself.

How it decides:

- The text is **folded** (``fold``): lower case, umlauts and ``ae``/``oe``/``ue`` folded, the
  OCR's look-alikes (``1``/``i``/``l``/``|``, ``0``/``o``, ``rn``/``m``) made one letter, and
  everything but letters dropped. A cue's patterns are folded the same way and found as
  substrings, so lost umlauts, upper case, hyphenation, split words and line breaks do not
  matter.
- Each type has **cues** (``doctype_cues.CUES``) with weights; a title cue (the document's own
  name) counts fully only on a title line in the page's head: one of its first lines, not
  long prose, with the title near its start and before any word in lower case
  ("Kontoauszug Nr. 4", "Sparkasse Kontoauszug", not "ein: die Kontoauszüge aller Konten").
  Two cues are read from the raw text: an MRZ (``pipeline.mrz``, its check digits checked)
  for ``ausweis`` and a German IBAN with a right checksum for ``kontoauszug``.
- A type's **score** is the sum of its cues' weights (each cue once; over a document's pages,
  each cue at its best page). Below ``MIN_SCORE`` nothing decided: ``sonstiges``.
- The **confidence** grows with the score (``1 - exp(-score / SCALE)``) and shrinks with the
  runner-up's share of it: two types that tie get at most ``TIE_FLOOR`` of it; one or two
  cues alone get less (``CUE_BASE``, ``CUE_STEP``), unless one of them is ``DECISIVE`` (an
  MRZ whose check digits hold). ``sonstiges`` is confident only when the text is long,
  readable (``wordcheck``: enough very common words; garbled OCR is not a sure "nothing") and
  gave (almost) no cues.

Bounded: at most ``MAX_CHARS`` of a page and ``MAX_PAGES`` pages are read; binary garbage is
just text without cues.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from briefkasten.model import TypeSuggestion
from briefkasten.pipeline import mrz
from briefkasten.pipeline.doctype_cues import (
    CUES,
    IBAN_WEIGHT,
    MRZ_CHECKED_WEIGHT,
    MRZ_SHAPE_WEIGHT,
    OTHER,
    TYPES,
    Cue,
)
from briefkasten.pipeline.wordcheck import readability

#: A page is read up to this many characters (a dense A4 page holds about 5 000).
MAX_CHARS = 60_000
#: A document's first pages that are read.
MAX_PAGES = 40
#: The head of a page, where a title counts fully: its first ``HEAD_SHARE`` of folded letters,
#: at least ``HEAD_MIN`` and at most ``HEAD_LETTERS`` of them.
HEAD_LETTERS = 900
HEAD_MIN = 160
HEAD_SHARE = 0.4
#: A title line: at most this many folded letters, the title within its first ``TITLE_START``.
TITLE_LINE = 72
TITLE_START = 20
#: A title further down counts this share of its weight.
BODY_SHARE = 1 / 3
#: The least score that names a type; below it the text is ``sonstiges``.
MIN_SCORE = 3.0
#: Score at which the confidence reaches 1 - 1/e.
SCALE = 4.0
#: What a tie leaves of the confidence.
TIE_FLOOR = 0.25
#: The cues listed per suggestion, strongest first.
MAX_CUES = 8
#: Few cues, less sure: the confidence is multiplied by ``CUE_BASE + CUE_STEP × cues`` (at
#: most 1: three cues and more count fully).
CUE_BASE = 0.55
CUE_STEP = 0.15
#: Cues that are enough on their own (an MRZ whose check digits hold).
DECISIVE = frozenset({"mrz_check_digits"})
#: ``sonstiges`` is at most this sure, and only of readable text: a share of very common
#: words (der, und, Sie, …) of ``READABLE_COMMON`` or more; garbled OCR is not a sure "nothing".
OTHER_MAX = 0.8
READABLE_COMMON = 0.12
#: A text of fewer words is too short to be sure of anything (``sonstiges`` then is a guess).
FEW_WORDS = 40

_LOOKALIKES = str.maketrans({"1": "l", "i": "l", "|": "l", "!": "l", "0": "o", "ß": "ss"})
_NOT_LETTER = re.compile(r"[^a-z]+")
_IBAN = re.compile(r"\bD\s?E\s?(\d\s?\d)((?:\s?[0-9O]){18})\b")
#: A word as a text has them (binary garbage has few): letters, lower case after the first.
_WORD = re.compile(r"(?<!\S)[(„\"]?[^\W\d_][^\W\d_A-Z]{2,}[.,:;!?)“\"]?(?!\S)")


def fold(text: str) -> str:
    """``text`` as the cues are matched against it (see the module)."""
    lowered = unicodedata.normalize("NFKD", text.lower())
    letters = "".join(ch for ch in lowered if not unicodedata.combining(ch))
    letters = letters.translate(_LOOKALIKES)
    letters = _NOT_LETTER.sub("", letters)
    for pair, one in (("rn", "m"), ("ae", "a"), ("oe", "o"), ("ue", "u")):
        letters = letters.replace(pair, one)
    return letters


@dataclass(frozen=True)
class _Folded:
    cue: Cue
    patterns: tuple[str, ...]


_TABLE: dict[str, tuple[_Folded, ...]] = {
    kind: tuple(_Folded(c, tuple(fold(p) for p in c.patterns)) for c in cues)
    for kind, cues in CUES.items()
}


@dataclass(frozen=True)
class PageCues:
    """The cues found on one page: ``{type: {cue name: weight}}``, its number of words, and
    its tokens and how many of them are very common words (``wordcheck``: readable text)."""

    found: dict[str, dict[str, float]]
    words: int
    tokens: int = 0
    common: int = 0


def _iban_ok(check: str, rest: str) -> bool:
    digits = (rest + "1314" + check).replace(" ", "").replace("O", "0")
    return len(digits) == 22 and int(digits) % 97 == 1


def title_lines(text: str, head: int) -> list[tuple[str, int]]:
    """The lines of the first ``head`` folded letters of ``text`` that may hold a title (not
    longer than ``TITLE_LINE``): each folded, with where a title may start in it (before its
    first word in lower case, and within ``TITLE_START``)."""
    lines: list[tuple[str, int]] = []
    seen = 0
    for raw in text.splitlines():
        words = raw[: 4 * TITLE_LINE].split()
        line = fold(" ".join(words))
        if line and len(line) <= TITLE_LINE:
            lower = next((i for i, w in enumerate(words) if w[:1].islower()), len(words))
            lines.append((line, min(TITLE_START, len(fold(" ".join(words[:lower]))))))
        seen += len(line)
        if seen >= head:
            break
    return lines


def _on_title_line(patterns: tuple[str, ...], lines: list[tuple[str, int]]) -> bool:
    return any(0 <= line.find(p) <= start for p in patterns for line, start in lines)


def page_cues(text: str) -> PageCues:
    """The cues of one page's text (the first ``MAX_CHARS`` characters of it)."""
    text = text[:MAX_CHARS]
    folded = fold(text)
    head = max(HEAD_MIN, min(HEAD_LETTERS, round(len(folded) * HEAD_SHARE)))
    titles = title_lines(text, head)
    found: dict[str, dict[str, float]] = {}
    for kind, cues in _TABLE.items():
        got: dict[str, float] = {}
        for entry in cues:
            weight = entry.cue.weight
            if entry.cue.title and not _on_title_line(entry.patterns, titles):
                weight *= BODY_SHARE
            if any(p in folded for p in entry.patterns):
                got[entry.cue.name] = weight
        found[kind] = got
    zone = mrz.find(text)
    if zone is not None:
        found["ausweis"]["mrz"] = MRZ_SHAPE_WEIGHT
        if zone.verified:
            found["ausweis"]["mrz_check_digits"] = MRZ_CHECKED_WEIGHT
    if any(_iban_ok(m.group(1), m.group(2)) for m in _IBAN.finditer(text.upper())):
        found["kontoauszug"]["iban"] = IBAN_WEIGHT
    readable = readability(text, None)
    common = round(readable.common * readable.tokens)
    return PageCues(found, len(_WORD.findall(text)), readable.tokens, common)


def decide(pages: Sequence[PageCues]) -> TypeSuggestion:
    """The suggestion from the cues of a document's pages (each cue at its best page)."""
    best: dict[str, dict[str, float]] = {kind: {} for kind in TYPES}
    for page in pages:
        for kind, got in page.found.items():
            for name, weight in got.items():
                best[kind][name] = max(weight, best[kind].get(name, 0.0))
    scores = {kind: sum(best[kind].values()) for kind in TYPES}
    ranked = sorted(TYPES, key=lambda kind: -scores[kind])  # stable: ties in TYPES order
    first, second = ranked[0], ranked[1]
    top, runner = scores[first], scores[second]
    words = sum(p.words for p in pages)
    if top < MIN_SCORE:
        length = min(1.0, words / (2 * FEW_WORDS))
        tokens = sum(p.tokens for p in pages)
        common = sum(p.common for p in pages) / tokens if tokens else 0.0
        readable = min(1.0, common / READABLE_COMMON)
        sure = length * readable * (1 - top / MIN_SCORE) * OTHER_MAX
        return TypeSuggestion(OTHER, round(sure, 3), ())
    strength = 1 - math.exp(-top / SCALE)
    lead = (top - runner) / top
    confidence = strength * (TIE_FLOOR + (1 - TIE_FLOOR) * lead)
    if not DECISIVE & best[first].keys():
        confidence *= min(1.0, CUE_BASE + CUE_STEP * len(best[first]))
    cues = sorted(best[first], key=lambda name: (-best[first][name], name))[:MAX_CUES]
    return TypeSuggestion(first, round(min(1.0, confidence), 3), tuple(cues))


def suggest(text: str) -> TypeSuggestion:
    """The type one page's OCR text looks like."""
    return decide([page_cues(text)])


def suggest_pages(texts: Sequence[str]) -> TypeSuggestion:
    """The type a document looks like, from its pages' OCR texts in order."""
    return decide([page_cues(t) for t in list(texts)[:MAX_PAGES]])
