"""The receipt's text layer as other tools read it: Poppler's ``pdftotext`` and pdfminer.six.

The subsets carry ToUnicode maps, and a ligature glyph maps to its letters in logical order,
as the PDF reference has it. Poppler (22.12, Debian 12) puts right-to-left runs into logical
order but reverses the letters of a ligature with them: the Arabic lam-alef (``لا``) comes out
as ``ال``, a known extractor bug (pdfminer.six#850, PDFBOX-4531, fixed in PDFBox). The Arabic
test expects exactly that and every other letter in place; pypdf reads the title unchanged
(tests/unit/test_receipt_pdf.py). pdfminer.six does not reorder at all (visual order), so it is
asked only about left-to-right receipts.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from pdfminer.high_level import extract_text

from briefkasten import i18n
from briefkasten.gateway.receipt import receipt_pdf
from briefkasten.gateway.receipt_fonts import is_arabic
from tests.support.env import need
from tests.support.receipts import BIDI_FORMAT, CASE, submission

LAM_ALEF = re.compile("\u0644([\u0622\u0623\u0625\u0627])")


def pdftotext(pdf: Path) -> str:
    need(Path("/usr/bin/pdftotext").is_file(), "pdftotext (poppler-utils) is not installed")
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode("utf-8").translate(BIDI_FORMAT)


def as_poppler_reads(text: str) -> str:
    """``text`` with each lam-alef ligature's two letters swapped, as pdftotext gives them."""
    return LAM_ALEF.sub(lambda m: m[1] + "\u0644", text)


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_pdftotext_reads_an_arabic_script_receipt_in_logical_order(
    tmp_path: Path, lang: str
) -> None:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(receipt_pdf(submission("Довідка.pdf"), "Jobcenter Test", lang=lang))
    text = pdftotext(path)
    texts = i18n.section(lang, "receipt")
    for key in ("title", "jobcenter", "received", "file"):
        words = [w.strip(".,:;()،؛") for w in texts[key].split()]
        arabic = [w for w in words if w and all(is_arabic(c) or c == "\u200c" for c in w)]
        assert arabic or key != "title", "the title is in Arabic script"
        for word in arabic:  # a Latin word in an Arabic line: Poppler places it its own way
            assert as_poppler_reads(word) in text, (key, word)
    assert CASE in text
    assert "Довідка.pdf" in text and "Jobcenter Test" in text


@pytest.mark.parametrize("lang", ["uk", "ru", "bg", "de", "pl"])
def test_pdftotext_and_pdfminer_read_a_left_to_right_receipt(tmp_path: Path, lang: str) -> None:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(receipt_pdf(submission("عقد.pdf", "Довідка.pdf"), "Jobcenter", lang=lang))
    title = i18n.text(lang, "receipt.title")
    poppler = pdftotext(path)
    miner = extract_text(io.BytesIO(path.read_bytes())).translate(BIDI_FORMAT)
    for text in (poppler, miner):
        assert title in text
        assert i18n.text(lang, "receipt.intro").split()[0] in text
        assert "Довідка.pdf" in text and CASE in text
    assert "عقد" in poppler
