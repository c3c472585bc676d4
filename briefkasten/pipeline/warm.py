"""Tesseract's models, loaded once in the sandbox's fork server (``sandbox.PRELOAD``).

Importing this module builds the warm engines (``tools.tesseract.warm``) for the configured
OCR language (``ocr.lang`` as ``config.load`` reads it from ``BRIEFKASTEN_CONFIG`` and the
environment, else the default) and for orientation detection (``osd``). Every page child forked
afterwards inherits them copy-on-write and reads its first page without loading a model
(~0.1 s per language otherwise). Languages a pipeline step asks for beyond these are loaded in
the child on first use: the second language of a page that is not German (``deu+ukr``) is
loaded by its page child (~0.1-0.2 s), never preloaded here, so that the fork server does not
hold every combination. The language detector (lingua, ``tools.langdetect``) for the
configured allowlists (``ocr.languages`` and each tenant's ``ocr_languages``, with ``ocr.lang``)
is built here too: its models are shared copy-on-write as well. So are the parts of the
libraries a page uses that import themselves lazily, on first use (``warm_libraries``: about
25-35 ms in every page child otherwise). Nothing here may raise: a fork server whose preload
fails starts no children at all.
"""

from __future__ import annotations

import importlib

from PIL import Image

from briefkasten.config import OcrSettings, Settings
from briefkasten.config import load as load_settings
from briefkasten.pipeline import textfont
from briefkasten.tools import langdetect, tesseract

#: Modules a page child would otherwise import on first use: ``numpy.ma`` (``np.median``
#: imports it, ~12 ms), pypdf's stream filters and its codecs, the UTF-16 codec of PDF text
#: strings.
LAZY_MODULES = ("numpy.ma", "pypdf.filters", "pypdf._codecs._codecs", "encodings.utf_16_be")


def wanted() -> tuple[str, ...]:
    """The languages to load: the configured one (default if the configuration cannot be
    read here) and ``osd``."""
    try:
        lang = load_settings().ocr.lang
    except Exception:  # a broken configuration is refused at startup, not here
        lang = OcrSettings().lang
    return (lang, "osd")


def detectors() -> tuple[frozenset[str], ...]:
    """The language sets to build detectors for: ``ocr.lang`` with the global allowlist and
    with each tenant's (the defaults if the configuration cannot be read here)."""
    try:
        settings = load_settings()
    except Exception:  # refused at startup, not here
        settings = Settings()
    base = set(settings.ocr.lang.split("+"))
    tenants = (settings.ocr_languages_for(t.id) for t in settings.tenants)
    lists = {settings.ocr.allowed, *tenants}
    return tuple(sorted({frozenset(base | set(codes)) for codes in lists}, key=sorted))


def _build_detectors() -> tuple[frozenset[str], ...]:
    built = []
    for codes in detectors():
        try:
            langdetect.detector(codes)
        except Exception:  # built, or refused, on first use instead
            continue
        built.append(codes)
    return tuple(built)


def warm_libraries() -> tuple[str, ...]:
    """Import ``LAZY_MODULES`` and Pillow's common plugins, build the text layer's font
    program (``textfont.font_program``, cached; it imports fontTools' builder); the modules
    that imported."""
    done = []
    for name in LAZY_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # a library moved it: imported on first use instead
            continue
        done.append(name)
    try:
        Image.preinit()  # BMP, GIF, JPEG, PNG, PPM: what Image.open and save load first
        textfont.font_program()
    except Exception:  # built on first use instead
        pass
    return tuple(done)


#: The languages whose models this process (the fork server) holds.
WARM = tesseract.warm(wanted())
#: The language sets whose detectors it holds.
DETECTORS = _build_detectors()
#: The lazily imported library modules it holds.
LIBRARIES = warm_libraries()
