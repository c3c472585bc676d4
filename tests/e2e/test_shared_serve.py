"""Two ``briefkasten serve`` processes with one ``BRIEFKASTEN_GATEWAY_RATE_LIMIT_STORAGE``: the
per-address limit holds over both together, each says at start where it counts (no password),
and ``/readyz`` reports Redis. The same across two in-process gateways, with idempotency and
revocation: tests/integration/test_shared_state.py."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.test_serve import free_port, get, serving
from tests.support.env import wait_for

LIMIT = 4


@pytest.fixture
def two_servers(tmp_path: Path, redis_url: str) -> Iterator[list[tuple[str, Path]]]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")},
        "BRIEFKASTEN_API_KEYS": "jc-serve:serve-key-0123456789",
        "BRIEFKASTEN_PIPELINE_WORKERS": "1",
        "BRIEFKASTEN_GATEWAY_PRECHECK_WORKERS": "0",
        "BRIEFKASTEN_GATEWAY_RATE_LIMIT_PER_IP": f"{LIMIT}/minute",
        "BRIEFKASTEN_GATEWAY_RATE_LIMIT_STORAGE": redis_url,
    }
    started: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    try:
        for name in ("a", "b"):
            directory = tmp_path / name
            directory.mkdir()
            port = free_port()
            log = directory / "serve.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "briefkasten", "serve", "--port", str(port)],
                    cwd=directory,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=out,
                )
            started.append((process, f"http://127.0.0.1:{port}", log))
        for process, base, _ in started:
            wait_for(
                serving(process, lambda base=base: get(f"{base}/healthz")[0] == 200),
                "/healthz to answer 200",
                90,
                poll=0.2,
                ignore=(urllib.error.URLError, ConnectionError),
            )
        yield [(base, log) for _, base, log in started]
    finally:
        for process, _, _ in started:
            process.terminate()
        for process, _, _ in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)


def status_of(url: str) -> tuple[int, str | None]:
    """A GET without credentials (counted against the address): status and Retry-After."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Retry-After")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")


def test_two_serve_processes_share_the_limit_in_redis(
    two_servers: list[tuple[str, Path]], redis_url: str
) -> None:
    path = "/api/v1/submissions/" + "a" * 32
    answers = [status_of(two_servers[i % 2][0] + path) for i in range(10)]

    assert [s for s, _ in answers] == [401] * LIMIT + [429] * (10 - LIMIT)
    assert all(r is not None and 1 <= int(r) <= 60 for _, r in answers[LIMIT:])
    parts = urlsplit(redis_url)
    for base, log in two_servers:
        ready = get(f"{base}/readyz")[1]
        checks = ready["checks"]
        assert isinstance(checks, dict)
        assert checks["redis"]["detail"].startswith("ok")
        text = log.read_text()
        assert f"in Redis at 127.0.0.1:{parts.port}{parts.path}, shared by every gateway" in text
        assert parts.password and parts.password not in text
        assert "Traceback" not in text
