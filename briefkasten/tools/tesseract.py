"""Tesseract for the pipeline: a warm engine in this process, and what is installed.

``ocr`` reads an 8-bit grey array once with the engine of ``tools.engine`` (``tesserocr``, its
models loaded once per process and kept): the plain text and every line with its box,
baseline, text angle, block and paragraph, every word with its box and confidence. The
invisible text layer is drawn from those lines by ``pipeline/textlayer.py``. ``osd`` is
Tesseract's orientation and script detection on the same kind of engine (``osd`` model).
Tesseract runs single-threaded (``OMP_THREAD_LIMIT=1``): parallelism comes from running pages
side by side.

The models are Debian's (``tesseract-ocr-deu`` …): their directory is ``TESSDATA_PREFIX``
when set, else the one ``tesseract --list-langs`` names. ``version`` is that CLI's version,
``engine_version`` the library's the engine runs (the wheel's own, which may differ).

Errors: a language that cannot be loaded, a bad page segmentation mode or a run that times out
or fails is ``ToolError``. A run that exhausts the CPU limit of its sandboxed page child is
stopped by the kernel (``SIGXCPU``): the sandbox answers ``TooComplex`` for the child.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from briefkasten.errors import ToolError
from briefkasten.model import OcrLine
from briefkasten.tools import engine

#: Seconds a ``tesseract --version`` / ``--list-langs`` call may take.
_CLI_TIMEOUT = 30.0
_ENGINES = engine.Engines()


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
    """OSD verdict: turn the image ``rotate`` degrees clockwise to make it upright; the
    writing system it saw (``Latin``, ``Cyrillic``, ``Arabic``, …) and how sure it is."""

    rotate: int
    confidence: float
    script: str = ""
    script_confidence: float = 0.0


def _cli(*args: str) -> str:
    try:
        done = subprocess.run(
            ["tesseract", *args], capture_output=True, text=True, timeout=_CLI_TIMEOUT, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolError("tesseract is not installed or not on PATH") from exc
    return done.stdout + done.stderr


@functools.cache
def version() -> str:
    """The installed ``tesseract`` program's version (``5.3.0``)."""
    found = re.search(r"tesseract\s+v?(\S+)", _cli("--version"))
    if found is None:
        raise ToolError("cannot read the tesseract version")
    return found.group(1)


def engine_version() -> str:
    """The version of the Tesseract library that does the OCR (``5.5.4``)."""
    return engine.library_version()


@functools.cache
def tessdata() -> Path:
    """The directory of the language models: ``TESSDATA_PREFIX`` (the directory itself or its
    parent), else the one the ``tesseract`` program reads."""
    prefix = os.environ.get("TESSDATA_PREFIX")
    candidates = [Path(prefix), Path(prefix) / "tessdata"] if prefix else []
    if not candidates:
        listed = re.search(r'languages in "([^"]+)"', _cli("--list-langs"))
        if listed is None:
            raise ToolError("tesseract does not say where its language data is")
        candidates = [Path(listed.group(1))]
    for candidate in candidates:
        if any(candidate.glob("*.traineddata")):
            return candidate
    raise ToolError("no tesseract language data found (install tesseract-ocr-deu)")


def available() -> bool:
    """Whether OCR can run: the engine and at least one language model are there."""
    try:
        return bool(languages())
    except ToolError:
        return False


@functools.cache
def languages() -> frozenset[str]:
    return engine.installed_languages(tessdata())


def check_lang(lang: str) -> None:
    """Raise ``ToolError`` unless every ``+``-joined language is installed."""
    missing = [code for code in lang.split("+") if code not in languages()]
    if missing:
        raise ToolError(f"tesseract language data missing: {', '.join(missing)}")


def warm(langs: tuple[str, ...]) -> tuple[str, ...]:
    """Load the models of ``langs`` now (for the fork server); the ones that loaded."""
    done = []
    for lang in langs:
        try:
            check_lang(lang)
            with _ENGINES.use(tessdata(), lang):
                done.append(lang)
        except (ToolError, RuntimeError):
            continue  # loaded, or refused, on first use instead
    return tuple(done)


def loaded() -> frozenset[str]:
    """The languages whose models this process holds."""
    return _ENGINES.loaded()


def ocr(
    image: np.ndarray,
    *,
    lang: str,
    dpi: float,
    timeout: float,
    psm: int = 3,
    detect_orientation: bool = False,
) -> TesseractOutput:
    """OCR the 8-bit grey ``image`` once: text, lines, words, confidence.

    ``detect_orientation`` runs Tesseract's orientation detection inside the same run
    (``--psm 1``): an upside-down page is still read correctly, and ``text_angle`` (the angle
    most lines were read at) says how it lay. ``timeout`` bounds the recognition (Tesseract's
    own deadline; the layout analysis before it is bounded by the page child's limits).
    """
    mode = 1 if detect_orientation else psm
    if not 0 <= mode < engine.PSM_COUNT:
        raise ToolError(f"tesseract page segmentation mode {mode} does not exist")
    check_lang(lang)
    started = time.monotonic()
    try:
        with _ENGINES.use(tessdata(), lang) as api:
            api.SetPageSegMode(mode)
            engine.set_pixels(api, image, dpi)
            if not api.Recognize(timeout=max(1, round(timeout * 1000))):
                took = time.monotonic() - started
                if took >= 0.9 * timeout:
                    raise ToolError(f"tesseract timed out after {timeout:g}s")
                raise ToolError("tesseract could not recognise the page")
            text = api.GetUTF8Text()
            lines = engine.read_lines(api)
    except RuntimeError as exc:
        raise ToolError(f"tesseract failed: {exc}") from exc
    confidences = [w.confidence for line in lines for w in line.words if w.confidence >= 0]
    confidence = sum(confidences) / len(confidences) if confidences else None
    angle = _text_angle(lines) if detect_orientation else None
    return TesseractOutput(text, confidence, len(confidences), angle, lines)


def _text_angle(lines: tuple[OcrLine, ...]) -> int | None:
    """The angle most lines were read at."""
    if not lines:
        return None
    votes: dict[int, int] = {}
    for line in lines:
        votes[line.angle] = votes.get(line.angle, 0) + 1
    return max(votes, key=lambda a: votes[a])


def osd(image: np.ndarray, *, dpi: float) -> Orientation | None:
    """Orientation and script detection on the 8-bit grey ``image``; ``None`` when the page
    has too little text. Bounded by the page child's limits (Tesseract has no deadline here)."""
    check_lang("osd")
    try:
        with _ENGINES.use(tessdata(), "osd") as api:
            api.SetPageSegMode(0)  # OSD only
            engine.set_pixels(api, image, dpi)
            found = api.DetectOrientationScript()
    except RuntimeError as exc:
        raise ToolError(f"tesseract orientation detection failed: {exc}") from exc
    if not found:
        return None
    # orient_deg is how far the text is turned clockwise; the turn that undoes it is the rest.
    rotate = (360 - int(found["orient_deg"])) % 360
    return Orientation(
        rotate,
        float(found["orient_conf"]),
        str(found.get("script_name") or ""),
        float(found.get("script_conf") or 0.0),
    )
