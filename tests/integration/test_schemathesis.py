"""Schemathesis against a real ``briefkasten serve`` on 127.0.0.1: every operation of the
OpenAPI document it serves (``/api/v1/openapi.json``), with generated requests.

The gateway runs as a process (embedded mode: file storage and the local job journal under a
temporary directory, one pipeline worker), with an API key that every generated request
carries, so the authenticated operations are reached; requests with an API key are not rate
limited. Checks per response: no 5xx but the documented 503 (``not_a_server_error``), a
documented status code, content type and body schema. Bounded: ``MAX_EXAMPLES`` requests per
operation, each with a timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.test_serve import free_port, serving
from tests.support.env import wait_for

KEY = "schemathesis-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
#: Generated requests per operation (36 operations: well under a minute on two cores).
MAX_EXAMPLES = 25
#: Seconds one request may take.
REQUEST_TIMEOUT = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def answers(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=5) as response:
        return bool(response.status == 200)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home: Path = tmp_path_factory.mktemp("schemathesis")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")},
        "BRIEFKASTEN_API_KEYS": f"jc-fuzz:{KEY}",
        "BRIEFKASTEN_LINKS_SECRET": "fuzz-links-secret-" + "x" * 32,
        "BRIEFKASTEN_PIPELINE_WORKERS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "briefkasten", "serve", "--port", str(port)],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            serving(process, lambda: answers(f"{base}/healthz")),
            "/healthz to answer 200",
            90,
            poll=0.2,
            ignore=(urllib.error.URLError, ConnectionError),
        )
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        assert process.stderr is not None
        log = process.stderr.read().decode()
        process.stderr.close()
        assert "Traceback" not in log, log  # no unforeseen error behind any answer


@pytest.fixture(scope="module")
def api_schema(base_url: str) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json", timeout=10)
    loaded.config.update(base_url=base_url)
    return loaded


def test_every_operation_conforms(api_schema: schemathesis.BaseSchema) -> None:
    """Each operation in turn (hypothesis drives schemathesis' strategies directly: its pytest
    plugin's lazy loading does not work with pytest 9); the failures of all of them at once."""
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is enough
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=AUTH, checks=CHECKS, timeout=REQUEST_TIMEOUT)

        try:
            call()
        except Exception as exc:  # schemathesis' failure groups, with the request to replay
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    assert not failures, "\n\n".join(failures)
