"""The OCR step: one Tesseract run per page for the text, its lines and words, and confidence.

Tesseract runs in this process on warm models (``tools.tesseract``) and is handed the pixels
of a grey copy: any enhancement for OCR (a shadow flattened, ``flatten``; contrast for dark
photos), and the resampling to the size it reads best (``ocrscale``), is applied only to that
copy; the stored page keeps its colour and pixels.
A table Tesseract read column by column is joined back into rows (``tablerows``). The page is
read with ``ocr.lang`` first; a page that is not German is read again with German plus its
language (``languages.recognise``: lingua on the first pass, Tesseract's OSD for the script).
"""

from __future__ import annotations

import cv2
import numpy as np

from briefkasten.errors import ToolError
from briefkasten.model import OcrResult, Page
from briefkasten.pipeline import languages, ocrscale, quality, tablerows
from briefkasten.pipeline.runner import StepContext
from briefkasten.tools import langdetect, tesseract

#: Tesseract cannot read anything from images smaller than this (pixels, short side).
MIN_OCR_SIDE = 32
#: The x-height (px) the OCR copy is shrunk to, and the least it may be shrunk to for
#: ``MAX_OCR_PIXELS``: 300-dpi office text (x-height ~23 px) is read at about 0.7×, which
#: costs Tesseract ~15 % less CPU with the same text (measured on generated letters, bank
#: statements and payslips, see docs/operations.md).
TARGET_X_HEIGHT = 16.0
MIN_X_HEIGHT = 12.0
#: Pixels of the OCR copy beyond which it is shrunk even when its text is small.
MAX_OCR_PIXELS = 12_000_000
#: Long side (px) of the copy OSD names the script on (as the orientation step's OSD copy).
OSD_SIDE = 2000
#: Where the paper around a pixel is darker than this share of the page's median paper, it is
#: no paper (a scanner border, the table under a photographed page, a dark picture): the OCR
#: copy is not flattened there.
PAPER_FLOOR = 0.35
#: The share of the paper whose level is below the page's global (Otsu) threshold from which
#: the copy is flattened: below it, one threshold reads the page and the copy stays as it is
#: (Tesseract's layout analysis is sensitive to its input; a clean page is not touched).
SHADOW_SHARE = 0.01


def ocr(page: Page, ctx: StepContext) -> Page:
    """Run Tesseract on an enhanced grey copy; flag low confidence, never change the pixels.

    The copy is resampled to the size Tesseract reads best (``ocrscale``: x-height
    ``target_x_height`` px, at most ``max_pixels``); the lines come back in page pixels.
    """
    assert page.image is not None
    if min(page.image.shape[:2]) < MIN_OCR_SIDE:
        return page.flagged("low_resolution").evolve(detail="page too small to read, OCR skipped")
    copy = ocr_copy(page.image, page.dpi, dark="too_dark" in page.flags)
    scale = ocrscale.choose(
        copy.shape,
        ocrscale.x_height(copy),
        target=float(ctx.param("target_x_height", TARGET_X_HEIGHT)),
        floor=float(ctx.param("min_x_height", MIN_X_HEIGHT)),
        max_pixels=float(ctx.param("max_pixels", MAX_OCR_PIXELS)),
    )
    small = ocrscale.resample(copy, scale.factor)
    if min(small.shape[:2]) < MIN_OCR_SIDE:
        small, scale = copy, scale._replace(factor=1.0)
    dpi = page.dpi * scale.factor

    def read(lang: str) -> tesseract.TesseractOutput:
        return tesseract.ocr(
            small,
            lang=lang,
            dpi=dpi,
            timeout=ctx.options.ocr_timeout,
            psm=int(ctx.param("psm", 3)),
            detect_orientation=page.orientation_pending,
        )

    base = str(ctx.param("lang", ctx.options.lang))
    installed = tesseract.languages()  # checked at start-up; a missing model is not chosen
    allowed = frozenset(c for c in ctx.options.languages if c in installed) | set(
        languages.codes(base)
    )
    decided = languages.recognise(
        read,
        base=base,
        allowed=allowed,
        guess=langdetect.detector(allowed).guess,
        script=lambda: _script(small, dpi),
    )
    out = decided.reading
    lines = ocrscale.to_page(out.lines, scale.factor, copy.shape)
    rows = tablerows.merge_rows(lines)
    joined = rows != list(lines)  # a table read by columns: the text follows the rows too
    text, lines = (tablerows.text_of(rows), tuple(rows)) if joined else (out.text, lines)
    result = OcrResult(
        text, out.confidence, out.words, lines, language=decided.language, script=decided.script
    )
    flagged = page
    min_confidence = float(ctx.param("min_confidence", 60.0))
    if out.confidence is not None and out.confidence < min_confidence:
        flagged = page.flagged("low_ocr_confidence")
    conf = "n/a" if out.confidence is None else f"{out.confidence:.1f}"
    passes = len(decided.passes)
    detail = (
        f"{scale.describe()}: {out.words} words, mean confidence {conf}; "
        f"{decided.detail} ({passes} recognition pass{'es' if passes > 1 else ''})"
    )
    if joined:
        detail += "; a table read by columns joined into rows"
    if page.orientation_pending:
        flagged, how = _settle_orientation(flagged, out.text_angle)
        detail += f"; {how}"
    return flagged.evolve(detail=detail, ocr=result)


def _script(image: np.ndarray, dpi: float) -> tuple[str, float] | None:
    """The script Tesseract's OSD sees on a copy of ``image`` at most ``OSD_SIDE`` long, with
    its confidence; ``None`` when it sees too little text or fails."""
    factor = min(1.0, OSD_SIDE / max(image.shape[:2]))
    copy = ocrscale.resample(image, factor) if factor < 1.0 else image
    try:
        found = tesseract.osd(copy, dpi=dpi * factor)
    except ToolError:
        return None
    return None if found is None or not found.script else (found.script, found.script_confidence)


def _settle_orientation(page: Page, text_angle: int | None) -> tuple[Page, str]:
    """Apply the up/down verdict of the OCR run to a page whose axis was already right.

    An upside-down page is turned by the PDF page's ``/Rotate``: image and text layer turn
    together and no pixel is touched.
    """
    settled = page.evolve(orientation_pending=False)
    if text_angle == 0:
        return settled, "OCR read the page upright"
    if text_angle == 180:
        turned = settled.evolve(
            rotation=(page.rotation + 180) % 360, view_rotation=(page.view_rotation + 180) % 360
        )
        return turned, "OCR read the page upside down: turned 180° in the PDF"
    return settled.flagged("orientation_uncertain"), f"OCR text angle {text_angle}, left as is"


def ocr_copy(image: np.ndarray, dpi: float, *, dark: bool = False) -> np.ndarray:
    """The grey image Tesseract reads: flattened under a shadow (``flatten``); dark photos get
    their contrast stretched too."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    grey = flatten(grey, dpi)
    if dark:
        clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
        grey = clahe.apply(cv2.normalize(grey, np.empty_like(grey), 0, 255, cv2.NORM_MINMAX))
    return grey


def flatten(grey: np.ndarray, dpi: float) -> np.ndarray:
    """``grey`` divided by the paper level around each pixel (``quality.paper_level``), when a
    shadow needs it: Tesseract binarises the whole page with one threshold (Otsu), and where
    the paper is darker than that threshold — a phone held over the page — it turns black,
    text and all. Flattened only when more than ``SHADOW_SHARE`` of the paper lies below the
    threshold; where the "paper" is darker than ``PAPER_FLOOR`` of the page's median it is
    none, and only scaled by that median."""
    height, width = grey.shape[:2]
    if min(height, width) < 16:
        return grey
    small = cv2.resize(
        grey, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA
    )
    paper = quality.paper_level(
        small, quality.pixels_per_mm(dpi, grey.shape) / 4
    )  # uint8, as ``small``
    median = int(np.median(paper))
    is_paper = paper >= PAPER_FLOOR * median
    if median <= 0 or not is_paper.any():
        return grey
    threshold, _ = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if float((paper[is_paper] < threshold).mean()) <= SHADOW_SHARE:
        return grey
    paper[~is_paper] = median  # no level below PAPER_FLOOR × median remains: no zero divisor
    # The level in 8.8 fixed point: interpolated as smoothly as in float (uint8 levels step,
    # and Tesseract's layout analysis reads the steps), at half float's memory.
    level = cv2.resize(
        paper.astype(np.uint16) << 8, (width, height), interpolation=cv2.INTER_LINEAR
    )
    return cv2.divide(grey, level, scale=255.0 * 256, dtype=cv2.CV_8U)
