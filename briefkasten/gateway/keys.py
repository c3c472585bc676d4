"""Typed application keys for the shared resources of the gateway (aiohttp ``web.AppKey``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp import web

from briefkasten.config import Settings
from briefkasten.gateway.checks import UploadChecks
from briefkasten.intake import Intake
from briefkasten.monitoring import Metrics
from briefkasten.storage.base import Storage

SETTINGS = web.AppKey("settings", Settings)
API_KEYS = web.AppKey("api_keys", dict)  # API key → tenant
INTAKE = web.AppKey("intake", Intake)
STORAGE = web.AppKey("storage", Storage)  # type: ignore[type-abstract]
EXECUTOR = web.AppKey("executor", ThreadPoolExecutor)
SPOOL = web.AppKey("spool", Path)
METRICS = web.AppKey("metrics", Metrics)
CHECKS = web.AppKey("checks", UploadChecks)
