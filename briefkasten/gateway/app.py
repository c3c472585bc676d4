"""The gateway application factory: ``create_app(settings, storage=..., jobs=...)``.

No module-level app. Every shared resource is a typed ``web.AppKey`` entry (``keys.py``) set
here, the executor and the tus expiry task opened and closed in a ``cleanup_ctx``; every route
module exports a ``routes`` table, added here in one place. The gateway streams, checks,
stores the original, answers with a receipt and enqueues a job; nothing CPU-heavy runs on the
event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from briefkasten.admin_state import AdminState
from briefkasten.broker.base import JobQueue
from briefkasten.config import Settings
from briefkasten.errors import ConfigError
from briefkasten.gateway.admin import login_limits, page_html
from briefkasten.gateway.admin import routes as admin_routes
from briefkasten.gateway.apidocs import asyncapi_json, document_json
from briefkasten.gateway.apidocs import routes as apidocs_routes
from briefkasten.gateway.checks import UploadChecks
from briefkasten.gateway.feedback import routes as feedback_routes
from briefkasten.gateway.health import routes as health_routes
from briefkasten.gateway.hosts import AllowedHosts
from briefkasten.gateway.idempotency import KeyLocks
from briefkasten.gateway.keys import (
    ACCOUNT_LIMIT,
    ACCOUNTS,
    ADMIN_PAGE,
    ADMIN_STATE,
    ALLOWED_HOSTS,
    ALLOWED_ORIGINS,
    API_KEYS,
    ASYNCAPI,
    CHECKS,
    EXECUTOR,
    INTAKE,
    KEY_LOCKS,
    LOGIN_LIMIT,
    METRICS,
    OPENAPI,
    RATE_LIMITS,
    SETTINGS,
    SITE,
    SPOOL,
    STORAGE,
    TESSERACT,
    TUS_LOCKS,
    TUS_STORE,
)
from briefkasten.gateway.links import routes as link_routes
from briefkasten.gateway.locked import routes as locked_routes
from briefkasten.gateway.middleware import (
    add_headers,
    check_host,
    errors,
    install_log_scrubber,
    rate_limit,
    same_origin,
)
from briefkasten.gateway.probes import TesseractProbe
from briefkasten.gateway.security import RateLimits
from briefkasten.gateway.submissions import routes as submission_routes
from briefkasten.gateway.tus import expiry as tus_expiry
from briefkasten.gateway.tus import routes as tus_routes
from briefkasten.gateway.tus_objects import ObjectTusStore
from briefkasten.gateway.tus_protocol import UploadLocks, protocol_headers
from briefkasten.gateway.tus_store import TusBackend, TusStore
from briefkasten.gateway.upload import routes as upload_routes
from briefkasten.gateway.web.page import load as load_site
from briefkasten.gateway.web.routes import routes as page_routes
from briefkasten.intake import Intake
from briefkasten.malware.scanner import scanner_for
from briefkasten.monitoring.metrics import Metrics
from briefkasten.operators import Accounts
from briefkasten.storage.base import Storage

#: Threads for blocking work (storage calls, sniffing); uploads wait on I/O, not CPU.
EXECUTOR_THREADS = 8
#: Every route of the gateway, in this order.
ROUTES = (
    upload_routes,  # POST /api/v1/submissions: every way a submission comes in
    submission_routes,  # reading them, the case system's confirmation
    link_routes,  # upload links
    feedback_routes,  # the instant quality check of a tus upload
    locked_routes,  # unlocking a password-protected PDF uploaded with tus
    page_routes,  # /u/{token}, /t/{tenant}, /static/…
    admin_routes,  # /admin
    health_routes,  # /healthz, /readyz, /metrics
    tus_routes,  # /api/v1/tus/
    apidocs_routes,  # /api/v1/openapi.json, /api/v1/asyncapi.json
)


def create_app(
    settings: Settings, *, storage: Storage, jobs: JobQueue, metrics: Metrics | None = None
) -> web.Application:
    """The gateway for ``settings``, storing into ``storage`` and queueing into ``jobs``.

    ``metrics``: the process's metrics (``serve`` shares them with its embedded workers);
    by default the app gets its own.
    """
    keys = settings.api_key_tenants()  # gateway.api_keys and [tenants.<id>] api_keys
    if not keys:
        raise ConfigError("no API keys configured: set BRIEFKASTEN_API_KEYS=tenant:key")
    install_log_scrubber()
    app = web.Application(middlewares=[errors, check_host, same_origin, rate_limit])
    app[SETTINGS] = settings
    app[API_KEYS] = keys
    # The middlewares' policies, and the security headers on every answer.
    app[RATE_LIMITS] = RateLimits.from_settings(settings.gateway)
    app[ALLOWED_ORIGINS] = frozenset({_origin(settings.links.public_base_url)})
    app[ALLOWED_HOSTS] = AllowedHosts.from_settings(settings)
    app.on_response_prepare.append(add_headers)
    # Receiving: metrics, storage, the sandboxed checks, the intake, the spool.
    app[METRICS] = metrics = metrics or Metrics.for_settings(settings)
    storage = metrics.storage(storage)  # counts storage errors
    app[STORAGE] = storage
    app[CHECKS] = UploadChecks(settings)
    app[INTAKE] = Intake(
        storage, jobs, scanner=scanner_for(settings.scan), on_malware=metrics.malware
    )
    app[KEY_LOCKS] = KeyLocks(shared=app[RATE_LIMITS].limiter)  # Redis: one lock everywhere
    spool = settings.gateway.spool_dir.absolute()
    spool.mkdir(parents=True, exist_ok=True, mode=0o700)
    app[SPOOL] = spool
    app.cleanup_ctx.append(_executor)
    app.on_cleanup.append(_close_shared)
    # The pages and the operators' dashboard (which uses the pages' static files).
    statements = {t.id: settings.accessibility_for(t.id) for t in settings.tenants}
    statements[""] = settings.accessibility_for("")
    app[SITE] = load_site(tenants=settings.tenants, statements=statements)
    app[ACCOUNTS] = Accounts(settings.admin, settings.operators)
    app[LOGIN_LIMIT], app[ACCOUNT_LIMIT] = login_limits(settings.admin)
    app[ADMIN_STATE] = AdminState(storage)
    app[ADMIN_PAGE] = page_html(app[SITE])
    app[TESSERACT] = TesseractProbe(settings.ocr.lang)
    app[OPENAPI] = document_json()  # contract/openapi.yaml as JSON, converted once
    app[ASYNCAPI] = asyncapi_json()  # and contract/asyncapi.yaml
    # Resumable uploads: the store, a lock per upload, the protocol headers, the expiry task.
    app[TUS_STORE] = _tus_store(settings, storage, spool)
    app[TUS_LOCKS] = UploadLocks()
    app.on_response_prepare.append(protocol_headers)
    app.cleanup_ctx.append(tus_expiry)
    for routes in ROUTES:
        app.router.add_routes(routes)
    return app


def _tus_store(settings: Settings, storage: Storage, spool: Path) -> TusBackend:
    """This gateway's spool (embedded default), or the object storage all gateways share."""
    gateway = settings.gateway
    expiry_s, max_bytes = gateway.tus_expiry_s, settings.limits.max_file_bytes
    quotas = {
        "quota_per_owner": gateway.tus_quota_per_owner_bytes,
        "quota": gateway.tus_quota_bytes,
    }
    if gateway.tus_store == "storage":
        staging = spool / "tus-staging"
        return ObjectTusStore(storage, staging, expiry_s=expiry_s, max_bytes=max_bytes, **quotas)
    return TusStore(spool / "tus", expiry_s=expiry_s, max_bytes=max_bytes, **quotas)


async def _executor(app: web.Application) -> AsyncIterator[None]:
    with ThreadPoolExecutor(EXECUTOR_THREADS, thread_name_prefix="gateway-io") as executor:
        app[EXECUTOR] = executor
        yield


async def _close_shared(app: web.Application) -> None:
    await app[RATE_LIMITS].limiter.close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
