"""Measure the dewarp step on generated curved and folded phone photos.

Usage::

    python -m samples.warps [--count 4] [--seed 0] [--dpi 300] [--workdir DIR] [--lang deu]

generates ``--count`` curved and ``--count`` folded photos (:func:`samples.generate.make_sample`
with ``Plan.warp``), runs each through ``briefkasten.ingest`` three times — ``ocr-only`` (no
normalisation), ``default`` without its ``dewarp`` step (written to a temporary pipeline
directory) and ``default`` — and prints the character error rate (CER, as in
:mod:`samples.evaluate`) per page and per warp, plus ``warps NAME VALUE`` lines. Exit status 1
when a run failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from samples.evaluate import char_errors, word_misses
from samples.extract import pdf_text
from samples.generate import KINDS, Plan, make_sample

PIPELINES = ("ocr-only", "no-dewarp", "default")


#: Folded pages: text pages first, each kind with its crease down the page (even seed) and
#: across it (odd seed).
FOLDED_KINDS = (
    "mietvertrag", "brief", "brief", "mietvertrag",
    "kontoauszug", "lohnabrechnung", "lohnabrechnung", "kontoauszug",
)  # fmt: skip


def warp_plans(count: int, seed: int) -> list[Plan]:
    """``count`` curved and ``count`` folded phone photos on consecutive seeds: curved pages of
    every kind in turn, folded ones as in :data:`FOLDED_KINDS`."""
    plans = []
    for i in range(count):
        plans.append(Plan(KINDS[i % len(KINDS)], seed * 1000 + 500 + i, photo=True, warp="curved"))
    for i in range(count):
        kind = FOLDED_KINDS[i % len(FOLDED_KINDS)]
        plans.append(Plan(kind, seed * 1000 + 500 + i, photo=True, warp="folded"))
    return plans


def write_pipelines(directory: Path, source: Path) -> None:
    """``ocr-only`` and ``default`` from ``source``, and ``no-dewarp``: default without dewarp."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("ocr-only", "default"):
        shutil.copy(source / f"{name}.toml", directory / f"{name}.toml")
    text = (source / "default.toml").read_text(encoding="utf-8")
    steps = tomllib.loads(text)["steps"]
    lines = ['name = "no-dewarp"', 'version = "1"', 'description = "default without dewarp"']
    for step in steps:
        if step["use"] == "dewarp":
            continue
        lines.append("\n[[steps]]")
        lines += [f"{key} = {_toml(value)}" for key, value in step.items()]
    (directory / "no-dewarp.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


#: The runs per page: (column, pipeline, photographed flat instead of warped).
RUNS = (
    ("ocr-only", "ocr-only", False),
    ("no-dewarp", "no-dewarp", False),
    ("default", "default", False),
    ("flat", "default", True),
)
TEXT_KINDS = ("brief", "mietvertrag")  # running text; the others are tables (reading order)


def _run(ingest: Any, image: Path, out: Path, pipeline: str, **options: Any) -> tuple[str, Any]:
    try:
        result = ingest([image], out, pipeline=pipeline, **options)
        return pdf_text(out), result
    except Exception as exc:  # every failure is reported per page
        print(f"FAILED {image.name} ({pipeline}): {type(exc).__name__}", file=sys.stderr)
        return "", None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m samples.warps",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--count", type=int, default=4, help="pages per warp (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="sample seed (default 0)")
    parser.add_argument("--dpi", type=int, default=300, help="render resolution (default 300)")
    parser.add_argument("--workdir", type=Path, help="keep photos and PDFs here (default: temp)")
    parser.add_argument("--lang", default="deu", help="OCR language (default deu)")
    args = parser.parse_args(argv)
    from briefkasten import PagePool, ingest, load_settings
    from briefkasten.pipeline.sandbox import page_bounds

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="briefkasten-warps-"))
    settings = load_settings()
    write_pipelines(workdir / "pipelines", settings.pipeline.directory)
    settings = dataclasses.replace(
        settings,
        pipeline=dataclasses.replace(settings.pipeline, directory=workdir / "pipelines"),
    )
    totals: dict[str, list[int]] = {}
    failures = 0
    print(f"{'file':<36} {'axis':>4} {'bow':>6} " + " ".join(f"{c:>9}" for c, _, _ in RUNS))
    try:
        with PagePool(1, page_bounds(settings.sandbox)) as pool:
            for index, plan in enumerate(warp_plans(args.count, args.seed)):
                images: dict[bool, Path] = {}
                warp: dict[str, Any] = {}
                truth = ""
                for flat in (False, True):  # the same page warped, and photographed flat
                    sample = dataclasses.replace(plan, warp=None) if flat else plan
                    img, entry = make_sample(sample, dpi=args.dpi)
                    images[flat] = workdir / sample.name(index)
                    img.save(images[flat], quality=90)
                    warp = warp or entry["warp_params"]
                    truth = entry["text"]
                cers, step = [], ""
                for column, pipeline, flat in RUNS:
                    image = images[flat]
                    out = workdir / f"{image.stem}.{column}.pdf"
                    text, result = _run(
                        ingest, image, out, pipeline, settings=settings, lang=args.lang, pool=pool
                    )
                    failures += result is None
                    errors, length = char_errors(text, truth)
                    missed, words = word_misses(text, truth)
                    group = "text" if plan.kind in TEXT_KINDS else "table"
                    for key in (f"{plan.warp}_{column}", f"{plan.warp}_{group}_{column}"):
                        acc = totals.setdefault(key, [0, 0, 0, 0])
                        for i, v in enumerate((errors, length, missed, words)):
                            acc[i] += v
                    cers.append(errors / max(1, length))
                    if result is not None and column == "default":
                        history = result.pages[0].history
                        step = next((r.detail for r in history if r.step == "dewarp"), "")
                print(
                    f"{images[False].name:<36} {warp['axis']:>4} {warp['bow']:>6.3f} "
                    + " ".join(f"{c:>9.3f}" for c in cers)
                    + f"  {step[:60]}"
                )
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    for key, (errors, length, missed, words) in sorted(totals.items()):
        name = key.replace("-", "_")
        print(f"warps {name}_cer {errors / max(1, length):.4f}")
        print(f"warps {name}_word_miss {missed / max(1, words):.4f}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
