"""Every typed application key of the gateway (aiohttp ``web.AppKey``), in one place.

The values are set in ``app.create_app`` (and the executor in its ``cleanup_ctx``). The types
come from library modules that never import this one, so the import graph stays acyclic.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp import web
from limits import RateLimitItem

from briefkasten.admin_state import AdminState
from briefkasten.config import Settings
from briefkasten.gateway.checks import UploadChecks
from briefkasten.gateway.hosts import AllowedHosts
from briefkasten.gateway.idempotency import KeyLocks
from briefkasten.gateway.probes import TesseractProbe
from briefkasten.gateway.security import RateLimits
from briefkasten.gateway.tus_protocol import UploadLocks
from briefkasten.gateway.tus_store import TusBackend
from briefkasten.gateway.web.page import Site
from briefkasten.intake import Intake
from briefkasten.monitoring.metrics import Metrics
from briefkasten.operators import Accounts
from briefkasten.storage.base import Storage

# --- shared by every part of the gateway
SETTINGS = web.AppKey("settings", Settings)
API_KEYS = web.AppKey("api_keys", dict)  # API key → tenant
INTAKE = web.AppKey("intake", Intake)
STORAGE = web.AppKey("storage", Storage)  # type: ignore[type-abstract]
EXECUTOR = web.AppKey("executor", ThreadPoolExecutor)
SPOOL = web.AppKey("spool", Path)
METRICS = web.AppKey("metrics", Metrics)
CHECKS = web.AppKey("checks", UploadChecks)

# --- the middlewares: Host allowlist, same-origin check, rate limits
ALLOWED_HOSTS = web.AppKey("allowed_hosts", AllowedHosts)
ALLOWED_ORIGINS = web.AppKey("allowed_origins", frozenset)
RATE_LIMITS = web.AppKey("rate_limits", RateLimits)

# --- submissions: one per Idempotency-Key; resumable uploads (tus)
KEY_LOCKS = web.AppKey("idempotency_locks", KeyLocks)
TUS_STORE = web.AppKey("tus_store", TusBackend)
TUS_LOCKS = web.AppKey("tus_locks", UploadLocks)

# --- the pages: upload page, start page, static files
SITE = web.AppKey("upload_page", Site)

# --- the operators' dashboard
ACCOUNTS = web.AppKey("admin_accounts", Accounts)
ADMIN_PAGE = web.AppKey("admin_page", bytes)
LOGIN_LIMIT = web.AppKey("admin_login_limit", RateLimitItem)
ACCOUNT_LIMIT = web.AppKey("admin_account_limit", RateLimitItem)
ADMIN_STATE = web.AppKey("admin_state", AdminState)

# --- readiness
TESSERACT = web.AppKey("tesseract_probe", TesseractProbe)

# --- the OpenAPI document (apidocs.py), as the JSON bytes served
OPENAPI = web.AppKey("openapi_json", bytes)
ASYNCAPI = web.AppKey("asyncapi_json", bytes)
