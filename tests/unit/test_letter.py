"""The job center's letter in a submission: ``links.letter_found`` on the QR codes of its pages.

Only an upload link of the submission's own tenant and case counts; anything else (another
case, another tenant, a revoked, forged, tampered or unknown token, not a link at all) is
ignored, logged as a count only, and never changes the submission.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path

import pytest
from itsdangerous import URLSafeSerializer

from briefkasten import links
from briefkasten.config import Settings
from briefkasten.errors import StorageError
from briefkasten.model import Submission
from briefkasten.storage import layout, open_storage
from briefkasten.storage.base import Storage
from tests.unit.test_links import CASE, OTHER_CASE, with_links

TENANT = "jc-musterstadt"
OTHER_TENANT = "jc-anderswo"
SEPARATOR = "briefkasten:separator:v1:jc-musterstadt:0a1b2c3d4e5f6789"


@pytest.fixture
def linked(settings: Settings, tmp_path: Path) -> tuple[Settings, Storage]:
    return with_links(settings, tmp_path), open_storage(f"memory://letter-{tmp_path.name}")


def submission(tenant: str = TENANT, case: str = CASE) -> Submission:
    return Submission(
        submission_id="f" * 32,
        tenant=tenant,
        case_number=case,
        received_at="2026-12-03T12:00:00+00:00",
        channel="web",
        documents=(),
    )


def url_of(settings: Settings, storage: Storage, tenant: str = TENANT, case: str = CASE) -> str:
    _, token = links.create_link(settings, storage, tenant, case)
    return links.link_url(settings.links, token)


def test_the_link_of_this_case_is_the_letter(linked: tuple[Settings, Storage]) -> None:
    settings, storage = linked
    url = url_of(settings, storage)
    assert links.letter_found([url], submission(), settings, storage)
    assert links.letter_found(["some other text", SEPARATOR, url], submission(), settings, storage)


def test_a_link_of_another_case_is_not(linked: tuple[Settings, Storage]) -> None:
    settings, storage = linked
    url = url_of(settings, storage, case=OTHER_CASE)
    assert not links.letter_found([url], submission(), settings, storage)
    assert links.letter_found([url], submission(case=OTHER_CASE), settings, storage)


def test_a_link_of_another_tenant_is_not(linked: tuple[Settings, Storage]) -> None:
    settings, storage = linked
    url = url_of(settings, storage, tenant=OTHER_TENANT)  # the same case number elsewhere
    assert not links.letter_found([url], submission(), settings, storage)
    assert links.letter_found([url], submission(tenant=OTHER_TENANT), settings, storage)


def test_an_expired_link_still_marks_the_letter(linked: tuple[Settings, Storage]) -> None:
    # The letter is old; the case is the same. Nothing is uploaded with it here.
    settings, storage = linked
    _, token = links.create_link(settings, storage, TENANT, CASE, now=0.0)
    with pytest.raises(links.LinkExpired):
        links.verify(settings.links, storage, token)
    url = links.link_url(settings.links, token)
    assert links.letter_found([url], submission(), settings, storage)


def test_a_revoked_link_is_not(linked: tuple[Settings, Storage]) -> None:
    settings, storage = linked
    link, token = links.create_link(settings, storage, TENANT, CASE)
    links.revoke(storage, TENANT, link.link_id)
    url = links.link_url(settings.links, token)
    assert not links.letter_found([url], submission(), settings, storage)


def test_forged_and_tampered_tokens_are_not(linked: tuple[Settings, Storage]) -> None:
    settings, storage = linked
    link, token = links.create_link(settings, storage, TENANT, CASE)
    forger = URLSafeSerializer(
        "x" * 40, salt=links.SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )
    forged = forger.dumps([TENANT, link.link_id])
    body, _, signature = token.rpartition(".")
    tampered = f"{body[:-2]}AA.{signature}"
    cut = token[: len(token) // 2]
    base = settings.links.public_base_url.rstrip("/")
    codes = [f"{base}/u/{t}" for t in (forged, tampered, cut, body, signature)]
    assert not links.letter_found(codes, submission(), settings, storage)
    assert links.letter_found([f"{base}/u/{token}"], submission(), settings, storage)


def test_a_signed_token_without_its_record_is_not(linked: tuple[Settings, Storage]) -> None:
    settings, storage = linked
    link, token = links.create_link(settings, storage, TENANT, CASE)
    storage.delete(layout.link_key(TENANT, link.link_id))
    assert not links.letter_found(
        [links.link_url(settings.links, token)], submission(), settings, storage
    )


def test_signed_garbage_is_not(linked: tuple[Settings, Storage]) -> None:
    # Our secret, but not a link's payload: a wrong shape, a bad tenant, a bad id.
    settings, storage = linked
    serializer = URLSafeSerializer(
        settings.links.secret, salt=links.SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )
    base = settings.links.public_base_url.rstrip("/")
    payloads = [["only-one"], [TENANT, "../../etc"], ["../x", "0" * 16], {"a": 1}, [1, 2], "text"]
    codes = [f"{base}/u/{serializer.dumps(p)}" for p in payloads]
    assert not links.letter_found(codes, submission(), settings, storage)


@pytest.mark.parametrize(
    "code",
    [
        "",
        "hello",
        SEPARATOR,
        "https://example.org/",
        "ftp://briefkasten.example/u/abcdefghijklmnop",
        "https://briefkasten.example/u/",
        "https://briefkasten.example/u/" + "a" * 2000,
        "javascript:alert(1)//u/abcdefghijklmnop",
    ],
)
def test_what_is_not_a_link_is_not(linked: tuple[Settings, Storage], code: str) -> None:
    settings, storage = linked
    assert not links.letter_found([code], submission(), settings, storage)


def test_a_link_printed_with_another_host_counts_by_its_signature(
    linked: tuple[Settings, Storage],
) -> None:
    # A letter printed before public_base_url changed: the token, signed by us, is what counts.
    settings, storage = linked
    _, token = links.create_link(settings, storage, TENANT, CASE)
    old = f"https://alt.jobcenter.example/briefkasten/u/{token}"
    assert links.letter_found([old], submission(), settings, storage)


def test_without_a_links_secret_nothing_counts(linked: tuple[Settings, Storage]) -> None:
    settings, storage = linked
    url = url_of(settings, storage)
    off = dataclasses.replace(settings, links=dataclasses.replace(settings.links, secret=""))
    assert not links.letter_found([url], submission(), off, storage)


def test_only_so_many_codes_are_looked_at(linked: tuple[Settings, Storage]) -> None:
    settings, storage = linked
    base = settings.links.public_base_url.rstrip("/")
    junk = [f"{base}/u/junk{n:012d}.sig" for n in range(links.MAX_LETTER_CODES)]
    url = url_of(settings, storage)
    assert not links.letter_found([*junk, url], submission(), settings, storage)
    assert links.letter_found([*junk[:-1], url], submission(), settings, storage)
    assert links.letter_found([*junk[:5], *junk[:5], url], submission(), settings, storage)


def test_the_log_has_counts_never_payloads(
    linked: tuple[Settings, Storage], caplog: pytest.LogCaptureFixture
) -> None:
    settings, storage = linked
    own = url_of(settings, storage)
    other = url_of(settings, storage, case=OTHER_CASE)
    forged = f"{settings.links.public_base_url.rstrip('/')}/u/abcdefghijklmnop.qrstuvwx"
    with caplog.at_level(logging.INFO, logger="briefkasten.links"):
        assert links.letter_found([own, other, forged], submission(), settings, storage)
    logged = caplog.text
    assert "1 of this case, 1 of another case, 1 not valid" in logged
    for secret in (own, other, forged, own.rpartition("/")[2], CASE, OTHER_CASE):
        assert secret not in logged


def test_the_submission_is_not_changed(linked: tuple[Settings, Storage]) -> None:
    settings, storage = linked
    mine = submission()
    url = url_of(settings, storage, case=OTHER_CASE)
    links.letter_found([url], mine, settings, storage)
    assert mine == submission()


def test_a_storage_failure_is_raised_not_taken_for_no_letter(
    linked: tuple[Settings, Storage], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, storage = linked
    url = url_of(settings, storage)

    def down(key: str) -> bool:
        raise StorageError("storage unreachable")

    monkeypatch.setattr(storage, "exists", down)
    with pytest.raises(StorageError):
        links.letter_found([url], submission(), settings, storage)
