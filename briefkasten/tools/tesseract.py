"""Thin wrapper around the ``tesseract`` program, called through pytesseract.

One run per page yields the invisible text layer (Tesseract's own PDF renderer with
``textonly_pdf=1``, which embeds its GlyphLessFont with a ToUnicode map), the plain text and the
word confidences (TSV). Every call runs one single-threaded process (``OMP_THREAD_LIMIT=1``):
parallelism comes from running pages side by side, which scales better than OpenMP threads.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytesseract
from pytesseract import TesseractError, TesseractNotFoundError

from briefkasten.errors import BriefkastenError, TooComplex, ToolError

# Tesseract reads this from its environment; pytesseract passes os.environ on.
os.environ["OMP_THREAD_LIMIT"] = "1"


@dataclass(frozen=True)
class TesseractOutput:
    text_pdf: Path
    text: str
    confidence: float | None
    words: int
    #: With ``detect_orientation``: the angle most text lines were read at (0/90/180/270).
    text_angle: int | None = None


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
    """OCR ``image`` once, writing ``out_base.pdf`` (text only) and reading text and TSV.

    ``detect_orientation`` runs Tesseract's orientation detection inside the same run
    (``--psm 1``, about 0.2 s more than a separate OSD run's 0.5 s): an upside-down page is
    still read correctly, and ``text_angle`` (from the hOCR line angles) says how it lay.
    """
    outputs = "pdf txt tsv hocr" if detect_orientation else "pdf txt tsv"
    config = f"--psm {1 if detect_orientation else psm} --dpi {round(dpi)} "
    config += "-c textonly_pdf=1 -c tessedit_create_tsv=1"
    if detect_orientation:
        config += " -c tessedit_create_hocr=1"
    _run(image, out_base, outputs, lang=lang, config=config, timeout=timeout)
    text = out_base.with_suffix(".txt").read_text(encoding="utf-8")
    confidence, words = _mean_confidence(out_base.with_suffix(".tsv").read_text("utf-8"))
    angle = None
    if detect_orientation:
        hocr = out_base.with_suffix(".hocr")
        angle = _text_angle(hocr.read_text("utf-8"))
        hocr.unlink(missing_ok=True)
    out_base.with_suffix(".txt").unlink(missing_ok=True)
    out_base.with_suffix(".tsv").unlink(missing_ok=True)
    return TesseractOutput(out_base.with_suffix(".pdf"), text, confidence, words, angle)


def _text_angle(hocr: str) -> int | None:
    """The angle most ``ocr_line`` elements carry (hOCR omits ``textangle`` when it is 0)."""
    lines = re.findall(
        r"class='ocr_(?:line|header|caption|textfloat)'[^>]*title=\"([^\"]*)\"", hocr
    )
    if not lines:
        return None
    votes: dict[int, int] = {}
    for title in lines:
        found = re.search(r"textangle (\d+)", title)
        angle = int(found.group(1)) % 360 if found else 0
        votes[angle] = votes.get(angle, 0) + 1
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


def _mean_confidence(tsv: str) -> tuple[float | None, int]:
    """Mean word confidence (0–100) over the words Tesseract recognised."""
    confidences = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") == "5" and (row.get("text") or "").strip():
            try:
                conf = float(row["conf"])
            except (KeyError, ValueError):
                continue
            if conf >= 0:
                confidences.append(conf)
    if not confidences:
        return None, 0
    return sum(confidences) / len(confidences), len(confidences)
