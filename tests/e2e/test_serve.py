"""``briefkasten serve`` as an operator runs it (embedded mode), then ``briefkasten outbox``."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support import cluster
from tests.support.env import wait_for

CASE = "12345BG0012345"
AUTH = {"Authorization": "Bearer serve-key-0123456789"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = cluster.clean_environ(
        BRIEFKASTEN_API_KEYS="jc-serve:serve-key-0123456789", BRIEFKASTEN_PIPELINE_WORKERS="1"
    )
    node = cluster.Node("gateway", "serve", tmp_path, env)  # its log a file: a pipe could fill
    with cluster.started(node):
        yield node.url, env
    log = node.log.read_text(errors="replace")
    assert "Umlaut" not in log  # no document content in the log
    assert "Traceback" not in log, log


def get(url: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers=AUTH)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def post_form(
    url: str, fields: list[tuple[str, str, bytes | str]], *, auth: bool = True
) -> tuple[int, dict[str, object]]:
    boundary = "----briefkasten-test"
    body = b""
    for name, filename, value in fields:
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        data = value.encode() if isinstance(value, str) else value
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if auth:
        headers.update(AUTH)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_serve_receives_normalises_and_announces(
    server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    base, env = server
    sample = (ROOT / "samples" / "set" / "kontoauszug-skewed.jpg").read_bytes()
    status, receipt = post_form(
        f"{base}/api/v1/submissions",
        [
            ("case_number", "", CASE),
            ("document_type", "", "kontoauszug"),
            ("file", "Kontoauszug März.jpg", sample),
        ],
    )
    assert status == 202, receipt
    url = f"{base}{receipt['status_url']}"
    wait_for(
        lambda: get(url)[1]["status"] == "delivered",
        "the submission to be delivered",
        90,
        poll=0.2,
        ignore=(urllib.error.URLError, ConnectionError),
    )
    listing = subprocess.run(
        [sys.executable, "-m", "briefkasten", "outbox", "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "pending" in listing and "jc-serve.kontoauszug" in listing
    message_id = listing.split()[0]
    shown = subprocess.run(
        [sys.executable, "-m", "briefkasten", "outbox", "show", message_id],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert receipt["submission_id"] in shown
    pdfs = list((tmp_path / "var" / "storage").rglob("*.pdf"))
    assert len(pdfs) == 1 and pdfs[0].read_bytes().startswith(b"%PDF-")


def test_serve_refuses_without_a_key(server: tuple[str, dict[str, str]]) -> None:
    base, _ = server
    status, body = post_form(f"{base}/api/v1/submissions", [("case_number", "", CASE)], auth=False)
    assert status == 401
    assert body["error"]["code"] == "unauthorized"  # type: ignore[index]
