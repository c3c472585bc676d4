"""Case-bound upload links: the domain functions, the HTTP API and the ``link`` CLI.

The e2e tier's part (processes: serve, worker, the CLI, the browser); the other parts:
``tests/unit/test_links.py``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from briefkasten import links
from briefkasten.config import Settings
from briefkasten.storage import open_storage
from tests.conftest import CliResult
from tests.unit.test_links import (
    CASE,
    PNG_MAGIC,
    SECRET,
)


def test_cli_creates_and_revokes_links(
    cli: Callable[..., CliResult], tmp_path: Path, settings: Settings
) -> None:
    storage_dir = tmp_path / "storage"
    env = {
        **os.environ,
        "BRIEFKASTEN_STORAGE": storage_dir.as_uri(),
        "BRIEFKASTEN_LINKS_SECRET": SECRET,
        "BRIEFKASTEN_LINKS_PUBLIC_BASE_URL": "https://jc.example",
        "BRIEFKASTEN_GATEWAY_DEFAULT_TENANT": "jc-musterstadt",
    }
    png, svg = tmp_path / "qr.png", tmp_path / "qr.svg"
    result = cli(
        "link", "create", "--case", CASE, "--types", "kontoauszug,mietvertrag",
        "--expires", "30d", "--qr-png", png, "--qr-svg", svg, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["url"] == f"https://jc.example/u/{answer['token']}"
    assert answer["document_types"] == ["kontoauszug", "mietvertrag"]
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert png.stat().st_size > 200
    assert b"<svg" in svg.read_bytes()
    storage = open_storage(storage_dir.as_uri())
    link_settings = dataclasses.replace(settings.links, secret=SECRET)
    link = links.verify(link_settings, storage, answer["token"])
    assert (link.tenant, link.case_number) == ("jc-musterstadt", CASE)
    remaining = link.expires - time.time()
    assert 29 * 86400 < remaining <= 30 * 86400
    second = json.loads(cli("link", "create", "--case", "12345BG0099999", env=env).stdout)
    result = cli("link", "revoke", answer["link_id"], env=env)
    assert result.returncode == 0, result.stderr
    with pytest.raises(links.LinkRevoked):
        links.verify(link_settings, storage, answer["token"])
    listed = cli("link", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    states = {r["link_id"]: r["state"] for r in map(json.loads, listed.stdout.splitlines())}
    assert states == {answer["link_id"]: "revoked", second["link_id"]: "active"}
    table = cli("link", "list", "--state", "active", env=env).stdout.splitlines()
    assert len(table) == 1
    assert second["link_id"] in table[0]
    assert "12345BG0099999" in table[0]
    assert cli("link", "list", "--case", CASE, "--state", "active", env=env).stdout == ""
    result = cli("link", "revoke", "0" * 16, env=env)
    assert result.returncode == 2
    result = cli("link", "create", "--case", CASE, env={**env, "BRIEFKASTEN_LINKS_SECRET": ""})
    assert result.returncode == 2
    assert "BRIEFKASTEN_LINKS_SECRET" in result.stderr
