"""The classes of pages ``make eval`` measures, each a name and the samples it generates.

A class is one :class:`EvalClass` in ``CLASSES``: its name, a line saying what it covers, and
a function ``(seed, count) -> list[Sample]`` giving ``count`` files, each a
:class:`samples.generate.Plan` (one page) or a :class:`samples.generate.MultiPagePlan` (one file
of several pages; deterministic in ``seed``; magnitudes drawn from a ``random.Random`` seeded
with the class name). Adding a class is adding one entry (see ``warp_plans`` for the curved and
folded photos, ``multi_page_plans`` for files of several pages).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from samples.generate import MultiPagePlan, Plan, Sample

PlanMaker = Callable[[int, int], Sequence[Sample]]  # (seed, count) -> one plan per file

#: Pages per class unless the class or ``--count-per-class`` says otherwise.
DEFAULT_COUNT = 4
_TEXT_KINDS = ("brief", "mietvertrag", "kontoauszug", "lohnabrechnung")


@dataclass(frozen=True)
class EvalClass:
    """A named set of generated pages, measured together."""

    name: str
    description: str
    plans: PlanMaker
    #: Pages when ``--count-per-class`` is not given (0: the evaluation's default).
    default_count: int = 0


def _seed(seed: int, klass: int, index: int) -> int:
    """The document seed of page ``index`` of class number ``klass`` (distinct per class)."""
    return seed * 10_000 + klass * 1_000 + index + 1


def _rng(name: str, seed: int) -> random.Random:
    return random.Random(f"eval:{name}:{seed}")


def skew_plans(seed: int, count: int) -> list[Plan]:
    """Flat scans skewed 2–20°, alternating direction, white and black scanner borders."""
    r = _rng("skew", seed)
    plans = []
    for i in range(count):
        sign = 1 if i % 2 == 0 else -1
        plans.append(
            Plan(
                _TEXT_KINDS[i % len(_TEXT_KINDS)],
                _seed(seed, 1, i),
                skew=round(sign * r.uniform(2.0, 20.0), 2),
                border="black" if (i // 2) % 2 else "white",
                fmt="jpg" if i % 3 == 2 else "png",
            )
        )
    return plans


def rotation_plans(seed: int, count: int) -> list[Plan]:
    """Pages turned a quarter, half and three quarters (in turn), slightly skewed too."""
    r = _rng("rotation", seed)
    return [
        Plan(
            _TEXT_KINDS[(i + 1) % len(_TEXT_KINDS)],
            _seed(seed, 2, i),
            skew=round(r.choice((-1, 1)) * r.uniform(0.0, 2.0), 2),
            border="black" if i % 2 else "white",
            turns=1 + i % 3,
        )
        for i in range(count)
    ]


def photo_plans(seed: int, count: int) -> list[Plan]:
    """Phone photos: perspective, shadow, blur, a 72-dpi tag."""
    return [
        Plan(_TEXT_KINDS[(i + 2) % len(_TEXT_KINDS)], _seed(seed, 3, i), photo=True)
        for i in range(count)
    ]


def multi_column_plans(seed: int, count: int) -> list[Plan]:
    """The Merkblatt: two or three text columns and a mixed-font paragraph, upright or
    skewed by up to 3°."""
    r = _rng("multi-column", seed)
    return [
        Plan(
            "merkblatt",
            _seed(seed, 4, i),
            skew=0.0 if i % 2 == 0 else round(r.choice((-1, 1)) * r.uniform(0.5, 3.0), 2),
        )
        for i in range(count)
    ]


def table_plans(seed: int, count: int) -> list[Plan]:
    """Bank statements and pay slips (tables with wide column gaps), upright or slightly
    skewed."""
    r = _rng("tables", seed)
    return [
        Plan(
            ("kontoauszug", "lohnabrechnung")[i % 2],
            _seed(seed, 5, i),
            skew=0.0 if (i // 2) % 2 == 0 else round(r.choice((-1, 1)) * r.uniform(0.5, 2.0), 2),
            fmt="jpg" if i % 2 else "png",
        )
        for i in range(count)
    ]


#: The quarter turns of the pages of the multi-page files, file by file in turn: three
#: different ones in each file, all four over the first two files.
_PAGE_TURNS = ((0, 1, 2), (1, 3, 2), (2, 0, 3), (3, 2, 1))


def multi_page_plans(seed: int, count: int) -> list[MultiPagePlan]:
    """Files of three scanned pages, a multi-page TIFF and an image-only PDF in turn: each
    page a different kind of document, turned its own way (0/90/180, 90/270/180, ...) and
    skewed by up to 2°."""
    r = _rng("multi-page", seed)
    plans = []
    for i in range(count):
        turns = _PAGE_TURNS[i % len(_PAGE_TURNS)]
        pages = tuple(
            Plan(
                _TEXT_KINDS[(i + k) % len(_TEXT_KINDS)],
                _seed(seed, 8, len(turns) * i + k),
                skew=round(r.choice((-1, 1)) * r.uniform(0.3, 2.0), 2),
                turns=turn,
            )
            for k, turn in enumerate(turns)
        )
        plans.append(MultiPagePlan(pages, container=("tiff", "pdf")[i % 2]))
    return plans


def language_plans(seed: int, count: int) -> list[Plan]:
    """Pages in the OCR's ten languages, language after language: the certificates first,
    then the rent receipts (skewed 1.5°, as a flat scan may be), then the letters; 30 pages
    hold every document once (two fonts per script, in turn)."""
    from samples.langpages import kind
    from samples.langtexts import LANGUAGES

    plans = []
    for i in range(count):
        lang, document = LANGUAGES[i % len(LANGUAGES)], (i // len(LANGUAGES)) % 3
        skew = 1.5 if document == 1 else 0.0
        plans.append(Plan(kind(lang, document), _seed(seed, 9, i), skew=skew))
    return plans


def warp_plans(warp: str, klass: int) -> PlanMaker:
    """Phone photos of letters and rent contracts bent around a cylinder (``curved``) or
    folded (``folded``), the warps of :func:`samples.degrade.warped_photo`. Text pages only:
    on tables the reading order, not the warp, dominates the CER (the ``tables`` class)."""

    def plans(seed: int, count: int) -> list[Plan]:
        return [
            Plan(("brief", "mietvertrag")[i % 2], _seed(seed, klass, i), photo=True, warp=warp)
            for i in range(count)
        ]

    return plans


CLASSES: dict[str, EvalClass] = {
    c.name: c
    for c in (
        EvalClass("skew", "flat scans skewed both ways, white and black borders", skew_plans),
        EvalClass("rotation", "pages turned 90, 180 and 270 degrees", rotation_plans),
        EvalClass("photos", "phone photos of whole pages", photo_plans),
        EvalClass("multi-column", "two or three text columns, mixed fonts", multi_column_plans),
        EvalClass("tables", "bank statements and pay slips", table_plans),
        EvalClass("curved", "phone photos of curved pages", warp_plans("curved", 6)),
        EvalClass("folded", "phone photos of folded pages", warp_plans("folded", 7)),
        EvalClass("multi-page", "3-page TIFF and PDF scans, pages turned apart", multi_page_plans),
        EvalClass("languages", "the OCR's ten languages, three scripts", language_plans, 30),
    )
}


def select(names: str | None) -> list[EvalClass]:
    """The classes named in the comma-separated ``names`` (all when ``None`` or empty), in the
    registry's order; an unknown name raises ``ValueError``."""
    if not names:
        return list(CLASSES.values())
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in CLASSES]
    if unknown:
        raise ValueError(f"unknown class {', '.join(unknown)}; choose from {', '.join(CLASSES)}")
    return [c for name, c in CLASSES.items() if name in wanted]


def plans_of(
    classes: Sequence[EvalClass], seed: int, count: int | None
) -> dict[str, Sequence[Sample]]:
    """Each class's ``count`` plans (one per file) for ``seed``, by class name; without
    ``count`` its ``default_count`` (else ``DEFAULT_COUNT``)."""
    return {c.name: c.plans(seed, count or c.default_count or DEFAULT_COUNT) for c in classes}
