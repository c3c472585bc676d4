"""QR codes on a page: ``tools.barcodes.read_qr`` (zxing-cpp) and the pipeline step ``codes``.

Codes are generated with segno (what ``links.qr_png`` uses), pasted on a letter page and then
treated as a phone treats them: turned, small, seen at an angle, out of focus, noisy, JPEG.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest

from briefkasten.errors import InvalidRequest
from briefkasten.model import Original, Page, PageRef, PageResult
from briefkasten.pipeline import codes
from briefkasten.pipeline.runner import STEPS, Options, StepContext, load_pipeline
from briefkasten.tools import barcodes
from briefkasten.tools.barcodes import MAX_CODES, MAX_PAYLOAD, read_qr
from tests.support.qrpages import LINK_URL, jpeg, letter, qr_pixels, warped

ROOT = Path(__file__).resolve().parents[2]
SEPARATOR = "briefkasten:separator:v1:jc-musterstadt:0a1b2c3d4e5f6789"


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    """A letter page (A4 at 150 dpi) with the link's QR code, 6 px per module (~1 mm)."""
    return letter(qr_pixels(LINK_URL, module=6))


def grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def noisy(image: np.ndarray, sigma: float) -> np.ndarray:
    noise = np.random.default_rng(7).normal(0, sigma, image.shape)
    return np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def test_a_clean_code_is_read(page: np.ndarray) -> None:
    assert read_qr(page) == (LINK_URL,)
    assert read_qr(grey(page)) == (LINK_URL,)


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_turned_page_is_read(page: np.ndarray, turns: int) -> None:
    assert read_qr(np.ascontiguousarray(np.rot90(page, turns))) == (LINK_URL,)


def test_a_small_code_is_read() -> None:
    # 2 px per module on the page: a 2 cm code photographed from far away.
    assert read_qr(letter(qr_pixels(LINK_URL, module=2))) == (LINK_URL,)


@pytest.mark.parametrize("shift", [0.08, 0.15])
def test_a_code_seen_at_an_angle_is_read(page: np.ndarray, shift: float) -> None:
    assert read_qr(warped(page, shift)) == (LINK_URL,)


@pytest.mark.parametrize("sigma", [2.0, 3.0])
def test_a_blurred_code_is_read(page: np.ndarray, sigma: float) -> None:
    assert read_qr(cv2.GaussianBlur(page, (0, 0), sigma)) == (LINK_URL,)


@pytest.mark.parametrize("quality", [20, 8])
def test_a_jpeg_compressed_code_is_read(page: np.ndarray, quality: int) -> None:
    assert read_qr(jpeg(page, quality)) == (LINK_URL,)


def test_a_dim_low_contrast_photo_is_read(page: np.ndarray) -> None:
    assert read_qr((page * 0.1 + 120).astype(np.uint8)) == (LINK_URL,)


def test_two_codes_are_both_read() -> None:
    image = letter(qr_pixels(LINK_URL, module=6), qr_pixels(SEPARATOR, module=6))
    assert sorted(read_qr(image)) == sorted((LINK_URL, SEPARATOR))


def test_the_same_code_twice_is_one_payload() -> None:
    code = qr_pixels(LINK_URL, module=5)
    assert read_qr(letter(code, code)) == (LINK_URL,)


def test_a_page_without_a_code_has_none() -> None:
    assert read_qr(letter()) == ()
    assert read_qr(np.full((500, 400), 255, np.uint8)) == ()


# Each retry reads what the plain read misses (else it would only cost time).


def test_sharpening_reads_a_code_out_of_focus(page: np.ndarray) -> None:
    image = cv2.GaussianBlur(grey(page), (0, 0), 3.5)
    assert barcodes.read_qr(image) == (LINK_URL,)
    assert zxing_plain(image) == ()


def test_binarising_reads_a_code_under_heavy_noise(page: np.ndarray) -> None:
    image = noisy(grey(page), 150)
    assert read_qr(image) == (LINK_URL,)
    assert zxing_plain(image) == ()


def test_upscaling_reads_a_code_of_modules_under_two_pixels() -> None:
    image = letter(qr_pixels(LINK_URL, module=3))
    image = cv2.resize(grey(image), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    assert read_qr(image) == (LINK_URL,)
    assert zxing_plain(image) == ()


def zxing_plain(image: np.ndarray) -> tuple[str, ...]:
    """What ``read_qr`` would find without its retries."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(barcodes, "VARIANTS", ())
        return read_qr(image)


# Hostile pixels and payloads.


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((1, 1), np.uint8),
        np.zeros((1, 1, 3), np.uint8),
        np.zeros((20, 5000), np.uint8),
        np.zeros((0, 0), np.uint8),
        np.zeros((40, 40, 4), np.uint8),
        np.zeros(100, np.uint8),
        np.zeros((40, 40, 2), np.uint8),
        np.zeros((40, 40, 3, 2), np.uint8),
    ],
    ids=["1x1", "1x1-rgb", "thin", "empty", "rgba", "flat", "2-channels", "4d"],
)
def test_degenerate_images_have_no_codes(image: np.ndarray) -> None:
    assert read_qr(image) == ()


def test_an_error_inside_the_reader_gives_no_codes(
    page: np.ndarray, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("zxing-cpp failed on https://secret.example/u/token")

    monkeypatch.setattr(barcodes.zxingcpp, "read_barcodes", broken)
    assert read_qr(page) == ()
    assert "RuntimeError" in caplog.text
    assert "secret.example" not in caplog.text


def test_float_and_single_channel_pixels_are_read(page: np.ndarray) -> None:
    assert read_qr(grey(page).astype(np.float64)) == (LINK_URL,)
    assert read_qr(grey(page)[:, :, None]) == (LINK_URL,)
    rgba = np.dstack([page, np.full(page.shape[:2], 255, np.uint8)])
    assert read_qr(rgba) == (LINK_URL,)


@pytest.mark.parametrize("channels", [(), (3,)])
def test_a_huge_image_is_reduced_before_any_full_size_copy(channels: tuple[int, ...]) -> None:
    # 20000 × 20000 (1.2 GB as RGB) as a read-only view of one value: only what read_qr
    # allocates counts, and that stays near MAX_PIXELS, never the image's size.
    huge = np.broadcast_to(np.uint8(200), (20_000, 20_000, *channels))
    tracemalloc.start()
    try:
        assert read_qr(huge) == ()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * barcodes.MAX_PIXELS, peak
    assert peak < huge.size // 4


def test_a_large_image_with_a_code_is_reduced_and_read() -> None:
    large = np.full((9000, 9000), 255, np.uint8)  # 81 MP: sampled down to MAX_PIXELS
    code = qr_pixels(LINK_URL, module=24)
    large[1000 : 1000 + code.shape[0], 2000 : 2000 + code.shape[1]] = code
    assert read_qr(large) == (LINK_URL,)
    moderate = cv2.resize(large, (5000, 5000), interpolation=cv2.INTER_AREA)  # 25 MP: resampled
    assert read_qr(moderate) == (LINK_URL,)


def test_an_overlong_payload_is_dropped_not_cut() -> None:
    assert read_qr(letter(qr_pixels("x" * (MAX_PAYLOAD + 1), module=3))) == ()
    fits = "y" * MAX_PAYLOAD
    assert read_qr(letter(qr_pixels(fits, module=3))) == (fits,)


@pytest.mark.parametrize(
    "payload",
    [b"\x00\x01\xff\xfe\x80binary", "bell\x07in text", "line\nbreak", "\u202etxt.exe"],
    ids=["binary", "control", "newline", "bidi"],
)
def test_garbage_payloads_are_ignored(payload: str | bytes) -> None:
    assert read_qr(letter(qr_pixels(payload, module=6))) == ()


def test_at_most_max_codes_per_page() -> None:
    grid = np.full((1800, 1800), 255, np.uint8)
    for n in range(12):
        code = qr_pixels(f"code {n}", module=5)
        top, left = (n // 4) * 500 + 100, (n % 4) * 420 + 40
        grid[top : top + code.shape[0], left : left + code.shape[1]] = code
    found = read_qr(grid)
    assert len(found) == MAX_CODES
    assert set(found) <= {f"code {n}" for n in range(12)}


# The pipeline step and what it leaves in the page and the report.


def _page(image: np.ndarray | None, kind: str = "raster") -> Page:
    original = Original(
        name="brief.jpg", path=Path("brief.jpg"), sha256="0" * 64, size=1,
        media_type="image/jpeg", pages=1,
    )  # fmt: skip
    return Page(ref=PageRef(original, 0, kind), image=image, dpi=150.0)  # type: ignore[arg-type]


def _ctx(tmp_path: Path) -> StepContext:
    return StepContext(workdir=tmp_path, options=Options())


def test_the_step_keeps_the_payloads_and_tells_only_their_number(
    page: np.ndarray, tmp_path: Path
) -> None:
    result = codes.codes(_page(page), _ctx(tmp_path))
    assert result.codes == (LINK_URL,)
    assert result.detail == "1 QR code"
    assert "briefkasten.example" not in result.detail
    assert result.image is page  # the pixels are not changed
    none = codes.codes(_page(letter()), _ctx(tmp_path))
    assert (none.codes, none.detail) == ((), "no QR code")
    assert codes.codes(_page(None, "vector"), _ctx(tmp_path)).codes == ()


def test_the_report_counts_codes_and_never_shows_them() -> None:
    result = PageResult(
        source="brief.jpg", index=0, kind="raster", pdf=Path("p.pdf"), text="", rotation=0,
        skew_degrees=0.0, perspective_corrected=False, dpi=150.0, ocr_confidence=None,
        flags=(), history=(), codes=(LINK_URL, SEPARATOR),
    )  # fmt: skip
    report = result.to_report()
    assert report["qr_codes"] == 2
    assert LINK_URL not in repr(report)
    assert "separator" not in repr(report)


@pytest.mark.parametrize("name", ["default", "born-digital"])
def test_the_step_runs_before_geometry_and_ocr(name: str) -> None:
    assert STEPS["codes"] == "codes:codes"
    steps = [s.name for s in load_pipeline(name, ROOT / "pipelines").steps]
    assert steps.index("codes") < steps.index("ocr")
    assert steps.index("codes") < steps.index("orientation")
    assert steps[0] == "exif_orientation"


# The separator sheet's payload.


def test_separator_payload_round_trip() -> None:
    payload = codes.separator_payload("jc-musterstadt", "0a1b2c3d4e5f6789")
    assert payload == SEPARATOR
    assert codes.separator_of(payload) == ("jc-musterstadt", "0a1b2c3d4e5f6789")
    assert codes.is_separator([LINK_URL, payload])
    assert not codes.is_separator([LINK_URL])
    assert not codes.is_separator([])


@pytest.mark.parametrize(
    "code",
    [
        "briefkasten:separator:v1:jc-musterstadt",
        "briefkasten:separator:v2:jc-musterstadt:0a1b2c3d4e5f6789",
        "briefkasten:separator:v1:JC:0a1b2c3d4e5f6789",
        "briefkasten:separator:v1:jc-musterstadt:0a1b2c3d4e5f6789:extra",
        "briefkasten:separator:v1:jc-musterstadt:short",
        " briefkasten:separator:v1:jc-musterstadt:0a1b2c3d4e5f6789",
        "xbriefkasten:separator:v1:jc-musterstadt:0a1b2c3d4e5f6789",
        "briefkasten:separator:v1:jc-musterstadt:0a1b2c3d4e5f6789\n",
    ],
)
def test_near_separators_are_not_separators(code: str) -> None:
    assert codes.separator_of(code) is None
    assert not codes.is_separator([code])


@pytest.mark.parametrize(
    ("tenant", "link_id"),
    [("JC", "0a1b2c3d4e5f6789"), ("jc", "nothex-nothex-00"), ("jc:x", "0a1b2c3d4e5f6789")],
)
def test_separator_payload_refuses_bad_ids(tenant: str, link_id: str) -> None:
    with pytest.raises(InvalidRequest):
        codes.separator_payload(tenant, link_id)
