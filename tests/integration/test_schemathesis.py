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
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from briefkasten import contract
from tests.support import cluster

KEY = "schemathesis-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
#: Generated requests per operation (36 operations: well under a minute on two cores).
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))
#: Seconds one request may take.
REQUEST_TIMEOUT = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

#: tus PATCH bodies are raw bytes, sent as schemathesis sends application/octet-stream.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home: Path = tmp_path_factory.mktemp("schemathesis")
    env = cluster.clean_environ(
        BRIEFKASTEN_API_KEYS=f"jc-fuzz:{KEY}",
        BRIEFKASTEN_LINKS_SECRET="fuzz-links-secret-" + "x" * 32,
        BRIEFKASTEN_PIPELINE_WORKERS="1",
    )
    node = cluster.Node("gateway", "serve", home, env)  # a log file: a full pipe would stall it
    with cluster.started(node):
        yield node.url
    log = node.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-20000:]  # no unforeseen error behind any answer


@pytest.fixture(scope="module")
def api_schema(base_url: str) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json", timeout=10)
    loaded.config.update(base_url=base_url)
    return loaded


def strategy(operation: Any) -> st.SearchStrategy[schemathesis.Case]:
    """Requests that fit the document and, where an operation has something to get wrong,
    requests that do not (negative mode: the gateway must refuse them with a documented 4xx)."""
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    try:
        return st.one_of(positive, operation.as_strategy(GenerationMode.NEGATIVE))
    except Exception:  # nothing to get wrong (no parameters, no body)
        return positive


def run_operations(api: schemathesis.BaseSchema, headers: dict[str, str]) -> tuple[int, list[str]]:
    """Each operation in turn (hypothesis drives schemathesis' strategies directly: its pytest
    plugin's lazy loading does not work with pytest 9): the requests made, the failures."""
    failures: list[str] = []
    calls = 0
    operations = [result.ok() for result in api.get_all_operations()]
    for operation in operations:

        @given(case=strategy(operation))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is enough
        )
        def call(case: schemathesis.Case) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=REQUEST_TIMEOUT)

        started = time.monotonic()
        try:
            call()
        except (Exception, FailureGroup) as exc:  # schemathesis' failures, with the request
            failures.append(f"{operation.label}: {str(exc)[:3000]}")
        print(f"{operation.label}: {time.monotonic() - started:.1f} s", file=sys.stderr)
    return calls, failures


def test_every_operation_conforms(api_schema: schemathesis.BaseSchema) -> None:
    operations = list(api_schema.get_all_operations())
    assert len(operations) >= 35
    calls, failures = run_operations(api_schema, AUTH)
    print(f"{calls} requests", file=sys.stderr)
    assert not failures, "\n\n".join(failures)
    assert calls >= 10 * len(operations)  # many operations have fewer distinct requests than 25


def test_a_wrong_document_is_caught(base_url: str) -> None:
    """The same run against a document whose error body needs a field the gateway never
    sends: the checks fail (they are not vacuous)."""
    document = contract.openapi()
    document["components"]["schemas"]["Error"]["required"].append("request_id")
    document["paths"] = {
        "/api/v1/upload-links/self": document["paths"]["/api/v1/upload-links/self"]
    }
    wrong = schemathesis.openapi.from_dict(document)
    wrong.config.update(base_url=base_url)
    calls, failures = run_operations(wrong, AUTH)  # an API key is not a link token: 401
    assert calls >= 1
    assert len(failures) == 1 and "request_id" in failures[0], failures
