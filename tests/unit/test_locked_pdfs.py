"""Password-protected PDFs at the gateway: kept, opened once with the password, three tries.

The tus way (the upload page: ``PATCH`` → 422 ``pdf_password_required`` → ``POST …/unlock``)
and the multipart way (a ``password`` part before the ``file``). The password must never be
stored or logged: every test that uses the right one scans the spool, the storage, the manifest
and the log for it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from aiohttp import FormData

from briefkasten.errors import PdfPasswordAttemptsExceeded, PdfPasswordWrong
from briefkasten.gateway.keys import STORAGE
from briefkasten.gateway.passwords import Unlocker
from briefkasten.gateway.shared import SharedState
from briefkasten.gateway.tus_store import TusStore
from briefkasten.message import DocumentOutcome, build_message
from briefkasten.model import Submission
from briefkasten.storage.base import Storage, StoredObject
from tests.support import factories
from tests.unit.test_tus import (  # noqa: F401 (fixtures)
    CASE,
    KEY,
    GatewayFactory,
    Tus,
    aiohttp_client_cls,
    create,
    make_gateway,
    patch,
)

PASSWORD = "Lohn-Geheim-2026"
API = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(params=["spool", "storage"])
async def gw(request: pytest.FixtureRequest, make_gateway: GatewayFactory) -> Tus:  # noqa: F811
    """The gateway of ``test_tus`` (an upload link's token), with either tus store: this
    gateway's spool, or the object storage every gateway shares."""
    return await make_gateway(tus_store=request.param)


def leftovers(gw: Tus) -> list[str]:
    """Files in the spool (the tus spool or staging, multipart files) and tus objects."""
    files = [p.name for p in gw.spool.parent.rglob("*") if p.is_file()]
    return files + storage_of(gw).list("_tus/")


@pytest.fixture
def locked(tmp_path: Path) -> bytes:
    """A born-digital PDF under an AES-256 user password (``pikepdf.Encryption``)."""
    return factories.locked_pdf(tmp_path / "locked.pdf", PASSWORD, owner="owner-x").read_bytes()


async def upload_locked(gw: Tus, data: bytes) -> str:
    """A tus upload of ``data`` whose last PATCH answers ``pdf_password_required``."""
    location = await create(gw, len(data), **{"Upload-Metadata": "filename bG9obi5wZGY="})
    status, body = await patch(gw, location, 0, data)
    assert status == 422 and body is not None
    assert body["error"]["code"] == "pdf_password_required"
    assert "Passwort" in body["error"]["message_de"]
    return location


async def unlock(gw: Tus, location: str, password: str) -> tuple[int, dict[str, Any]]:
    response = await gw.client.post(
        location + "/unlock", json={"password": password}, headers=gw.headers()
    )
    return response.status, await response.json()


def everything_stored(storage: Storage) -> list[bytes]:
    return [storage.get_bytes(key) for key in storage.list("")]


def assert_nowhere(password: str, gw: Tus, caplog: pytest.LogCaptureFixture) -> None:
    """Not in any object of the storage, any file of the spool, any log record."""
    needle = password.encode()
    assert all(needle not in data for data in everything_stored(storage_of(gw)))
    spooled = [p for p in gw.spool.parent.rglob("*") if p.is_file()]
    assert all(needle not in p.read_bytes() for p in spooled)
    assert all(password not in r.getMessage() for r in caplog.records)
    assert all(password not in str(r.args) for r in caplog.records)


def storage_of(gw: Tus) -> Storage:
    return gw.client.app[STORAGE]


async def test_locked_tus_upload_is_kept_and_opened_with_its_password(
    gw: Tus, locked: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    location = await upload_locked(gw, locked)
    head = await gw.client.head(location, headers=gw.headers())
    assert head.status == 200  # kept, complete, waiting for its password
    check = await gw.client.get(location + "/check", headers=gw.headers())
    assert check.status == 422 and (await check.json())["error"]["code"] == "pdf_password_required"

    status, body = await unlock(gw, location, PASSWORD)
    assert status == 200, body
    assert body["password_protected"] is True and body["pages"] == 1
    if not isinstance(gw.store, TusStore):  # sent through another gateway: nothing local
        for path in list(gw.spool.parent.rglob("*")):
            if path.is_file():
                path.unlink()
    assert (await gw.client.get(location + "/check", headers=gw.headers())).status == 200

    upload_id = location.rsplit("/", 1)[-1]
    response = await gw.client.post(
        "/api/v1/submissions",
        json={"documents": [{"document_type": "lohnabrechnung", "uploads": [upload_id]}]},
        headers={"Authorization": f"Bearer {gw.token}"},
    )
    assert response.status == 202, await response.text()
    submission_id = (await response.json())["submission_id"]
    storage = storage_of(gw)
    manifest_key = next(k for k in storage.list("") if k.endswith(f"{submission_id}/manifest.json"))
    manifest = json.loads(storage.get_bytes(manifest_key))
    received = Submission.from_json(manifest).documents[0].files[0]
    assert received.sha256 == hashlib.sha256(locked).hexdigest()  # the untouched original
    assert storage.get_bytes(received.key) == locked
    assert received.decrypted_key is not None and received.build_key == received.decrypted_key
    assert received.decrypted_key.endswith(".decrypted.pdf")
    decrypted = storage.get_bytes(received.decrypted_key)
    assert hashlib.sha256(decrypted).hexdigest() == received.decrypted_sha256
    assert len(decrypted) == received.decrypted_size
    with pikepdf.open(io.BytesIO(decrypted)) as pdf:
        assert not pdf.is_encrypted
    submission = Submission.from_json(manifest)
    pdf_object = StoredObject("b", "t/k/d.pdf", "0" * 64, 100, "application/pdf")
    outcome = DocumentOutcome(
        submission.documents[0], pdf_object, None, 1, [[]], 90.0, ("default", "1"), None,
        "2026-12-03T12:00:00+00:00",
    )  # fmt: skip
    message = json.loads(build_message(submission, [outcome], bucket="b").body)
    original = message["documents"][0]["originals"][0]
    assert original["password_protected"] is True
    assert original["decrypted"]["sha256"] == received.decrypted_sha256
    assert PASSWORD not in json.dumps(manifest) and PASSWORD not in json.dumps(message)
    assert leftovers(gw) == []  # the upload is done with
    assert_nowhere(PASSWORD, gw, caplog)


async def test_three_wrong_tries_discard_the_upload(
    gw: Tus, locked: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    location = await upload_locked(gw, locked)
    for attempt in ("falsch-1", "falsch-2"):
        status, body = await unlock(gw, location, attempt)
        assert (status, body["error"]["code"]) == (422, "pdf_password_wrong")
        head = await gw.client.head(location, headers=gw.headers())
        assert head.status == 200  # tries left: the upload stays
    status, body = await unlock(gw, location, "falsch-3")
    assert (status, body["error"]["code"]) == (422, "pdf_password_attempts_exceeded")
    assert (await gw.client.head(location, headers=gw.headers())).status == 404
    assert leftovers(gw) == []
    status, body = await unlock(gw, location, PASSWORD)  # too late, even when right
    assert status == 404
    for attempt in ("falsch-1", "falsch-2", "falsch-3"):
        assert all(attempt not in r.getMessage() for r in caplog.records)


async def test_a_right_password_after_two_wrong_ones_opens_it(
    gw: Tus, locked: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    location = await upload_locked(gw, locked)
    for attempt in ("falsch-1", "falsch-2"):
        assert (await unlock(gw, location, attempt))[0] == 422
    status, body = await unlock(gw, location, PASSWORD)
    assert status == 200 and body["pages"] == 1
    kept = sorted(Path(name).suffix for name in leftovers(gw) if not name.endswith(".part"))
    if isinstance(gw.store, TusStore):
        assert kept == [".bin", ".dec", ".json"]
    else:  # the decrypted copy is shared: any gateway may send the upload
        assert [k for k in storage_of(gw).list("_tus/") if "/decrypted-" in k]
        assert ".dec" in kept
    assert_nowhere(PASSWORD, gw, caplog)


async def test_unlock_refuses_what_is_not_a_locked_upload(gw: Tus, locked: bytes) -> None:
    plain = factories.born_digital_pdf(gw.spool.parent.parent / "open.pdf").read_bytes()
    gw.spool.parent.mkdir(parents=True, exist_ok=True)
    location = await create(gw, len(plain))
    assert (await patch(gw, location, 0, plain))[0] == 204
    status, body = await unlock(gw, location, "egal")
    assert (status, body["error"]["code"]) == (400, "invalid_request")
    locked_location = await upload_locked(gw, locked)
    for bad in ({"password": ""}, {"password": 5}, {"pw": PASSWORD}, {"password": "x" * 300}):
        response = await gw.client.post(locked_location + "/unlock", json=bad, headers=gw.headers())
        assert response.status == 400
    other = await gw.client.post(
        locked_location + "/unlock", json={"password": PASSWORD}, headers=API
    )
    assert other.status == 404  # someone else's upload
    assert (await unlock(gw, locked_location, PASSWORD))[0] == 200


def locked_form(data: bytes, password: str | None) -> FormData:
    form = FormData()
    form.add_field("case_number", CASE)
    form.add_field("document_type", "lohnabrechnung")
    if password is not None:
        form.add_field("password", password)
    form.add_field("file", data, filename="lohn.pdf", content_type="application/pdf")
    return form


async def test_multipart_takes_a_password_per_file(
    gw: Tus, locked: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    storage = storage_of(gw)
    response = await gw.client.post(
        "/api/v1/submissions", data=locked_form(locked, None), headers=API
    )
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "pdf_password_required"
    wrong = await gw.client.post(
        "/api/v1/submissions", data=locked_form(locked, "falsch"), headers=API
    )
    assert (await wrong.json())["error"]["code"] == "pdf_password_wrong"
    assert not [k for k in storage.list("") if "/originals/" in k]
    right = await gw.client.post(  # a file's line end (curl -F password=<file) is not part
        "/api/v1/submissions", data=locked_form(locked, PASSWORD + "\r\n"), headers=API
    )
    assert right.status == 202, await right.text()
    keys = [k for k in storage.list("") if "/originals/" in k]
    assert len(keys) == 2 and sum(k.endswith(".decrypted.pdf") for k in keys) == 1
    receipt = (await right.json())["receipt"]["documents"][0]["files"][0]
    assert receipt["sha256"] == hashlib.sha256(locked).hexdigest()
    assert leftovers(gw) == []
    assert_nowhere(PASSWORD, gw, caplog)


async def test_multipart_counts_wrong_tries_per_file(gw: Tus, locked: bytes) -> None:
    for attempt in ("falsch-1", "falsch-2", "falsch-3"):
        response = await gw.client.post(
            "/api/v1/submissions", data=locked_form(locked, attempt), headers=API
        )
    assert (await response.json())["error"]["code"] == "pdf_password_attempts_exceeded"
    again = await gw.client.post(
        "/api/v1/submissions", data=locked_form(locked, PASSWORD), headers=API
    )
    assert (await again.json())["error"]["code"] == "pdf_password_attempts_exceeded"


async def test_gateways_sharing_the_counter_share_the_tries(tmp_path: Path, locked: bytes) -> None:
    """Two gateways with one ``SharedState`` (as with one Redis): the tries add up."""

    class Wrong:
        def unlock(self, *args: Any) -> Any:
            raise PdfPasswordWrong("the password does not open the PDF")

    async def run(fn: Any, *args: Any) -> Any:
        return fn(*args)

    shared = SharedState()
    first = Unlocker(Wrong(), shared, run, "t/api")  # type: ignore[arg-type]
    second = Unlocker(Wrong(), shared, run, "t/api")  # type: ignore[arg-type]

    path = tmp_path / "x.pdf"
    for unlocker in (first, second):
        with pytest.raises(PdfPasswordWrong):
            await unlocker.unlock(path, "falsch", "tus:abc", tmp_path / "x.dec")
    with pytest.raises(PdfPasswordAttemptsExceeded):
        await first.unlock(path, "falsch", "tus:abc", tmp_path / "x.dec")
    with pytest.raises(PdfPasswordWrong):  # another upload counts on its own
        await second.unlock(path, "falsch", "tus:other", tmp_path / "x.dec")
