"""Logging setup: JSON lines or text on stderr.

``setup_logging("json")`` makes every record one JSON object per line with ``ts``, ``level``,
``logger``, ``event`` (the message) and whatever ids the call passed via ``extra=``
(``submission_id``, ``document_id``, ``job_id``, ``tenant``, ``step``, ``duration_ms`` …).
Log calls carry ids, counts, codes and timings only: never document content, OCR text,
applicants' names or file names.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from briefkasten.errors import ConfigError

LOG_FORMATS = ("json", "text")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, event and the record's ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        event.update(_extras(record))
        if record.exc_info:
            event["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:  # a traceback scrubbed already (gateway.middleware)
            event["exc"] = record.exc_text
        return json.dumps(event, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value …`` for people reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        if not extras:
            return line
        head, sep, tail = line.partition("\n")  # keep a traceback below the fields
        return f"{head} [{extras}]{sep}{tail}"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool | None) else str(v)
        for k, v in vars(record).items()
        if k not in _STANDARD and not k.startswith("_")
    }


def setup_logging(fmt: str = "json", *, level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Send every log record to ``stream`` (stderr) in ``fmt``: ``json`` or ``text``."""
    if fmt not in LOG_FORMATS:
        raise ConfigError(f"unknown log format {fmt!r}: use json or text")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.set_name("briefkasten")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "briefkasten"]:
        root.removeHandler(old)
    root.addHandler(handler)
    try:
        root.setLevel(level.upper())
    except ValueError as exc:
        raise ConfigError(f"unknown log level {level!r}") from exc
