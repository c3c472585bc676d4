"""How well ``pipeline.doctype`` names the type of generated pages read by the project's OCR.

Usage::

    python -m samples.doctype_eval [--count-per-type 10] [--seed 0] [--dpi 0] \
        [--pipeline ocr-only] [--workers 2] [--workdir DIR] [--verbose]

draws ``--count-per-type`` pages of every type of :mod:`samples.doctypes`, degrades them like
a scan (150 or 200 dpi, turned up to ±3°, some blurred, grain, JPEG), runs each through
the steps of ``--pipeline`` (the OCR
of ``pipeline/ocr.py`` on warm Tesseract models) and suggests its type from the OCR's text. It
prints the accuracy per type, a confusion table (rows: truth, columns: suggested), the mean
confidence of right and of wrong suggestions and one ``eval doctype.NAME VALUE`` line per
figure. Exit status 1 when a page could not be read. ``make eval-doctype`` runs it; ``make
eval`` runs it after ``samples.evaluate``.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from briefkasten.config import REPO_PIPELINES
from briefkasten.model import Original, PageRef
from briefkasten.pipeline.doctype import suggest
from briefkasten.pipeline.images import decode
from briefkasten.pipeline.runner import Options, load_pipeline, run_steps
from samples.degrade import skew
from samples.doctypes import TYPES, render

#: The resolutions pages are drawn at when ``--dpi`` is not given.
DPIS = (150, 200)


@dataclass(frozen=True)
class Outcome:
    """One page: its true type, the suggestion, its confidence and cues, seconds taken."""

    truth: str
    seed: int
    suggested: str
    confidence: float
    cues: tuple[str, ...]
    seconds: float
    error: str = ""


def scanned(img: Image.Image, seed: int) -> Image.Image:
    """``img`` as a scanner gives it back: turned a little, now and then a little blurred,
    with grain, JPEG-compressed."""
    rng = random.Random(f"scan:{seed}")
    dpi = img.info.get("dpi", (200, 200))
    turned = skew(img, rng.uniform(-3.0, 3.0))
    if rng.random() < 0.3:
        turned = turned.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2)))
    pixels = np.asarray(turned.convert("L"), dtype=np.int16)
    noise = np.random.default_rng(seed).normal(0, rng.uniform(4, 14), pixels.shape)
    grey = Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    grey.save(buffer, "JPEG", quality=rng.randint(45, 85))
    out = Image.open(io.BytesIO(buffer.getvalue()))
    out.info["dpi"] = dpi
    return out


def page_text(path: Path, pipeline_name: str, workdir: Path) -> str:
    """The OCR text of the image at ``path`` after the steps of ``pipeline_name``."""
    original = Original("page", path, "", path.stat().st_size, "image/jpeg", 1)
    page = decode(PageRef(original, 0, "raster"), raster_dpi=300)
    pipeline = load_pipeline(pipeline_name, REPO_PIPELINES)
    page = run_steps(page, pipeline, workdir, Options(lang="deu"))
    return page.ocr.text if page.ocr is not None else ""


def run_one(truth: str, seed: int, dpi: int, pipeline_name: str, workdir: str) -> Outcome:
    """Draw, degrade, OCR and suggest one page (in a worker process)."""
    start = time.perf_counter()
    dpi = dpi or random.Random(f"dpi:{seed}").choice(DPIS)
    img, _ = render(truth, seed, dpi=dpi)
    path = Path(workdir) / f"{truth}-{seed}.jpg"
    scanned(img, seed).save(path, "JPEG", quality=95, dpi=(dpi, dpi))
    try:
        text = page_text(path, pipeline_name, Path(workdir))
    except Exception as exc:  # every failure is reported per page
        return Outcome(truth, seed, "", 0.0, (), time.perf_counter() - start, type(exc).__name__)
    s = suggest(text)
    return Outcome(truth, seed, s.type, s.confidence, s.cues, time.perf_counter() - start)


#: The columns of the confusion table.
SHORT = {"bescheinigung": "beschg", "bescheid": "bschd"}


def table(outcomes: Sequence[Outcome]) -> str:
    """Accuracy per type and the confusion table, as text."""
    width = max(len(t) for t in TYPES) + 2
    columns = "".join(SHORT.get(t, t[:6]).rjust(7) for t in TYPES)
    head = "truth \\ suggested".ljust(width + 4) + columns
    lines = [head + "   n  accuracy", "-" * (len(head) + 14)]
    for truth in TYPES:
        mine = [o for o in outcomes if o.truth == truth]
        counts = Counter(o.suggested for o in mine)
        right = counts[truth] / len(mine) if mine else 0.0
        cells = "".join(str(counts[t] or ".").rjust(7) for t in TYPES)
        lines.append(f"{truth.ljust(width + 4)}{cells}{len(mine):4d}  {right:8.3f}")
    return "\n".join(lines)


def figures(outcomes: Sequence[Outcome]) -> dict[str, float]:
    right = [o for o in outcomes if o.suggested == o.truth]
    wrong = [o for o in outcomes if o.suggested != o.truth]
    result = {"accuracy": len(right) / len(outcomes) if outcomes else 0.0}
    for truth in TYPES:
        mine = [o for o in outcomes if o.truth == truth]
        if mine:
            result[f"accuracy_{truth}"] = sum(o.suggested == truth for o in mine) / len(mine)
    result["confidence_right"] = float(np.mean([o.confidence for o in right])) if right else 0.0
    result["confidence_wrong"] = float(np.mean([o.confidence for o in wrong])) if wrong else 0.0
    result["s_per_page"] = float(np.mean([o.seconds for o in outcomes])) if outcomes else 0.0
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count-per-type", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dpi", type=int, default=0, help="0: 150 or 200 by page")
    parser.add_argument("--pipeline", default="ocr-only")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--verbose", action="store_true", help="list every page's cues")
    args = parser.parse_args(argv)
    verbose = args.verbose
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="doctype-eval-", dir=args.workdir) as workdir:
        jobs = [
            (t, args.seed * 1000 + i, args.dpi, args.pipeline, workdir)
            for i in range(args.count_per_type)
            for t in TYPES
        ]
        with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
            outcomes = list(pool.map(run_one, *zip(*jobs, strict=True)))
    for o in outcomes:
        if o.suggested != o.truth:
            why = o.error or f"{o.confidence:.2f} {','.join(o.cues) or '-'}"
            print(f"miss {o.truth}-{o.seed}: suggested {o.suggested or '?'} ({why})")
        elif verbose:
            print(f"ok   {o.truth}-{o.seed}: {o.confidence:.2f} {','.join(o.cues)}")
    print(table(outcomes))
    for name, value in figures(outcomes).items():
        print(f"eval doctype.{name} {value:.3f}")
    print(f"eval doctype.pages {len(outcomes)}")
    print(f"eval doctype.seconds {time.perf_counter() - started:.1f}")
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
