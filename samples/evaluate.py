"""Measure the pipeline on a generated sample set: deskew error, orientation, text accuracy.

Usage::

    python -m samples.evaluate [--count 12] [--seed 0] [--workdir DIR] [--lang deu]

generates a set with :mod:`samples.generate`, runs every page through ``briefkasten.ingest``
twice (``--before``, default ``ocr-only``: OCR without normalisation; ``--after``, default
``default``: the full pipeline) and prints a per-page table and one ``eval NAME VALUE`` line per
figure. The character error rate (CER) is the Levenshtein distance between the text layer
(``pdftotext -raw``: the OCR's reading order; see ``--text-mode``) and the truth, both with
whitespace collapsed and typographic quotes and dashes folded, divided by the length of the
truth, summed over all pages. As the CER also counts reading-order differences (a table column
read as its own block), ``word_miss`` gives the share of truth words missing from the text,
ignoring order. A page whose run fails counts as CER 1 and as a wrong orientation. Exit
status 1 when any run failed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

from rapidfuzz.distance import Levenshtein

from samples.generate import generate_set

_FOLD = str.maketrans(
    {
        "\u201e": '"',
        "\u201c": '"',
        "\u201d": '"',  # German and English double quotes
        "\u201a": "'",
        "\u2018": "'",
        "\u2019": "'",  # single quotes
        "\u2013": "-",
        "\u2014": "-",
        "\u00ad": None,  # en/em dash, soft hyphen
    }
)

Runner = Callable[[Path, Path, str], Any]  # (image, output pdf, pipeline) -> DocumentResult


def normalise(text: str) -> str:
    """NFC, typographic quotes and dashes folded to ASCII, whitespace runs collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).translate(_FOLD).split())


def char_errors(hypothesis: str, truth: str) -> tuple[int, int]:
    """(edit distance, truth length) after :func:`normalise`."""
    hyp, ref = normalise(hypothesis), normalise(truth)
    return Levenshtein.distance(hyp, ref), len(ref)


def word_misses(hypothesis: str, truth: str) -> tuple[int, int]:
    """(truth words missing from the hypothesis, truth words), ignoring order and layout."""
    ref = Counter(normalise(truth).split())
    missing = ref - Counter(normalise(hypothesis).split())
    return sum(missing.values()), sum(ref.values())


def pdf_text(pdf: Path, mode: str = "raw") -> str:
    """The text layer of ``pdf`` as ``pdftotext`` extracts it (UTF-8).

    ``mode`` ``"raw"`` (default) keeps the content-stream order, i.e. the OCR's reading order;
    ``"layout"`` and ``"plain"`` use poppler's own reading-order heuristics, which split
    word-positioned OCR text layers into fragments (tables, spaced words).
    """
    flags = {"raw": ["-raw"], "layout": ["-layout"], "plain": []}[mode]
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *flags, str(pdf), "-"],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return done.stdout.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Run:
    """One pipeline run on one page."""

    text: str
    seconds: float
    rotation: int | None = None
    skew_degrees: float | None = None
    perspective_corrected: bool | None = None
    error: str | None = None


@dataclass(frozen=True)
class Score:
    """What one page's truth entry says, and what the two runs made of it."""

    entry: dict[str, Any]
    before: Run
    after: Run

    @property
    def skew_error(self) -> float | None:
        expected = self.entry["expected"]["skew_degrees"]
        if expected is None or self.after.skew_degrees is None:
            return None
        return abs(self.after.skew_degrees - float(expected))

    @property
    def orientation_ok(self) -> bool:
        got = self.after.rotation
        return got is not None and got % 360 == self.entry["expected"]["rotation"] % 360

    def errors(self, run: Run, *, words: bool = False) -> tuple[int, int]:
        """Character (or, with ``words``, order-free word) errors and the truth's length."""
        measure = word_misses if words else char_errors
        return measure("" if run.error is not None else run.text, self.entry["text"])


def _ingest_runner(lang: str) -> Runner:
    try:
        from briefkasten import ingest
    except ImportError as exc:
        raise SystemExit(f"cannot import briefkasten.ingest: {exc}") from exc

    def run(image: Path, output: Path, pipeline: str) -> Any:
        return ingest([image], output=output, pipeline=pipeline, lang=lang)

    return run


def run_page(
    runner: Runner, image: Path, output: Path, pipeline: str, *, text_mode: str = "raw"
) -> Run:
    """Run ``pipeline`` on ``image``; a failure is recorded, not raised."""
    start = time.perf_counter()
    try:
        result = runner(image, output, pipeline)
        text = pdf_text(output, text_mode)
    except Exception as exc:  # the evaluation reports every failure per page
        return Run("", time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}")
    page = result.pages[0]
    return Run(
        text=text,
        seconds=time.perf_counter() - start,
        rotation=page.rotation,
        skew_degrees=page.skew_degrees,
        perspective_corrected=page.perspective_corrected,
    )


def evaluate(
    entries: Sequence[dict[str, Any]],
    set_dir: Path,
    out_dir: Path,
    runner: Runner,
    *,
    before: str = "ocr-only",
    after: str = "default",
    text_mode: str = "raw",
    progress: Callable[[str], None] | None = None,
) -> list[Score]:
    """Run both pipelines on every page of a generated set."""
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = []
    for entry in entries:
        image = set_dir / entry["file"]
        stem = Path(entry["file"]).stem
        runs = [
            run_page(runner, image, out_dir / f"{stem}.{name}.pdf", name, text_mode=text_mode)
            for name in (before, after)
        ]
        scores.append(Score(entry, runs[0], runs[1]))
        if progress:
            progress(f"{entry['file']}: {runs[0].seconds:.1f}s / {runs[1].seconds:.1f}s")
    return scores


def _rate(scores: Sequence[Score], which: str, *, words: bool = False) -> float | None:
    pairs = [s.errors(getattr(s, which), words=words) for s in scores]
    total = sum(n for _, n in pairs)
    return None if total == 0 else sum(d for d, _ in pairs) / total


def summarise(scores: Sequence[Score]) -> dict[str, float | None]:
    """The figures ``make eval`` prints, by name."""
    skew_errors = [e for s in scores if (e := s.skew_error) is not None]
    photos = [s for s in scores if s.entry["phone_photo"]]
    flat = [s for s in scores if not s.entry["phone_photo"]]
    return {
        "pages": float(len(scores)),
        "failures": float(sum(1 for s in scores if s.before.error or s.after.error)),
        "deskew_pages": float(len(skew_errors)),
        "deskew_mean_error_deg": mean(skew_errors) if skew_errors else None,
        "deskew_max_error_deg": max(skew_errors) if skew_errors else None,
        "deskew_within_0_3_deg": (
            sum(e <= 0.3 for e in skew_errors) / len(skew_errors) if skew_errors else None
        ),
        "orientation_accuracy": (
            sum(s.orientation_ok for s in scores) / len(scores) if scores else None
        ),
        "perspective_recall": (
            sum(bool(s.after.perspective_corrected) for s in photos) / len(photos)
            if photos
            else None
        ),
        "perspective_false_positive_rate": (
            sum(bool(s.after.perspective_corrected) for s in flat) / len(flat) if flat else None
        ),
        "cer_before": _rate(scores, "before"),
        "cer_after": _rate(scores, "after"),
        "cer_after_photos": _rate(photos, "after"),
        "word_miss_before": _rate(scores, "before", words=True),
        "word_miss_after": _rate(scores, "after", words=True),
        "seconds_per_page_before": mean(s.before.seconds for s in scores) if scores else None,
        "seconds_per_page_after": mean(s.after.seconds for s in scores) if scores else None,
    }


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def table(scores: Sequence[Score]) -> str:
    """A compact per-page table."""
    head = (
        f"{'file':<42} {'skew':>6} {'got':>6} {'err':>5} {'rot':>4} {'got':>4} "
        f"{'persp':>5} {'cer0':>6} {'cer1':>6} {'wmiss1':>6} {'s0':>5} {'s1':>5}"
    )
    rows = [head, "-" * len(head)]
    for s in scores:
        exp = s.entry["expected"]
        persp = (
            "-"
            if s.after.perspective_corrected is None
            else ("yes" if s.after.perspective_corrected else "no")
        )
        cer0 = s.errors(s.before)
        cer1 = s.errors(s.after)
        miss1 = s.errors(s.after, words=True)
        rows.append(
            f"{s.entry['file'][:42]:<42} {_fmt(exp['skew_degrees'], '+.1f'):>6} "
            f"{_fmt(s.after.skew_degrees, '+.1f'):>6} {_fmt(s.skew_error):>5} "
            f"{exp['rotation']:>4} {_fmt(s.after.rotation, 'd'):>4} {persp:>5} "
            f"{cer0[0] / max(1, cer0[1]):>6.3f} {cer1[0] / max(1, cer1[1]):>6.3f} "
            f"{miss1[0] / max(1, miss1[1]):>6.3f} "
            f"{s.before.seconds:>5.1f} {s.after.seconds:>5.1f}"
        )
    for s in scores:
        for name, run in (("before", s.before), ("after", s.after)):
            if run.error:
                rows.append(f"FAILED {s.entry['file']} ({name}): {run.error}")
    return "\n".join(rows)


def report_lines(summary: dict[str, float | None]) -> list[str]:
    """``eval NAME VALUE`` lines (``-`` for figures without data)."""
    lines = []
    for name, value in summary.items():
        if value is None:
            text = "-"
        elif name in ("pages", "failures", "deskew_pages"):
            text = str(int(value))
        else:
            text = f"{value:.3f}"
        lines.append(f"eval {name} {text}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m samples.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--count", type=int, default=12, help="pages to generate (default 12)")
    parser.add_argument("--seed", type=int, default=0, help="sample seed (default 0)")
    parser.add_argument("--dpi", type=int, default=300, help="render resolution (default 300)")
    parser.add_argument(
        "--workdir", type=Path, help="keep the set and PDFs here (default: a temp dir)"
    )
    parser.add_argument("--lang", default="deu", help="OCR language (default deu)")
    parser.add_argument("--before", default="ocr-only", help="baseline pipeline (default ocr-only)")
    parser.add_argument("--after", default="default", help="pipeline under test (default default)")
    parser.add_argument(
        "--text-mode",
        choices=("raw", "layout", "plain"),
        default="raw",
        help="pdftotext reading order for the CER (default raw: the OCR's own order)",
    )
    args = parser.parse_args(argv)
    if shutil.which("pdftotext") is None:
        print("pdftotext not found (Debian package poppler-utils)", file=sys.stderr)
        return 2
    runner = _ingest_runner(args.lang)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="briefkasten-eval-"))
    try:
        set_dir = workdir / "set"
        entries = generate_set(set_dir, count=args.count, seed=args.seed, dpi=args.dpi)
        print(f"generated {len(entries)} pages in {set_dir}", file=sys.stderr)
        scores = evaluate(
            entries,
            set_dir,
            workdir / "out",
            runner,
            before=args.before,
            after=args.after,
            text_mode=args.text_mode,
            progress=lambda m: print(m, file=sys.stderr),
        )
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table(scores))
    print()
    summary = summarise(scores)
    print("\n".join(report_lines(summary)))
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
