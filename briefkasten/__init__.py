"""Briefkasten: a digital mailbox for job centers — photos and scans in, one searchable PDF out.

The public API: ``ingest()`` builds one document, ``load_settings()`` reads the configuration,
plus the models and the error hierarchy.
"""

import importlib.metadata

from briefkasten.config import Settings
from briefkasten.config import load as load_settings
from briefkasten.errors import (
    BriefkastenError,
    ConfigError,
    CorruptInput,
    EmptyInput,
    InputRejected,
    LimitExceeded,
    PasswordProtected,
    ProcessingError,
    ToolError,
    UnsupportedType,
)
from briefkasten.model import DocumentResult, Original, PageResult
from briefkasten.pipeline.document import ingest
from briefkasten.pipeline.pool import PagePool

__version__ = importlib.metadata.version("briefkasten")

__all__ = [
    "BriefkastenError",
    "ConfigError",
    "CorruptInput",
    "DocumentResult",
    "EmptyInput",
    "InputRejected",
    "LimitExceeded",
    "Original",
    "PagePool",
    "PageResult",
    "PasswordProtected",
    "ProcessingError",
    "Settings",
    "ToolError",
    "UnsupportedType",
    "__version__",
    "ingest",
    "load_settings",
]
