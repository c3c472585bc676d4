"""One pipeline run on one file, read page by page: what ``make eval`` scores.

``run_file`` runs a pipeline (through a :data:`Runner`, ``briefkasten.ingest`` in ``make
eval``) on one file once and gives a :class:`Run` per page asked for: the text of the output
page the report puts that page on, by each extraction tool of :mod:`samples.extract`, the
report's rotation, skew and perspective, and what its orientation steps decided. Output page
*n* is the report's page *n* (the merge keeps the pages' order); the report's ``index`` says
which page of the file it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samples.extract import pdf_page_count, pdf_texts

__all__ = ["BASE_TOOL", "ORIENTATION_STEPS", "Run", "Runner", "run_file", "run_page"]

#: The tool whose text ``cer_before`` and ``cer_after`` compare: the OCR's own order.
BASE_TOOL = "raw"
#: The steps whose details say how a page's orientation was decided.
ORIENTATION_STEPS = ("orientation", "ocr", "verify_orientation")

Runner = Callable[[Path, Path, str], Any]  # (image, output pdf, pipeline) -> DocumentResult


@dataclass(frozen=True)
class Run:
    """One pipeline run on one page: its output page's text by extraction tool, the report's
    figures and orientation steps (``decision``); a file's seconds shared among its pages."""

    texts: dict[str, str]
    seconds: float
    rotation: int | None = None
    skew_degrees: float | None = None
    perspective_corrected: bool | None = None
    error: str | None = None
    decision: str = ""
    #: The language the page was read as (the report's ``language``).
    language: str | None = None
    #: The text the pipeline returned for the page (``document.txt``: the OCR's own).
    ocr_text: str = ""

    @property
    def text(self) -> str:
        """The text ``cer_before``/``cer_after`` measure (``BASE_TOOL``)."""
        return self.texts.get(BASE_TOOL, "")


def _decision(page: Any) -> str:
    """What the report's orientation steps of ``page`` say (``step: detail; ...``)."""
    steps = [f"{r.step}: {r.detail}" for r in page.history if r.step in ORIENTATION_STEPS]
    return "; ".join(steps + [f"flag {f}" for f in page.flags if f.startswith("orientation")])


#: The key of the text the pipeline itself returned (the page's OCR text) in ``Run.texts``.
OCR_TEXT = "ocr"


def run_file(
    runner: Runner,
    image: Path,
    output: Path,
    pipeline: str,
    *,
    pages: Sequence[int] = (0,),
    tools: tuple[str, ...] = (BASE_TOOL,),
) -> list[Run]:
    """Run ``pipeline`` on the file ``image`` once; one :class:`Run` for each of its ``pages``
    (0-based), read from the output page the report puts it on, by each of ``tools``. A
    failure (also a page missing or an output of the wrong length) is recorded, not raised."""
    start = time.perf_counter()

    def failed(why: str) -> list[Run]:
        share = (time.perf_counter() - start) / len(pages)
        return [Run({}, share, error=why) for _ in pages]

    try:
        result = runner(image, output, pipeline)
        count = pdf_page_count(output)
        if count != len(result.pages):
            return failed(f"output has {count} pages, the report {len(result.pages)}")
        where = {p.index: n for n, p in enumerate(result.pages)}
        if missing := [p + 1 for p in pages if p not in where]:
            return failed(f"page {', '.join(map(str, missing))} not in the output")
        texts = {p: pdf_texts(output, tools, page=where[p]) for p in pages}
    except Exception as exc:  # the evaluation reports every failure per page
        return failed(f"{type(exc).__name__}: {exc}")
    share = (time.perf_counter() - start) / len(pages)
    return [
        Run(
            texts=texts[p],
            seconds=share,
            rotation=(page := result.pages[where[p]]).rotation,
            skew_degrees=page.skew_degrees,
            perspective_corrected=page.perspective_corrected,
            decision=_decision(page),
            language=getattr(page, "language", None),  # reports before languages: none
            ocr_text=str(getattr(page, "text", "")),
        )
        for p in pages
    ]


def run_page(
    runner: Runner,
    image: Path,
    output: Path,
    pipeline: str,
    *,
    tools: tuple[str, ...] = (BASE_TOOL,),
) -> Run:
    """:func:`run_file` for the first page of ``image``."""
    return run_file(runner, image, output, pipeline, tools=tools)[0]
