"""Thin wrapper around the ``tesseract`` program, called through pytesseract.

One run per page yields the plain text and the hOCR: every line with its box, baseline, text
angle, block and paragraph, every word with its box and confidence. The invisible text layer
is drawn from those lines by ``pipeline/textlayer.py`` (not by Tesseract's PDF renderer, whose
per-word baselines extractors read as jumbled columns). Every call runs one single-threaded
process (``OMP_THREAD_LIMIT=1``): parallelism comes from running pages side by side, which
scales better than OpenMP threads.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytesseract
from pytesseract import TesseractError, TesseractNotFoundError

from briefkasten.errors import BriefkastenError, TooComplex, ToolError
from briefkasten.model import OcrLine
from briefkasten.tools.hocr import parse_hocr

# Tesseract reads this from its environment; pytesseract passes os.environ on.
os.environ["OMP_THREAD_LIMIT"] = "1"


@dataclass(frozen=True)
class TesseractOutput:
    text: str
    confidence: float | None
    words: int
    #: With ``detect_orientation``: the angle most text lines were read at (0/90/180/270).
    text_angle: int | None = None
    lines: tuple[OcrLine, ...] = ()


@dataclass(frozen=True)
class Orientation:
    """OSD verdict: turn the image ``rotate`` degrees clockwise to make it upright."""

    rotate: int
    confidence: float


@functools.cache
def version() -> str:
    try:
        return str(pytesseract.get_tesseract_version())
    except (TesseractNotFoundError, OSError) as exc:
        raise ToolError("tesseract is not installed or not on PATH") from exc


def available() -> bool:
    try:
        version()
    except ToolError:
        return False
    return True


@functools.cache
def languages() -> frozenset[str]:
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except (TesseractNotFoundError, TesseractError, OSError) as exc:
        raise ToolError("cannot list tesseract languages") from exc


def check_lang(lang: str) -> None:
    """Raise ``ToolError`` unless every ``+``-joined language is installed."""
    missing = [code for code in lang.split("+") if code not in languages()]
    if missing:
        raise ToolError(f"tesseract language data missing: {', '.join(missing)}")


def ocr(
    image: Path,
    out_base: Path,
    *,
    lang: str,
    dpi: float,
    timeout: float,
    psm: int = 3,
    detect_orientation: bool = False,
) -> TesseractOutput:
    """OCR ``image`` once, reading the text (``out_base.txt``) and the lines (``.hocr``).

    ``detect_orientation`` runs Tesseract's orientation detection inside the same run
    (``--psm 1``, about 0.2 s more than a separate OSD run's 0.5 s): an upside-down page is
    still read correctly, and ``text_angle`` (from the hOCR line angles) says how it lay.
    """
    config = f"--psm {1 if detect_orientation else psm} --dpi {round(dpi)}"
    txt, hocr = out_base.with_suffix(".txt"), out_base.with_suffix(".hocr")
    try:
        _run(image, out_base, "txt hocr", lang=lang, config=config, timeout=timeout)
        text = txt.read_text(encoding="utf-8")
        lines = parse_hocr(hocr.read_text("utf-8"))
    finally:
        txt.unlink(missing_ok=True)
        hocr.unlink(missing_ok=True)
    confidences = [w.confidence for line in lines for w in line.words if w.confidence >= 0]
    confidence = sum(confidences) / len(confidences) if confidences else None
    angle = _text_angle(lines) if detect_orientation else None
    return TesseractOutput(text, confidence, len(confidences), angle, lines)


def _text_angle(lines: tuple[OcrLine, ...]) -> int | None:
    """The angle most lines were read at (hOCR omits ``textangle`` when it is 0)."""
    if not lines:
        return None
    votes: dict[int, int] = {}
    for line in lines:
        votes[line.angle] = votes.get(line.angle, 0) + 1
    return max(votes, key=lambda a: votes[a])


def osd(image: Path, *, timeout: float) -> Orientation | None:
    """Orientation and script detection; ``None`` when the page has too little text."""
    try:
        out = pytesseract.image_to_osd(str(image), timeout=timeout, config="--psm 0")
    except TesseractError as exc:
        if "Too few characters" in str(exc) or "0 dpi" in str(exc):
            return None
        if exc.status == -signal.SIGXCPU:
            raise _failed(exc) from exc
        raise ToolError(f"tesseract orientation detection failed: {exc.message}") from exc
    except RuntimeError as exc:  # pytesseract's timeout
        raise ToolError(f"tesseract orientation detection timed out after {timeout}s") from exc
    except (TesseractNotFoundError, OSError) as exc:
        raise ToolError("tesseract is not installed or not on PATH") from exc
    rotate = re.search(r"Rotate: (\d+)", out)
    conf = re.search(r"Orientation confidence: ([\d.]+)", out)
    if not rotate or not conf:
        return None
    return Orientation(int(rotate.group(1)) % 360, float(conf.group(1)))


def _run(
    image: Path, out_base: Path, outputs: str, *, lang: str, config: str, timeout: float
) -> None:
    try:
        pytesseract.pytesseract.run_tesseract(
            str(image), str(out_base), outputs, lang, config=config, timeout=timeout
        )
    except TesseractError as exc:
        raise _failed(exc) from exc
    except RuntimeError as exc:  # pytesseract's timeout
        raise ToolError(f"tesseract timed out after {timeout}s") from exc
    except (TesseractNotFoundError, OSError, subprocess.SubprocessError) as exc:
        raise ToolError("tesseract is not installed or not on PATH") from exc


def _failed(exc: TesseractError) -> BriefkastenError:
    """Tesseract stopped by the CPU limit it inherited from its sandboxed page (``SIGXCPU``)
    is the page's cost, not a broken tool: ``TooComplex``, not retried."""
    if exc.status == -signal.SIGXCPU:
        return TooComplex("OCR needed more CPU time than the page had left")
    return ToolError(f"tesseract failed (exit {exc.status}): {exc.message}")
