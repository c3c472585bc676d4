"""Tesseract's models, loaded once in the sandbox's fork server (``sandbox.PRELOAD``).

Importing this module builds the warm engines (``tools.tesseract.warm``) for the configured
OCR language (``ocr.lang`` as ``config.load`` reads it from ``BRIEFKASTEN_CONFIG`` and the
environment, else the default) and for orientation detection (``osd``). Every page child forked
afterwards inherits them copy-on-write and reads its first page without loading a model
(~0.1 s per language otherwise). Languages a pipeline step asks for beyond these are loaded in
the child on first use. Nothing here may raise: a fork server whose preload fails starts no
children at all.
"""

from __future__ import annotations

from briefkasten.config import OcrSettings
from briefkasten.config import load as load_settings
from briefkasten.tools import tesseract


def wanted() -> tuple[str, ...]:
    """The languages to load: the configured one (default if the configuration cannot be
    read here) and ``osd``."""
    try:
        lang = load_settings().ocr.lang
    except Exception:  # a broken configuration is refused at startup, not here
        lang = OcrSettings().lang
    return (lang, "osd")


#: The languages whose models this process (the fork server) holds.
WARM = tesseract.warm(wanted())
