"""Checks of loaded settings that need nothing but the settings: run by ``config.load``.

A mistake is a ``ConfigError`` naming the setting and the reason, so ``serve`` and ``worker``
exit 2 with one readable line instead of starting anyway or failing later as an internal
error. Checks that need the system (OCR languages installed, the port free) are in
``briefkasten.cli.startup``. Messages never contain a key or secret, only where it is configured.

* **API keys**: each ``gateway.api_keys`` entry is ``KEY`` or ``TENANT:KEY`` (one colon at
  most, a tenant id of a-z, 0-9 and ``-``); a tenant's own ``api_keys`` entries are plain keys.
  A key has at least ``MIN_KEY_LENGTH`` characters and no whitespace.
* **Secrets** (``links.secret``, ``admin.secret``): at least ``MIN_SECRET_LENGTH`` characters
  when set; an operator's ``totp_secret`` is base32 of at least 16 bytes (128 bits).
* **Ranges**: ``RANGES``, one table for every number with a meaningful range.
* **Rate limits**: each parses as the ``limits`` notation (``10/minute``);
  ``gateway.rate_limit_storage`` is empty or ``redis://``/``rediss://`` host, port, database.
* ``admin.require_totp``: every operator has a ``totp_secret``.
* ``gateway.allowed_hosts``: entries are host names or addresses with an optional port.
* ``ocr.languages`` and a tenant's ``ocr_languages``: codes out of ``OCR_LANGUAGES``.
* **Tenants**: routing-key words, pipeline names and ``document_type_labels`` entries;
  **operators**' ``tenants`` name known tenants; ``admin.metrics_urls`` are http(s) URLs.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from limits import parse

from briefkasten.config.accessibility import CONFORMANCE
from briefkasten.config.ocr import OCR_LANGUAGES
from briefkasten.config.settings import Settings
from briefkasten.config.values import MIN_KEY_LENGTH, TENANT_ID, api_key_entry, split_list
from briefkasten.errors import ConfigError

__all__ = [
    "MIN_KEY_LENGTH",
    "MIN_SECRET_LENGTH",
    "MIN_TOTP_BYTES",
    "RANGES",
    "RATE_LIMITS",
    "TENANT_ID",
    "Range",
    "api_key_entry",
    "check",
    "check_admin",
    "check_allowed_hosts",
    "check_ocr_languages",
    "check_rate_limit_storage",
    "check_tenants",
    "totp_secret_bytes",
]

MIN_SECRET_LENGTH = 32
MIN_TOTP_BYTES = 16
_ROUTING_WORD = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: An operator's ``tenants`` entry (looser than ``TENANT_ID``: it must name a known tenant too).
_OPERATOR_TENANT = re.compile(r"[a-z0-9-]{1,64}")
#: ``host`` or ``host:port``, the host a DNS name, an IPv4 address or ``[IPv6]``.
HOST_ENTRY = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_.-]{0,252})|\[[0-9a-f:.]{2,45}\])(?::[0-9]{1,5})?")
LANG = re.compile(r"[A-Za-z0-9_]{1,32}(?:\+[A-Za-z0-9_]{1,32}){0,7}")


@dataclass(frozen=True)
class Range:
    """Inclusive bounds; ``positive``: must be greater than 0 (for times and sizes)."""

    low: float = 0
    high: float | None = None
    positive: bool = False

    def describe(self) -> str:
        low = "greater than 0" if self.positive else f"at least {self.low:g}"
        return low if self.high is None else f"{low} and at most {self.high:g}"

    def holds(self, value: float) -> bool:
        if self.positive and value <= 0:
            return False
        return value >= self.low and (self.high is None or value <= self.high)


_POSITIVE = Range(positive=True)
_AT_LEAST_1 = Range(1)
#: Every bounded number: ``section.key`` → its range (non-negative is checked for all numbers
#: when they are read; a key missing here only has that check).
RANGES: dict[str, Range] = {
    "limits.max_file_bytes": _AT_LEAST_1,
    "limits.max_files": _AT_LEAST_1,
    "limits.max_pixels": _AT_LEAST_1,
    "limits.max_pages": _AT_LEAST_1,
    "limits.max_submission_pages": _AT_LEAST_1,
    "limits.max_file_pixels": _AT_LEAST_1,
    "limits.max_render_pixels": Range(100_000),
    "limits.max_jpeg_scans": _AT_LEAST_1,
    "limits.max_page_content_bytes": Range(64 * 1024),
    "limits.worker_cpu_s_per_mib": _POSITIVE,
    "limits.worker_cpu_s_min": Range(1),
    "limits.max_stream_bytes": Range(64 * 1024),
    "limits.max_page_stream_bytes": Range(64 * 1024),
    "sandbox.slots": Range(1, 64),
    # Below ~600 MiB a child cannot even hold the preloaded libraries (OpenCV, PDFium).
    "sandbox.memory_mb": Range(768, 1024 * 1024),
    "sandbox.cpu_s": Range(1),
    "sandbox.wall_s": Range(1),
    "sandbox.page_memory_mb": Range(768, 1024 * 1024),
    "sandbox.page_cpu_s": Range(1),
    "sandbox.page_wall_s": Range(1),
    "ocr.timeout_s": _POSITIVE,
    "pipeline.workers": Range(0, 1024),
    "pipeline.raster_dpi": Range(50, 1200),
    "pipeline.jpeg_quality": Range(1, 100),
    "pipeline.split_min_confidence": Range(0, 1),
    "gateway.port": Range(1, 65535),
    "gateway.max_request_bytes": _AT_LEAST_1,
    "gateway.tus_expiry_s": _POSITIVE,
    "gateway.precheck_workers": Range(0, 64),
    "broker.prefetch": Range(1, 1000),
    "broker.max_attempts": Range(1, 100),
    "retention.max_days": _AT_LEAST_1,
    "links.default_expiry_days": _AT_LEAST_1,
    "links.max_expiry_days": _AT_LEAST_1,
    "admin.session_ttl_s": Range(60, 86400),
}
TUS_STORES = ("spool", "storage")
#: ``pipeline.split``: see ``pipeline.parts``.
SPLIT_MODES = ("auto", "separators", "off")
RATE_LIMITS = (
    "gateway.rate_limit_per_ip",
    "gateway.rate_limit_per_link",
    "admin.login_rate_limit",
    "admin.login_rate_limit_per_account",
)


def check(settings: Settings) -> None:
    """Raise ``ConfigError`` for the first mistake found."""
    check_tenants(settings)
    check_admin(settings)
    _check_ranges(settings)
    _check_rate_limits(settings)
    check_rate_limit_storage(settings.gateway.rate_limit_storage)
    _check_secrets(settings)
    _check_totp(settings)
    check_allowed_hosts(settings.gateway.allowed_hosts)
    if settings.gateway.tus_store not in TUS_STORES:
        raise ConfigError(f"gateway.tus_store must be one of {', '.join(TUS_STORES)}")
    if settings.pipeline.split not in SPLIT_MODES:
        raise ConfigError(f"pipeline.split must be one of {', '.join(SPLIT_MODES)}")
    _check_accessibility(settings)
    if not LANG.fullmatch(settings.ocr.lang):
        raise ConfigError(f"ocr.lang: {settings.ocr.lang[:40]!r} is not like deu or deu+eng")
    check_ocr_languages("ocr.languages", settings.ocr.languages)
    if settings.links.default_expiry_days > settings.links.max_expiry_days:
        raise ConfigError("links.default_expiry_days must not exceed links.max_expiry_days")


def check_tenants(settings: Settings) -> None:
    """What can be checked without other modules: routing-key words, pipeline names, keys.
    (Whether the pipelines exist is checked by ``serve`` and ``worker`` at startup.)"""
    settings.api_key_tenants()
    for tenant in settings.tenants:
        where = f"[tenants.{tenant.id}]"
        for word in (tenant.routing_prefix, *tenant.catalogue):
            if not _ROUTING_WORD.fullmatch(word):
                raise ConfigError(f"{where}: {word!r} is not a routing-key word (a-z, 0-9, _, -)")
        if tenant.pipeline and not _ROUTING_WORD.fullmatch(tenant.pipeline):
            raise ConfigError(f"{where}: invalid pipeline name {tenant.pipeline!r}")
        if tenant.ocr_languages:
            check_ocr_languages(f"{where} ocr_languages", tenant.ocr_languages)
        for entry in split_list(tenant.document_type_labels):
            if "=" not in entry:
                raise ConfigError(f"{where}: document_type_labels entries are code=Label|Label")


def check_ocr_languages(where: str, spec: str) -> None:
    """An OCR allowlist: comma-separated codes out of ``OCR_LANGUAGES``, at least one."""
    codes = split_list(spec)
    unknown = [code for code in codes if code not in OCR_LANGUAGES]
    if unknown:
        shown = ", ".join(repr(code[:12]) for code in unknown[:3])
        raise ConfigError(f"{where}: unknown language {shown} (known: {', '.join(OCR_LANGUAGES)})")
    if not codes:
        raise ConfigError(
            f"{where}: name at least one language (known: {', '.join(OCR_LANGUAGES)})"
        )


def _check_accessibility(settings: Settings) -> None:
    """The statement's conformance word, its date and every enforcement URL (https only: it
    becomes a link on a public page)."""
    common = settings.accessibility
    if common.conformance not in CONFORMANCE:
        raise ConfigError(f"accessibility.conformance must be one of {', '.join(CONFORMANCE)}")
    try:
        date.fromisoformat(common.statement_date)
    except ValueError:
        raise ConfigError("accessibility.statement_date must be a date like 2026-12-02") from None
    for where, url in (
        ("accessibility.enforcement_url", common.enforcement_url),
        *(
            (f"[tenants.{t.id}] accessibility_enforcement_url", t.accessibility_enforcement_url)
            for t in settings.tenants
        ),
    ):
        if url and not url.startswith("https://"):
            raise ConfigError(f"{where} must be an https:// URL")


def check_admin(settings: Settings) -> None:
    """Operators' tenant ids must name known tenants (a ``[tenants.<id>]`` table, an API key's
    tenant or ``gateway.default_tenant``): a typo would silently show an empty dashboard.
    ``admin.metrics_urls`` must be http(s) URLs."""
    known = {t.id for t in settings.tenants} | set(settings.api_key_tenants().values())
    known.add(settings.gateway.default_tenant)
    for operator in settings.operators:
        for tenant_id in operator.tenant_ids:
            if not _OPERATOR_TENANT.fullmatch(tenant_id):
                raise ConfigError(
                    f"[operators.{operator.name}] tenants: {tenant_id[:70]!r} is not a tenant id "
                    "(a-z, 0-9 and '-')"
                )
            if tenant_id not in known:
                raise ConfigError(
                    f"[operators.{operator.name}] tenants: unknown tenant {tenant_id!r} "
                    f"(known: {', '.join(sorted(known))})"
                )
    for url in settings.admin.metrics_url_list:
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
            raise ConfigError(f"admin.metrics_urls: {url[:100]!r} is not an http(s) URL")


def check_allowed_hosts(spec: str) -> None:
    for entry in (e.strip() for e in spec.split(",")):
        if entry and not HOST_ENTRY.fullmatch(entry.lower()):
            raise ConfigError(f"gateway.allowed_hosts: {entry[:80]!r} is not host or host:port")


def _check_ranges(settings: Settings) -> None:
    for name, bounds in RANGES.items():
        section, _, key = name.partition(".")
        value = getattr(getattr(settings, section), key)
        if not bounds.holds(value):
            raise ConfigError(f"{name} = {value!r}: must be {bounds.describe()}")


def _check_rate_limits(settings: Settings) -> None:
    for name in RATE_LIMITS:
        section, _, key = name.partition(".")
        value = getattr(getattr(settings, section), key)
        try:
            parse(value)
        except ValueError as exc:
            raise ConfigError(f"{name} = {value[:40]!r}: not a rate like 10/minute") from exc


def check_rate_limit_storage(url: str) -> None:
    """Empty, or ``redis://`` / ``rediss://`` with a host, an optional port and database number
    (the message never repeats the URL: it may hold the password)."""
    if not url:
        return
    where = "gateway.rate_limit_storage"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}: not a URL like redis://127.0.0.1:6379/0") from None
    if parts.scheme not in ("redis", "rediss"):
        raise ConfigError(f"{where}: the scheme must be redis:// or rediss://")
    if not parts.hostname:
        raise ConfigError(f"{where}: the URL names no host (redis://HOST:PORT/DB)")
    if port == 0:
        raise ConfigError(f"{where}: port 0 is not a port")
    if parts.path not in ("", "/") and not re.fullmatch(r"/[0-9]{1,2}", parts.path):
        raise ConfigError(f"{where}: the path must be a database number like /0")
    if parts.query or parts.fragment:
        raise ConfigError(f"{where}: no query or fragment (redis://HOST:PORT/DB)")


def _check_secrets(settings: Settings) -> None:
    for name, value in (
        ("links.secret", settings.links.secret),
        ("admin.secret", settings.admin.secret),
    ):
        if value and len(value) < MIN_SECRET_LENGTH:
            variable = "BRIEFKASTEN_" + name.replace(".", "_").upper()
            raise ConfigError(
                f"{name} must have at least {MIN_SECRET_LENGTH} characters ({variable})"
            )


def totp_secret_bytes(secret: str) -> bytes:
    """The key of a base32 ``totp_secret`` (spaces and case ignored); ``ValueError`` if invalid."""
    text = secret.replace(" ", "").upper()
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base32") from exc


def _check_totp(settings: Settings) -> None:
    for operator in settings.operators:
        where = f"[operators.{operator.name}] totp_secret"
        if operator.totp_secret:
            try:
                key = totp_secret_bytes(operator.totp_secret)
            except ValueError as exc:
                raise ConfigError(f"{where} is not base32 (A-Z, 2-7)") from exc
            if len(key) < MIN_TOTP_BYTES:
                raise ConfigError(
                    f"{where} is too short: at least {MIN_TOTP_BYTES} bytes (26 chars)"
                )
        elif settings.admin.require_totp:
            raise ConfigError(
                f"admin.require_totp is on but {where} is not set "
                "(briefkasten operator totp-secret makes one)"
            )
