"""The gateway application factory: ``create_app(settings, storage=..., jobs=...)``.

No module-level app. Shared resources are typed ``web.AppKey`` entries opened and closed in a
``cleanup_ctx``. The gateway streams, checks, stores the original, answers with a receipt and
enqueues a job; nothing CPU-heavy runs on the event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from aiohttp import web

from briefkasten.broker.base import JobQueue
from briefkasten.config import Settings
from briefkasten.errors import ConfigError
from briefkasten.gateway import admin, api, feedback, health, hosts, links, security, tus
from briefkasten.gateway.checks import UploadChecks
from briefkasten.gateway.idempotency import KEY_LOCKS, KeyLocks
from briefkasten.gateway.keys import (
    API_KEYS,
    CHECKS,
    EXECUTOR,
    INTAKE,
    METRICS,
    SETTINGS,
    SPOOL,
    STORAGE,
)
from briefkasten.gateway.middleware import errors, install_log_scrubber
from briefkasten.gateway.web import page
from briefkasten.intake import Intake
from briefkasten.malware.scanner import scanner_for
from briefkasten.monitoring import Metrics
from briefkasten.storage.base import Storage

#: Threads for blocking work (storage calls, sniffing); uploads wait on I/O, not CPU.
EXECUTOR_THREADS = 8


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
    app = web.Application(
        middlewares=[errors, hosts.check_host, security.same_origin, security.rate_limit]
    )
    app[SETTINGS] = settings
    app[API_KEYS] = keys
    security.setup(app, settings.gateway, {_origin(settings.links.public_base_url)})
    hosts.setup(app, settings)
    app[METRICS] = metrics = metrics or Metrics.for_settings(settings)
    storage = metrics.storage(storage)  # counts storage errors
    app[STORAGE] = storage
    app[CHECKS] = UploadChecks(settings)
    app[INTAKE] = Intake(
        storage, jobs, scanner=scanner_for(settings.scan), on_malware=metrics.malware
    )
    app[KEY_LOCKS] = KeyLocks()
    spool = settings.gateway.spool_dir.absolute()
    spool.mkdir(parents=True, exist_ok=True, mode=0o700)
    app[SPOOL] = spool
    app.cleanup_ctx.append(_executor)
    app.router.add_post("/api/v1/submissions", api.post_submission)
    app.router.add_get("/api/v1/submissions/{submission_id}", api.get_submission, name="submission")
    app.router.add_get(
        "/api/v1/submissions/{submission_id}/receipt.pdf", api.get_receipt_pdf, name="receipt-pdf"
    )
    app.router.add_post("/api/v1/submissions/{submission_id}/ack", api.ack_submission)
    app.router.add_post("/api/v1/upload-links", links.create)
    app.router.add_get("/api/v1/upload-links/self", links.describe)
    app.router.add_get("/api/v1/upload-links/self/submissions", api.get_link_submissions)
    app.router.add_post("/api/v1/tenants/{tenant}/upload-links", links.create_self_service)
    app.router.add_get("/tenant-logo/{tenant}", links.logo)
    app.router.add_get(
        r"/api/v1/upload-links/{link_id}/qr.{kind:png|svg}", links.qr, name="upload-link-qr"
    )
    app.router.add_delete("/api/v1/upload-links/{link_id}", links.revoke)
    feedback.setup(app)
    page.setup(app)
    admin.setup(app)  # /admin, after the page (shares its static files)
    health.setup(app)
    tus.setup(app)
    return app


async def _executor(app: web.Application) -> AsyncIterator[None]:
    with ThreadPoolExecutor(EXECUTOR_THREADS, thread_name_prefix="gateway-io") as executor:
        app[EXECUTOR] = executor
        yield


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
