"""``redacted_by_applicant``: the applicant blacked out parts of a file on the upload page.

The flag comes in as tus metadata or as the multipart form's part after a file, is checked
(anything but true/false is 400, nothing stored or created), lands in the manifest
(``ReceivedFile.redacted_by_applicant``) and from there in the message's
``documents[].redacted_by_applicant``.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from briefkasten import contract, links
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.errors import InvalidRequest
from briefkasten.gateway.flags import redaction_flag
from briefkasten.gateway.tus_protocol import PREFIX
from briefkasten.intake import load_submission
from briefkasten.message import DocumentOutcome, build_message
from briefkasten.model import Submission
from briefkasten.storage import layout, open_storage
from briefkasten.storage.base import Storage, StoredObject
from tests.support import factories
from tests.support.gateway import GatewayClient
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)
from tests.unit import test_tus_objects as shared
from tests.unit.test_tus import SAMPLE, create, patch, upload_id
from tests.unit.test_tus_objects import Pair

CASE = "12345BG0012345"
TENANT = "jc-musterstadt"
KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
SECRET = "r" * 40
#: Values a client might send that are not ours: refused, never read as "true" or "false".
BOLD_TRUE = "\U0001d42d\U0001d42b\U0001d42e\U0001d41e"  # "true" in mathematical bold
GARBAGE = ["", "yes", "ja", "1", "0", "on", "tru", "true false", "true\x00", "null", BOLD_TRUE]

Client = TestClient[Any, Any]

# Two gateways sharing the tus uploads in one object storage (test_tus_objects.py's fixtures).
pair = shared.pair
tus_storage = shared.tus_storage


@dataclasses.dataclass
class Gateway:
    client: Client
    storage: Storage
    jobs: MemoryJobQueue
    token: str  # an upload link's


@pytest.fixture
def png_bytes() -> bytes:
    buffer = io.BytesIO()
    factories.text_page().save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
async def gateway(tmp_path: Path, settings: Settings, gateway_client: GatewayClient) -> Gateway:
    settings = dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway, api_keys=f"{TENANT}:{KEY}", spool_dir=tmp_path / "spool"
        ),
        limits=dataclasses.replace(settings.limits, max_file_bytes=2_000_000),
        links=dataclasses.replace(settings.links, secret=SECRET),
    )
    storage = open_storage(f"memory://{tmp_path.name}")
    _, token = links.create_link(settings, storage, TENANT, CASE)
    jobs = MemoryJobQueue()
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    return Gateway(client, storage, jobs, token)


def manifest(gateway: Gateway, body: dict[str, Any]) -> Submission:
    return load_submission(gateway.storage, TENANT, body["submission_id"])


def message_documents(submission: Submission) -> list[dict[str, Any]]:
    """The message the worker would build for ``submission`` (every document delivered)."""
    pdf = StoredObject("b", "t/k/document.pdf", "a" * 64, 100, "application/pdf")
    outcomes = [
        DocumentOutcome(
            document, pdf, None, 1, [[]], 90.0, ("default", "1"), None, "2026-12-03T12:00:00+00:00"
        )
        for document in submission.documents
    ]
    body = json.loads(build_message(submission, outcomes, bucket="b").body)
    contract.validate(body)
    documents: list[dict[str, Any]] = body["documents"]
    return documents


# --- the value ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "flag"), [("true", True), ("false", False), ("TRUE", True), (" False\n", False)]
)
def test_true_and_false_are_read(value: str, flag: bool) -> None:
    assert redaction_flag(value) is flag


@pytest.mark.parametrize("value", GARBAGE)
def test_anything_else_is_refused_without_echoing_it(value: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        redaction_flag(value)
    assert str(caught.value) == "redacted_by_applicant must be true or false"  # no echo


# --- multipart ------------------------------------------------------------------------------


def form(*parts: tuple[str, Any]) -> FormData:
    data = FormData()
    data.add_field("case_number", CASE)
    for name, value in parts:
        if isinstance(value, bytes):
            data.add_field(name, value, filename="seite.png", content_type="image/png")
        else:
            data.add_field(name, value)
    return data


async def test_the_multipart_field_marks_the_file_before_it(
    gateway: Gateway, png_bytes: bytes
) -> None:
    other = png_bytes + b"\0"  # another file (a PNG may carry trailing bytes)
    response = await gateway.client.post(
        "/api/v1/submissions",
        data=form(
            ("document_type", "kontoauszug"),
            ("file", png_bytes),
            ("redacted_by_applicant", "true"),
            ("file", other),
            ("document_type", "mietvertrag"),
            ("file", png_bytes + b"\0\0"),
            ("redacted_by_applicant", "false"),
        ),
        headers=AUTH,
    )
    assert response.status == 202, await response.text()
    submission = manifest(gateway, await response.json())
    flags = [[f.redacted_by_applicant for f in d.files] for d in submission.documents]
    assert flags == [[True, False], [False]]
    stored = json.loads(
        gateway.storage.get_bytes(layout.manifest_key(TENANT, submission.submission_id))
    )
    assert [f["redacted_by_applicant"] for f in stored["documents"][0]["files"]] == [True, False]
    kontoauszug, mietvertrag = message_documents(submission)
    assert kontoauszug["redacted_by_applicant"] is True  # one of its files is enough
    assert mietvertrag["redacted_by_applicant"] is False


async def test_without_the_field_nothing_is_redacted(gateway: Gateway, png_bytes: bytes) -> None:
    response = await gateway.client.post(
        "/api/v1/submissions",
        data=form(("document_type", "kontoauszug"), ("file", png_bytes)),
        headers=AUTH,
    )
    assert response.status == 202, await response.text()
    submission = manifest(gateway, await response.json())
    assert submission.documents[0].files[0].redacted_by_applicant is False
    assert message_documents(submission)[0]["redacted_by_applicant"] is False


async def refused(gateway: Gateway, data: FormData, needle: str) -> None:
    response = await gateway.client.post("/api/v1/submissions", data=data, headers=AUTH)
    assert response.status == 400, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "invalid_request"
    assert needle in error["message_en"]
    assert [k for k in gateway.storage.list("") if "/originals/" in k] == []
    assert gateway.jobs.jobs == []


@pytest.mark.parametrize("value", ["yes", "1", "", "truee", "true\x00"])
async def test_a_garbage_multipart_value_is_400(
    gateway: Gateway, png_bytes: bytes, value: str
) -> None:
    data = form(
        ("document_type", "kontoauszug"), ("file", png_bytes), ("redacted_by_applicant", value)
    )
    await refused(gateway, data, "redacted_by_applicant must be true or false")


@pytest.mark.parametrize(
    "parts",
    [
        [("redacted_by_applicant", "true"), ("document_type", "kontoauszug")],
        [("document_type", "kontoauszug"), ("redacted_by_applicant", "true")],
        [("document_type", "kontoauszug"), ("note", "n"), ("redacted_by_applicant", "true")],
        [("redacted_by_applicant", "repeated")],  # twice after one file
    ],
    ids=["before-everything", "before-the-file", "after-a-note", "twice"],
)
async def test_the_multipart_field_must_follow_a_file(
    gateway: Gateway, png_bytes: bytes, parts: list[tuple[str, Any]]
) -> None:
    if parts == [("redacted_by_applicant", "repeated")]:
        parts = [
            ("document_type", "kontoauszug"),
            ("file", png_bytes),
            ("redacted_by_applicant", "true"),
            ("redacted_by_applicant", "true"),
        ]
    else:
        parts = [*parts, ("file", png_bytes)]
    await refused(gateway, form(*parts), "must follow the file part")


# --- tus --------------------------------------------------------------------------------------


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def tus_upload(gateway: Gateway, data: bytes, upload_metadata: str) -> str:
    """Create and fill one tus upload with the link's token; its id."""
    headers = {"Authorization": f"Bearer {gateway.token}", "Tus-Resumable": "1.0.0"}
    created = await gateway.client.post(
        PREFIX,
        headers={**headers, "Upload-Length": str(len(data)), "Upload-Metadata": upload_metadata},
    )
    assert created.status == 201, await created.text()
    location = created.headers["Location"]
    patched = await gateway.client.patch(
        location,
        data=data,
        headers={
            **headers,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert patched.status == 204, await patched.text()
    return location.rsplit("/", 1)[1]


async def test_the_tus_metadata_flag_reaches_manifest_and_message(
    gateway: Gateway, png_bytes: bytes
) -> None:
    blacked = await tus_upload(
        gateway, png_bytes, metadata(filename="konto.png", redacted_by_applicant="true")
    )
    plain = await tus_upload(gateway, png_bytes + b"\0", metadata(filename="seite-2.png"))
    said_no = await tus_upload(
        gateway, png_bytes + b"\0\0", metadata(redacted_by_applicant="false")
    )
    response = await gateway.client.post(
        "/api/v1/submissions",
        json={
            "documents": [
                {"document_type": "kontoauszug", "uploads": [plain, blacked]},
                {"document_type": "mietvertrag", "uploads": [said_no]},
            ]
        },
        headers={"Authorization": f"Bearer {gateway.token}"},
    )
    assert response.status == 202, await response.text()
    submission = manifest(gateway, await response.json())
    flags = [[f.redacted_by_applicant for f in d.files] for d in submission.documents]
    assert flags == [[False, True], [False]]
    kontoauszug, mietvertrag = message_documents(submission)
    assert kontoauszug["redacted_by_applicant"] is True
    assert mietvertrag["redacted_by_applicant"] is False


@pytest.mark.parametrize("value", GARBAGE)
async def test_a_garbage_tus_value_is_400_and_no_upload_is_made(
    gateway: Gateway, tmp_path: Path, value: str
) -> None:
    response = await gateway.client.post(
        PREFIX,
        headers={
            "Authorization": f"Bearer {gateway.token}",
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "100",
            "Upload-Metadata": metadata(filename="a.jpg", redacted_by_applicant=value),
        },
    )
    assert response.status == 400
    assert "redacted_by_applicant must be true or false" in await response.text()
    spool = tmp_path / "spool" / "tus"
    assert not spool.exists() or list(spool.iterdir()) == []


async def test_the_flag_travels_through_the_shared_object_storage(pair: Pair) -> None:
    """``gateway.tus_store = "storage"``: an upload made on one gateway and sent through the
    other keeps its flag (it is in the completion record every gateway reads)."""
    data = SAMPLE.read_bytes()
    location = await create(
        pair.a, len(data), **{"Upload-Metadata": metadata(redacted_by_applicant="true")}
    )
    assert await patch(pair.a, location, 0, data) == (204, None)
    response = await pair.b.client.post(
        "/api/v1/submissions",
        json={"documents": [{"document_type": "kontoauszug", "uploads": [upload_id(location)]}]},
        headers={"Authorization": f"Bearer {pair.b.token}"},
    )
    assert response.status == 202, await response.text()
    sid = (await response.json())["submission_id"]
    submission = load_submission(pair.storage, TENANT, sid)
    assert [f.redacted_by_applicant for f in submission.documents[0].files] == [True]
    assert message_documents(submission)[0]["redacted_by_applicant"] is True
