"""Configuration: loaded once into frozen settings, then passed down.

Sources, later ones win: built-in defaults, the TOML file named by ``--config`` or
``BRIEFKASTEN_CONFIG`` (see ``config/briefkasten.example.toml``), then environment variables
``BRIEFKASTEN_<SECTION>_<KEY>`` (e.g. ``BRIEFKASTEN_OCR_LANG=deu+eng``) and the short
aliases in ``ALIASES`` (``BRIEFKASTEN_STORAGE``, ``BRIEFKASTEN_AMQP_URL``,
``BRIEFKASTEN_API_KEYS``).

The package's API is what this module names: ``from briefkasten.config import Settings, load``.
``settings`` holds the dataclasses, ``loading`` reads defaults, file and environment (the only
module that reads ``os.environ``), ``checks`` checks what was loaded. None of them imports this
module.
"""

from briefkasten.config.accessibility import AccessibilitySettings
from briefkasten.config.loading import ALIASES, OPERATOR_ROLES, load
from briefkasten.config.ocr import OCR_LANGUAGES, OcrSettings
from briefkasten.config.settings import (
    DEFAULT_DOCUMENT_TYPES,
    MIB,
    REPO_PIPELINES,
    AdminSettings,
    BrokerSettings,
    GatewaySettings,
    LimitSettings,
    LinkSettings,
    LoggingSettings,
    OperatorSettings,
    PipelineSettings,
    ReconcileSettings,
    RetentionSettings,
    SandboxSettings,
    ScanSettings,
    Settings,
    StorageSettings,
)
from briefkasten.config.tenants import TenantSettings
from briefkasten.errors import ConfigError

__all__ = [
    "ALIASES",
    "DEFAULT_DOCUMENT_TYPES",
    "MIB",
    "OCR_LANGUAGES",
    "OPERATOR_ROLES",
    "REPO_PIPELINES",
    "AccessibilitySettings",
    "AdminSettings",
    "BrokerSettings",
    "ConfigError",
    "GatewaySettings",
    "LimitSettings",
    "LinkSettings",
    "LoggingSettings",
    "OcrSettings",
    "OperatorSettings",
    "PipelineSettings",
    "ReconcileSettings",
    "RetentionSettings",
    "SandboxSettings",
    "ScanSettings",
    "Settings",
    "StorageSettings",
    "TenantSettings",
    "load",
]
