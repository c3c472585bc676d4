"""The JPEG marker walker and cleaner: every segment, every scan, nothing after the end."""

from __future__ import annotations

import io
import mmap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from briefkasten.errors import CorruptInput, LimitExceeded
from briefkasten.pipeline.jpeg import clean_jpeg, jpeg_layout, scan_count

GPS = b"GPSLatitude 52.5200N"


def picture(progressive: bool = False, size: tuple[int, int] = (96, 64)) -> Image.Image:
    image = Image.new("RGB", size, "white")
    for x in range(0, size[0], 8):
        for y in range(0, size[1], 8):
            image.putpixel((x, y), (x * 2 % 256, y * 3 % 256, 90))
    return image


def jpeg(progressive: bool = False, exif: bool = False, image: Image.Image | None = None) -> bytes:
    buf = io.BytesIO()
    options: dict[str, object] = {"quality": 85, "progressive": progressive}
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "PhoneMaker"
        gps = tags.get_ifd(0x8825)
        gps[1] = "N"
        gps[2] = (52.0, 31.0, 12.0)
        options["exif"] = tags
    (image or picture()).save(buf, "JPEG", **options)
    return buf.getvalue()


def app1(payload: bytes) -> bytes:
    body = b"Exif\x00\x00" + payload
    return b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


def test_baseline_layout_reports_one_scan_and_the_end() -> None:
    data = jpeg(exif=True)
    layout = jpeg_layout(data)
    assert layout.scans == 1
    assert layout.end == len(data)
    assert layout.trailing == 0
    assert [s.kind for s in layout.metadata] == ["jfif", "exif"]
    assert [s.scans_before for s in layout.metadata] == [0, 0]


def test_progressive_layout_counts_every_scan() -> None:
    data = jpeg(progressive=True)
    layout = jpeg_layout(data)
    assert layout.scans > 3
    assert scan_count(data) == layout.scans
    assert sum(s.name == "SOS" for s in layout.segments) == layout.scans


def test_exif_between_progressive_scans_is_found_and_dropped() -> None:
    data = jpeg(progressive=True)
    second = [s for s in jpeg_layout(data).segments if s.name == "SOS"][1]
    hostile = data[: second.offset] + app1(GPS) + data[second.offset :]
    layout = jpeg_layout(hostile)
    exif = [s for s in layout.metadata if s.kind == "exif"]
    assert [s.scans_before for s in exif] == [1]
    cleaned = clean_jpeg(hostile)
    assert GPS not in cleaned and b"Exif" not in cleaned
    assert pixels(cleaned) == pixels(data)


def test_appended_data_and_second_jpeg_are_cut() -> None:
    data = jpeg()
    trailer = b"PK\x03\x04zip<html><script>alert(1)</script>" + jpeg(exif=True)
    layout = jpeg_layout(data + trailer)
    assert layout.end == len(data)
    assert layout.trailing == len(trailer)
    cleaned = clean_jpeg(data + trailer)
    assert b"PK\x03\x04" not in cleaned and b"<script>" not in cleaned
    assert b"Exif" not in cleaned and b"PhoneMaker" not in cleaned
    assert pixels(cleaned) == pixels(data)


def test_exif_thumbnail_inside_app1_is_skipped_by_its_length() -> None:
    thumb = jpeg(image=picture(size=(16, 16)))  # a whole JPEG with its own SOS and EOI
    data = jpeg()
    hostile = data[:2] + app1(b"MM\x00*" + thumb) + data[2:]
    layout = jpeg_layout(hostile)
    assert layout.scans == 1
    assert layout.end == len(hostile)
    assert thumb not in clean_jpeg(hostile)


def test_clean_keeps_icc_and_drops_jfif_exif_comments() -> None:
    icc = b"ICC_PROFILE\x00\x01\x01" + b"p" * 40
    data = jpeg(exif=True)
    com = b"\xff\xfe\x00\x07hello"
    segment = b"\xff\xe2" + (len(icc) + 2).to_bytes(2, "big") + icc
    hostile = data[:2] + segment + com + data[2:]
    cleaned = clean_jpeg(hostile)
    assert [s.kind for s in jpeg_layout(cleaned).metadata] == ["icc"]
    assert b"hello" not in cleaned and b"JFIF" not in cleaned
    assert pixels(cleaned) == pixels(data)


def test_cmyk_jpeg_keeps_its_adobe_segment() -> None:
    buf = io.BytesIO()
    picture().convert("CMYK").save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    assert "adobe" in [s.kind for s in jpeg_layout(data).metadata]
    cleaned = clean_jpeg(data)
    assert [s.kind for s in jpeg_layout(cleaned).metadata] == ["adobe"]
    with Image.open(io.BytesIO(cleaned)) as a, Image.open(io.BytesIO(data)) as b:
        assert a.mode == b.mode == "CMYK"
        assert a.tobytes() == b.tobytes()


def test_works_on_a_memory_map(tmp_path: Path) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(jpeg(progressive=True, exif=True) + b"trailer")
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        layout = jpeg_layout(m)
        assert layout.trailing == len(b"trailer")
        assert clean_jpeg(m) == clean_jpeg(path.read_bytes())
        assert clean_jpeg(memoryview(m)) == clean_jpeg(path.read_bytes())


@pytest.mark.parametrize("cut", [3, 20, -300, -2, -1])
def test_truncated_jpeg_is_corrupt(cut: int) -> None:
    data = jpeg(progressive=True)
    with pytest.raises(CorruptInput):
        jpeg_layout(data[:cut])


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8",
        b"\xff\xd8\xff\xd9",  # no scan
        b"\xff\xd8\xff\xda\x00\x02\x00\xff\xd9",  # scan before frame
        b"\xff\xd8\xff\xe1\x00\x01\xff\xd9",  # length < 2
        b"\xff\xd8\xff\xf7\x00\x02\xff\xd9",  # unknown marker (JPEG-LS)
        b"\xff\xd8\xff\xd8\xff\xd9",  # second SOI
        b"\xff\xd8\x00\x00",
    ],
)
def test_malformed_jpeg_is_corrupt(data: bytes) -> None:
    with pytest.raises(CorruptInput):
        jpeg_layout(data)


def test_too_many_segments_is_a_limit() -> None:
    data = jpeg()
    hostile = data[:2] + b"\xff\xfe\x00\x02" * 50 + data[2:]
    with pytest.raises(LimitExceeded):
        jpeg_layout(hostile, max_segments=40)
    assert jpeg_layout(hostile).scans == 1


def test_long_fill_runs_are_fast_and_valid() -> None:
    data = jpeg()
    hostile = data[:2] + b"\xff" * 2_000_000 + data[2:]
    assert pixels(clean_jpeg(hostile)) == pixels(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_only_ever_raise_corrupt_input(blob: bytes) -> None:
    for data in (blob, b"\xff\xd8" + blob, b"\xff\xd8\xff\xc0" + blob):
        try:
            cleaned = clean_jpeg(data)
        except CorruptInput:
            continue
        assert clean_jpeg(cleaned) == cleaned


_BASE = jpeg(progressive=True, exif=True)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(_BASE)), st.binary(min_size=1, max_size=64))
def test_mutated_jpeg_only_raises_corrupt_input_and_cleaning_is_idempotent(
    where: int, junk: bytes
) -> None:
    data = _BASE[:where] + junk + _BASE[where:]
    try:
        cleaned = clean_jpeg(data)
    except CorruptInput:
        return
    assert clean_jpeg(cleaned) == cleaned
    assert jpeg_layout(cleaned).scans == jpeg_layout(data).scans


@settings(max_examples=20, deadline=None)
@given(st.booleans(), st.booleans(), st.binary(max_size=200))
def test_cleaned_jpeg_decodes_to_the_same_pixels(
    progressive: bool, exif: bool, trailer: bytes
) -> None:
    data = jpeg(progressive=progressive, exif=exif)
    cleaned = clean_jpeg(data + trailer)
    assert pixels(cleaned) == pixels(data)
    assert clean_jpeg(cleaned) == cleaned
    assert all(s.kept for s in jpeg_layout(cleaned).segments)
