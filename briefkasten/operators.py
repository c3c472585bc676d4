"""Operator accounts of the dashboard: password hashes, session tokens, the audit log.

* **Passwords** are stored as ``scrypt$n$r$p$salt_b64$hash_b64`` (``hashlib.scrypt``, a
  16-byte random salt, 32-byte hash), made by ``briefkasten operator hash-password``.
  Checking an unknown name costs one scrypt too, so timing does not tell which names exist.
* **Sessions**: the token is the operator's name and a random token id (``jti``, 128 bits)
  signed with a timestamp (itsdangerous ``TimestampSigner``, ``admin.secret``, SHA-256); it
  expires after ``admin.session_ttl_s``, or when logout revokes its id
  (``briefkasten.admin_state``, checked by the gateway on every request).
* **Second factor**: an operator with a ``totp_secret`` logs in with a TOTP code too (RFC
  6238, 30 s steps, 6 digits, the step before and after accepted); ``Accounts.login`` answers
  the time step the code belongs to, and the gateway refuses a step used before.
  The role and the tenants are looked up in the configuration on every request, so removing an
  account or lowering its role takes effect at once (with the next restart that reads the config).
* **Audit**: every admin action (login, retry, discard) becomes one JSON object in storage
  (``layout.audit_key``) and one log line: who, role, action, target ids, result, time, client
  address. No passwords, no tokens, no document content.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import pyotp
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from briefkasten.config import AdminSettings, OperatorSettings
from briefkasten.errors import ConfigError, Unauthorized
from briefkasten.storage import layout
from briefkasten.storage.base import Storage
from briefkasten.storage.records import put_json

log = logging.getLogger("briefkasten.admin")

MIN_SECRET_LENGTH = 32
SALT = "briefkasten.admin.session"
#: scrypt cost: 2**14 × 8 × 128 bytes = 16 MiB of memory per check, ~50 ms.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SALT_BYTES, _HASH_BYTES = 16, 32
_MAX_N = 2**20
#: Checked against for unknown names, so they cost as much as known ones.
_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 43 + "="
#: What every failed login answers: which part was wrong is not told.
WRONG_LOGIN = "wrong operator name or password"
#: ``Unauthorized.source`` when the password was right and the one-time code was not.
SECOND_FACTOR = "totp"
TOTP_ISSUER = "Briefkasten"


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$n$r$p$salt_b64$hash_b64`` for ``password`` with a fresh random salt."""
    if not password:
        raise ConfigError("the password must not be empty")
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, n, r, p)
    return "$".join(["scrypt", str(n), str(r), str(p), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (a malformed hash never matches)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or int(n) > _MAX_N:
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=_HASH_BYTES, maxmem=256 * n * r * p
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class Session:
    """A logged-in operator."""

    name: str
    role: str
    #: The tenants this operator may see; empty: all of them.
    tenants: tuple[str, ...] = ()

    @property
    def may_change(self) -> bool:
        """Whether this operator may retry and discard dead letters."""
        return self.role == "operator"

    def sees(self, tenant: str | None) -> bool:
        """Whether figures and dead letters of ``tenant`` are this operator's business."""
        return not self.tenants or tenant in self.tenants


class Accounts:
    """The configured operators and the session tokens signed for them."""

    def __init__(self, settings: AdminSettings, operators: tuple[OperatorSettings, ...]) -> None:
        if settings.secret and len(settings.secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"admin.secret must have at least {MIN_SECRET_LENGTH} characters "
                "(BRIEFKASTEN_ADMIN_SECRET)"
            )
        self.ttl = settings.session_ttl_s
        self._operators = {o.name: o for o in operators}
        self._signer = (
            TimestampSigner(settings.secret, salt=SALT, digest_method=hashlib.sha256)
            if settings.secret
            else None
        )

    @property
    def enabled(self) -> bool:
        """A secret and at least one account: otherwise the dashboard is off."""
        return self._signer is not None and bool(self._operators)

    def login(
        self, name: str, password: str, code: str = "", now: float | None = None
    ) -> tuple[Session, int | None]:
        """The session for ``name`` if ``password`` (and, with a ``totp_secret``, ``code``) is
        right, and the TOTP time step of the code (``None`` without a second factor); else
        ``Unauthorized`` (``source`` ``SECOND_FACTOR`` if only the code was wrong)."""
        operator = self._operators.get(name)
        stored = operator.password_hash if operator and operator.password_hash else _DUMMY_HASH
        if not verify_password(password, stored) or operator is None:
            raise Unauthorized(WRONG_LOGIN)
        step = None
        if operator.totp_secret:
            step = totp_step(operator.totp_secret, code, time.time() if now is None else now)
            if step is None:
                raise Unauthorized(WRONG_LOGIN, source=SECOND_FACTOR)
        return Session(operator.name, operator.role, operator.tenant_ids), step

    def token(self, session: Session) -> str:
        assert self._signer is not None
        return self._signer.sign(f"{session.name}:{secrets.token_hex(16)}").decode("ascii")

    def session(self, token: str) -> Session:
        """The operator a token was signed for, if it is still valid and the account exists."""
        return self.verify(token)[0]

    def verify(self, token: str) -> tuple[Session, str, float]:
        """The session of a valid token, its token id and when it expires (epoch seconds).
        Whether it was revoked is for the caller to check (``admin_state``)."""
        if self._signer is None:
            raise Unauthorized("the admin dashboard is switched off")
        try:
            value, signed_at = self._signer.unsign(
                token, max_age=math.ceil(self.ttl), return_timestamp=True
            )
        except SignatureExpired as exc:
            raise Unauthorized("the session has expired: log in again") from exc
        except BadSignature as exc:
            raise Unauthorized("invalid session token: log in again") from exc
        name, _, token_id = value.decode().partition(":")
        operator = self._operators.get(name)
        if not token_id:
            raise Unauthorized("invalid session token: log in again")
        if operator is None:
            raise Unauthorized("the account no longer exists")
        session = Session(operator.name, operator.role, operator.tenant_ids)
        return session, token_id, signed_at.timestamp() + self.ttl


def totp_step(secret: str, code: str, now: float) -> int | None:
    """The time step (``now`` ± one 30 s step) whose code ``code`` is, else ``None``."""
    code = code.strip().replace(" ", "")
    if not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    step = int(now // totp.interval)
    found = None
    for candidate in (step - 1, step, step + 1):  # compare all three: no early exit
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            found = candidate
    return found


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret (160 bits, as authenticator apps expect)."""
    return pyotp.random_base32()


def totp_uri(secret: str, name: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=TOTP_ISSUER)


@dataclass(frozen=True)
class AuditEvent:
    """One admin action as written to the audit log."""

    actor: str
    role: str
    action: str  # login, logout, retry, discard
    result: str  # ok, denied, failed, failed_totp, locked, or an error code
    client: str
    targets: tuple[str, ...] = ()
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="microseconds"))
    event_id: str = field(default_factory=lambda: secrets.token_hex(8))


def audit(storage: Storage, event: AuditEvent) -> str:
    """Write ``event`` to storage and the log (blocking: storage may be S3); returns its key."""
    key = layout.audit_key(datetime.fromisoformat(event.time), event.event_id)
    put_json(storage, key, asdict(event), ensure_ascii=False, sort_keys=True)
    log.info(
        "admin %s %s",
        event.action,
        event.result,
        extra={
            "operator": event.actor,
            "role": event.role,
            "action": event.action,
            "result": event.result,
            "targets": ",".join(event.targets),
            "client": event.client,
            "audit_id": event.event_id,
        },
    )
    return key
