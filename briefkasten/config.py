"""Configuration: loaded once into frozen settings, then passed down.

Sources, later ones win: built-in defaults, the TOML file named by ``--config`` or
``BRIEFKASTEN_CONFIG`` (see ``config/briefkasten.example.toml``), then environment variables
``BRIEFKASTEN_<SECTION>_<KEY>`` (e.g. ``BRIEFKASTEN_OCR_LANG=deu+eng``) and the short
aliases in ``ALIASES`` (``BRIEFKASTEN_STORAGE``, ``BRIEFKASTEN_AMQP_URL``,
``BRIEFKASTEN_API_KEYS``). This is the only module that reads ``os.environ``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from briefkasten.errors import ConfigError

#: Short names for the variables operators set most: name → (section, key).
ALIASES = {
    "BRIEFKASTEN_STORAGE": ("storage", "url"),
    "BRIEFKASTEN_AMQP_URL": ("broker", "amqp_url"),
    "BRIEFKASTEN_API_KEYS": ("gateway", "api_keys"),
}
REPO_PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"
MIB = 1024 * 1024


@dataclass(frozen=True)
class LimitSettings:
    """Upload limits (BSI TR-03172-3), checked before anything is decoded."""

    max_file_bytes: int = 50 * MIB
    max_files: int = 20
    max_pixels: int = 80_000_000
    max_pages: int = 100


@dataclass(frozen=True)
class OcrSettings:
    """Tesseract: language(s) as ``deu`` or ``deu+eng``, and a per-page time limit."""

    lang: str = "deu"
    timeout_s: float = 300.0


@dataclass(frozen=True)
class PipelineSettings:
    """Which pipeline definition to run, where definitions live, and how pages are encoded."""

    name: str = "default"
    directory: Path = REPO_PIPELINES
    workers: int = 0
    raster_dpi: int = 300
    jpeg_quality: int = 90


DEFAULT_DOCUMENT_TYPES = "kontoauszug,mietvertrag,lohnabrechnung,ausweis,bescheinigung,sonstiges"


@dataclass(frozen=True)
class GatewaySettings:
    """The HTTP gateway. ``api_keys``: comma-separated ``KEY`` or ``TENANT:KEY`` entries.

    Resumable (tus) uploads are deleted ``tus_expiry_s`` seconds after their last received
    byte unless they were sent; the gateway looks for expired ones every
    ``tus_cleanup_interval_s`` seconds (0 = never).
    """

    host: str = "127.0.0.1"
    port: int = 8080
    api_keys: str = ""
    default_tenant: str = "default"
    document_types: str = DEFAULT_DOCUMENT_TYPES
    max_request_bytes: int = 200 * MIB
    spool_dir: Path = Path("var/spool")
    tus_expiry_s: float = 86400.0
    tus_cleanup_interval_s: float = 600.0
    rate_limit_per_ip: str = "300/minute"
    rate_limit_per_link: str = "1000/hour"
    trust_forwarded_for: bool = False
    precheck_workers: int = 1
    min_free_disk_mb: int = 500

    @property
    def catalogue(self) -> tuple[str, ...]:
        return tuple(t.strip() for t in self.document_types.split(",") if t.strip())


@dataclass(frozen=True)
class StorageSettings:
    """``url``: ``file:///abs/path`` (embedded) or ``s3://KEY:SECRET@host:port/bucket?secure=false``."""

    url: str = ""
    sse: bool = False

    def resolved_url(self) -> str:
        return self.url or (Path("var/storage").absolute().as_uri())


@dataclass(frozen=True)
class BrokerSettings:
    """RabbitMQ when ``amqp_url`` is set (distributed mode); else embedded journal and outbox.

    A job that failed temporarily waits ``retry_delay`` s before its next attempt, doubling per
    attempt up to ``retry_max_delay`` s, so an outage of S3 or RabbitMQ does not burn all
    ``max_attempts`` at once (3 attempts: 10 s + 20 s; raise ``max_attempts`` for longer ones).
    """

    amqp_url: str = ""
    exchange: str = "briefkasten.documents"
    work_queue: str = "briefkasten.jobs"
    prefetch: int = 1
    max_attempts: int = 3
    retry_delay: float = 10.0
    retry_max_delay: float = 300.0
    outbox_dir: Path = Path("var/outbox")
    journal_dir: Path = Path("var/journal")
    receipts_exchange: str = "briefkasten.receipts"
    receipts_queue: str = "briefkasten.receipts"


@dataclass(frozen=True)
class RetentionSettings:
    """Deletion after hand-over (Löschfristen): a submission's originals and results are
    deleted ``grace_days`` after the case software confirmed receipt, or ``max_days`` after it
    was received if no confirmation came. Workers (and ``serve`` in embedded mode) sweep every
    ``sweep_interval_s`` seconds (0 = only ``briefkasten retention run``)."""

    grace_days: int = 7
    max_days: int = 90
    sweep_interval_s: float = 3600.0


@dataclass(frozen=True)
class LinkSettings:
    """Case-bound upload links. ``secret`` signs their tokens: set it from the environment
    (``BRIEFKASTEN_LINKS_SECRET``, at least 32 characters, the same on every gateway); empty
    disables links. ``public_base_url`` is what applicants open (the link is ``…/u/<token>``).
    """

    secret: str = ""
    public_base_url: str = "http://127.0.0.1:8080"
    default_expiry_days: int = 14
    max_expiry_days: int = 90


@dataclass(frozen=True)
class TenantSettings:
    """One job center (tenant), from a ``[tenants.<id>]`` table: the name and logo its
    applicants see, and whether they may upload without a case-bound link (they then type
    their BG-Nummer themselves; off unless switched on here). ``retention_grace_days`` and
    ``retention_max_days`` override ``[retention]`` for this tenant (0 = the global value)."""

    id: str
    name: str = ""
    logo: str = ""
    allow_uploads_without_link: bool = False
    retention_grace_days: int = 0
    retention_max_days: int = 0

    @property
    def display_name(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class LoggingSettings:
    """Logs go to stderr: ``format`` ``json`` (one event per line) or ``text``; ``level`` as in
    Python's logging (``INFO``, ``DEBUG`` …). ``briefkasten ingest`` always writes text."""

    format: str = "json"
    level: str = "INFO"


@dataclass(frozen=True)
class Settings:
    limits: LimitSettings = field(default_factory=LimitSettings)
    ocr: OcrSettings = field(default_factory=OcrSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    links: LinkSettings = field(default_factory=LinkSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    tenants: tuple[TenantSettings, ...] = ()

    def tenant(self, tenant_id: str) -> TenantSettings:
        """The configured tenant, or one with defaults (named by its id) if it has no table."""
        for tenant in self.tenants:
            if tenant.id == tenant_id:
                return tenant
        return TenantSettings(tenant_id)

    @property
    def worker_count(self) -> int:
        return self.pipeline.workers or os.cpu_count() or 1


def load(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read defaults, then the TOML file, then ``BRIEFKASTEN_*`` variables."""
    env = os.environ if environ is None else environ
    if path is None and env.get("BRIEFKASTEN_CONFIG"):
        path = Path(env["BRIEFKASTEN_CONFIG"])
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    sections: dict[str, Any] = {"tenants": _tenants(data.get("tenants", {}), env)}
    for section in dataclasses.fields(Settings):
        if section.name == "tenants":
            continue
        cls = get_type_hints(Settings)[section.name]
        given = data.get(section.name, {})
        if not isinstance(given, dict):
            raise ConfigError(f"config section [{section.name}] must be a table")
        sections[section.name] = _build(cls, section.name, given, env)
    unknown = set(data) - set(sections)
    if unknown:
        raise ConfigError(f"unknown config sections: {', '.join(sorted(unknown))}")
    return Settings(**sections)


def _tenants(given: Any, env: Mapping[str, str]) -> tuple[TenantSettings, ...]:
    if not isinstance(given, dict) or not all(isinstance(t, dict) for t in given.values()):
        raise ConfigError("[tenants] must hold one table per tenant: [tenants.<id>]")
    tenants = []
    for tenant_id, table in given.items():
        if tenant_id != tenant_id.lower() or not tenant_id.replace("-", "").isalnum():
            raise ConfigError(f"tenant id {tenant_id!r}: use a-z, 0-9 and '-'")
        if "id" in table:
            raise ConfigError(f"[tenants.{tenant_id}]: the id is the table name")
        tenants.append(
            _build(
                TenantSettings,
                f"tenants_{tenant_id.replace('-', '_')}",
                {"id": tenant_id, **table},
                env,
            )
        )
    return tuple(tenants)


def _build(cls: type, section: str, given: dict[str, Any], env: Mapping[str, str]) -> Any:
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(given) - names
    if unknown:
        raise ConfigError(f"unknown keys in [{section}]: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    aliases = {key: alias for alias, (sec, key) in ALIASES.items() if sec == section}
    for name in names:
        var = f"BRIEFKASTEN_{section}_{name}".upper()
        raw = env.get(var, env.get(aliases.get(name, ""), given.get(name)))
        if raw is None:
            continue
        values[name] = _coerce(raw, hints[name], var)
    return cls(**values)


def _coerce(raw: Any, kind: Any, where: str) -> Any:
    try:
        if kind is Path:
            return Path(raw).expanduser()
        if kind is bool:
            return raw if isinstance(raw, bool) else str(raw).lower() in {"1", "true", "yes", "on"}
        value = kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: expected {kind.__name__}, got {raw!r}") from exc
    if isinstance(value, int | float) and value < 0:
        raise ConfigError(f"{where}: must not be negative")
    return value
