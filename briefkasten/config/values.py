"""Parsing of setting values, shared by ``settings`` and ``checks``: comma-separated lists
and API key entries. Messages never show a key, only where it is configured."""

from __future__ import annotations

import re

from briefkasten.errors import ConfigError

MIN_KEY_LENGTH = 16
TENANT_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")


def split_list(spec: str) -> tuple[str, ...]:
    """The non-empty entries of a comma-separated setting, stripped."""
    return tuple(e.strip() for e in spec.split(",") if e.strip())


def api_key_entry(entry: str, number: int, where: str, tenant: str = "") -> tuple[str, str]:
    """``(tenant, key)`` of one API key entry (``KEY`` or, without ``tenant``, ``TENANT:KEY``);
    ``number`` (from 1) names the entry in messages, which never show the key."""
    place = f"{where}: entry {number}"
    if entry.count(":") > (0 if tenant else 1):
        form = "KEY" if tenant else "KEY or TENANT:KEY"
        raise ConfigError(f"{place} has too many ':' (expected {form})")
    found, _, key = entry.rpartition(":")
    if found and not TENANT_ID.fullmatch(found):
        raise ConfigError(f"{place}: {found[:70]!r} is not a tenant id (a-z, 0-9 and '-')")
    if any(c.isspace() for c in key):
        raise ConfigError(f"{place}: an API key must not contain whitespace")
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"{place}: an API key needs at least {MIN_KEY_LENGTH} characters "
            f"(this one has {len(key)})"
        )
    return tenant or found, key
