"""Page orientation: turn every page upright (0, 90, 180 or 270 degrees), losslessly.

Three judges, cheapest first. A line check written here (no library offers one; Leptonica's
``pixOrientDetect`` is the model, but has no maintained Python binding) reads text-line
statistics in ~50 ms and settles ordinary text pages. When it sees the lines' axis clearly but
cannot tell up from down (tables of figures have no ascenders), the page is marked
``orientation_pending`` and the OCR step's own run detects it (``--psm 1``, ~0.2 s extra).
Everything else goes to Tesseract's orientation detection (OSD) on the warm ``osd`` engine,
handed a grey copy ~2000 px long: ~0.3 s a page (0.9 s as a ``tesseract`` program run, measured
side by side on a letter), still too much to run on every page within our budget of 0.9× a
plain OCR run. The page is turned with ``np.rot90``,
which moves pixels without resampling. When no judge is sure, the page is left as it is and
flagged ``orientation_uncertain``.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from briefkasten.errors import ToolError
from briefkasten.model import Page
from briefkasten.pipeline import geometry, languages, ocr
from briefkasten.pipeline.runner import StepContext
from briefkasten.pipeline.wordcheck import readability
from briefkasten.tools import tesseract

_OSD_SIDE = 2000  # long side (px) of the copy OSD reads
_MIN_CONFIDENCE = 5.0  # Tesseract's orientation confidence below which we do not turn
_MIN_LINE_RATIO = 1.8  # the line check's above/below ink ratio needed to skip OSD
_MIN_AGREEMENT = 0.75  # share of text lines that must agree with the line check
_CHECK_SIDE = 1600  # long side (px) of the copy the cheap line check reads
_MIN_LINES = 8


def osd_copy(image: np.ndarray, long_side: int) -> np.ndarray:
    """A grey copy of ``image`` whose long side is at most ``long_side`` pixels."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    scale = long_side / max(gray.shape[:2])
    if scale >= 1.0:
        return gray
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def turn_clockwise(image: np.ndarray, degrees: int) -> np.ndarray:
    """``image`` turned clockwise by a multiple of 90 degrees (lossless)."""
    quarter_turns = (degrees // 90) % 4
    if quarter_turns == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, k=-quarter_turns))


class LineVerdict(NamedTuple):
    """The cheap check's answer: turn ``rotate`` degrees clockwise; how sure it is."""

    rotate: int
    ratio: float  # ink above the x-height band / ink below the baseline (or inverse), ≥ 1
    agreement: float  # share of text lines that vote for this answer
    lines: int


def text_orientation(gray: np.ndarray) -> LineVerdict | None:
    """A cheap guess from line statistics, or ``None`` when too few text lines show.

    Lines run along the direction in which the ink splits into many separate text lines; up
    and down follow from Latin script having more ink above the x-height band (ascenders,
    capitals, digits, umlaut dots) than below the baseline (descenders). Other scripts can
    fool it, which is why ``orient`` only trusts a clear verdict and asks Tesseract otherwise.
    """
    ink = geometry.ink_mask(gray, _CHECK_SIDE)
    return None if ink is None else _line_verdict(ink)


def _line_verdict(ink: np.ndarray) -> LineVerdict | None:
    chars = _character_mask(ink)
    if chars is None:
        return None
    across = _line_evidence(chars)
    down = _line_evidence(np.rot90(chars, k=-1))  # lines running down become rows
    # Text lines hold nearly all the ink; aligned digit columns of a table, seen the other way,
    # make many narrow runs too, but hold little of it.
    best, turn, other = (across, 0, down) if across.share >= down.share else (down, 90, across)
    if best.lines < _MIN_LINES or best.share < 0.5 or best.share < 1.5 * other.share:
        return None
    upright = best.above >= best.below
    ratio = max(best.above, best.below) / max(min(best.above, best.below), 1.0)
    agreement = best.votes / best.lines if upright else 1.0 - best.votes / best.lines
    return LineVerdict(turn if upright else (turn + 180) % 360, ratio, agreement, best.lines)


class _Evidence(NamedTuple):
    above: float  # ink above the x-height band
    below: float  # ink below the baseline
    lines: int
    votes: int  # lines with more ink above than below
    share: float  # share of all ink that lies in those lines


def _character_mask(ink: np.ndarray) -> np.ndarray | None:
    """Only the character-sized components of ``ink`` (no rules, boxes or pictures)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    if count < 2:
        return None
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    widths = stats[:, cv2.CC_STAT_WIDTH]
    size = float(np.median(np.maximum(heights[1:], widths[1:])))
    keep = (np.maximum(heights, widths) <= 4 * size) & (stats[:, cv2.CC_STAT_AREA] >= 2)
    keep[0] = False
    mask: np.ndarray = keep[labels]
    return mask


def _line_evidence(chars: np.ndarray) -> _Evidence:
    """Ink above and below the core band of each row of text in ``chars``."""
    profile = chars.sum(axis=1).astype(np.float64)
    filled = np.concatenate(([0], (profile > 0).astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(filled))
    runs = list(zip(edges[::2], edges[1::2], strict=True))
    if len(runs) < _MIN_LINES:
        return _Evidence(0.0, 0.0, 0, 0, 0.0)
    typical = float(np.median([stop - start for start, stop in runs]))
    above = below = inside = 0.0
    lines = votes = 0
    for start, stop in runs:
        if not 0.6 * typical <= stop - start <= 1.6 * typical or stop - start < 6:
            continue
        row = profile[start:stop]
        core = np.flatnonzero(row >= 0.5 * row.max())
        top, bottom = int(core[0]), int(core[-1])
        up, down = float(row[:top].sum()), float(row[bottom + 1 :].sum())
        if up + down <= 0:
            continue
        above += up
        below += down
        inside += float(row.sum())
        lines += 1
        votes += up > down
    return _Evidence(above, below, lines, votes, inside / max(float(profile.sum()), 1.0))


def orient(page: Page, ctx: StepContext) -> Page:
    """Turn the page upright; flag ``orientation_uncertain`` and leave it when unsure.

    A clear verdict of the cheap line check (``text_orientation``) is taken as it is; otherwise
    Tesseract's OSD decides on a grey copy about ``osd_side`` pixels long (≈ 170 dpi for A4;
    much smaller copies make OSD confidently wrong). One OSD run costs ~0.3 s on the warm
    engine, so the check spares it on ordinary text pages.
    """
    image = page.image
    if image is None:
        return page
    if min(image.shape[:2]) < 32:
        return _uncertain(page, "page too small to orient")
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    ink = geometry.ink_mask(gray, _CHECK_SIDE)
    if ink is None:
        return _uncertain(page, "no text found to orient by")
    guess = _line_verdict(ink)
    if guess is not None:
        how = f"text lines: {guess.lines} lines, ratio {guess.ratio:.1f}"
        if guess.ratio >= float(
            ctx.param("min_line_ratio", _MIN_LINE_RATIO)
        ) and guess.agreement >= float(ctx.param("min_line_agreement", _MIN_AGREEMENT)):
            return _turned(page, guess.rotate, how)
        if ctx.param("defer_up_down_to_ocr", True):
            # The lines' axis is clear, up and down are not (tables of figures): the OCR run
            # decides that at a fraction of a separate OSD run's cost.
            # Turn only as far as the axis needs: no pixels move for a page lying the right way.
            axis_turn = 0 if guess.rotate in (0, 180) else guess.rotate
            turned = _turned(page, axis_turn, how + "; up/down left to OCR")
            return turned.evolve(detail=turned.detail, orientation_pending=True)
    copy = osd_copy(gray, int(ctx.param("osd_side", _OSD_SIDE)))
    try:
        verdict = tesseract.osd(copy, dpi=page.dpi * copy.shape[0] / gray.shape[0])
    except ToolError as exc:
        return _uncertain(page, f"orientation detection failed ({exc})")
    if verdict is None:
        return _uncertain(page, "too little text to detect the orientation")
    minimum = float(ctx.param("min_confidence", _MIN_CONFIDENCE))
    if verdict.confidence < minimum:
        return _uncertain(
            page,
            f"orientation {verdict.rotate}° unsure (OSD confidence "
            f"{verdict.confidence:.1f} < {minimum:.1f})",
        )
    return _turned(page, verdict.rotate, f"OSD confidence {verdict.confidence:.1f}")


def _turned(page: Page, rotate: int, how: str) -> Page:
    assert page.image is not None
    if rotate % 360 == 0:
        return page.evolve(detail=f"upright ({how})")
    return page.evolve(
        detail=f"turned {rotate}° clockwise ({how})",
        image=turn_clockwise(page.image, rotate),
        rotation=(page.rotation + rotate) % 360,
    )


def _uncertain(page: Page, why: str) -> Page:
    return page.flagged("orientation_uncertain").evolve(detail=f"{why}; left unchanged")


#: Readability score (``wordcheck``) at or above which OCR'd text counts as text.
_MIN_SCORE = 0.6
#: The same for a page the orientation step was unsure about (``orientation_uncertain``).
_MIN_SCORE_UNSURE = 0.75
#: Words below which a page's text is too short to judge.
_MIN_TOKENS = 5
#: How much better than the page as it lies another quarter turn must read to be taken when
#: none of them reads as text.
_MIN_GAIN = 0.1


def verify(page: Page, ctx: StepContext) -> Page:
    """After OCR: if the text is not words, try the other quarter turns and keep the best.

    A page read upside down gives mirror-gibberish at confidence ~30-40 ("uaßunpusmu"), and
    a line check fooled by descender-heavy text or an unsure OSD verdict leaves it so. On the
    normal path this costs only the statistics of ``wordcheck.readability`` (about a
    millisecond); only a page whose text does not read as text (by a higher bar where the
    orientation step was unsure) is OCRed again: first the turn
    that keeps its text lines' axis (180°), then the two sideways ones, stopping at the first
    that reads as text. The detail says what was read, tried and decided.
    """
    if page.ocr is None or page.image is None:
        return page.evolve(detail="no OCR text to check")
    minimum = float(ctx.param("min_score", _MIN_SCORE))
    if "orientation_uncertain" in page.flags:  # no judge was sure: the words must be clearer
        minimum = max(minimum, float(ctx.param("min_score_unsure", _MIN_SCORE_UNSURE)))
    read_as = page.ocr.language
    if read_as and read_as not in languages.codes(ctx.options.lang):
        # ``wordcheck`` knows German and English words only. A page the OCR step read as
        # another language was recognised as that language by lingua and then read by its
        # model with confidence; read upside down it gives ~30-40.
        confidence = page.ocr.confidence or 0.0
        if confidence >= float(ctx.param("min_confidence_other", languages.MIN_CONFIDENCE)):
            return page.evolve(
                detail=f"text reads as {read_as} (confidence {confidence:.0f}): not re-read"
            )
    current = readability(page.ocr.text, page.ocr.confidence)
    if current.tokens < int(ctx.param("min_words", _MIN_TOKENS)):
        return page.evolve(detail=f"too few words to check the orientation ({current.tokens})")
    if current.score >= minimum:
        return page.evolve(detail=f"text reads as text ({current.summary()})")
    upright = turn_clockwise(page.image, page.view_rotation)  # as the PDF would show it
    base = page.evolve(
        image=upright,
        view_rotation=0,
        orientation_pending=False,
        flags=tuple(f for f in page.flags if f not in _OCR_FLAGS),
    )
    kept = page
    best: Page | None = None
    best_score, best_turn = 0.0, 0
    tried = [f"as it lies {current.score:.2f}"]
    for turn in _candidate_turns(upright):
        candidate = _read_turned(base, turn, ctx)
        assert candidate.ocr is not None
        score = readability(candidate.ocr.text, candidate.ocr.confidence).score
        tried.append(f"{turn}° {score:.2f}")
        if best is None or score > best_score:
            best, best_score, best_turn = candidate, score, turn
        if score >= minimum:
            break
    how = f"OCR text not words ({current.summary()}); tried {', '.join(tried)}"
    if best is None or best_score < current.score + float(ctx.param("min_gain", _MIN_GAIN)):
        return kept.flagged("orientation_uncertain").evolve(detail=f"{how}: left as it was")
    decided = best if best_score >= minimum else best.flagged("orientation_uncertain")
    return decided.evolve(
        detail=f"{how}: turned {best_turn}° further clockwise, reads best "
        f"({decided.rotation}° in all)"
    )


_OCR_FLAGS = ("low_ocr_confidence", "orientation_uncertain")


def _candidate_turns(image: np.ndarray) -> tuple[int, ...]:
    """The other quarter turns, likeliest first: the text lines' axis is what the cheap check
    sees reliably, up and down is what it confuses."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    ink = geometry.ink_mask(gray, _CHECK_SIDE)
    verdict = None if ink is None else _line_verdict(ink)
    if verdict is not None and verdict.rotate in (90, 270):
        # The lines run down the page: only the sideways turns can make them rows (Tesseract
        # also reads one sideways direction, so the 180° turn would read well and lie wrong).
        return (90, 270)
    return (180, 90, 270)


def _read_turned(base: Page, turn: int, ctx: StepContext) -> Page:
    assert base.image is not None
    turned = base.evolve(
        image=turn_clockwise(base.image, turn), rotation=(base.rotation + turn) % 360
    )
    return ocr.ocr(turned, ctx)
