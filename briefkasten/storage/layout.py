"""The key layout: the only place storage keys are made.

One bucket holds every tenant (Träger, a job center). Keys, with ``T`` the tenant, ``C`` the
case number (BG-Nummer), ``S`` a submission id, ``F`` a file id, ``D`` a document id::

    T/C/S/originals/F.jpg            an original upload, as received (extension from its real type)
    T/C/S/documents/D.B.pdf          the normalised PDF of one document, from its build B
    T/C/S/documents/D.B.txt          its plain text (OCR)
    T/C/S/documents/D.B.report.json  its quality report
    T/C/S/documents/D.outcome.json   the document's outcome: which build's results stand
    T/C/hashes/<sha256>.json         "this case already has a file with this SHA-256" (duplicates)
    T/submissions/S/intake.json      intake progress: "storing" (written first), then "queued"
    T/submissions/S/manifest.json    the submission (model.Submission as JSON)
    T/submissions/S/status.json      its processing status; after deletion its tombstone
    T/submissions/S/confirmed.json   the case software confirmed storage (retention starts)
    T/idempotency/<sha256>.json      Idempotency-Key (hashed) → submission id, pending or queued
    T/links/L.json                   an upload link L (case, requested types, expiry)
    T/links/L.revoked.json           "link L is revoked" (checked on every use of its token)
    T/link-submissions/L/S.json      submission S came in through link L (its status page)
    _audit/YYYY/MM/DD/<time>-E.json  one admin action (dashboard audit log); ``_`` is no tenant
    _quarantine/T/YYYY/MM/DD/Q       an upload clamd found malware in (bytes as received)
    _quarantine/T/YYYY/MM/DD/Q.json  its record: tenant, time, sha256, size, signature (no name)
    _admin/revoked/<sha256>.json     a logged-out dashboard session (sha256 of its token id)
    _admin/totp-used/O/<step>.json   operator O's one-time code of this time step was used
    _tus/T/W/U/info-<n>-<ms>.json    an unfinished resumable upload U of W (link id or ``api``):
                                     n bytes announced, created at <ms> (Unix milliseconds)
    _tus/T/W/U/part-<a>-<b>-<ms>     its bytes a..b (exclusive), written at <ms>, never rewritten
    _tus/T/W/U/complete-<ms>.json    all bytes arrived and were checked: name, SHA-256, type

Manifest and status sit under the tenant only, because the gateway answers
``GET /api/v1/submissions/{id}`` knowing the tenant (from the API key) and the id, not the case.
A case's objects share one prefix, so an operator can list, export or delete a case
(Löschfristen) with one ``list(T/C/)``.

Every part is checked against a strict pattern before it becomes part of a key; a tenant comes
from the configuration (``ConfigError``), everything else may come from a request
(``InvalidRequest``; an id that is not lowercase hex: ``MalformedId``, a ``NotFound``). Ids are
server-generated lowercase hex, never the client's filename.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from briefkasten.errors import ConfigError, InvalidRequest, MalformedId, UnsupportedType

#: A tenant: lowercase letters, digits and ``-`` (e.g. ``jc-musterstadt``).
TENANT = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
#: A case number (BG-Nummer), e.g. ``12345BG0012345``.
CASE_NUMBER = re.compile(r"^[0-9]{5}BG[0-9]{7}$")
#: Server-generated ids (``secrets.token_hex``, ``uuid4().hex``).
ID = re.compile(r"^[0-9a-f]{16,64}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: A document's id: a server-made id, or ``<id>-<n>`` for part ``n`` of a split document.
DOCUMENT_ID = re.compile(r"^[0-9a-f]{16,64}(?:-[1-9][0-9]{0,3})?$")
#: What may follow a document id: ``pdf``, ``txt``, ``report.json``, ``outcome.json`` …
SUFFIX = re.compile(r"^[a-z0-9]{1,16}(?:\.[a-z0-9]{1,16})?$")
#: The token of one build of a document in its result keys (``outcomes.new_build``).
BUILD = re.compile(r"^[0-9a-f]{16}$")

#: A whole key: ``/``-separated segments of ``[A-Za-z0-9._-]``, none starting with a dot
#: (so no ``.``/``..`` and no clash with an adapter's hidden temp files).
KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")
#: A list prefix: the same characters, may be empty or end anywhere (``T/C/``, ``T/C/12``).
PREFIX = re.compile(r"^[A-Za-z0-9._/-]*$")
MAX_KEY_LENGTH = 512

#: Extension of an original by its sniffed media type (pipeline.sniff's allowlist).
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/tiff": "tif",
    "image/webp": "webp",
    "image/bmp": "bmp",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/gif": "gif",
    "application/pdf": "pdf",
}


def original_key(
    tenant: str, case_number: str, submission_id: str, file_id: str, media_type: str
) -> str:
    """``T/C/S/originals/F.<ext>`` for an uploaded file of the (sniffed) ``media_type``."""
    extension = EXTENSIONS.get(media_type)
    if extension is None:
        raise UnsupportedType(f"no storage extension for media type {media_type[:60]!r}")
    case = _case_prefix(tenant, case_number)
    return f"{case}/{_id(submission_id)}/originals/{_id(file_id)}.{extension}"


def decrypted_key(tenant: str, case_number: str, submission_id: str, file_id: str) -> str:
    """``T/C/S/originals/F.decrypted.pdf``: a locked PDF's decrypted copy, beside its original."""
    case = _case_prefix(tenant, case_number)
    return f"{case}/{_id(submission_id)}/originals/{_id(file_id)}.decrypted.pdf"


def document_key(
    tenant: str,
    case_number: str,
    submission_id: str,
    document_id: str,
    suffix: str,
    *,
    build: str = "",
) -> str:
    """``T/C/S/documents/D.<suffix>``; ``suffix`` is e.g. ``pdf``, ``txt``, ``report.json``.
    A result of one build of the document has the build's token: ``D.<build>.<suffix>``
    (``outcomes``: concurrent builds never write the same key)."""
    suffix = suffix.removeprefix(".")
    if not SUFFIX.fullmatch(suffix):
        raise InvalidRequest(f"invalid document key suffix {suffix[:40]!r}")
    if build and not BUILD.fullmatch(build):
        raise InvalidRequest(f"invalid build token {build[:40]!r}")
    case = _case_prefix(tenant, case_number)
    if not DOCUMENT_ID.fullmatch(document_id):
        raise MalformedId(f"invalid document id {document_id[:70]!r}")
    name = f"{document_id}.{build}.{suffix}" if build else f"{document_id}.{suffix}"
    return f"{case}/{_id(submission_id)}/documents/{name}"


def build_of(key: str) -> str:
    """The build token of a result key (``…/documents/D.<build>.<suffix>``); ``""`` for any other
    key (an outcome record, a result stored before builds had keys of their own)."""
    name = key.rpartition("/")[2]
    parts = name.split(".")
    return parts[1] if len(parts) > 2 and BUILD.fullmatch(parts[1]) else ""


def case_prefix(tenant: str, case_number: str) -> str:
    """``T/C/``: every object of one case (originals, results, hash markers)."""
    return _case_prefix(tenant, case_number) + "/"


def submission_prefix(tenant: str, case_number: str, submission_id: str) -> str:
    """``T/C/S/``: the originals and results of one submission."""
    return f"{_case_prefix(tenant, case_number)}/{_id(submission_id)}/"


def manifest_key(tenant: str, submission_id: str) -> str:
    """``T/submissions/S/manifest.json``: the submission as received."""
    return f"{_tenant(tenant)}/submissions/{_id(submission_id)}/manifest.json"


def status_key(tenant: str, submission_id: str) -> str:
    """``T/submissions/S/status.json``: received, processing, delivered or failed."""
    return f"{_tenant(tenant)}/submissions/{_id(submission_id)}/status.json"


def intake_key(tenant: str, submission_id: str) -> str:
    """``T/submissions/S/intake.json``: how far the intake got (``storing``, then ``queued``)."""
    return f"{_tenant(tenant)}/submissions/{_id(submission_id)}/intake.json"


def confirmation_key(tenant: str, submission_id: str) -> str:
    """``T/submissions/S/confirmed.json``: the case software confirmed it stored S."""
    return f"{_tenant(tenant)}/submissions/{_id(submission_id)}/confirmed.json"


def submissions_prefix(tenant: str) -> str:
    """``T/submissions/``: manifest, status and confirmation of every submission of a tenant."""
    return f"{_tenant(tenant)}/submissions/"


def idempotency_key(tenant: str, key_hash: str) -> str:
    """``T/idempotency/H.json``; ``key_hash`` is the SHA-256 hex of the client's header."""
    return f"{_tenant(tenant)}/idempotency/{_sha256(key_hash)}.json"


def link_key(tenant: str, link_id: str) -> str:
    """``T/links/L.json``: the record of an upload link (case, types, expiry, created_at)."""
    return f"{_tenant(tenant)}/links/{_id(link_id)}.json"


def link_revocation_key(tenant: str, link_id: str) -> str:
    """``T/links/L.revoked.json``: the link was revoked; its token is refused from now on."""
    return f"{_tenant(tenant)}/links/{_id(link_id)}.revoked.json"


def links_prefix(tenant: str) -> str:
    """``T/links/``: every upload link of a tenant (records and revocations)."""
    return f"{_tenant(tenant)}/links/"


def link_submission_key(tenant: str, link_id: str, submission_id: str) -> str:
    """``T/link-submissions/L/S.json``: submission S came in through upload link L."""
    return f"{link_submissions_prefix(tenant, link_id)}{_id(submission_id)}.json"


def link_submissions_prefix(tenant: str, link_id: str) -> str:
    """``T/link-submissions/L/``: the submissions made with one upload link."""
    return f"{_tenant(tenant)}/link-submissions/{_id(link_id)}/"


def hash_marker_key(tenant: str, case_number: str, sha256: str) -> str:
    """``T/C/hashes/H.json``: a file with this SHA-256 was already received for the case."""
    return f"{_case_prefix(tenant, case_number)}/hashes/{_sha256(sha256)}.json"


def audit_key(when: datetime, event_id: str) -> str:
    """``_audit/YYYY/MM/DD/<UTC time>-E.json``: one admin action, in time order per day. The
    leading ``_`` keeps it apart from every tenant (tenants start with a letter or digit)."""
    when = when.astimezone(UTC)
    return f"_audit/{when:%Y/%m/%d}/{when:%Y%m%dT%H%M%S%fZ}-{_id(event_id)}.json"


def audit_prefix(day: date) -> str:
    """``_audit/YYYY/MM/DD/``: the admin actions of one (UTC) day."""
    return f"_audit/{day:%Y/%m/%d}/"


def quarantine_key(tenant: str, when: datetime, quarantine_id: str, suffix: str = "") -> str:
    """``_quarantine/T/YYYY/MM/DD/Q``: the bytes of an infected upload (no extension, so it is
    never opened by accident); ``suffix="json"`` gives its record ``Q.json`` next to it."""
    when = when.astimezone(UTC)
    key = f"{quarantine_prefix(tenant)}{when:%Y/%m/%d}/{_id(quarantine_id)}"
    if suffix and not SUFFIX.fullmatch(suffix):
        raise InvalidRequest(f"invalid quarantine key suffix {suffix[:40]!r}")
    return f"{key}.{suffix}" if suffix else key


def quarantine_prefix(tenant: str) -> str:
    """``_quarantine/T/``: every quarantined upload of a tenant (bytes and records)."""
    return f"_quarantine/{_tenant(tenant)}/"


def admin_revocation_key(token_id_hash: str) -> str:
    """``_admin/revoked/<sha256 of the token id>.json``: a session ended by logout."""
    return f"{ADMIN_REVOKED}{_sha256(token_id_hash)}.json"


def totp_used_key(operator: str, step: int) -> str:
    """``_admin/totp-used/<operator>/<time step>.json``: that one-time code was used."""
    if not OPERATOR.fullmatch(operator) or step < 0:
        raise InvalidRequest(f"invalid operator or time step {operator[:70]!r}")
    return f"{ADMIN_TOTP_USED}{operator}/{step}.json"


TUS_PREFIX = "_tus/"
#: A key under ``_tus/``: tenant, owner (link id or ``api``), upload id, kind and its numbers.
TUS_KEY = re.compile(
    r"^_tus/(?P<tenant>[a-z0-9-]+)/(?P<who>[0-9a-f]{16,64}|api)/(?P<upload>[0-9a-f]{32})/"
    r"(?:info-(?P<length>[0-9]{1,19})-(?P<created>[0-9]{1,16})\.json"
    r"|part-(?P<start>[0-9]{20})-(?P<end>[0-9]{20})-(?P<written>[0-9]{1,16})"
    r"|complete-(?P<completed>[0-9]{1,16})\.json"
    r"|locked-(?P<locked>[0-9]{1,16})\.json|decrypted-(?P<decrypted>[0-9]{1,16})\.pdf)$"
)


def tus_upload_prefix(tenant: str, who: str, upload_id: str) -> str:
    """``_tus/T/W/U/``: one resumable upload's info record, parts and completion record; ``W``
    is the upload link's id or ``api`` (the tenant's API clients)."""
    if who != "api":
        _id(who)
    if not TUS_UPLOAD_ID.fullmatch(upload_id):
        raise MalformedId(f"invalid upload id {upload_id[:70]!r}")
    return f"{TUS_PREFIX}{_tenant(tenant)}/{who}/{upload_id}/"


def tus_info_key(prefix: str, length: int, created_ms: int) -> str:
    """``<upload prefix>info-<length>-<ms>.json``: written once, when the upload is created."""
    return f"{prefix}info-{length}-{created_ms}.json"


def tus_part_key(prefix: str, start: int, end: int, written_ms: int) -> str:
    """``<upload prefix>part-<start>-<end>-<ms>``: bytes ``start..end`` (exclusive)."""
    return f"{prefix}part-{start:020d}-{end:020d}-{written_ms}"


def tus_complete_key(prefix: str, completed_ms: int) -> str:
    """``<upload prefix>complete-<ms>.json``: the checked file's facts."""
    return f"{prefix}complete-{completed_ms}.json"


def tus_locked_key(prefix: str, locked_ms: int) -> str:
    """``<upload prefix>locked-<ms>.json``: the upload is a PDF that needs its password."""
    return f"{prefix}locked-{locked_ms}.json"


def tus_decrypted_key(prefix: str, written_ms: int) -> str:
    """``<upload prefix>decrypted-<ms>.pdf``: a locked PDF's decrypted copy, once opened."""
    return f"{prefix}decrypted-{written_ms}.pdf"


#: A tus upload id (``secrets.token_hex(16)``).
TUS_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")

#: Prefixes of the dashboard's own state (swept by ``briefkasten.admin_state``).
ADMIN_REVOKED = "_admin/revoked/"
ADMIN_TOTP_USED = "_admin/totp-used/"
#: An operator account name (``[operators.<name>]``).
OPERATOR = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def validate_key(key: str) -> str:
    """``key`` if it is a well-formed storage key; ``InvalidRequest`` otherwise.

    Adapters call this on every key, so a path like ``../x`` or ``/etc/x`` never reaches a
    file system or a bucket, whoever built it.
    """
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not KEY.fullmatch(key):
        raise InvalidRequest(f"invalid storage key {str(key)[:80]!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """``prefix`` if it can start a storage key (``""`` lists everything)."""
    if (
        not isinstance(prefix, str)
        or len(prefix) > MAX_KEY_LENGTH
        or not PREFIX.fullmatch(prefix)
        or prefix.startswith("/")
        or any(part in {".", ".."} for part in prefix.split("/"))
    ):
        raise InvalidRequest(f"invalid storage prefix {str(prefix)[:80]!r}")
    return prefix


def _case_prefix(tenant: str, case_number: str) -> str:
    if not CASE_NUMBER.fullmatch(case_number):
        raise InvalidRequest(f"invalid case number {case_number[:40]!r}")
    return f"{_tenant(tenant)}/{case_number}"


def _tenant(tenant: str) -> str:
    if not TENANT.fullmatch(tenant):
        raise ConfigError(f"invalid tenant name {tenant[:70]!r}: use a-z, 0-9 and '-'")
    return tenant


def _id(value: str) -> str:
    if not ID.fullmatch(value):
        raise MalformedId(f"invalid id {value[:70]!r}")
    return value


def _sha256(value: str) -> str:
    if not SHA256.fullmatch(value):
        raise InvalidRequest(f"invalid SHA-256 {value[:70]!r}")
    return value
