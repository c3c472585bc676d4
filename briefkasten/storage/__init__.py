"""Object storage for originals and results: ``open_storage(url)`` picks the adapter.

- ``file:///abs/path``: ``FileStorage``, the embedded default (bucket name = the directory's name)
- ``s3://ACCESS_KEY:SECRET_KEY@host:port/bucket?secure=false&region=…``: ``S3Storage`` (minio SDK);
  key and secret are percent-decoded (encode ``/ @ : %`` in them), ``secure`` defaults to true
- ``memory://name``: ``MemoryStorage``, the test double (a new, empty store per call)

Keys come from ``storage.layout`` only. Error messages never contain the secret key, nor the
URL it was part of.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from briefkasten.config import Settings
from briefkasten.errors import ConfigError
from briefkasten.storage.base import Storage, StoredObject
from briefkasten.storage.files import FileStorage
from briefkasten.storage.memory import MemoryStorage

__all__ = ["FileStorage", "MemoryStorage", "Storage", "StoredObject", "open_storage"]

#: S3 bucket naming rules (lowercase, 3–63 characters).
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
MEMORY_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
REGION = re.compile(r"[a-z0-9-]{1,40}")
_S3_FORM = "s3://ACCESS_KEY:SECRET_KEY@host:port/bucket?secure=false"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def open_storage_for(settings: Settings) -> Storage:
    """The storage ``settings`` configure (``storage.url``, ``storage.sse``)."""
    return open_storage(settings.storage.resolved_url(), sse=settings.storage.sse)


def open_storage(url: str, *, sse: bool = False) -> Storage:
    """The storage adapter for ``url``; ``ConfigError`` if the URL is not one of the forms.

    ``sse`` (server-side encryption) applies to ``s3://`` only; a file store with ``sse=True``
    is refused rather than silently left unencrypted. Nothing is contacted here: ``check()``
    probes the storage, the first write creates the directory or bucket.
    """
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    if scheme == "s3":
        return _open_s3(url, sse=sse)
    if scheme == "file":
        if sse:
            raise ConfigError("storage sse=true needs s3:// storage; file:// cannot encrypt")
        return FileStorage(_file_root(url))
    if scheme == "memory":
        return MemoryStorage(_memory_name(url))
    shown = f"{scheme}://…" if scheme else "a value without a scheme"
    raise ConfigError(
        f"unsupported storage URL ({shown}): use file:///abs/path, {_S3_FORM} or memory://name"
    )


def _file_root(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        raise ConfigError(f"storage URL {url!r} must be file:///absolute/path (three slashes)")
    if parts.query or parts.fragment:
        raise ConfigError(f"storage URL {url!r}: file:// takes no query or fragment")
    path = unquote(parts.path)
    if ".." in path.split("/"):
        raise ConfigError(f"storage URL {url!r}: the path must not contain '..'")
    root = Path(path)
    if not root.name:
        raise ConfigError("storage URL file:/// needs a directory below /, e.g. file:///srv/bk")
    return root


def _memory_name(url: str) -> str:
    name = url.partition("://")[2]
    if not MEMORY_NAME.fullmatch(name):
        raise ConfigError(f"storage URL {url!r} must be memory://name ([A-Za-z0-9._-])")
    return name


def _open_s3(url: str, *, sse: bool) -> Storage:
    # Never put ``url`` or parts of the netloc into a message: they may hold the secret.
    if not url.lower().startswith("s3://") or "@" not in url:
        raise ConfigError(f"invalid s3 storage URL: expected {_S3_FORM}")
    credentials, _, rest = url[5:].rpartition("@")
    access_key, colon, secret_key = credentials.partition(":")
    access_key, secret_key = unquote(access_key), unquote(secret_key)
    if not colon or not access_key or not secret_key:
        raise ConfigError(f"s3 storage URL needs ACCESS_KEY:SECRET_KEY@…: expected {_S3_FORM}")
    parts = urlsplit("s3://" + rest)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ConfigError(f"s3 storage URL has an invalid host or port: {_S3_FORM}") from None
    if not host or port == 0 or parts.fragment:
        raise ConfigError(f"s3 storage URL has no host: expected {_S3_FORM}")
    bucket = parts.path.strip("/")
    if not BUCKET.fullmatch(bucket):
        raise ConfigError(
            "s3 storage URL needs one bucket name as its path "
            "(3-63 characters: a-z, 0-9, '.', '-'; percent-encode '/' in the secret)"
        )
    secure, region = _s3_options(parts.query)
    endpoint = parts.netloc  # host[:port] as written (keeps [::1] brackets)

    from briefkasten.storage.s3 import S3Storage  # the minio SDK only when S3 is used

    return S3Storage(
        endpoint,
        bucket,
        access_key=access_key,
        secret_key=secret_key,
        secure=secure,
        region=region,
        sse=sse,
    )


def _s3_options(query: str) -> tuple[bool, str | None]:
    secure, region = True, None
    try:
        options = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ConfigError("s3 storage URL has a malformed query string") from None
    for name, value in options:
        if name == "secure" and value.lower() in _TRUE | _FALSE:
            secure = value.lower() in _TRUE
        elif name == "region" and REGION.fullmatch(value):
            region = value
        elif name in ("secure", "region"):
            raise ConfigError(f"s3 storage URL: invalid value for {name}= (secure=true|false)")
        else:
            raise ConfigError(
                f"s3 storage URL: unknown option {name[:30]!r} (known: secure, region)"
            )
    return secure, region
