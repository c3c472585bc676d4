"""A full disk, for real: the spool and the ``files`` storage on a 4 MiB tmpfs, and the tus quotas.

The tmpfs needs root (``mount -t tmpfs``); without it these tests skip. The quota tests need
no mount. Every wait is bounded; the mount is removed in ``finally``.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_full_disk.py``.
"""

from __future__ import annotations

import dataclasses
import io
import os
import secrets
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from tests.support import factories
from tests.support.env import need
from tests.support.gateway import gateway_app

CASE = "12345BG0012345"
KEY = "test-key-1234567"
OTHER_KEY = "other-key-7654321"
OCTETS = "application/offset+octet-stream"
FS_SIZE = 4 * 1024 * 1024

Client = TestClient[Any, Any]


@dataclasses.dataclass
class Gateway:
    client: Client
    storage: Storage
    jobs: MemoryJobQueue
    spool: Path


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs (root only; else the test skips, or fails under CI=true)."""
    mount = tmp_path / "fs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={FS_SIZE},mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        timeout=30,
        check=False,
    )
    need(
        done.returncode == 0,
        f"cannot mount a tmpfs: {done.stderr.decode(errors='replace').strip()}",
    )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30, check=False)


def fill(directory: Path, *, leave: int) -> Path:
    """Fill ``directory``'s file system until about ``leave`` bytes are free; the filler."""
    filler = directory / f"filler-{secrets.token_hex(4)}"
    free = os.statvfs(directory).f_bavail * os.statvfs(directory).f_frsize
    with filler.open("wb") as out:
        remaining = max(free - leave, 0)
        while remaining > 0:
            step = min(remaining, 256 * 1024)
            try:
                out.write(b"\0" * step)
                out.flush()
            except OSError:
                break
            remaining -= step
    return filler


@pytest.fixture
def make_gateway(
    tmp_path: Path, settings: Settings, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Callable[..., Awaitable[Gateway]]:
    async def make(*, spool: Path | None = None, storage_url: str = "", **gateway: Any) -> Gateway:
        spool = spool or tmp_path / "spool"
        configured = dataclasses.replace(
            settings,
            gateway=dataclasses.replace(
                settings.gateway,
                api_keys=f"jc-musterstadt:{KEY},jc-anderswo:{OTHER_KEY}",
                spool_dir=spool,
                min_free_disk_mb=0,
                **gateway,
            ),
            limits=dataclasses.replace(settings.limits, max_file_bytes=3_500_000, max_files=3),
        )
        storage = open_storage(storage_url or f"memory://{tmp_path.name}")
        jobs = MemoryJobQueue()
        app = gateway_app(configured, storage=storage, jobs=jobs)
        return Gateway(await aiohttp_client(app), storage, jobs, spool)

    return make


def tus_headers(key: str = KEY, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Tus-Resumable": "1.0.0", **extra}


async def create(gateway: Gateway, length: int, key: str = KEY) -> Any:
    return await gateway.client.post(
        "/api/v1/tus/", headers=tus_headers(key, **{"Upload-Length": str(length)})
    )


async def patch(gateway: Gateway, location: str, offset: int, data: bytes) -> Any:
    headers = tus_headers(**{"Content-Type": OCTETS, "Upload-Offset": str(offset)})
    return await gateway.client.patch(location, data=data, headers=headers)


async def offset_of(gateway: Gateway, location: str) -> int:
    response = await gateway.client.head(location, headers=tus_headers())
    assert response.status == 200
    return int(response.headers["Upload-Offset"])


def png(size: tuple[int, int] = (600, 800)) -> bytes:
    buffer = io.BytesIO()
    factories.text_page(size=size).save(buffer, format="PNG")
    return buffer.getvalue()


def form(*files: bytes) -> FormData:
    data = FormData()
    data.add_field("case_number", CASE)
    data.add_field("document_type", "kontoauszug")
    for index, content in enumerate(files):
        data.add_field("file", content, filename=f"seite-{index}.png")
    return data


def files_under(root: Path) -> list[str]:
    """Every file below ``root``, hidden temp files included."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# --- tus quotas ----------------------------------------------------------------------------


# --- the spool on a full disk ---------------------------------------------------------------


async def test_tus_create_beyond_the_free_space_is_503(
    make_gateway: Callable[..., Awaitable[Gateway]], tiny_fs: Path
) -> None:
    gateway = await make_gateway(spool=tiny_fs / "spool")
    fill(tiny_fs, leave=1_000_000)
    refused = await create(gateway, 2_000_000)
    assert refused.status == 503
    assert refused.headers["Retry-After"]
    assert (await refused.json())["error"]["code"] == "spool_full"


async def test_enospc_mid_patch_truncates_to_the_offset_answers_503_and_resumes(
    make_gateway: Callable[..., Awaitable[Gateway]], tiny_fs: Path
) -> None:
    gateway = await make_gateway(spool=tiny_fs / "spool")
    content = png((1800, 2400))
    content += os.urandom(3_000_000 - len(content))  # a PNG with trailing bytes: 3 MB
    created = await create(gateway, len(content))
    assert created.status == 201
    location = created.headers["Location"]
    assert (await patch(gateway, location, 0, content[:100_000])).status == 204
    filler = fill(tiny_fs, leave=600_000)  # others filled the disk meanwhile

    response = await patch(gateway, location, 100_000, content[100_000:])
    assert response.status == 503, await response.text()
    assert response.headers["Retry-After"]
    assert (await response.json())["error"]["code"] == "spool_full"
    data_file = tiny_fs / "spool" / "tus" / f"{location.rsplit('/', 1)[1]}.bin"
    assert data_file.stat().st_size == 100_000  # nothing kept beyond the recorded offset
    assert await offset_of(gateway, location) == 100_000

    filler.unlink()  # room again: the same upload goes on where it stood
    response = await patch(gateway, location, 100_000, content[100_000:])
    assert response.status == 204, await response.text()
    assert response.headers["Upload-Offset"] == str(len(content))
    assert data_file.read_bytes() == content


async def test_multipart_upload_on_a_full_spool_is_503_and_leaves_nothing(
    make_gateway: Callable[..., Awaitable[Gateway]], tiny_fs: Path
) -> None:
    gateway = await make_gateway(spool=tiny_fs / "spool")
    fill(tiny_fs, leave=300_000)
    response = await gateway.client.post(
        "/api/v1/submissions",
        data=form(png() + os.urandom(1_500_000)),
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert response.status == 503, await response.text()
    assert response.headers["Retry-After"]
    assert (await response.json())["error"]["code"] == "spool_full"
    assert files_under(tiny_fs / "spool") == []
    assert gateway.storage.list("") == []
    assert gateway.jobs.jobs == []


# --- files storage on a full disk ------------------------------------------------------------


async def test_full_files_storage_is_503_readyz_503_and_nothing_orphaned(
    make_gateway: Callable[..., Awaitable[Gateway]], tiny_fs: Path, tmp_path: Path
) -> None:
    root = tiny_fs / "storage"
    gateway = await make_gateway(storage_url=root.as_uri())
    assert (await gateway.client.get("/readyz")).status == 200
    filler = fill(tiny_fs, leave=0)

    ready = await gateway.client.get("/readyz")
    body = await ready.json()
    assert ready.status == 503, body
    assert "storage" in body["failed"]
    assert "No space left" in body["checks"]["storage"]["detail"]

    response = await gateway.client.post(
        "/api/v1/submissions", data=form(png()), headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status == 503, await response.text()
    assert response.headers["Retry-After"]
    assert (await response.json())["error"]["code"] == "storage_unavailable"
    assert files_under(root) == []  # no original, no half-written temp file
    assert files_under(tmp_path / "spool") == []
    assert gateway.jobs.jobs == []

    filler.unlink()
    assert (await gateway.client.get("/readyz")).status == 200
    assert files_under(root) == []  # the probe object is gone again
    response = await gateway.client.post(
        "/api/v1/submissions", data=form(png()), headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status == 202


async def test_a_submission_failing_mid_way_in_storage_leaves_no_original_or_marker(
    make_gateway: Callable[..., Awaitable[Gateway]], tiny_fs: Path, tmp_path: Path
) -> None:
    """The first original fits, the second does not: the first and its marker go again."""
    root = tiny_fs / "storage"
    gateway = await make_gateway(storage_url=root.as_uri())
    small, large = png((300, 400)), png() + os.urandom(2_500_000)
    filler = fill(tiny_fs, leave=1_000_000)
    auth = {"Authorization": f"Bearer {KEY}"}
    response = await gateway.client.post(
        "/api/v1/submissions", data=form(small, large), headers=auth
    )
    assert response.status == 503, await response.text()
    assert (await response.json())["error"]["code"] == "storage_unavailable"
    assert files_under(root) == []  # neither the first original nor its duplicate marker
    assert files_under(tmp_path / "spool") == []

    filler.unlink()
    response = await gateway.client.post(
        "/api/v1/submissions", data=form(small, large), headers=auth
    )
    assert response.status == 202, await response.text()
    files = (await response.json())["receipt"]["documents"][0]["files"]
    assert [f["duplicate_of"] for f in files] == [None, None]  # no marker of a ghost
