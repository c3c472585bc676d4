"""Pages that fool a line-statistics orientation check, with known text.

Latin text has more ink above the x-height band (ascenders, capitals, dots) than below the
baseline, which is what ``briefkasten.pipeline.orientation``'s cheap check reads. A page set
only in x-height letters and descenders (``g j p q y``: "morgen gegen ganz genau wegen
sorgen") has it the other way round, so the check confidently turns it upside down: the case of
issue 11, where OCR then read mirror-gibberish. ``mixed_rotation_tiff`` writes such pages (and
ordinary ones) as one multi-page TIFF, each page lying in its own quarter turn.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image

from samples.degrade import quarter_turn
from samples.generate import render_page
from samples.sheet import Sheet

#: Real words (mostly German) written without ascenders, capitals or umlauts.
_WORDS = (
    "morgen gegen ganz genau wegen sorgen wenn man nun neue mengen sparen zugang von sprung "
    "sagen suppe rosen wer roggen vom wagen zog gern sonnen regen nagen zwar mager genug quer "
    "grau pause zug spur ozean messer nase rasen gras so sorge sagen wogen reger ganzer magen "
    "presse pressen summe summen person personen nummer nummern waren ware "
    "anzug anzeige verzug vorzug ursprung wagnis sonne sonnig ruppig gering geringe"
)
DESCENDER_WORDS = tuple(_WORDS.split())


def render_descender_page(*, seed: int, dpi: int = 200, lines: int = 14) -> tuple[Image.Image, str]:
    """An upright A4 page of ``lines`` lines of descender-heavy words, and its exact text."""
    rng = random.Random(f"descender:{seed}")
    sheet = Sheet(dpi=dpi, family="DejaVuSans")
    for _ in range(lines):
        words = [rng.choice(DESCENDER_WORDS) for _ in range(rng.randint(4, 6))]
        sheet.text(" ".join(words), 16, leading=1.8)
    return sheet.finish()


def mixed_rotation_tiff(
    path: Path, turns: tuple[int, ...], *, seed: int = 0, dpi: int = 200, kind: str = "descender"
) -> tuple[Path, list[str]]:
    """A multi-page grey TIFF: page *i* is a page of ``kind`` (``descender`` or one of the
    sample kinds) turned ``turns[i]`` quarter turns counter-clockwise; and each page's text."""
    frames: list[Image.Image] = []
    texts: list[str] = []
    for index, turn in enumerate(turns):
        if kind == "descender":
            image, text = render_descender_page(seed=seed + index, dpi=dpi)
        else:
            image, text = render_page(kind, seed=seed + index, dpi=dpi)
        frames.append(quarter_turn(image, turn).convert("L"))
        texts.append(text)
    frames[0].save(
        path,
        save_all=True,
        append_images=frames[1:],
        dpi=(dpi, dpi),
        compression="tiff_deflate",
    )
    return path, texts
