"""Generate German job-center sample pages with known text, and degraded variants of them.

Usage::

    python -m samples.generate --out DIR --count N [--seed S] [--dpi 300]
    python -m samples.generate --small-demo [--out samples/set]

writes the pages (PNG/JPEG) and ``DIR/truth.json``: for every file its kind, seed, the skew
applied (degrees counter-clockwise), quarter turns, whether it is a phone photo, the values a
correct report shows (``expected.skew_degrees == -skew``, ``expected.rotation == 90 * turns``)
and the exact text drawn in reading order (and, for pages with text columns side by side,
``layout_text``: the lines as they sit on the page). The same seed always gives the same files.
A :class:`MultiPagePlan` writes several such pages into one file (a multi-page TIFF or an
image-only PDF), with one truth entry per page (``page``: its 0-based index in the file).

Rendered with Pillow and TrueType fonts rather than by a PDF toolkit so that the text is known
line by line and the pages look like print, not like born-digital PDFs.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from samples import langpages
from samples.containers import CONTAINERS, save_pages
from samples.degrade import WARPS, low_resolution, phone_photo, quarter_turn, skew, warped_photo
from samples.layouts import LAYOUTS, layout_form
from samples.sheet import MONO, Sheet, available_fonts

__all__ = [
    "KINDS",
    "MultiPagePlan",
    "Plan",
    "Sample",
    "available_fonts",
    "generate_set",
    "low_resolution",
    "make_sample",
    "page_plans",
    "phone_photo",
    "quarter_turn",
    "render_form",
    "render_page",
    "render_sheet",
    "skew",
    "warped_photo",
    "write_plans",
    "write_small_demo",
]

KINDS = ("brief", "kontoauszug", "mietvertrag", "lohnabrechnung", "merkblatt")
DEMO_DIR = Path(__file__).resolve().parent / "set"


def _sheet(rng: random.Random, dpi: int, family: str) -> Sheet:
    margins = (rng.uniform(20, 25), rng.uniform(12, 18), rng.uniform(15, 20), rng.uniform(12, 16))
    paper = rng.choice(((255, 255, 255), (252, 251, 247), (248, 248, 246)))
    ink = rng.choice(((20, 20, 25), (35, 35, 40), (10, 10, 40)))
    return Sheet(dpi=dpi, family=family, margins=margins, ink=ink, paper=paper)


def _family(rng: random.Random, kind: str, font: str | None) -> str:
    fonts = available_fonts()
    if not fonts:
        raise RuntimeError("no fonts found; install fonts-dejavu-core and fonts-liberation2")
    if font is not None:
        if font not in fonts:
            raise ValueError(f"font {font!r} not available; choose one of {', '.join(fonts)}")
        return font
    mono = [f for f in fonts if f in MONO]
    if kind in ("kontoauszug", "lohnabrechnung") and mono and rng.random() < 0.4:
        return rng.choice(mono)
    return rng.choice([f for f in fonts if f not in MONO] or list(fonts))


def render_sheet(kind: str, *, seed: int, dpi: int = 300, font: str | None = None) -> Sheet:
    """The drawn :class:`Sheet` of a page of ``kind`` (``"form"`` or one of ``KINDS``)."""
    if kind == "form":
        rng = random.Random(f"form:{seed}")
        sheet = _sheet(rng, dpi, _family(rng, "form", None))
        layout_form(sheet, rng)
        return sheet
    if kind not in LAYOUTS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    rng = random.Random(f"{kind}:{seed}")
    sheet = _sheet(rng, dpi, _family(rng, kind, font))
    LAYOUTS[kind](sheet, rng)
    return sheet


def render_page(
    kind: str, *, seed: int, dpi: int = 300, font: str | None = None
) -> tuple[Image.Image, str]:
    """An upright RGB A4 page of ``kind`` at ``dpi`` (in ``img.info["dpi"]``) and its exact text."""
    if kind not in LAYOUTS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    return render_sheet(kind, seed=seed, dpi=dpi, font=font).finish()


def render_form(*, seed: int, dpi: int = 300) -> tuple[Image.Image, str]:
    """An upright A4 form: boxes, lines and check boxes with little text, and that text."""
    return render_sheet("form", seed=seed, dpi=dpi).finish()


@dataclass(frozen=True)
class Plan:
    """How one sample is made: the document and the degradations applied, in this order."""

    kind: str  # one of KINDS or "form"
    seed: int
    skew: float = 0.0  # degrees counter-clockwise
    border: str = "white"
    turns: int = 0  # quarter turns counter-clockwise
    photo: bool = False
    low_dpi: int | None = None
    fmt: str = "png"  # "png" | "jpg"; phone photos are always JPEG
    warp: str | None = None  # "curved" | "folded": the photographed page is bent (photo only)

    def __post_init__(self) -> None:
        if self.warp is not None and (self.warp not in WARPS or not self.photo):
            raise ValueError(f"warp {self.warp!r}: one of {', '.join(WARPS)}, on a phone photo")

    def name(self, index: int) -> str:
        parts = [f"{index:03d}", self.kind]
        if self.low_dpi:
            parts.append(f"{self.low_dpi}dpi")
        if self.skew:
            parts.append(f"skew{self.skew:+.1f}{'b' if self.border == 'black' else ''}")
        if self.turns % 4:
            parts.append(f"rot{90 * (self.turns % 4)}")
        if self.warp:
            parts.append(self.warp)
        if self.photo:
            parts.append("photo")
        return "_".join(parts) + (".jpg" if self.photo else f".{self.fmt}")


@dataclass(frozen=True)
class MultiPagePlan:
    """One scanned file of several pages, as a scanner writes it (``container``: a multi-page
    ``tiff`` or an image-only ``pdf``, see :mod:`samples.containers`), each page made by its
    own :class:`Plan`. Flat scans only (no phone photos, no low resolution: one resolution per
    file); a page's ``fmt`` is not used. Each page gets its own truth entry, with ``page``
    (0-based) and ``container``."""

    pages: tuple[Plan, ...]
    container: str = "tiff"

    def __post_init__(self) -> None:
        if self.container not in CONTAINERS:
            raise ValueError(f"container {self.container!r}: one of {', '.join(CONTAINERS)}")
        if not self.pages:
            raise ValueError("a multi-page plan needs at least one page")
        if any(p.photo or p.low_dpi for p in self.pages):
            raise ValueError("the pages of a multi-page file are flat scans at one resolution")

    def name(self, index: int) -> str:
        turns = "-".join(str(90 * (p.turns % 4)) for p in self.pages)
        return f"{index:03d}_{len(self.pages)}pages_rot{turns}{CONTAINERS[self.container]}"


#: What one generated file is made from: one page, or several in one file.
Sample = Plan | MultiPagePlan


def page_plans(sample: Sample) -> tuple[Plan, ...]:
    """The plans of the pages of ``sample``'s file, in order."""
    return sample.pages if isinstance(sample, MultiPagePlan) else (sample,)


def make_sample(plan: Plan, *, dpi: int = 300) -> tuple[Image.Image, dict[str, Any]]:
    """Render and degrade one sample; returns the image and its truth entry (without ``file``)."""
    language = None
    if plan.kind.startswith("lang-"):  # a document in one of the OCR's ten languages
        img, text, language = langpages.render_kind(plan.kind, dpi=dpi)
        layout_text = text
    else:
        sheet = render_sheet(plan.kind, seed=plan.seed, dpi=dpi)
        img, text = sheet.finish()
        layout_text = sheet.layout_truth()
    if plan.low_dpi:
        img = low_resolution(img, plan.low_dpi)
    if plan.skew:
        img = skew(img, plan.skew, border=plan.border)
    if plan.turns % 4:
        img = quarter_turn(img, plan.turns)
    corners = None
    warp = None
    if plan.photo and plan.warp:
        img, info = warped_photo(img, plan.warp, seed=plan.seed)
        corners, warp = info["corners"], info["warp"]
    elif plan.photo:
        img, info = phone_photo(img, seed=plan.seed)
        corners = info["corners"]
    entry: dict[str, Any] = {
        "kind": plan.kind,
        "seed": plan.seed,
        "dpi": img.info["dpi"][0],
        "skew": round(plan.skew, 2),
        "border": plan.border,
        "quarter_turns": plan.turns % 4,
        "phone_photo": plan.photo,
        "low_resolution": plan.low_dpi,
        "corners": corners,
        "expected": {
            # A phone photo's tilt is removed by the perspective correction, not by deskew.
            "skew_degrees": None if plan.photo else round(-plan.skew, 2) + 0.0,
            "rotation": 90 * (plan.turns % 4),
            "perspective_corrected": plan.photo,
        },
        "text": text,
    }
    if layout_text != text:
        entry["layout_text"] = layout_text
    if language is not None:
        entry["language"] = language
    if warp is not None:  # only on warped photos, so the other entries stay as they were
        entry["warp"] = plan.warp
        entry["warp_params"] = warp
        entry["expected"]["dewarped"] = True
    return img, entry


def coverage_plans(seed: int) -> list[Plan]:
    """Twelve plans that cover both skew directions up to 20°, every quarter turn, black
    borders, phone photos, a form and a low-resolution scan; magnitudes vary with ``seed``."""
    r = random.Random(f"plans:{seed}")
    s = seed * 1000
    return [
        Plan("brief", s + 1, fmt="png"),
        Plan("kontoauszug", s + 2, skew=r.uniform(2, 6), fmt="jpg"),
        Plan("mietvertrag", s + 3, skew=-r.uniform(5, 10), border="black"),
        Plan("lohnabrechnung", s + 4, skew=r.uniform(12, 20), fmt="jpg"),
        Plan("brief", s + 5, skew=-r.uniform(15, 20), border="black", fmt="jpg"),
        Plan("kontoauszug", s + 6, skew=r.choice((-1, 1)) * r.uniform(0.5, 1.5), turns=1),
        Plan("mietvertrag", s + 7, turns=2, low_dpi=150, fmt="jpg"),
        Plan("lohnabrechnung", s + 8, skew=-r.uniform(0.5, 2), border="black", turns=3),
        Plan("brief", s + 9, photo=True),
        Plan("form", s + 10, skew=r.uniform(3, 8), border="black"),
        Plan("lohnabrechnung", s + 11, photo=True),
        Plan("mietvertrag", s + 12, photo=True),
    ]


def random_plan(seed: int, index: int) -> Plan:
    """A random mix of document and degradations for samples beyond the coverage set."""
    r = random.Random(f"plan:{seed}:{index}")
    kind = "form" if r.random() < 0.1 else r.choice(KINDS)
    photo = r.random() < 0.2
    return Plan(
        kind=kind,
        seed=seed * 1000 + index + 1,
        skew=0.0 if photo or r.random() < 0.2 else r.choice((-1, 1)) * r.uniform(0.5, 20),
        border=r.choice(("white", "black")),
        turns=r.choice((0, 0, 0, 1, 2, 3)),
        photo=photo,
        low_dpi=r.choice((100, 150)) if r.random() < 0.15 else None,
        fmt=r.choice(("png", "jpg")),
    )


def _save(img: Image.Image, path: Path, *, quality: int = 90) -> None:
    dpi = img.info.get("dpi", (300, 300))
    if path.suffix == ".jpg":
        exif = Image.Exif()
        exif[0x0128] = 2  # ResolutionUnit: inch
        exif[0x011A] = float(dpi[0])  # XResolution
        exif[0x011B] = float(dpi[1])  # YResolution
        img.save(path, quality=quality, dpi=dpi, exif=exif)
    else:
        img.save(path, dpi=dpi)


def _write_file(path: Path, sample: Sample, *, dpi: int, quality: int) -> list[dict[str, Any]]:
    """Render ``sample``, write its file to ``path``; its truth entries (one per page)."""
    if isinstance(sample, Plan):
        img, entry = make_sample(sample, dpi=dpi)
        _save(img, path, quality=quality)
        return [{"file": path.name, **entry}]
    made = [make_sample(plan, dpi=dpi) for plan in sample.pages]
    save_pages([img for img, _ in made], path, sample.container, quality=quality)
    return [
        {"file": path.name, "page": index, "container": sample.container, **entry}
        for index, (_, entry) in enumerate(made)
    ]


def _write(
    out: Path, items: Sequence[tuple[str, Sample]], *, dpi: int, seed: int, quality: int
) -> list[dict[str, Any]]:
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for filename, sample in items:
        entries.extend(_write_file(out / filename, sample, dpi=dpi, quality=quality))
    truth = {"generator": "samples.generate", "seed": seed, "render_dpi": dpi, "pages": entries}
    (out / "truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return entries


def generate_set(out: Path, *, count: int, seed: int = 0, dpi: int = 300) -> list[dict[str, Any]]:
    """Write ``count`` degraded pages and ``truth.json`` to ``out``; returns the truth entries.

    The first twelve pages follow :func:`coverage_plans`; any further pages are random mixes.
    """
    plans = coverage_plans(seed)[:count] + [random_plan(seed, i) for i in range(12, count)]
    return write_plans(out, plans, dpi=dpi, seed=seed)


def write_plans(
    out: Path, plans: Sequence[Sample], *, dpi: int = 300, seed: int = 0
) -> list[dict[str, Any]]:
    """Write the files of ``plans`` (named by their ``name``) and ``truth.json`` to ``out``;
    returns the truth entries, one per page (a multi-page file has one per page, in order)."""
    return _write(
        out, [(p.name(i), p) for i, p in enumerate(plans)], dpi=dpi, seed=seed, quality=90
    )


def write_small_demo(out: Path = DEMO_DIR) -> list[dict[str, Any]]:
    """The small committed set (``samples/set``): four 150-dpi pages for tests and the README."""
    items = [
        ("brief-scan.png", Plan("brief", 1)),
        ("kontoauszug-skewed.jpg", Plan("kontoauszug", 2, skew=7.0, fmt="jpg")),
        ("mietvertrag-photo.jpg", Plan("mietvertrag", 3, photo=True)),
        ("lohnabrechnung-turned.png", Plan("lohnabrechnung", 4, skew=-1.5, turns=1)),
    ]
    return _write(out, items, dpi=150, seed=0, quality=85)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m samples.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, help="output directory (created)")
    parser.add_argument("--count", type=int, default=12, help="number of pages (default 12)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--dpi", type=int, default=300, help="render resolution (default 300)")
    parser.add_argument(
        "--small-demo",
        action="store_true",
        help="write the committed demo set (default --out samples/set)",
    )
    args = parser.parse_args(argv)
    if args.small_demo:
        entries = write_small_demo(args.out or DEMO_DIR)
        out = args.out or DEMO_DIR
    elif args.out is None:
        parser.error("--out is required (or use --small-demo)")
    elif args.count < 1:
        parser.error("--count must be at least 1")
    else:
        out = args.out
        entries = generate_set(out, count=args.count, seed=args.seed, dpi=args.dpi)
    for e in entries:
        print(
            f"{out / e['file']}  skew={e['skew']:+.2f}  turns={e['quarter_turns']}  "
            f"photo={e['phone_photo']}  lines={e['text'].count(chr(10)) + 1}"
        )
    print(f"{out / 'truth.json'}: {len(entries)} pages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
