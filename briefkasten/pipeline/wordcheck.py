"""Are these OCR'd words words? Character and word statistics for German (and English) text.

Tesseract reads an upside-down page, too: confidently enough (~30-40) to write a text layer of
mirror-gibberish ("uaßunpusmu", "J9SSOW"). ``readability`` tells that apart from text with no
dictionary file and in well under a millisecond a page: the share of tokens that look like words
or figures (letters only, a vowel, no long consonant run, a sane case pattern), the share of
very common German and English words among them, the share of vowels among the letters, and
Tesseract's mean confidence. ``orientation.verify`` uses it to try the other quarter turns.
"""

from __future__ import annotations

import re
from typing import NamedTuple

#: Very common German words (articles, pronouns, prepositions, letter phrases), a few English.
_COMMON = """
    der die das den dem des ein eine einen einem einer eines und oder aber auch als an am auf
    aus bei bis durch für gegen im in ist mit nach nicht noch nur ob seit so über um unter von
    vom vor während wie zu zum zur ich du er es sie wir ihr ihre ihren ihrem ihnen ihres sich
    sein seine seinen ihm ihn uns unser unsere unseren euch man wer was wenn dass daß weil kein
    keine hat haben habe hatte wird werden wurde wurden sind war waren sei bitte sehr geehrte
    geehrter frau herr herrn mit freundlichen grüßen datum seite nr betrag euro eur monat jahr
    straße str telefon fax konto bank name vorname anschrift summe gesamt januar februar märz
    april mai juni juli august september oktober november dezember antrag bescheid leistungen
    miete zahlung bis zum ab je pro per hiermit sowie bzw ggf vgl gemäß jobcenter
    the and of to in is for on with that by this be are from or as at it an not we you your
    our was will has have
"""
COMMON_WORDS = frozenset(_COMMON.split())
_VOWELS = frozenset("aeiouyäöüAEIOUYÄÖÜ")
_LETTER_TOKEN = re.compile(r"^[A-Za-zÄÖÜäöüß]+(?:-[A-Za-zÄÖÜäöüß]+)*$")
_FIGURE_TOKEN = re.compile(r"^[+\-\u2212]?[\d€$%§]+(?:[.,:/\-][\d€$%]+)*[€%]?$")
_CASE_OK = re.compile(r"^(?:[A-ZÄÖÜ]?[a-zäöüß]+|[A-ZÄÖÜ]+)$")
_EDGE_PUNCTUATION = "\"'\u201e\u201c\u201d\u201a\u2018\u2019\u00ab\u00bb()[]{}.,;:!?*"
_MAX_CONSONANT_RUN = 5


class Readability(NamedTuple):
    """How much ``text`` looks like text; ``score`` in 0–1 sums it up."""

    tokens: int
    plausible: float  # share of tokens that look like words or figures
    common: float  # share of tokens that are very common words
    vowels: float  # share of vowels among the letters of the word-like tokens
    confidence: float  # Tesseract's mean word confidence, 0–100 (0 when unknown)
    score: float

    def summary(self) -> str:
        return (
            f"score {self.score:.2f}: {self.plausible:.0%} of {self.tokens} words plausible, "
            f"{self.common:.0%} common, confidence {self.confidence:.0f}"
        )


def readability(text: str, confidence: float | None) -> Readability:
    """Statistics of the OCR'd ``text`` (and its mean ``confidence``) that rate it as text."""
    tokens = [t.strip(_EDGE_PUNCTUATION) for t in text.split()]
    tokens = [t for t in tokens if t]
    conf = float(confidence or 0.0)
    if not tokens:
        return Readability(0, 0.0, 0.0, 0.0, conf, 0.0)
    plausible = common = 0
    vowels = letters = 0
    for token in tokens:
        if _FIGURE_TOKEN.match(token):
            plausible += 1
            continue
        if not is_word_like(token):
            continue
        plausible += 1
        common += token.lower() in COMMON_WORDS
        vowels += sum(ch in _VOWELS for ch in token)
        letters += sum(ch.isalpha() for ch in token)
    share, common_share = plausible / len(tokens), common / len(tokens)
    vowel_share = vowels / letters if letters else 0.0
    # German running text: ~20 % very common words, ~38 % vowels. Tables: figures, few of both.
    vowel_fit = 1.0 - min(abs(vowel_share - 0.38) / 0.25, 1.0) if letters else 0.5
    score = 0.45 * share + 0.25 * min(common_share / 0.12, 1.0) + 0.1 * vowel_fit + 0.2 * conf / 100
    return Readability(len(tokens), share, common_share, vowel_share, conf, score)


def is_word_like(token: str) -> bool:
    """Letters only (hyphenated parts allowed), a vowel in every part, no consonant run longer
    than five, and lower case, Capitalised or ALL CAPS: what words look like."""
    if len(token) < 2 or not _LETTER_TOKEN.match(token):
        return len(token) == 1 and token in "aAIoO&"
    for part in token.split("-"):
        if not _CASE_OK.match(part) or not any(ch in _VOWELS for ch in part):
            return False
        run = 0
        for ch in part:
            run = 0 if ch in _VOWELS else run + 1
            if run > _MAX_CONSONANT_RUN:
                return False
    return True
