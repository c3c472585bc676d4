"""Case-bound upload links: opaque signed tokens, with the binding and revocation in storage.

A token is ``itsdangerous``' URL-safe, HMAC-SHA256-signed form of ``[tenant, link_id]`` only
(short, so the QR code stays small). It is opaque on purpose: the case number, the requested
document types and the expiry live in the link's record ``T/links/L.json`` in storage, so a
photographed or lost QR code reveals nothing about the case. The signature makes the token
tamper-proof; revocation is an object ``T/links/L.revoked.json``, so any number of stateless
gateways see it. The record also lets links be listed and revoked by id, and their QR code be
made again.

``letter_found`` reads the QR codes photographed on a job center's letter: only a link of the
submission's own tenant and case counts; a code never changes the case.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import segno
from itsdangerous import BadSignature, URLSafeSerializer

from briefkasten.config import LinkSettings, Settings
from briefkasten.errors import (
    ConfigError,
    InvalidRequest,
    LinkExpired,
    LinkRevoked,
    NotFound,
    Unauthorized,
)
from briefkasten.intake import check_case_number
from briefkasten.model import Submission
from briefkasten.storage import layout
from briefkasten.storage.base import Storage
from briefkasten.storage.records import load_json, put_json

SALT = "briefkasten.upload-link"
MIN_SECRET_LENGTH = 32
DAY = 86_400
#: QR codes for print: 10 px per module (a 2-3 cm code on paper stays sharp at 300 dpi).
QR_PNG_SCALE = 10
QR_SVG_SCALE = 4
EXPIRES = re.compile(r"^([0-9]{1,4})d?$")
#: An upload link's URL as printed in a QR code: ``http(s)://…/u/<token>``.
LINK_URL = re.compile(r"^https?://[^\s/?#]{1,253}(?:/[^\s?#]*)?/u/([A-Za-z0-9_.-]{10,400})/?$")
#: Distinct codes one submission's letter check looks at (each costs a storage read or two).
MAX_LETTER_CODES = 32

log = logging.getLogger("briefkasten.links")


@dataclass(frozen=True)
class UploadLink:
    """What a token binds: one tenant's case, optionally the requested document types."""

    link_id: str
    tenant: str
    case_number: str
    document_types: tuple[str, ...]
    expires: int  # Unix seconds

    @property
    def expires_at(self) -> str:
        return datetime.fromtimestamp(self.expires, UTC).isoformat(timespec="seconds")

    def payload(self) -> list[Any]:
        return [self.tenant, self.link_id]

    def record(self, created_at: str) -> dict[str, Any]:
        return {
            "link_id": self.link_id,
            "case_number": self.case_number,
            "document_types": list(self.document_types),
            "expires_at": self.expires_at,
            "expires": self.expires,
            "created_at": created_at,
        }


def create_link(
    settings: Settings,
    storage: Storage,
    tenant: str,
    case_number: str,
    document_types: Sequence[str] = (),
    expires_in_days: int | None = None,
    *,
    now: float | None = None,
) -> tuple[UploadLink, str]:
    """Validate, store the record and return the link with its token.

    ``now`` (Unix seconds) is for tests: a link created in the past is already expired.
    """
    serializer = _serializer(settings.links)
    days = settings.links.default_expiry_days if expires_in_days is None else expires_in_days
    if isinstance(days, bool) or not isinstance(days, int):
        raise InvalidRequest("expires_in_days must be a whole number of days")
    if not 1 <= days <= settings.links.max_expiry_days:
        raise InvalidRequest(
            f"expires_in_days must be between 1 and {settings.links.max_expiry_days}"
        )
    created = time.time() if now is None else now
    link = UploadLink(
        link_id=secrets.token_hex(8),
        tenant=tenant,
        case_number=check_case_number(case_number),
        document_types=check_types(document_types, settings.catalogue_for(tenant)),
        expires=int(created) + days * DAY,
    )
    created_at = datetime.fromtimestamp(created, UTC).isoformat(timespec="seconds")
    put_json(storage, layout.link_key(tenant, link.link_id), link.record(created_at))
    return link, serializer.dumps(link.payload())


def check_types(document_types: Sequence[str], catalogue: Sequence[str]) -> tuple[str, ...]:
    """The requested types, in order, without repeats; each must be in the catalogue."""
    if isinstance(document_types, str) or not all(isinstance(t, str) for t in document_types):
        raise InvalidRequest("document_types must be a list of strings")
    unknown = [t for t in document_types if t not in catalogue]
    if unknown:
        raise InvalidRequest(
            f"unknown document_type {unknown[0][:40]!r}; known: {', '.join(catalogue)}"
        )
    return tuple(dict.fromkeys(document_types))


def verify(
    settings: LinkSettings, storage: Storage, token: str, *, now: float | None = None
) -> UploadLink:
    """The link a token stands for; ``Unauthorized`` if forged, expired or revoked."""
    if len(settings.secret) < MIN_SECRET_LENGTH:
        raise Unauthorized("upload links are not configured (no links.secret)")
    try:
        tenant, link_id = _serializer(settings).loads(token)
        link = _read_record(storage, str(tenant), str(link_id))
    except (BadSignature, TypeError, ValueError, NotFound, InvalidRequest, ConfigError) as exc:
        raise Unauthorized("invalid upload link token") from exc
    if link.expires <= (time.time() if now is None else now):
        raise LinkExpired(f"upload link {link.link_id} expired at {link.expires_at}")
    if storage.exists(layout.link_revocation_key(link.tenant, link.link_id)):
        raise LinkRevoked(f"upload link {link.link_id} was revoked")
    return link


def _read_record(storage: Storage, tenant: str, link_id: str) -> UploadLink:
    record = load_json(storage, layout.link_key(tenant, _link_id(link_id)))
    return UploadLink(
        link_id=record["link_id"],
        tenant=tenant,
        case_number=record["case_number"],
        document_types=tuple(record["document_types"]),
        expires=int(record["expires"]),
    )


def load_link(
    settings: Settings, storage: Storage, tenant: str, link_id: str
) -> tuple[UploadLink, str]:
    """A tenant's link (and its token, signed again) by id; ``NotFound`` if none or revoked."""
    key = layout.link_key(tenant, _link_id(link_id))
    if not storage.exists(key) or is_revoked(storage, tenant, link_id):
        raise NotFound(f"no upload link {link_id}")
    link = _read_record(storage, tenant, link_id)
    return link, _serializer(settings.links).dumps(link.payload())


def revoke(storage: Storage, tenant: str, link_id: str) -> None:
    """Revoke a tenant's link: its token is refused from now on. Repeating it is harmless."""
    if not storage.exists(layout.link_key(tenant, _link_id(link_id))):
        raise NotFound(f"no upload link {link_id}")
    revoked_at = datetime.now(UTC).isoformat(timespec="seconds")
    record = {"link_id": link_id, "revoked_at": revoked_at}
    put_json(storage, layout.link_revocation_key(tenant, link_id), record)


def is_revoked(storage: Storage, tenant: str, link_id: str) -> bool:
    return storage.exists(layout.link_revocation_key(tenant, _link_id(link_id)))


def record_submission(storage: Storage, link: UploadLink, submission_id: str) -> None:
    """Remember that ``submission_id`` came in through ``link`` (for its status page)."""
    key = layout.link_submission_key(link.tenant, link.link_id, submission_id)
    put_json(storage, key, {"submission_id": submission_id})


def made_with(storage: Storage, link: UploadLink, submission_id: str) -> bool:
    """Whether ``submission_id`` came in through ``link`` (``NotFound`` for a malformed id)."""
    return storage.exists(layout.link_submission_key(link.tenant, link.link_id, submission_id))


def submissions_of(storage: Storage, link: UploadLink) -> list[str]:
    """The ids of every submission made with ``link``."""
    prefix = layout.link_submissions_prefix(link.tenant, link.link_id)
    return [key.removeprefix(prefix).removesuffix(".json") for key in storage.list(prefix)]


def list_links(storage: Storage, tenant: str, *, now: float | None = None) -> list[dict[str, Any]]:
    """Every upload link of ``tenant``, newest first, with its state: active, expired, revoked."""
    prefix = layout.links_prefix(tenant)
    keys = set(storage.list(prefix))
    moment = time.time() if now is None else now
    found = []
    for key in keys:
        name = key.removeprefix(prefix)
        if "/" in name or not name.endswith(".json") or name.endswith(".revoked.json"):
            continue
        record = load_json(storage, key)
        if f"{prefix}{record['link_id']}.revoked.json" in keys:
            state = "revoked"
        elif int(record["expires"]) <= moment:
            state = "expired"
        else:
            state = "active"
        found.append({**record, "state": state})
    return sorted(found, key=lambda r: (r.get("created_at", ""), r["link_id"]), reverse=True)


def letter_found(
    codes: Iterable[str], submission: Submission, settings: Settings, storage: Storage
) -> bool:
    """Whether one of ``codes`` (a document's QR code payloads) is an upload link of this
    ``submission``'s own tenant and case: signed with our secret and with its record in storage.

    That is the job center's letter of this case. A link that has expired still counts (the
    letter is old, the case the same); a revoked one does not. Codes of another tenant or case,
    forged or unknown tokens and anything else are ignored: only their numbers are logged,
    never a payload, and nothing here changes the submission. At most ``MAX_LETTER_CODES``
    distinct codes are looked at; a storage failure is raised (``StorageError``: retried).
    """
    distinct = list(dict.fromkeys(c for c in codes if isinstance(c, str)))[:MAX_LETTER_CODES]
    tokens = [m.group(1) for m in map(LINK_URL.fullmatch, distinct) if m]
    if not tokens or len(settings.links.secret) < MIN_SECRET_LENGTH:
        return False
    serializer = _serializer(settings.links)
    ours = foreign = invalid = 0
    for token in tokens:
        link = _letter_link(serializer, storage, token)
        if link is None:
            invalid += 1
        elif link.tenant == submission.tenant and link.case_number == submission.case_number:
            ours += 1
        else:
            foreign += 1
    if foreign or invalid:
        log.info(
            "letter QR codes: %d of this case, %d of another case, %d not valid (ignored)",
            ours,
            foreign,
            invalid,
        )
    return ours > 0


def _letter_link(serializer: URLSafeSerializer, storage: Storage, token: str) -> UploadLink | None:
    try:
        tenant, link_id = serializer.loads(token)
        if not isinstance(tenant, str) or not layout.TENANT.fullmatch(tenant):
            return None
        if not isinstance(link_id, str) or is_revoked(storage, tenant, link_id):
            return None
        return _read_record(storage, tenant, link_id)
    except (BadSignature, TypeError, ValueError, KeyError, NotFound, InvalidRequest):
        return None


def link_url(settings: LinkSettings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/u/{token}"


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as PNG, sized for print."""
    return _qr(url, "png", QR_PNG_SCALE)


def qr_svg(url: str) -> bytes:
    """The QR code of ``url`` as SVG (scales to any size)."""
    return _qr(url, "svg", QR_SVG_SCALE)


def parse_expiry(text: str) -> int:
    """``14d`` or ``14`` → 14 (days)."""
    match = EXPIRES.fullmatch(text.strip().lower())
    if not match:
        raise InvalidRequest(f"expiry {text[:20]!r}: use days, e.g. 14d")
    return int(match.group(1))


def _qr(url: str, kind: str, scale: int) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind=kind, scale=scale, border=4)
    return out.getvalue()


def _serializer(settings: LinkSettings) -> URLSafeSerializer:
    if len(settings.secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"upload links need a secret of at least {MIN_SECRET_LENGTH} characters: "
            "set BRIEFKASTEN_LINKS_SECRET"
        )
    return URLSafeSerializer(
        settings.secret, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def _link_id(link_id: str) -> str:
    if not layout.ID.fullmatch(link_id):
        raise NotFound(f"no upload link {link_id[:40]!r}")
    return link_id
