"""The order of a right-to-left word's characters: reading (logical) order and the visual
(left-to-right) order in which its letters stand on the page.

One swap turns either order into the other: the characters reversed, runs of left-to-right
characters (digits, Latin letters) kept as they are, so that ``"2021."`` in an Arabic line
stands as ``".2021"`` and reads as ``"2021."``. Pure: the OCR engine (``tools/engine.py``,
which gets visual order from tesserocr) and the text layer (``pipeline/textlayer.py``, which
writes visual order into the PDF) both use it.
"""

from __future__ import annotations


def swap_order(text: str) -> str:
    """``text`` of one right-to-left word from visual into reading order, or back
    (``"ةداهش"`` ↔ ``"شهادة"``)."""
    runs: list[str] = []
    for ch in text:
        if runs and _is_ltr(ch) and _is_ltr(runs[-1][0]):
            runs[-1] += ch
        else:
            runs.append(ch)
    return "".join(reversed(runs))


def _is_ltr(ch: str) -> bool:
    """A character that runs left to right inside right-to-left text: a digit, a Latin
    letter."""
    return (ch.isascii() and ch.isalnum()) or ch.isdigit()
