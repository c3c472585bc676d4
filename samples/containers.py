"""Several scanned pages in one file, as a scanner writes them: a multi-page TIFF or an
image-only PDF.

``save_pages`` writes the frames of :class:`samples.generate.MultiPagePlan` in ``CONTAINERS``:
``tiff`` (Pillow's ``save_all``, deflate-compressed, one frame per page, each in its own size,
so a page lying on its side is a landscape frame) or ``pdf`` (one JPEG per page embedded by
img2pdf without re-encoding, page size from the resolution: no text, as from a scanner).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import img2pdf
from PIL import Image

#: The file types a multi-page sample can be, and their file name endings.
CONTAINERS = {"tiff": ".tif", "pdf": ".pdf"}


def _dpi(frame: Image.Image) -> tuple[float, float]:
    dpi = frame.info.get("dpi", (300, 300))
    return float(dpi[0]), float(dpi[1])


def save_tiff(frames: Sequence[Image.Image], path: Path) -> None:
    """``frames`` as the pages of one deflate-compressed TIFF (the first frame's resolution)."""
    frames[0].save(
        path,
        format="TIFF",
        save_all=True,
        append_images=list(frames[1:]),
        dpi=_dpi(frames[0]),
        compression="tiff_deflate",
    )


def save_pdf(frames: Sequence[Image.Image], path: Path, *, quality: int = 90) -> None:
    """``frames`` as the pages of one image-only PDF: a JPEG per page, at its resolution."""
    jpegs = []
    for frame in frames:
        buffer = io.BytesIO()
        frame.convert("RGB").save(buffer, format="JPEG", quality=quality, dpi=_dpi(frame))
        jpegs.append(buffer.getvalue())
    layout = img2pdf.get_fixed_dpi_layout_fun(_dpi(frames[0]))
    path.write_bytes(img2pdf.convert(jpegs, layout_fun=layout))


def save_pages(
    frames: Sequence[Image.Image], path: Path, container: str, *, quality: int = 90
) -> None:
    """Write ``frames`` (at least one) to ``path`` as one file of type ``container``."""
    if not frames:
        raise ValueError("a file needs at least one page")
    if container == "tiff":
        save_tiff(frames, path)
    elif container == "pdf":
        save_pdf(frames, path, quality=quality)
    else:
        raise ValueError(f"unknown container {container!r}; choose one of {', '.join(CONTAINERS)}")
