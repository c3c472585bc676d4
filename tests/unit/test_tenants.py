"""Several job centers in one deployment: per-tenant configuration and isolation.

Tenant ``jc-a`` has its own catalogue (with a type of its own), labels and pipeline; ``jc-b``
uses the global ones but publishes under its own routing-key prefix ``jcb``. Each has its API
keys in its ``[tenants.<id>]`` table (``jc-b``'s also from the environment). Everything runs on
loopback: the gateway in-process, RabbitMQ in a vhost of this run's own.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_tenants.py``, ``tests/e2e/test_tenants.py``.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from pypdf import PdfReader

from briefkasten import config, i18n, links
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.errors import ConfigError, InvalidRequest
from briefkasten.gateway import tus
from briefkasten.pipeline.runner import check_pipelines
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from tests.support import factories
from tests.support.gateway import GatewayClient
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)

CASE = "12345BG0012345"
SECRET = "s" * 40
KEY_A, KEY_B, KEY_B_ENV = "key-a-0123456789ab", "key-b-0123456789ab", "key-b-env-0123456789"
TOML = """
[gateway]
api_keys = "jc-a:key-a-global-0123456789"

[tenants.jc-a]
name = "Jobcenter A"
document_types = "kontoauszug, heizkosten"
document_type_labels = "heizkosten=Heizkostenabrechnung|Heating bill"
pipeline = "precheck"
api_keys = "key-a-0123456789ab"

[tenants.jc-b]
routing_key_prefix = "jcb"
api_keys = "key-b-0123456789ab"
"""
Client = TestClient[Any, Any]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def tenant_settings(tmp_path: Path, toml: str = TOML, **env: str) -> Settings:
    path = tmp_path / "briefkasten.toml"
    path.write_text(toml, encoding="utf-8")
    environ = {
        "BRIEFKASTEN_PIPELINE_WORKERS": "1",
        "BRIEFKASTEN_PIPELINE_NAME": "ocr-only",
        "BRIEFKASTEN_LINKS_SECRET": SECRET,
        "BRIEFKASTEN_GATEWAY_SPOOL_DIR": str(tmp_path / "spool"),
        "BRIEFKASTEN_TENANTS_JC_B_API_KEYS": f"{KEY_B},{KEY_B_ENV}",
        **env,
    }
    return config.load(path, environ=environ)


@dataclasses.dataclass
class Deployment:
    client: Client
    storage: Storage
    settings: Settings
    jobs: MemoryJobQueue

    async def upload(
        self, key: str, document_type: str = "kontoauszug", text: str = "Seite"
    ) -> tuple[int, dict[str, Any]]:
        response = await self.client.post(
            "/api/v1/submissions", data=form(document_type, text), headers=auth(key)
        )
        return response.status, await response.json()

    async def link(self, key: str, **body: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/upload-links", json={"case_number": CASE, **body}, headers=auth(key)
        )
        answer: dict[str, Any] = await response.json()
        assert response.status == 201, answer
        return answer


def page_png(text: str = "Seite") -> bytes:
    buffer = io.BytesIO()
    factories.text_page((text, "Kontostand"), size=(700, 400), font_size=30).save(
        buffer, format="PNG", dpi=(150, 150)
    )
    return buffer.getvalue()


def form(document_type: str, text: str = "Seite") -> FormData:
    data = FormData()
    data.add_field("case_number", CASE)
    data.add_field("document_type", document_type)
    data.add_field("file", page_png(text), filename="seite.png")
    return data


@pytest.fixture
async def deployment(tmp_path: Path, gateway_client: GatewayClient) -> Deployment:
    settings = tenant_settings(tmp_path)
    storage = open_storage(f"memory://{tmp_path.name}")
    jobs = MemoryJobQueue()
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    return Deployment(client, storage, settings, jobs)


# --- configuration --------------------------------------------------------------------------


def test_tenant_tables_and_their_fallbacks(tmp_path: Path) -> None:
    settings = tenant_settings(tmp_path)
    assert settings.catalogue_for("jc-a") == ("kontoauszug", "heizkosten")
    assert settings.catalogue_for("jc-b") == settings.gateway.catalogue
    assert settings.catalogue_for("jc-unconfigured") == settings.gateway.catalogue
    assert settings.pipeline_for("jc-a") == "precheck"
    assert settings.pipeline_for("jc-b") == "ocr-only"
    assert settings.routing_prefix_for("jc-a") == "jc-a"
    assert settings.routing_prefix_for("jc-b") == "jcb"
    assert settings.tenant("jc-a").labels == {
        "heizkosten": ("Heizkostenabrechnung", "Heating bill")
    }
    assert settings.api_key_tenants() == {
        "key-a-global-0123456789": "jc-a",
        KEY_A: "jc-a",
        KEY_B: "jc-b",
        KEY_B_ENV: "jc-b",  # from BRIEFKASTEN_TENANTS_JC_B_API_KEYS
    }
    check_pipelines([settings.pipeline_for(t.id) for t in settings.tenants], config.REPO_PIPELINES)


@pytest.mark.parametrize(
    ("toml", "env", "complaint"),
    [
        (TOML, {"BRIEFKASTEN_TENANTS_JC_B_API_KEYS": KEY_A}, "two tenants"),
        (TOML, {"BRIEFKASTEN_API_KEYS": f"jc-b:{KEY_A}"}, "two tenants"),
        (
            TOML,
            {"BRIEFKASTEN_API_KEYS": "jc-a:same-key-01234567,jc-b:same-key-01234567"},
            "two tenants",
        ),
        (TOML, {"BRIEFKASTEN_TENANTS_JC_B_ROUTING_KEY_PREFIX": "jc.b"}, "routing-key word"),
        (TOML, {"BRIEFKASTEN_TENANTS_JC_A_DOCUMENT_TYPES": "a b"}, "routing-key word"),
        (TOML, {"BRIEFKASTEN_TENANTS_JC_A_PIPELINE": "../x"}, "invalid pipeline"),
        (TOML, {"BRIEFKASTEN_TENANTS_JC_A_DOCUMENT_TYPE_LABELS": "x"}, "code=Label"),
    ],
)
def test_conflicts_and_bad_values_are_config_errors(
    tmp_path: Path, toml: str, env: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ConfigError, match=complaint) as caught:
        tenant_settings(tmp_path, toml, **env)
    assert KEY_A not in str(caught.value)  # keys are never named in the error


# --- isolation over HTTP --------------------------------------------------------------------


async def test_another_tenants_submission_is_not_found(deployment: Deployment) -> None:
    status, answer = await deployment.upload(KEY_A)
    assert status == 202, answer
    sid = answer["submission_id"]
    for key in (KEY_B, KEY_B_ENV):
        client = deployment.client
        assert (await client.get(f"/api/v1/submissions/{sid}", headers=auth(key))).status == 404
        receipt = await client.get(f"/api/v1/submissions/{sid}/receipt.pdf", headers=auth(key))
        assert receipt.status == 404
        ack = await client.post(f"/api/v1/submissions/{sid}/ack", headers=auth(key))
        assert ack.status == 404
    # its own tenant's keys (table and global entry) read it
    for key in (KEY_A, "key-a-global-0123456789"):
        response = await deployment.client.get(f"/api/v1/submissions/{sid}", headers=auth(key))
        assert response.status == 200
    keys = [k for k in deployment.storage.list("") if sid in k]
    assert keys and all(k.startswith("jc-a/") for k in keys)
    assert deployment.jobs.jobs[-1].tenant == "jc-a"


async def test_another_tenants_link_ids_and_tokens_are_refused(deployment: Deployment) -> None:
    link_a = await deployment.link(KEY_A)
    link_b = await deployment.link(KEY_B)
    client = deployment.client
    assert (await client.get(link_a["qr_png_url"], headers=auth(KEY_B))).status == 404
    revoked = await client.delete(f"/api/v1/upload-links/{link_a['link_id']}", headers=auth(KEY_B))
    assert revoked.status == 404
    assert (await client.get(link_a["qr_png_url"], headers=auth(KEY_A))).status == 200
    # A's tus upload: B's link token and B's API key see nothing of it
    data = page_png()
    created = await client.post(
        tus.PREFIX,
        headers={
            **auth(link_a["token"]),
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(data)),
        },
    )
    assert created.status == 201, await created.text()
    location = created.headers["Location"]
    for token in (link_b["token"], KEY_B):
        headers = {**auth(token), "Tus-Resumable": "1.0.0"}
        assert (await client.head(location, headers=headers)).status == 404
        patched = await client.patch(
            location,
            data=data,
            headers={
                **headers,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert patched.status == 404
        assert (await client.delete(location, headers=headers)).status == 404
        submitted = await client.post(
            "/api/v1/submissions",
            json={
                "case_number": CASE,
                "documents": [
                    {"document_type": "kontoauszug", "uploads": [location.rsplit("/", 1)[-1]]}
                ],
            },
            headers=auth(token),
        )
        assert submitted.status == 404, await submitted.text()
    assert (
        await client.head(location, headers={**auth(link_a["token"]), "Tus-Resumable": "1.0.0"})
    ).status == 200


async def test_each_tenant_uploads_from_its_own_catalogue(deployment: Deployment) -> None:
    status, answer = await deployment.upload(KEY_A, "heizkosten")
    assert status == 202
    pdf = await deployment.client.get(answer["receipt_pdf_url"], headers=auth(KEY_A))
    text = PdfReader(io.BytesIO(await pdf.read())).pages[0].extract_text()
    assert "Heizkostenabrechnung" in text and "Jobcenter A" in text  # the tenant's label
    status, body = await deployment.upload(KEY_A, "mietvertrag")
    assert status == 400
    assert "heizkosten" in body["error"]["message_en"]  # the tenant's catalogue is named
    status, _ = await deployment.upload(KEY_B, "mietvertrag")
    assert status == 202
    status, _ = await deployment.upload(KEY_B, "heizkosten")
    assert status == 400
    # links: only types of the tenant's catalogue can be requested
    await deployment.link(KEY_A, document_types=["heizkosten"])
    response = await deployment.client.post(
        "/api/v1/upload-links",
        json={"case_number": CASE, "document_types": ["heizkosten"]},
        headers=auth(KEY_B),
    )
    assert response.status == 400
    with pytest.raises(InvalidRequest):
        links.create_link(deployment.settings, deployment.storage, "jc-b", CASE, ["heizkosten"])


async def test_self_description_shows_the_tenants_catalogue(deployment: Deployment) -> None:
    token_a = (await deployment.link(KEY_A))["token"]
    token_b = (await deployment.link(KEY_B))["token"]
    response = await deployment.client.get("/api/v1/upload-links/self", headers=auth(token_a))
    body = await response.json()
    assert body["tenant_name"] == "Jobcenter A"
    assert body["document_types"] == ["kontoauszug", "heizkosten"]
    own = body["catalogue"][1]
    assert (own["code"], own["label_de"], own["label_en"]) == (
        "heizkosten",
        "Heizkostenabrechnung",
        "Heating bill",
    )
    # A tenant's own label comes in German and English: other languages show the English one.
    assert own["labels"] == {
        lang: "Heizkostenabrechnung" if lang == "de" else "Heating bill" for lang in i18n.LANGUAGES
    }
    built_in = body["catalogue"][0]
    assert built_in["labels"] == {
        lang: i18n.text(lang, "type.kontoauszug") for lang in i18n.LANGUAGES
    }
    response = await deployment.client.get("/api/v1/upload-links/self", headers=auth(token_b))
    body = await response.json()
    assert body["document_types"] == list(deployment.settings.gateway.catalogue)
    # the JSON (tus) form checks the same catalogue: B's link cannot send A's type
    sent = await deployment.client.post(
        "/api/v1/submissions",
        json={"documents": [{"document_type": "heizkosten", "uploads": ["0" * 32]}]},
        headers=auth(token_b),
    )
    assert sent.status == 400
    assert "unknown document_type" in (await sent.json())["error"]["message_en"]


# --- pipelines and routing (real RabbitMQ) --------------------------------------------------
