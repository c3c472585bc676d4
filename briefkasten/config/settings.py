"""The settings: frozen dataclasses, one per config section, loaded once and passed down.

``briefkasten.config.loading`` fills them from defaults, the TOML file and the environment;
``briefkasten.config.checks`` checks them. Nothing here reads a file or the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from briefkasten.config.accessibility import AccessibilitySettings, statement
from briefkasten.config.ocr import OcrSettings
from briefkasten.config.tenants import TenantSettings
from briefkasten.config.values import api_key_entry, split_list
from briefkasten.errors import ConfigError

REPO_PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"
MIB = 1024 * 1024


@dataclass(frozen=True)
class LimitSettings:
    """Upload limits (BSI TR-03172-3), checked before anything is decoded."""

    max_file_bytes: int = 50 * MIB
    max_files: int = 20
    max_pixels: int = 80_000_000
    max_pages: int = 100
    #: Pages of all documents of one submission together.
    max_submission_pages: int = 200
    #: Pixels of all frames of one image file together (a TIFF of many huge frames).
    max_file_pixels: int = 400_000_000
    #: Pixels of one rendered PDF page: the DPI is lowered for huge page boxes to stay below.
    max_render_pixels: int = 36_000_000
    #: Scans of a progressive JPEG (encoders write about 10; each one is a full decode pass).
    max_jpeg_scans: int = 32
    #: Decompressed bytes of one PDF page's content (its streams and form XObjects together).
    max_page_content_bytes: int = 64 * MIB
    #: Worker CPU seconds one submission may cost per MiB of its originals, and at least.
    worker_cpu_s_per_mib: float = 60.0
    worker_cpu_s_min: float = 60.0
    #: Decompressed bytes of one stream of a born-digital page (content, form, font, ...) and
    #: of all its streams together; over either, the page is rasterised instead of copied.
    max_stream_bytes: int = 32 * MIB
    max_page_stream_bytes: int = 128 * MIB


@dataclass(frozen=True)
class SandboxSettings:
    """Limits of the child processes that parse untrusted bytes (``briefkasten.pipeline.sandbox``).

    The gateway sniffs and prechecks uploads in at most ``slots`` children at once, each with
    ``memory_mb`` MiB of address space, ``cpu_s`` s of CPU time and ``wall_s`` s of wall time.
    Workers run each page (decode, pipeline, OCR, bundle) in a child with the ``page_*`` limits;
    Tesseract, started by that child, inherits them. A file that hits a limit is refused as
    ``too_complex``."""

    slots: int = 2
    memory_mb: int = 2048
    cpu_s: float = 30.0
    wall_s: float = 60.0
    page_memory_mb: int = 3072
    page_cpu_s: float = 300.0
    page_wall_s: float = 600.0


@dataclass(frozen=True)
class PipelineSettings:
    """Which pipeline definition to run, where definitions live, and how pages are encoded."""

    name: str = "default"
    directory: Path = REPO_PIPELINES
    workers: int = 0
    raster_dpi: int = 300
    jpeg_quality: int = 90
    #: Splitting an uploaded document that holds several (``pipeline.parts``): ``auto``
    #: (separator sheets, blank pages between documents, type changes), ``separators`` (no
    #: type changes) or ``off``; a type change counts from ``split_min_confidence`` (0–1) on.
    split: str = "auto"
    split_min_confidence: float = 0.8


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
    #: Where the rate-limit counters and the Idempotency-Key locks live: empty = in this
    #: process (embedded); ``redis://[:PASSWORD@]HOST[:PORT][/DB]`` (``rediss://`` for TLS) =
    #: shared by every gateway using the same Redis. Unreachable: per-process counters.
    rate_limit_storage: str = ""
    trust_forwarded_for: bool = False
    precheck_workers: int = 1
    min_free_disk_mb: int = 500
    #: Host headers answered (comma-separated ``name`` or ``name:port``; a name without a port
    #: matches any port). Empty: the host of ``links.public_base_url`` plus ``localhost``,
    #: ``127.0.0.1`` and ``[::1]``. Anything else is refused with 421 (DNS rebinding).
    allowed_hosts: str = ""
    #: Parts (fields and files) one multipart form may have.
    max_form_parts: int = 200
    #: Bytes of all non-file parts of one form together (field values and part headers).
    max_form_field_bytes: int = 64 * 1024
    #: A request body that sends no byte for this long is refused (408).
    body_idle_timeout_s: float = 60.0
    #: A request body must be complete within this many seconds (slowloris bound; 408).
    body_deadline_s: float = 1800.0
    #: Bytes of unfinished tus uploads one upload link or API key may hold (0 = no quota).
    tus_quota_per_owner_bytes: int = 1024 * MIB
    #: Bytes of unfinished tus uploads all owners together may hold (0 = no quota).
    tus_quota_bytes: int = 20 * 1024 * MIB
    #: Where unfinished tus uploads live: ``spool`` (this gateway's ``spool_dir``, the embedded
    #: default) or ``storage`` (the object storage, shared by every gateway: no sticky routing).
    tus_store: str = "spool"

    @property
    def catalogue(self) -> tuple[str, ...]:
        return split_list(self.document_types)


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
    #: Where case systems send their confirmations ("stored in the e-file"), and the workers'
    #: queue on it. The AMQP names predate the rename and stay (case systems rely on them); the
    #: keys ``receipts_exchange`` / ``receipts_queue`` are still read as deprecated aliases.
    confirmations_exchange: str = "briefkasten.receipts"
    confirmations_queue: str = "briefkasten.receipts"

    @property
    def receipts_exchange(self) -> str:
        """Deprecated name of ``confirmations_exchange``."""
        return self.confirmations_exchange

    @property
    def receipts_queue(self) -> str:
        """Deprecated name of ``confirmations_queue``."""
        return self.confirmations_queue


@dataclass(frozen=True)
class RetentionSettings:
    """Deletion after hand-over (Löschfristen): a submission's originals and results are
    deleted ``grace_days`` after the case software confirmed that it stored them, or
    ``max_days`` after it was received if no confirmation came. Workers (and ``serve`` in
    embedded mode) sweep every ``sweep_interval_s`` seconds (0 = only ``briefkasten retention
    run``)."""

    grace_days: int = 7
    max_days: int = 90
    sweep_interval_s: float = 3600.0


@dataclass(frozen=True)
class ReconcileSettings:
    """Repairs after a crash or an outage between storing and queueing (``reconcile``).
    Workers (and ``serve`` in embedded mode) reconcile every ``interval_s`` seconds (0 = only
    ``briefkasten reconcile run``): a manifest that was never queued and has no status is
    queued again ``requeue_after_s`` after it was received; a submission whose status stayed
    ``processing`` for ``stuck_after_s`` (nobody works on it) is queued again; originals of an
    intake that never got a manifest are deleted ``orphan_grace_s`` after it started."""

    interval_s: float = 300.0
    requeue_after_s: float = 300.0
    stuck_after_s: float = 3600.0
    orphan_grace_s: float = 86400.0


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
class AdminSettings:
    """The operators' dashboard ``/admin``. ``secret`` signs its session tokens: set it from
    the environment (``BRIEFKASTEN_ADMIN_SECRET``, at least 32 characters); empty switches the
    dashboard off. Sessions last ``session_ttl_s`` seconds; logins are limited per client
    address to ``login_rate_limit``. ``metrics_urls`` (comma-separated) are the ``/metrics``
    endpoints of ``briefkasten worker --metrics-port`` processes whose figures the dashboard adds
    to the gateway's own (distributed mode)."""

    secret: str = ""
    session_ttl_s: float = 1800.0
    login_rate_limit: str = "10/minute"
    #: Logins per account name (any address) since its last successful one before it is
    #: locked for the rest of the window (429 with Retry-After); counted per gateway process
    #: unless ``gateway.rate_limit_storage`` shares the counters in Redis.
    login_rate_limit_per_account: str = "5/15minutes"
    #: Refuse to start unless every operator has a ``totp_secret`` (second factor).
    require_totp: bool = False
    metrics_urls: str = ""

    @property
    def metrics_url_list(self) -> tuple[str, ...]:
        return split_list(self.metrics_urls)


@dataclass(frozen=True)
class OperatorSettings:
    """One account of the dashboard, from an ``[operators.<name>]`` table: ``role`` ``read``
    (look only) or ``operator`` (may retry and discard dead letters), and ``password_hash`` as
    ``briefkasten operator hash-password`` prints it (``scrypt$n$r$p$salt$hash``).
    ``tenants`` (comma-separated tenant ids) limits the account to those job centers' figures
    and dead letters; empty means all tenants (the IT service provider's own staff).
    ``totp_secret`` (base32, as ``briefkasten operator totp-secret`` prints it; better from
    ``BRIEFKASTEN_OPERATORS_<NAME>_TOTP_SECRET``) makes a one-time code part of the login."""

    name: str
    role: str = "read"
    password_hash: str = ""
    tenants: str = ""
    totp_secret: str = ""

    @property
    def tenant_ids(self) -> tuple[str, ...]:
        return split_list(self.tenants)


@dataclass(frozen=True)
class LoggingSettings:
    """Logs go to stderr: ``format`` ``json`` (one event per line) or ``text``; ``level`` as in
    Python's logging (``INFO``, ``DEBUG`` …). ``briefkasten ingest`` always writes text."""

    format: str = "json"
    level: str = "INFO"


@dataclass(frozen=True)
class ScanSettings:
    """The malware scan with ClamAV. ``clamd``: ``unix:///run/clamav/clamd.ctl`` or
    ``tcp://127.0.0.1:3310``; empty switches the scan off (receipts and messages then say
    ``malware_scan: "off"``). ``fail_open``: when clamd cannot be reached, accept uploads
    flagged ``"not_scanned"`` instead of answering 503. ``timeout_s`` bounds every socket
    operation with clamd (connect, each chunk sent, waiting for the verdict)."""

    clamd: str = ""
    fail_open: bool = False
    timeout_s: float = 30.0


@dataclass(frozen=True)
class Settings:
    limits: LimitSettings = field(default_factory=LimitSettings)
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    ocr: OcrSettings = field(default_factory=OcrSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    links: LinkSettings = field(default_factory=LinkSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    reconcile: ReconcileSettings = field(default_factory=ReconcileSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    scan: ScanSettings = field(default_factory=ScanSettings)
    accessibility: AccessibilitySettings = field(default_factory=AccessibilitySettings)
    tenants: tuple[TenantSettings, ...] = ()
    operators: tuple[OperatorSettings, ...] = ()

    def tenant(self, tenant_id: str) -> TenantSettings:
        """The configured tenant, or one with defaults (named by its id) if it has no table."""
        for tenant in self.tenants:
            if tenant.id == tenant_id:
                return tenant
        return TenantSettings(tenant_id)

    def accessibility_for(self, tenant_id: str) -> AccessibilitySettings:
        """The accessibility statement of ``tenant_id``'s pages."""
        t = self.tenant(tenant_id)
        return statement(
            self.accessibility,
            email=t.accessibility_email,
            phone=t.accessibility_phone,
            address=t.accessibility_address,
            enforcement_name=t.accessibility_enforcement_name,
            enforcement_url=t.accessibility_enforcement_url,
        )

    def catalogue_for(self, tenant_id: str) -> tuple[str, ...]:
        """The document types ``tenant_id``'s applicants choose from (its own, else global)."""
        return self.tenant(tenant_id).catalogue or self.gateway.catalogue

    def pipeline_for(self, tenant_id: str) -> str:
        """The pipeline that normalises ``tenant_id``'s documents (its own, else global)."""
        return self.tenant(tenant_id).pipeline or self.pipeline.name

    def ocr_languages_for(self, tenant_id: str) -> tuple[str, ...]:
        return split_list(self.tenant(tenant_id).ocr_languages) or self.ocr.allowed

    def routing_prefix_for(self, tenant_id: str) -> str:
        """The first word of the routing key of ``tenant_id``'s messages."""
        return self.tenant(tenant_id).routing_prefix

    def api_key_tenants(self) -> dict[str, str]:
        """Every API key → its tenant: ``gateway.api_keys`` (``KEY`` belongs to
        ``gateway.default_tenant``) and each tenant's ``api_keys``. A key of two tenants is a
        ``ConfigError``."""
        keys: dict[str, str] = {}
        entries = [
            api_key_entry(e, n, "gateway.api_keys")
            for n, e in enumerate(split_list(self.gateway.api_keys), 1)
        ]
        entries += [
            api_key_entry(key, n, f"[tenants.{t.id}] api_keys", t.id)
            for t in self.tenants
            for n, key in enumerate(split_list(t.api_keys), 1)
        ]
        for tenant, key in entries:
            owner = keys.setdefault(key, tenant or self.gateway.default_tenant)
            if owner != (tenant or self.gateway.default_tenant):
                raise ConfigError(f"an API key is configured for two tenants: {owner}, {tenant}")
        return keys

    @property
    def worker_count(self) -> int:
        return self.pipeline.workers or os.cpu_count() or 1
