"""A full disk, for real: the spool and the ``files`` storage on a 4 MiB tmpfs, and the tus quotas.

The tmpfs needs root (``mount -t tmpfs``); without it these tests skip. The quota tests need
no mount. Every wait is bounded; the mount is removed in ``finally``.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_full_disk.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tests.integration import test_full_disk as integration_full_disk
from tests.integration.test_full_disk import (
    KEY,
    OCTETS,
    OTHER_KEY,
    Gateway,
    create,
    offset_of,
    patch,
    png,
    tus_headers,
)

make_gateway = (
    integration_full_disk.make_gateway
)  # the fixture, shared with tests/integration/test_full_disk.py


async def test_tus_quota_per_owner_is_413_and_frees_with_the_owners_uploads(
    make_gateway: Callable[..., Awaitable[Gateway]],
) -> None:
    gateway = await make_gateway(tus_quota_per_owner_bytes=1_000_000, tus_quota_bytes=0)
    first = await create(gateway, 600_000)
    assert first.status == 201
    refused = await create(gateway, 600_000)
    assert refused.status == 413
    assert (await refused.json())["error"]["code"] == "quota_exceeded"
    assert (await refused.json())["error"]["message_de"]
    assert (await create(gateway, 600_000, OTHER_KEY)).status == 201  # another owner
    deleted = await gateway.client.delete(first.headers["Location"], headers=tus_headers())
    assert deleted.status == 204
    assert (await create(gateway, 600_000)).status == 201


async def test_global_tus_quota_is_503_with_retry_after(
    make_gateway: Callable[..., Awaitable[Gateway]],
) -> None:
    gateway = await make_gateway(tus_quota_per_owner_bytes=1_000_000, tus_quota_bytes=1_500_000)
    assert (await create(gateway, 900_000)).status == 201
    refused = await create(gateway, 700_000, OTHER_KEY)
    assert refused.status == 503
    assert refused.headers["Retry-After"]
    assert (await refused.json())["error"]["code"] == "spool_full"


async def test_a_slowloris_tus_patch_is_cut_at_the_deadline_and_resumable(
    make_gateway: Callable[..., Awaitable[Gateway]],
) -> None:
    """Never idle (16 bytes every 0.1 s), but past ``body_deadline_s``: counted as cut."""
    gateway = await make_gateway(body_deadline_s=1.0)
    content = png()
    created = await create(gateway, len(content))
    location = created.headers["Location"]
    server = gateway.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    head = (
        f"PATCH {location} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        f"Authorization: Bearer {KEY}\r\nTus-Resumable: 1.0.0\r\nContent-Type: {OCTETS}\r\n"
        f"Upload-Offset: 0\r\nContent-Length: {len(content)}\r\n\r\n"
    )
    answer = asyncio.ensure_future(reader.readuntil(b"\r\n\r\n"))
    try:
        writer.write(head.encode())
        for offset in range(0, len(content), 16):
            if answer.done():
                break
            writer.write(content[offset : offset + 16])
            await writer.drain()
            await asyncio.sleep(0.1)
        status_line = (await asyncio.wait_for(answer, 30)).split(b"\r\n")[0]
    finally:
        writer.close()
    assert b" 400 " in status_line
    kept = await offset_of(gateway, location)
    assert 0 < kept < len(content)  # what arrived is kept
    response = await patch(gateway, location, kept, content[kept:])
    assert response.status == 204, await response.text()
