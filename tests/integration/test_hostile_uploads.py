"""Hostile uploads against the real gateway: refused clearly or accepted within bounded cost.

Each file is built in the test (``tests/support/hostile.py``). The gateway process itself never
parses them (the sandbox does), so its peak memory stays where it was; no answer is a 5xx.
"""

from __future__ import annotations

import asyncio
import dataclasses
import resource
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.model import Original, PageRef
from briefkasten.pipeline.images import decode
from briefkasten.storage import open_storage
from tests.support import hostile
from tests.support.gateway import gateway_app
from tests.support.processes import sandbox_children

CASE = "12345BG0012345"
KEY = "hostile-test-key-0123"
AUTH = {"Authorization": f"Bearer {KEY}"}
Client = TestClient[Any, Any]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("hostile")
    return {
        "inflating.pdf": hostile.pdf_page_inflating_to(where / "inflating.pdf", 1 << 30),
        "frames.tif": hostile.tiff_of_huge_frames(where / "frames.tif", frames=100),
        "four-frames.tif": hostile.tiff_of_huge_frames(where / "four-frames.tif", frames=4),
        "huge-pages.pdf": hostile.pdf_huge_pages(where / "huge-pages.pdf", pages=100),
        "scans.jpg": hostile.progressive_jpeg_with_repeated_scans(where / "scans.jpg"),
        "short.png": hostile.png_with_short_idat(where / "short.png"),
        "loop.pdf": hostile.pdf_page_tree_loop(where / "loop.pdf"),
        "hundred-pages.pdf": hostile.pdf_of_pages(where / "hundred-pages.pdf", 100),
    }


@pytest.fixture
async def client(
    tmp_path: Path, settings: Settings, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Client:
    settings = dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway, api_keys=f"jc-test:{KEY}", spool_dir=tmp_path / "spool"
        ),
        limits=dataclasses.replace(settings.limits, max_files=20),
    )
    app = gateway_app(
        settings, storage=open_storage(f"memory://{tmp_path.name}"), jobs=MemoryJobQueue()
    )
    return await aiohttp_client(app)


async def post(client: Client, *paths: Path, documents: int = 1) -> tuple[int, dict[str, Any]]:
    form = FormData()
    form.add_field("case_number", CASE)
    for _ in range(documents):
        form.add_field("document_type", "sonstiges")
        for path in paths:
            form.add_field("file", path.read_bytes(), filename=path.name)
    response = await client.post("/api/v1/submissions", data=form, headers=AUTH)
    body: dict[str, Any] = await response.json()
    return response.status, body


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def test_pages_inflating_to_a_gigabyte_cost_the_gateway_no_memory(
    client: Client, files: dict[str, Path]
) -> None:
    before = peak_rss_mib()
    answers = await asyncio.gather(*(post(client, files["inflating.pdf"]) for _ in range(3)))
    for status, body in answers:
        assert status == 422, body
        assert body["error"]["code"] == "too_complex"
        assert body["error"]["message_de"].startswith("Diese Datei ist zu aufwendig")
        assert "bytes of content" in body["error"]["message_en"]
    # Inflating even one page in this process would have raised its peak by a gigabyte.
    assert peak_rss_mib() - before < 150


async def test_a_tiff_of_a_hundred_huge_frames_is_refused_from_its_headers(
    client: Client, files: dict[str, Path]
) -> None:
    status, body = await post(client, files["frames.tif"])
    assert status == 422, body
    assert body["error"]["code"] == "too_complex"
    assert "frames" in body["error"]["message_en"]


async def test_the_event_loop_answers_while_children_decode(
    client: Client, files: dict[str, Path]
) -> None:
    uploads = [asyncio.ensure_future(post(client, files["four-frames.tif"])) for _ in range(4)]
    for _ in range(1000):  # until a child decodes (bounded)
        if sandbox_children() or all(u.done() for u in uploads):
            break
        await asyncio.sleep(0.01)
    health = await client.get("/healthz")
    assert health.status == 200
    decoding = bool(sandbox_children())
    answers = await asyncio.gather(*uploads)
    assert [status for status, _ in answers] == [202] * 4  # 4 × 80 MP frames: within limits
    assert decoding, "the status answer came while the frames were being decoded"


async def test_huge_page_boxes_are_accepted_and_render_within_the_pixel_cap(
    client: Client, files: dict[str, Path], settings: Settings
) -> None:
    status, body = await post(client, files["huge-pages.pdf"])
    assert status == 202, body
    assert body["receipt"]["documents"][0]["files"][0]["pages"] == 100
    path = files["huge-pages.pdf"]
    original = Original("huge.pdf", path, "", path.stat().st_size, "application/pdf", 100)
    page = decode(PageRef(original, 0, "raster"), raster_dpi=300, max_pixels=2_000_000)
    assert page.image is not None
    height, width = page.image.shape[:2]
    assert width * height <= 2_000_000
    assert "lowered from 300" in page.history[0].detail


def test_a_user_unit_page_renders_within_the_pixel_cap(tmp_path: Path) -> None:
    path = hostile.pdf_huge_pages(tmp_path / "unit.pdf", pages=1, side_pt=14400, user_unit=75000)
    original = Original("unit.pdf", path, "", path.stat().st_size, "application/pdf", 1)
    page = decode(PageRef(original, 0, "raster"), raster_dpi=300, max_pixels=1_000_000)
    assert page.image is not None
    assert page.image.shape[0] * page.image.shape[1] <= 1_000_000


async def test_twenty_documents_of_a_hundred_pages_exceed_the_submission_limit(
    client: Client, files: dict[str, Path]
) -> None:
    status, body = await post(client, files["hundred-pages.pdf"], documents=20)
    assert status == 413, body
    assert body["error"]["code"] == "limit_exceeded"
    assert "limit is 200" in body["error"]["message_en"]


async def test_a_progressive_jpeg_repeating_its_scans_is_too_complex(
    client: Client, files: dict[str, Path]
) -> None:
    status, body = await post(client, files["scans.jpg"])
    assert status == 422, body
    assert body["error"]["code"] == "too_complex"
    assert "scans" in body["error"]["message_en"]


@pytest.mark.parametrize(
    ("name", "code"), [("short.png", "corrupt_input"), ("loop.pdf", "corrupt_input")]
)
async def test_damaged_structures_are_refused_as_corrupt(
    client: Client, files: dict[str, Path], name: str, code: str
) -> None:
    status, body = await post(client, files[name])
    assert status == 422, body
    assert body["error"]["code"] == code
    assert body["error"]["message_de"]


async def test_readiness_reports_the_sandbox(client: Client) -> None:
    response = await client.get("/readyz")
    body = await response.json()
    assert body["checks"]["sandbox"]["ok"], body
