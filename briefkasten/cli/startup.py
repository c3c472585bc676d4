"""Start-up checks that need the system, run by ``serve`` and ``worker`` before any work, and
the logging setup every long-running command shares (``setup_logs``).

Each failure is a ``ConfigError`` (exit 2 with one line): an OCR language whose Tesseract data
is not installed (``ocr.lang`` and every pipeline step's ``lang``), the fonts outputs embed
(``check_fonts``: fonts-dejavu-core, fonts-noto-core, fonts-liberation2), and for ``serve`` a
listen address whose port is taken or may not be used. The pure checks of the settings are in
``briefkasten.config.checks`` (run by ``config.load``).
"""

from __future__ import annotations

import argparse
import errno
import socket
from collections.abc import Iterable
from pathlib import Path

from briefkasten.config import Settings
from briefkasten.errors import ConfigError, ToolError
from briefkasten.gateway.receipt import check_receipt_texts, receipt_fonts
from briefkasten.monitoring.logs import setup_logging
from briefkasten.pipeline.fontmap import missing_faces
from briefkasten.pipeline.runner import check_pipelines as check_pipeline_names
from briefkasten.pipeline.runner import load_pipeline
from briefkasten.tools import tesseract

#: ``errno`` values of a listen address that cannot be used.
LISTEN_ERRORS = frozenset({errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL})


def check_pipelines(settings: Settings) -> None:
    """The global pipeline and every tenant's must exist before the first job arrives, and
    the OCR languages they use must be installed."""
    names = [settings.pipeline.name, *(t.pipeline for t in settings.tenants if t.pipeline)]
    check_pipeline_names(names, settings.pipeline.directory)
    check_languages(settings.ocr.lang, names, settings.pipeline.directory)
    allowed = {
        *settings.ocr.allowed,
        *(c for t in settings.tenants for c in settings.ocr_languages_for(t.id)),
    }
    for lang in sorted(allowed):  # the languages a page may be read in beside ocr.lang
        try:
            tesseract.check_lang(lang)
        except ToolError as exc:
            raise ConfigError(
                f"OCR language {lang!r} of ocr.languages: {exc.message_en} (install "
                "tesseract-ocr-<lang> or remove it from ocr.languages)"
            ) from exc


def check_fonts() -> None:
    """The fonts every output embeds are installed: DejaVu and Noto Sans Arabic for the receipt
    (its Arabic and Persian letters, and Arabic file names in any receipt), Liberation for the
    fonts a born-digital PDF names but does not embed. Missing, a receipt or such a page could
    not be PDF/A (or not be read), so the service does not start. And every receipt text of
    every language has its glyphs in those fonts."""
    receipt_fonts()
    check_receipt_texts()
    missing = missing_faces()
    if missing:
        raise ConfigError(
            f"{len(missing)} Liberation fonts are missing (e.g. {missing[0]}): install Debian's "
            "fonts-liberation2"
        )


def check_languages(default: str, pipelines: Iterable[str], directory: Path) -> None:
    """Every language the pipelines may ask Tesseract for is installed."""
    wanted = {default}
    for name in set(pipelines):
        for step in load_pipeline(name, directory).steps:
            lang = step.params.get("lang")
            if isinstance(lang, str) and lang:
                wanted.add(lang)
    for lang in sorted(wanted):
        try:
            tesseract.check_lang(lang)
        except ToolError as exc:
            raise ConfigError(
                f"OCR language {lang!r}: {exc.message_en} (install tesseract-ocr-<lang> or "
                "change ocr.lang)"
            ) from exc


def check_port(host: str, port: int) -> None:
    """Bind ``host:port`` once (as the server will, with ``SO_REUSEADDR``) and let go."""
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise ConfigError(f"gateway.host {host!r} cannot be resolved: {exc.strerror}") from exc
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise port_error(host, port, exc) from exc


def port_error(host: str, port: int, exc: OSError) -> ConfigError:
    """The readable reason why ``host:port`` cannot be listened on."""
    if exc.errno == errno.EADDRINUSE:
        return ConfigError(
            f"port {port} is in use (on {host}): stop the other server or pick --port"
        )
    if exc.errno == errno.EACCES:
        return ConfigError(f"port {port} may not be used by this user (on {host})")
    if exc.errno == errno.EADDRNOTAVAIL:
        return ConfigError(f"gateway.host {host!r} is not an address of this machine")
    return ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}")


def setup_logs(args: argparse.Namespace, settings: Settings) -> None:
    """Logs to stderr: ``--log-format`` wins over ``[logging] format`` (default json)."""
    fmt = getattr(args, "log_format", None) or settings.logging.format
    setup_logging(fmt, level=settings.logging.level)
