"""The in-process JPEG sniff (``sniff.sniff_jpeg``: our marker walk, no library parser)
decides as the sandboxed ``sniff`` does, on good, cut, hostile and mislabelled files; the
gateway's ``UploadChecks``, the worker and ``ingest`` (``document.local_originals``,
``page_refs``) use it for JPEGs only (everything else in the sandbox)."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import cast

import pytest
from PIL import Image

from briefkasten.config import LimitSettings, Settings
from briefkasten.errors import InputRejected
from briefkasten.gateway.checks import UploadChecks
from briefkasten.pipeline.document import local_originals
from briefkasten.pipeline.pool import PagePool
from briefkasten.pipeline.sniff import Sniffed, sniff, sniff_jpeg
from tests.support import factories, hostile

LIMITS = LimitSettings()


def jpeg(**save: object) -> bytes:
    buffer = io.BytesIO()
    factories.text_page(size=(620, 877)).save(buffer, format="JPEG", **save)
    return buffer.getvalue()


def with_frame_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` with its SOF0 header claiming ``width``×``height`` (a decompression bomb)."""
    at = data.index(b"\xff\xc0")
    return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]


def exif_thumbnail_cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


CASES: dict[str, Callable[[Path], bytes]] = {
    "baseline": lambda tmp: jpeg(quality=85),
    "progressive": lambda tmp: jpeg(quality=85, progressive=True),
    "cmyk": lambda tmp: _cmyk(),
    "trailer": lambda tmp: jpeg() + b"PK\x03\x04 appended zip",
    "cut in half": lambda tmp: exif_thumbnail_cut(jpeg()),
    "cut at the end": lambda tmp: jpeg()[:-2],
    "bomb 60000x60000": lambda tmp: with_frame_size(jpeg(), 60000, 60000),
    "zero height": lambda tmp: with_frame_size(jpeg(), 620, 0),
    "100 scans": lambda tmp: hostile.progressive_jpeg_with_repeated_scans(
        tmp / "scans.jpg"
    ).read_bytes(),
    "only the magic": lambda tmp: b"\xff\xd8\xff",
    "magic then garbage": lambda tmp: b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40,
    "empty": lambda tmp: b"",
}


def _cmyk() -> bytes:
    buffer = io.BytesIO()
    Image.new("CMYK", (300, 400), (0, 0, 0, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def outcome(fn: Callable[[Path, LimitSettings], object], path: Path) -> str:
    try:
        result = fn(path, LIMITS)
    except InputRejected as exc:
        return type(exc).__name__
    return repr(result)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_in_process_sniff_decides_as_the_sandboxed_one(tmp_path: Path, case: str) -> None:
    path = tmp_path / "upload.jpg"
    path.write_bytes(CASES[case](tmp_path))
    assert outcome(sniff_jpeg, path) == outcome(sniff, path)


def test_the_decisions_are_the_expected_ones(tmp_path: Path) -> None:
    decided = {}
    for case, make in CASES.items():
        path = tmp_path / f"{len(decided)}.jpg"
        path.write_bytes(make(tmp_path))
        decided[case] = outcome(sniff_jpeg, path)
    accepted = {c for c, o in decided.items() if o.startswith("Sniffed")}
    assert accepted == {"baseline", "progressive", "cmyk", "trailer"}
    assert decided["bomb 60000x60000"] == "LimitExceeded"
    assert decided["100 scans"] == "TooComplex"
    assert decided["empty"] == "EmptyInput"
    assert decided["cut in half"] == decided["cut at the end"] == "CorruptInput"


def test_a_file_that_is_not_a_jpeg_is_not_taken(tmp_path: Path) -> None:
    path = tmp_path / "page.png"
    factories.text_page(size=(100, 100)).save(path)
    assert outcome(sniff_jpeg, path) == "UnsupportedType"


def test_the_gateway_sniffs_jpegs_in_process_and_the_rest_in_the_sandbox(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = UploadChecks(settings)
    sandboxed: list[str] = []

    def run(fn: Callable[..., object], *args: object) -> object:
        sandboxed.append(fn.__name__)
        return fn(*args)  # the test's stand-in for the child

    monkeypatch.setattr(checks.sniffs, "run", run)
    photo = tmp_path / "foto.jpg"
    photo.write_bytes(jpeg())
    page = tmp_path / "seite.png"
    factories.text_page(size=(100, 100)).save(page)
    assert checks.sniff(photo).media_type == "image/jpeg"
    assert sandboxed == []
    assert checks.sniff(page).media_type == "image/png"
    assert sandboxed == ["sniff"]


def test_the_worker_and_ingest_sniff_jpegs_in_process_too(
    tmp_path: Path, settings: Settings
) -> None:
    sandboxed: list[str] = []

    class Pool:  # the test's stand-in for the page pool's children
        def call(self, fn: Callable[..., Sniffed], *args: object, budget: object) -> Sniffed:
            sandboxed.append(fn.func.__name__ if isinstance(fn, partial) else fn.__name__)
            return fn(*args)

    photo = tmp_path / "foto.jpg"
    photo.write_bytes(jpeg())
    page = tmp_path / "seite.png"
    factories.text_page(size=(100, 100)).save(page)
    originals, refs = local_originals([photo], settings, cast(PagePool, Pool()))
    assert [(o.media_type, r.kind) for o, r in zip(originals, refs, strict=True)] == [
        ("image/jpeg", "raster")
    ]
    assert sandboxed == []
    originals, refs = local_originals([photo, page], settings, cast(PagePool, Pool()))
    assert [o.media_type for o in originals] == ["image/jpeg", "image/png"]
    assert sandboxed == ["sniff"]
    with pytest.raises(InputRejected) as refused:  # refused as the sandboxed sniff refuses it
        (tmp_path / "kaputt.jpg").write_bytes(jpeg()[:200])
        local_originals([tmp_path / "kaputt.jpg"], settings, cast(PagePool, Pool()))
    assert refused.value.source == "kaputt.jpg"
    assert sandboxed == ["sniff"]
