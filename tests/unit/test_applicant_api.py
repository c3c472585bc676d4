"""The API behind the upload page: submissions from tus uploads, status and receipts for link
holders, instant quality feedback, link-less uploads, security headers, CSRF and rate limits."""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import cv2
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request
from pypdf import PdfReader

from briefkasten import config, i18n, links
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings, TenantSettings
from briefkasten.gateway.keys import STORAGE
from briefkasten.gateway.security import CONTENT_SECURITY_POLICY, AccessLogger
from briefkasten.gateway.tus_protocol import PREFIX
from briefkasten.storage import open_storage
from tests.support.gateway import gateway_app
from tests.support.openapi import (  # noqa: F401 (fixture: every response checked)
    ConformingClient,
    aiohttp_client_cls,
)

CASE = "12345BG0012345"
KEY = "test-key-0123456789"
SECRET = "s" * 40
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "set"
SCAN = SAMPLES / "brief-scan.png"
#: A sharp photo of a statement: the instant check finds nothing to say about it.
PHOTO = SAMPLES / "kontoauszug-skewed.jpg"

Client = TestClient[Any, Any]


@dataclasses.dataclass
class Page:
    client: Client
    token: str
    link: links.UploadLink
    settings: Settings

    def auth(self, token: str | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}", **extra}

    async def upload(self, data: bytes, name: str = "foto.jpg", token: str | None = None) -> str:
        """A complete tus upload of ``data``; its id."""
        headers = self.auth(token, **{"Tus-Resumable": "1.0.0"})
        created = await self.client.post(
            PREFIX,
            headers={**headers, "Upload-Length": str(len(data)), "Upload-Metadata": ""},
        )
        assert created.status == 201, await created.text()
        location = created.headers["Location"]
        patched = await self.client.patch(
            location,
            data=data,
            headers={
                **headers,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert patched.status == 204, await patched.text()
        return location.rsplit("/", 1)[-1]

    async def submit(self, documents: list[dict[str, Any]], **headers: str) -> Any:
        return await self.client.post(
            "/api/v1/submissions", json={"documents": documents}, headers=self.auth(**headers)
        )


Factory = Callable[..., Awaitable[Page]]


@pytest.fixture
def make_page(
    tmp_path: Path, settings: Settings, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Factory:
    async def make(types: tuple[str, ...] = (), **gateway: Any) -> Page:
        configured = dataclasses.replace(
            settings,
            gateway=dataclasses.replace(
                settings.gateway,
                api_keys=f"jc-musterstadt:{KEY}",
                spool_dir=tmp_path / "spool",
                **gateway,
            ),
            links=dataclasses.replace(settings.links, secret=SECRET),
            tenants=(
                TenantSettings("jc-musterstadt", name="Jobcenter Musterstadt"),
                TenantSettings("jc-offen", allow_uploads_without_link=True),
            ),
        )
        storage = open_storage(f"memory://{tmp_path.name}")
        link, token = links.create_link(configured, storage, "jc-musterstadt", CASE, types)
        app = gateway_app(configured, storage=storage, jobs=MemoryJobQueue())
        return Page(await aiohttp_client(app), token, link, configured)

    return make


@pytest.fixture
async def page(make_page: Factory) -> Page:
    return await make_page()


def jpeg(path: Path, blur: int = 0) -> bytes:
    image = cv2.imread(str(path))
    if blur:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return bytes(data)


async def test_a_submission_from_tus_uploads_and_what_its_link_may_read(page: Page) -> None:
    first = await page.upload(SCAN.read_bytes(), "seite1.png")
    second = await page.upload(jpeg(SCAN), "seite2.jpg")
    response = await page.submit(
        [{"document_type": "kontoauszug", "note": "März", "uploads": [first, second]}],
        **{"Idempotency-Key": "send-1"},
    )
    assert response.status == 202, await response.text()
    receipt = await response.json()
    files = receipt["receipt"]["documents"][0]["files"]
    assert [f["media_type"] for f in files] == ["image/png", "image/jpeg"]
    assert receipt["receipt"]["case_number"] == "12345BG•••2345"

    # The uploads are used up; a repeated send with the same key returns the same receipt.
    again = await page.submit([{"document_type": "kontoauszug", "uploads": [first]}])
    assert again.status == 404
    repeated = await page.submit(
        [{"document_type": "kontoauszug", "uploads": [first]}], **{"Idempotency-Key": "send-1"}
    )
    assert (await repeated.json())["submission_id"] == receipt["submission_id"]

    # The link holder sees the status, the list of its submissions and the receipt PDF.
    status = await page.client.get(receipt["status_url"], headers=page.auth())
    assert status.status == 200
    assert (await status.json())["status"] == "received"
    listing = await page.client.get("/api/v1/upload-links/self/submissions", headers=page.auth())
    found = (await listing.json())["submissions"]
    assert [s["submission_id"] for s in found] == [receipt["submission_id"]]
    assert found[0]["documents"] == [
        {"document_type": "kontoauszug", "files": 2, "status": "received"}
    ]
    pdf = await page.client.get(receipt["receipt_pdf_url"], headers=page.auth())
    assert pdf.status == 200
    assert pdf.content_type == "application/pdf"
    text = PdfReader(io.BytesIO(await pdf.read())).pages[0].extract_text()
    assert "Eingangsbestätigung" in text
    assert "Jobcenter Musterstadt" in text
    assert "12345BG•••2345" in text  # masked for link holders
    assert CASE not in text
    assert files[0]["sha256"] in text.replace("\n", "")

    # The case software (API key) gets the full case number, in English if asked.
    full = await page.client.get(receipt["receipt_pdf_url"] + "?lang=en", headers=page.auth(KEY))
    text = PdfReader(io.BytesIO(await full.read())).pages[0].extract_text()
    assert "Receipt" in text
    assert CASE in text


async def test_another_link_reads_nothing_of_this_links_submissions(page: Page) -> None:
    upload = await page.upload(SCAN.read_bytes())
    response = await page.submit([{"document_type": "mietvertrag", "uploads": [upload]}])
    receipt = await response.json()
    storage = page.client.app[STORAGE]
    _, other = links.create_link(page.settings, storage, "jc-musterstadt", CASE)
    for url in (receipt["status_url"], receipt["receipt_pdf_url"]):
        answer = await page.client.get(url, headers=page.auth(other))
        assert answer.status == 404
    listing = await page.client.get(
        "/api/v1/upload-links/self/submissions", headers=page.auth(other)
    )
    assert (await listing.json())["submissions"] == []
    # Nor can another link submit this link's upload.
    mine = await page.upload(SCAN.read_bytes())
    foreign = await page.submit([{"document_type": "sonstiges", "uploads": [mine]}], token=other)
    assert foreign.status == 404


@pytest.mark.parametrize(
    ("documents", "status", "code"),
    [
        ([], 400, "invalid_request"),
        ([{"document_type": "kontoauszug", "uploads": []}], 400, "invalid_request"),
        ([{"document_type": "urlaubsfoto", "uploads": ["UP"]}], 400, "invalid_request"),
        ([{"document_type": "kontoauszug", "uploads": ["UP", "UP"]}], 400, "invalid_request"),
        ([{"document_type": "kontoauszug", "uploads": ["f" * 32]}], 404, "not_found"),
        ([{"document_type": "kontoauszug", "uploads": ["UP"], "x": 1}], 400, "invalid_request"),
    ],
)
async def test_bad_json_submissions_are_refused_and_keep_the_upload(
    page: Page, documents: list[dict[str, Any]], status: int, code: str
) -> None:
    upload = await page.upload(SCAN.read_bytes())
    for document in documents:
        document["uploads"] = [upload if u == "UP" else u for u in document["uploads"]]
    response = await page.submit(documents)
    assert response.status == status
    error = (await response.json())["error"]
    assert error["code"] == code
    assert error["message_de"]
    # The upload is still there for a corrected send.
    fine = await page.submit([{"document_type": "kontoauszug", "uploads": [upload]}])
    assert fine.status == 202


async def test_an_unfinished_upload_cannot_be_sent(page: Page) -> None:
    created = await page.client.post(
        PREFIX, headers=page.auth(**{"Tus-Resumable": "1.0.0", "Upload-Length": "1000"})
    )
    upload = created.headers["Location"].rsplit("/", 1)[-1]
    response = await page.submit([{"document_type": "kontoauszug", "uploads": [upload]}])
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_request"


async def test_a_link_sends_only_the_types_it_asks_for(make_page: Factory) -> None:
    page = await make_page(types=("lohnabrechnung",))
    upload = await page.upload(SCAN.read_bytes())
    refused = await page.submit([{"document_type": "kontoauszug", "uploads": [upload]}])
    assert refused.status == 400
    described = await (
        await page.client.get("/api/v1/upload-links/self", headers=page.auth())
    ).json()
    assert described["document_types"] == ["lohnabrechnung"]
    assert described["requested_types"] == ["lohnabrechnung"]
    assert described["tenant_name"] == "Jobcenter Musterstadt"
    (statement,) = [c for c in described["catalogue"] if c["code"] == "kontoauszug"]
    assert (statement["label_de"], statement["label_en"]) == ("Kontoauszug", "Bank statement")
    assert statement["labels"]["uk"] == i18n.text("uk", "type.kontoauszug")
    assert "case_number" not in described
    assert CASE not in str(described)


async def test_instant_feedback_names_a_blurred_photo(page: Page) -> None:
    sharp = await page.upload(jpeg(PHOTO))
    blurred = await page.upload(jpeg(PHOTO, blur=3))
    answers = {}
    for name, upload in (("sharp", sharp), ("blurred", blurred)):
        response = await page.client.get(f"{PREFIX}{upload}/check", headers=page.auth())
        assert response.status == 200, await response.text()
        answers[name] = await response.json()
    assert answers["sharp"]["checked"] is True
    assert answers["sharp"]["findings"] == []
    blurry = [f for f in answers["blurred"]["findings"] if f["code"] == "blurry"]
    assert blurry == [
        {
            "code": "blurry",
            "page": 1,
            "message_de": "Das Foto ist unscharf. Bitte halten Sie das Handy ruhig und "
            "fotografieren Sie noch einmal.",
            "message_en": "The photo is blurred. Please hold your phone still and take the "
            "photo again.",
        }
    ]


async def test_feedback_can_be_switched_off(make_page: Factory) -> None:
    page = await make_page(precheck_workers=0)
    upload = await page.upload(jpeg(SCAN, blur=6))
    answer = await (await page.client.get(f"{PREFIX}{upload}/check", headers=page.auth())).json()
    assert answer["checked"] is False
    assert answer["findings"] == []


async def test_uploads_without_a_link_only_where_the_tenant_allows_them(page: Page) -> None:
    body = {"case_number": CASE}
    for tenant in ("jc-musterstadt", "jc-unbekannt"):
        refused = await page.client.post(f"/api/v1/tenants/{tenant}/upload-links", json=body)
        assert refused.status == 403
        assert (await refused.json())["error"]["code"] == "forbidden"
    bad = await page.client.post("/api/v1/tenants/jc-offen/upload-links", json={"case_number": "x"})
    assert bad.status == 400
    made = await page.client.post("/api/v1/tenants/jc-offen/upload-links", json=body)
    assert made.status == 201
    token = (await made.json())["token"]
    upload = await page.upload(SCAN.read_bytes(), token=token)
    sent = await page.submit([{"document_type": "ausweis", "uploads": [upload]}], token=token)
    assert sent.status == 202
    assert (await sent.json())["receipt"]["case_number"] == "12345BG•••2345"


async def test_security_headers_on_every_answer(page: Page) -> None:
    for path, headers in (
        ("/api/v1/upload-links/self", page.auth()),
        ("/api/v1/upload-links/self", {}),  # an error answer
        ("/healthz", {}),
    ):
        response = await page.client.get(path, headers=headers)
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"
    api = await page.client.get("/api/v1/upload-links/self", headers=page.auth())
    assert api.headers["Cache-Control"] == "no-store"


async def test_cross_site_requests_are_refused(page: Page) -> None:
    form = {"documents": [{"document_type": "kontoauszug", "uploads": ["f" * 32]}]}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = await page.client.post(
            "/api/v1/submissions", json=form, headers=page.auth(**headers)
        )
        assert response.status == 403
        assert (await response.json())["error"]["code"] == "forbidden"
    same = f"http://{page.client.host}:{page.client.port}"
    allowed = await page.client.post(
        "/api/v1/submissions", json=form, headers=page.auth(Origin=same)
    )
    assert allowed.status == 404  # past the check: the upload id is unknown


async def test_rate_limits_per_address_and_per_link(make_page: Factory) -> None:
    page = await make_page(rate_limit_per_ip="5/minute", rate_limit_per_link="100/hour")
    statuses = [
        (await page.client.get("/api/v1/upload-links/self", headers=page.auth())).status
        for _ in range(7)
    ]
    assert statuses == [200] * 5 + [429] * 2
    limited = await page.client.get("/api/v1/upload-links/self", headers=page.auth())
    # the seconds until the oldest request leaves the one-minute window
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert (await limited.json())["error"]["code"] == "rate_limited"
    # The case software's API key is not limited.
    for _ in range(7):
        answer = await page.client.get("/api/v1/submissions/" + "a" * 32, headers=page.auth(KEY))
        assert answer.status == 404

    per_link = await make_page(rate_limit_per_ip="100/minute", rate_limit_per_link="3/hour")
    codes = [
        (await per_link.client.get("/api/v1/upload-links/self", headers=per_link.auth())).status
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]


async def test_tenant_logo(make_page: Factory, tmp_path: Path) -> None:
    page = await make_page()
    missing = await page.client.get("/tenant-logo/jc-musterstadt")
    assert missing.status == 404
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    settings = dataclasses.replace(
        page.settings, tenants=(TenantSettings("jc-musterstadt", logo=str(logo)),)
    )
    app = gateway_app(settings, storage=open_storage("memory://logo"), jobs=MemoryJobQueue())
    client = ConformingClient(page.client.server.__class__(app))
    await client.start_server()
    try:
        answer = await client.get("/tenant-logo/jc-musterstadt")
        assert answer.status == 200
        assert answer.content_type == "image/svg+xml"
    finally:
        await client.close()


def test_tenants_come_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "briefkasten.toml"
    path.write_text(
        '[tenants.jc-musterstadt]\nname = "Jobcenter Musterstadt"\n'
        "allow_uploads_without_link = true\n"
    )
    settings = config.load(path, environ={"BRIEFKASTEN_TENANTS_JC_MUSTERSTADT_LOGO": "/x.svg"})
    tenant = settings.tenant("jc-musterstadt")
    assert tenant == TenantSettings("jc-musterstadt", "Jobcenter Musterstadt", "/x.svg", True)
    assert settings.tenant("jc-other").display_name == "jc-other"
    assert not settings.tenant("jc-other").allow_uploads_without_link
    path.write_text("[tenants.Bad_Name]\n")
    with pytest.raises(config.ConfigError):
        config.load(path, environ={})


def test_the_access_log_holds_no_token(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.access")
    access = AccessLogger(logger, "")
    request = make_mocked_request("GET", "/u/WyJkZW1vIiwiYWJjIl0.c2lnbmF0dXJl?lang=en")
    with caplog.at_level(logging.INFO, logger="test.access"):
        access.log(request, web.Response(status=200, body=b"ok"), 0.0123)
        access.log(make_mocked_request("GET", "/api/v1/upload-links/self"), web.Response(), 0.001)
    assert caplog.messages[0].startswith("GET /u/… 200 ")
    assert caplog.messages[0].endswith(" 12.3ms")
    assert "WyJ" not in caplog.text
    assert "lang" not in caplog.text
    assert caplog.messages[1].startswith("GET /api/v1/upload-links/self 200")
