"""Pages in other languages and scripts are read with German plus their language, with the
real Tesseract and lingua: rendered pages of ``samples.langpages``, the OCR step run in this
process. A German page is read once; the allowlist bounds the choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from briefkasten import ingest
from briefkasten.config import Settings
from briefkasten.config.ocr import OCR_LANGUAGES
from briefkasten.model import Original, Page, PageRef
from briefkasten.pipeline.ocr import ocr as ocr_step
from briefkasten.pipeline.runner import Options, StepContext
from briefkasten.tools import tesseract
from samples.evaluate import char_errors
from samples.langpages import render
from tests.support import factories
from tests.support.env import need

#: (language, document, script, CER bound): the bound is about twice the CER measured on
#: that page (0.000-0.013, see docs/operations.md), at least 0.02.
CASES = [
    ("ukr", 0, "Cyrillic", 0.02),
    ("rus", 1, "Cyrillic", 0.02),
    ("bul", 2, "Cyrillic", 0.02),
    ("ara", 1, "Arabic", 0.03),
    ("fas", 2, "Arabic", 0.06),
    ("pol", 0, "Latin", 0.03),
    ("tur", 1, "Latin", 0.02),
    ("ron", 1, "Latin", 0.03),
]


@pytest.fixture(autouse=True)
def engine_installed() -> None:
    need(tesseract.available(), "tesseract language data not installed")
    missing = set(OCR_LANGUAGES) - tesseract.languages()
    need(not missing, f"tesseract language data missing: {sorted(missing)}")


def read(lang: str, index: int, tmp_path: Path, allowed: tuple[str, ...] = OCR_LANGUAGES):
    image, truth = render(lang, index, dpi=300)
    original = Original("p.png", Path("p.png"), "0" * 64, 1, "image/png", 1)
    page = Page(ref=PageRef(original, 0, "raster"), image=np.asarray(image), dpi=300)
    ctx = StepContext(workdir=tmp_path, options=Options(languages=allowed))
    return ocr_step(page, ctx), truth


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The models of every recognition pass, in order."""
    seen: list[str] = []
    real = tesseract.ocr

    def counting(image: np.ndarray, **kwargs: object) -> tesseract.TesseractOutput:
        seen.append(str(kwargs["lang"]))
        return real(image, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tesseract, "ocr", counting)
    return seen


@pytest.mark.parametrize(("lang", "index", "script", "bound"), CASES)
def test_a_page_is_read_with_german_and_its_language(
    lang: str, index: int, script: str, bound: float, tmp_path: Path, passes: list[str]
) -> None:
    page, truth = read(lang, index, tmp_path)
    assert page.ocr is not None
    assert (page.ocr.language, page.ocr.script) == (lang, script)
    assert passes[-1] == f"deu+{lang}"
    errors, length = char_errors(page.ocr.text, truth)
    assert errors / length <= bound, page.ocr.text
    assert f"language {lang} (lingua" in page.detail and f"read with deu+{lang}" in page.detail


def test_a_german_page_is_read_once(tmp_path: Path, passes: list[str]) -> None:
    page, truth = read("deu", 2, tmp_path)
    assert passes == ["deu"]
    assert page.ocr is not None and page.ocr.language == "deu"
    assert char_errors(page.ocr.text, truth)[0] == 0
    assert "(1 recognition pass)" in page.detail


def test_the_allowlist_bounds_the_choice(tmp_path: Path, passes: list[str]) -> None:
    page, _ = read("ukr", 2, tmp_path, allowed=("deu", "rus"))
    assert page.ocr is not None and page.ocr.language == "rus"  # the only Cyrillic allowed
    assert "ukr" not in "".join(passes)
    passes.clear()
    page, _ = read("ukr", 2, tmp_path, allowed=("deu",))
    assert passes == ["deu"] and page.ocr is not None and page.ocr.language == "deu"


def test_a_born_digital_page_is_named_by_its_own_text(tmp_path: Path, settings: Settings) -> None:
    from samples.langtexts import DOCUMENTS

    german = factories.born_digital_pdf(tmp_path / "de.pdf")
    lines = tuple(line[:60] for line in DOCUMENTS["ukr"][2].split("\n"))
    ukrainian = factories.born_digital_pdf(tmp_path / "uk.pdf", lines)
    result = ingest([ukrainian, german], tmp_path / "out.pdf", settings=settings)
    assert [p.kind for p in result.pages] == ["vector", "vector"]
    assert [p.language for p in result.pages] == ["ukr", "deu"]
    assert result.languages == ("deu", "ukr")  # German first
