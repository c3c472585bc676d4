"""Measure the pipeline per class of generated pages: deskew, orientation, text accuracy.

Usage::

    python -m samples.evaluate [--classes skew,tables] [--count-per-class 4] [--seed 0]
                               [--lang deu] [--workdir DIR]

generates every class of :mod:`samples.classes` with :mod:`samples.generate`, runs every file
through ``briefkasten.ingest`` twice (``--before``, default ``ocr-only``: OCR without
normalisation; ``--after``, default ``default``: the full pipeline) and prints a per-page
table, a table per class and one ``eval CLASS.NAME VALUE`` line per figure (``eval NAME
VALUE`` for all pages together).

The character error rate (CER) is the Levenshtein distance between a text and the truth, both
with whitespace collapsed and typographic quotes and dashes folded, divided by the length of
the truth, summed over the pages. ``cer_before`` and ``cer_after`` read the text layer with
``pdftotext -raw`` (the OCR's reading order); ``cer_TOOL`` reads the ``--after`` output with
each tool of :mod:`samples.extract` (one pipeline run, five extractions). ``-layout`` prints
text columns side by side, so it is measured against the page's lines as they sit
(``layout_text``). ``word_miss`` is the share of truth words missing, ignoring order. A page
whose run fails counts as CER 1 and as a wrong orientation. Exit status 1 when a run failed.

Everything is scored per page: a file of several pages (``multi-page``) is run once per
pipeline, page *n* of its output PDF (the report's page *n*, whose ``index`` says which page of
the file it is) is read by every tool on its own and scored against the truth of that page
of the file. ``file_orientation_accuracy`` is the share of files with every page upright.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

from rapidfuzz.distance import Levenshtein

from samples import classes
from samples.extract import TOOLS
from samples.generate import write_plans
from samples.langeval import language_figures
from samples.report import class_table, fmt, report_lines
from samples.runs import BASE_TOOL, OCR_TEXT, Run, Runner, run_file, run_page

__all__ = [
    "Run",
    "Score",
    "char_errors",
    "evaluate",
    "main",
    "normalise",
    "report_lines",
    "run_file",
    "run_page",
    "summarise",
    "table",
    "word_misses",
]

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
        # Invisible bidi marks and embeddings: Tesseract and pdftotext put them around
        # right-to-left text; they are not characters of the text.
        **dict.fromkeys("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e", None),
        **dict.fromkeys("\u2066\u2067\u2068\u2069", None),
        "\u015f": "\u0219",
        "\u0163": "\u021b",
        "\u015e": "\u0218",
        "\u0162": "\u021a",  # Romanian s and t with cedilla: the same letters as with comma
    }
)


def normalise(text: str) -> str:
    """NFC, typographic quotes and dashes folded to ASCII, bidi marks dropped, Romanian
    cedilla letters as comma letters, whitespace runs collapsed."""
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


@dataclass(frozen=True)
class Score:
    """What one page's truth entry says, and what the two runs made of it."""

    entry: dict[str, Any]
    before: Run
    after: Run
    klass: str = field(default="")

    @property
    def label(self) -> str:
        """The file's name, and the page number for a page of a multi-page file."""
        page = self.entry.get("page")
        return self.entry["file"] if page is None else f"{self.entry['file']} p{page + 1}"

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

    def errors(self, run: Run, *, words: bool = False, tool: str = BASE_TOOL) -> tuple[int, int]:
        """Character (or, with ``words``, order-free word) errors of ``tool``'s text and the
        truth's length (for ``layout`` the truth as the lines sit on the page)."""
        measure = word_misses if words else char_errors
        truth = self.entry["text"]
        if tool == "layout":
            truth = self.entry.get("layout_text", truth)
        text = run.ocr_text if tool == OCR_TEXT else run.texts.get(tool, "")
        return measure("" if run.error is not None else text, truth)


def _ingest_runner(lang: str) -> Runner:
    try:
        from briefkasten import ingest
    except ImportError as exc:
        raise SystemExit(f"cannot import briefkasten.ingest: {exc}") from exc

    def run(image: Path, output: Path, pipeline: str) -> Any:
        return ingest([image], output=output, pipeline=pipeline, lang=lang)

    return run


def _by_file(entries: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The truth entries grouped by file, files and pages in the order of ``entries``."""
    files: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        files.setdefault(entry["file"], []).append(entry)
    return files


def evaluate(
    entries: Sequence[dict[str, Any]],
    set_dir: Path,
    out_dir: Path,
    runner: Runner,
    *,
    before: str = "ocr-only",
    after: str = "default",
    tools: tuple[str, ...] = TOOLS,
    before_tools: tuple[str, ...] = (BASE_TOOL,),
    klass: str = "",
    progress: Callable[[str], None] | None = None,
) -> list[Score]:
    """Run both pipelines on every file of a generated set, once each, and score its pages;
    the ``after`` output is read with every tool of ``tools``, ``before`` with
    ``before_tools``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = []
    for name, group in _by_file(entries).items():
        image, stem = set_dir / name, Path(name).stem
        pages = [e.get("page", 0) for e in group]
        runs = [
            run_file(runner, image, out_dir / f"{stem}.{p}.pdf", p, pages=pages, tools=t)
            for p, t in ((before, before_tools), (after, tools))
        ]
        scores += [Score(e, a, b, klass) for e, a, b in zip(group, *runs, strict=True)]
        if progress:
            took = [sum(r.seconds for r in pipeline_runs) for pipeline_runs in runs]
            progress(f"{klass or '-'} {name}: {took[0]:.1f}s / {took[1]:.1f}s")
    return scores


def _rate(
    scores: Sequence[Score], which: str, *, words: bool = False, tool: str = BASE_TOOL
) -> float | None:
    pairs = [s.errors(getattr(s, which), words=words, tool=tool) for s in scores]
    total = sum(n for _, n in pairs)
    return None if total == 0 else sum(d for d, _ in pairs) / total


def summarise(scores: Sequence[Score], tools: Sequence[str] = TOOLS) -> dict[str, float | None]:
    """The figures ``make eval`` prints, by name (per class and for all pages)."""
    skew_errors = [e for s in scores if (e := s.skew_error) is not None]
    photos = [s for s in scores if s.entry["phone_photo"]]
    flat = [s for s in scores if not s.entry["phone_photo"]]
    files: dict[tuple[str, str], bool] = {}
    for s in scores:  # a file is upright when every page of it is
        key = (s.klass, s.entry["file"])
        files[key] = files.get(key, True) and s.orientation_ok
    summary: dict[str, float | None] = {
        "pages": float(len(scores)),
        "files": float(len(files)),
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
        "file_orientation_accuracy": sum(files.values()) / len(files) if files else None,
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
    }
    for tool in tools:
        summary[f"cer_{tool}"] = _rate(scores, "after", tool=tool)
    summary |= {
        "word_miss_before": _rate(scores, "before", words=True),
        "word_miss_after": _rate(scores, "after", words=True),
        "seconds_per_page_before": mean(s.before.seconds for s in scores) if scores else None,
        "seconds_per_page_after": mean(s.after.seconds for s in scores) if scores else None,
    }
    return summary | language_figures(scores)


def table(scores: Sequence[Score]) -> str:
    """A compact per-page table: expected and found skew and rotation, CER before and after
    (``raw``), after in plain ``pdftotext``, the order-free word misses, seconds per run."""
    head = (
        f"{'class':<12} {'file':<34} {'skew':>6} {'got':>6} {'err':>5} {'rot':>4} {'got':>4} "
        f"{'persp':>5} {'cer0':>6} {'cer1':>6} {'plain':>6} {'wmiss1':>6} {'s0':>5} {'s1':>5}"
    )
    rows = [head, "-" * len(head)]
    for s in scores:
        exp = s.entry["expected"]
        persp = (
            "-"
            if s.after.perspective_corrected is None
            else ("yes" if s.after.perspective_corrected else "no")
        )
        rates = [
            d / max(1, n)
            for d, n in (
                s.errors(s.before),
                s.errors(s.after),
                s.errors(s.after, tool="plain"),
                s.errors(s.after, words=True),
            )
        ]
        rows.append(
            f"{s.klass[:12]:<12} {s.label[:34]:<34} {fmt(exp['skew_degrees'], '+.1f'):>6} "
            f"{fmt(s.after.skew_degrees, '+.1f'):>6} {fmt(s.skew_error):>5} "
            f"{exp['rotation']:>4} {fmt(s.after.rotation, 'd'):>4} {persp:>5} "
            + " ".join(f"{r:>6.3f}" for r in rates)
            + f" {s.before.seconds:>5.1f} {s.after.seconds:>5.1f}"
        )
    for s in scores:
        for name, run in (("before", s.before), ("after", s.after)):
            if run.error:
                rows.append(f"FAILED {s.label} ({name}): {run.error}")
        if not s.after.error and not s.orientation_ok:
            rows.append(
                f"WRONG ORIENTATION {s.label}: expected {s.entry['expected']['rotation']}, "
                f"got {s.after.rotation}; {s.after.decision or 'no orientation step'}"
            )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m samples.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--classes", help=f"comma-separated classes (default all: {','.join(classes.CLASSES)})"
    )
    parser.add_argument(
        "--count-per-class",
        type=int,
        help="pages per class (default 4; languages: 30, every document of its ten languages)",
    )
    parser.add_argument("--seed", type=int, default=0, help="sample seed (default 0)")
    parser.add_argument("--dpi", type=int, default=300, help="render resolution (default 300)")
    parser.add_argument(
        "--workdir", type=Path, help="keep the sets and PDFs here (default: a temp dir)"
    )
    parser.add_argument("--lang", default="deu", help="OCR language (default deu)")
    parser.add_argument("--before", default="ocr-only", help="baseline pipeline (default ocr-only)")
    parser.add_argument("--after", default="default", help="pipeline under test (default default)")
    args = parser.parse_args(argv)
    try:
        chosen = classes.select(args.classes)
    except ValueError as exc:
        parser.error(str(exc))
    if args.count_per_class is not None and args.count_per_class < 1:
        parser.error("--count-per-class must be at least 1")
    if shutil.which("pdftotext") is None:
        print("pdftotext not found (Debian package poppler-utils)", file=sys.stderr)
        return 2
    runner = _ingest_runner(args.lang)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="briefkasten-eval-"))
    per_class: dict[str, list[Score]] = {}
    try:
        for name, plans in classes.plans_of(chosen, args.seed, args.count_per_class).items():
            set_dir = workdir / "set" / name
            entries = write_plans(set_dir, plans, dpi=args.dpi, seed=args.seed)
            per_class[name] = evaluate(
                entries,
                set_dir,
                workdir / "out" / name,
                runner,
                before=args.before,
                after=args.after,
                klass=name,
                progress=lambda m: print(m, file=sys.stderr),
            )
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    every = [s for scores in per_class.values() for s in scores]
    summaries = {name: summarise(scores) for name, scores in per_class.items()}
    overall = summarise(every)
    print(table(every))
    print()
    print(class_table(summaries, overall))
    print()
    for name, summary in summaries.items():
        print("\n".join(report_lines(summary, prefix=f"{name}.")))
    print("\n".join(report_lines(overall)))
    return 1 if overall["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
