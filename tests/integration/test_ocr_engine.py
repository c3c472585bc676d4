"""The warm OCR engine (``tools/tesseract.py``, ``tools/engine.py``) with the real Tesseract:
what it reads, how its failures come out, and that page children inherit its models."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from briefkasten.errors import TooComplex, ToolError
from briefkasten.model import Original, Page, PageRef
from briefkasten.pipeline.ocr import ocr as ocr_step
from briefkasten.pipeline.orientation import osd_copy, turn_clockwise
from briefkasten.pipeline.runner import Options, StepContext
from briefkasten.pipeline.sandbox import Bounds, Sandbox
from briefkasten.tools import tesseract
from samples import generate
from tests.support import sandbox_targets as targets
from tests.support.env import need
from tests.support.textpages import two_column_page


@pytest.fixture(autouse=True)
def engine_installed() -> None:
    need(tesseract.available(), "tesseract language data not installed")


def grey(kind: str = "brief", seed: int = 3, dpi: int = 300) -> np.ndarray:
    image, _ = generate.render_page(kind, seed=seed, dpi=dpi)
    return np.asarray(image.convert("L"))


def test_versions_of_the_engine_and_of_the_program() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", tesseract.engine_version())
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", tesseract.version())
    assert {"deu", "osd"} <= tesseract.languages()
    assert (tesseract.tessdata() / "deu.traineddata").is_file()


def test_lines_words_blocks_and_boxes_of_a_two_column_page() -> None:
    page = two_column_page()
    gray = page.image if page.image.ndim == 2 else page.image[..., 0]
    out = tesseract.ocr(gray, lang="deu", dpi=page.dpi, timeout=120)
    lines = out.lines
    assert " ".join(w.text for w in lines[0].words).startswith("The (quick)")
    assert out.words == sum(len(line.words) for line in lines)
    assert out.confidence is not None and out.confidence > 80
    assert out.text.split() == [w.text for line in lines for w in line.words]
    left = [line for line in lines if line.box[2] < gray.shape[1] / 2]
    right = [line for line in lines if line.box[0] > 0.45 * gray.shape[1]]
    assert len(left) + len(right) == len(lines)  # no line spans both columns
    assert max(line.block for line in left) < min(line.block for line in right)  # column order
    for line in lines:
        assert line.angle == 0 and line.size > 0
        left_x, top, right_x, bottom = line.box
        baseline_y = bottom + line.baseline[1]
        assert top < baseline_y <= bottom  # the baseline runs inside the line's box
        for word in line.words:
            assert left_x <= word.box[0] < word.box[2] <= right_x
            assert top <= word.box[1] < word.box[3] <= bottom
            assert 0 <= word.confidence <= 100


def test_an_upside_down_page_is_read_and_its_angle_reported() -> None:
    upright = grey("mietvertrag", 5)
    turned = turn_clockwise(upright, 180)
    out = tesseract.ocr(turned, lang="deu", dpi=300, timeout=120, detect_orientation=True)
    assert out.text_angle == 180
    assert all(line.angle == 180 for line in out.lines)
    assert "Mietvertrag" in out.text


@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_osd_says_how_to_turn_the_page_upright(turn: int) -> None:
    copy = osd_copy(turn_clockwise(grey("brief", 3), turn), 2000)
    verdict = tesseract.osd(copy, dpi=170)
    assert verdict is not None
    assert verdict.rotate == (360 - turn) % 360
    assert verdict.confidence > 5


def test_osd_of_a_blank_page_has_no_verdict() -> None:
    assert tesseract.osd(np.full((600, 400), 255, np.uint8), dpi=100) is None


def test_a_language_that_is_not_installed_is_a_tool_error() -> None:
    with pytest.raises(ToolError, match="language data missing: xyz"):
        tesseract.ocr(grey(), lang="deu+xyz", dpi=300, timeout=60)


def test_a_page_segmentation_mode_that_does_not_exist_is_a_tool_error() -> None:
    with pytest.raises(ToolError, match="page segmentation mode 99"):
        tesseract.ocr(grey(), lang="deu", dpi=300, timeout=60, psm=99)


def test_a_run_past_its_timeout_is_a_tool_error() -> None:
    with pytest.raises(ToolError, match=r"timed out after 0\.2s"):
        tesseract.ocr(grey("kontoauszug", 11), lang="deu", dpi=300, timeout=0.2)
    assert tesseract.ocr(grey(), lang="deu", dpi=300, timeout=120).words > 50  # usable after


def test_page_children_inherit_the_models_from_the_fork_server() -> None:
    sandbox = Sandbox(1, Bounds(memory_mb=2048, cpu_s=30, wall_s=60))
    assert {"deu", "osd"} <= sandbox.run(targets.loaded_languages)


def test_ocr_past_the_childs_cpu_limit_is_too_complex() -> None:
    """In-process OCR counts against the page child's RLIMIT_CPU: the kernel stops it."""
    sandbox = Sandbox(1, Bounds(memory_mb=2048, cpu_s=1, wall_s=120))
    with pytest.raises(TooComplex, match="CPU time"):
        sandbox.run(targets.read_page, grey("kontoauszug", 11))


def test_the_ocr_step_maps_words_of_the_resampled_copy_to_page_pixels(tmp_path: Path) -> None:
    image = grey("brief", 11)
    original = Original("p.png", Path("p.png"), "0" * 64, 1, "image/png", 1)
    page = Page(ref=PageRef(original, 0, "raster"), image=image, dpi=300)

    def read(target: float) -> Page:
        params = {"target_x_height": target}
        return ocr_step(page, StepContext(workdir=tmp_path, options=Options(), params=params))

    full, small = read(0), read(16)
    assert full.detail.startswith("read at full size")
    assert re.match(r"read at 0\.[67]\d× \(x-height 2\d px\)", small.detail)
    assert full.ocr is not None and small.ocr is not None

    def unique(read: Page) -> dict[str, tuple[int, int, int, int]]:
        assert read.ocr is not None
        words = [w for line in read.ocr.lines for w in line.words if len(w.text) > 3]
        seen = Counter(w.text for w in words)
        return {w.text: w.box for w in words if seen[w.text] == 1}

    boxes, matched = unique(full), 0
    for text, box in unique(small).items():
        if text in boxes:
            matched += 1
            assert np.allclose(box, boxes[text], atol=4), text
    assert matched > 100


def test_text_under_a_shadow_across_the_page_is_read(tmp_path: Path) -> None:
    """A phone held over a bank statement shades its top: one global threshold (Tesseract's
    Otsu) turned that part black, header and first bookings lost (seen in ``make eval``); the
    OCR copy is flattened first (``ocr.flatten``)."""
    image, truth = generate.render_page("kontoauszug", seed=5, dpi=300)
    page_grey = np.asarray(image.convert("L"), dtype=np.float32)
    y = np.arange(page_grey.shape[0], dtype=np.float32)[:, None]
    shade = 0.5 + 0.5 / (1 + np.exp(-(y - 0.4 * page_grey.shape[0]) / 60.0))
    shaded = (page_grey * shade).astype(np.uint8)
    original = Original("p.png", Path("p.png"), "0" * 64, 1, "image/png", 1)
    page = Page(ref=PageRef(original, 0, "raster"), image=shaded, dpi=300)
    read = ocr_step(page, StepContext(workdir=tmp_path, options=Options(), params={}))
    assert read.ocr is not None
    first_lines = [line for line in truth.splitlines() if line.strip()][:6]
    found = [line for line in first_lines if line.split()[0] in read.ocr.text]
    assert found == first_lines
