"""The committed sample set through the default pipeline: each page comes out as its truth says.

This is the README demo as a test: a skewed scan, a phone photo taken at an angle and a page on
its side all become upright, straight, readable pages of one PDF.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/e2e/test_demo_set.py``.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from rapidfuzz.distance import Levenshtein

from briefkasten import ingest
from briefkasten.config import Settings
from tests.conftest import ROOT

SET = ROOT / "samples" / "set"
TRUTH = json.loads((SET / "truth.json").read_text(encoding="utf-8"))["pages"]


def words(text: str) -> list[str]:
    return text.split()


def word_miss(truth: str, text: str) -> float:
    """Share of truth words the text lacks (order-free: columns may be read in any order)."""
    have = set(words(text))
    wanted = words(truth)
    return sum(w not in have for w in wanted) / max(len(wanted), 1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("demo") / "demo.pdf"
    settings = Settings()
    files = [SET / page["file"] for page in TRUTH]
    result = ingest(files, out, settings=settings)
    texts = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(out), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split("\f")
    return {"result": result, "texts": texts}


@pytest.mark.parametrize("index", range(len(TRUTH)), ids=[p["file"] for p in TRUTH])
def test_each_demo_page_matches_its_truth(demo: dict[str, object], index: int) -> None:
    truth = TRUTH[index]
    page = demo["result"].pages[index]  # type: ignore[attr-defined]
    expected = truth["expected"]
    assert page.rotation == expected["rotation"]
    if expected["skew_degrees"] is not None:  # a photo's residual skew is not known exactly
        assert abs(page.skew_degrees - expected["skew_degrees"]) <= 0.3
    assert page.perspective_corrected == expected["perspective_corrected"]
    text = demo["texts"][index]  # type: ignore[index]
    assert word_miss(truth["text"], text) < 0.08
    assert (
        Levenshtein.normalized_distance(" ".join(words(truth["text"])), " ".join(words(text)))
        < 0.15
    )
