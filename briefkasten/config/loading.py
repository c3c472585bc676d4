"""Loading the settings: built-in defaults, then the TOML file, then ``BRIEFKASTEN_*`` variables.

The file is named by ``--config`` or ``BRIEFKASTEN_CONFIG`` (see
``config/briefkasten.example.toml``); environment variables are ``BRIEFKASTEN_<SECTION>_<KEY>``
(e.g. ``BRIEFKASTEN_OCR_LANG=deu+eng``) and the short aliases in ``ALIASES``. This is the only
module that reads ``os.environ``. What it loaded is checked by ``checks.check``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_type_hints

from briefkasten.config.checks import check
from briefkasten.config.settings import OperatorSettings, Settings
from briefkasten.config.tenants import TenantSettings
from briefkasten.errors import ConfigError

#: Short names for the variables operators set most: name → (section, key).
ALIASES = {
    "BRIEFKASTEN_STORAGE": ("storage", "url"),
    "BRIEFKASTEN_AMQP_URL": ("broker", "amqp_url"),
    "BRIEFKASTEN_API_KEYS": ("gateway", "api_keys"),
}
#: Keys renamed, ``(section, old key)`` → new key: the old key (in the file, and its
#: ``BRIEFKASTEN_<SECTION>_<OLD>`` variable) is still accepted where the new one is not given.
RENAMED = {
    ("broker", "receipts_exchange"): "confirmations_exchange",
    ("broker", "receipts_queue"): "confirmations_queue",
}
#: What an operator may do: ``read`` looks, ``operator`` also retries and discards.
OPERATOR_ROLES = ("read", "operator")


def load(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read defaults, then the TOML file, then ``BRIEFKASTEN_*`` variables."""
    env = os.environ if environ is None else environ
    if path is None and env.get("BRIEFKASTEN_CONFIG"):
        path = Path(env["BRIEFKASTEN_CONFIG"])
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    sections: dict[str, Any] = {
        "tenants": _tenants(data.get("tenants", {}), env),
        "operators": _operators(data.get("operators", {}), env),
    }
    for section in dataclasses.fields(Settings):
        if section.name in ("tenants", "operators"):
            continue
        cls = get_type_hints(Settings)[section.name]
        given = data.get(section.name, {})
        if not isinstance(given, dict):
            raise ConfigError(f"config section [{section.name}] must be a table")
        sections[section.name] = _build(cls, section.name, given, env)
    unknown = set(data) - set(sections)
    if unknown:
        raise ConfigError(f"unknown config sections: {', '.join(sorted(unknown))}")
    settings = Settings(**sections)
    check(settings)
    return settings


def _tenants(given: Any, env: Mapping[str, str]) -> tuple[TenantSettings, ...]:
    if not isinstance(given, dict) or not all(isinstance(t, dict) for t in given.values()):
        raise ConfigError("[tenants] must hold one table per tenant: [tenants.<id>]")
    tenants = []
    for tenant_id, table in given.items():
        if tenant_id != tenant_id.lower() or not tenant_id.replace("-", "").isalnum():
            raise ConfigError(f"tenant id {tenant_id!r}: use a-z, 0-9 and '-'")
        if "id" in table:
            raise ConfigError(f"[tenants.{tenant_id}]: the id is the table name")
        tenants.append(
            _build(
                TenantSettings,
                f"tenants_{tenant_id.replace('-', '_')}",
                {"id": tenant_id, **table},
                env,
            )
        )
    return tuple(tenants)


def _operators(given: Any, env: Mapping[str, str]) -> tuple[OperatorSettings, ...]:
    if not isinstance(given, dict) or not all(isinstance(t, dict) for t in given.values()):
        raise ConfigError("[operators] must hold one table per operator: [operators.<name>]")
    operators = []
    for name, table in given.items():
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name):
            raise ConfigError(f"operator name {name[:70]!r}: use a-z, 0-9, '_' and '-'")
        if "name" in table:
            raise ConfigError(f"[operators.{name}]: the name is the table name")
        operator = _build(
            OperatorSettings, f"operators_{name.replace('-', '_')}", {"name": name, **table}, env
        )
        if operator.role not in OPERATOR_ROLES:
            raise ConfigError(f"[operators.{name}] role must be 'read' or 'operator'")
        operators.append(operator)
    return tuple(operators)


def _build(cls: type, section: str, given: dict[str, Any], env: Mapping[str, str]) -> Any:
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    old_names = {new: old for (sec, old), new in RENAMED.items() if sec == section}
    given = dict(given)
    for new, old in old_names.items():
        if old in given:
            given.setdefault(new, given.pop(old))
    unknown = set(given) - names
    if unknown:
        raise ConfigError(f"unknown keys in [{section}]: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    aliases = {key: alias for alias, (sec, key) in ALIASES.items() if sec == section}
    for name in names:
        var = f"BRIEFKASTEN_{section}_{name}".upper()
        old_var = f"BRIEFKASTEN_{section}_{old_names[name]}".upper() if name in old_names else ""
        raw = env.get(var, env.get(old_var, env.get(aliases.get(name, ""), given.get(name))))
        if raw is None:
            continue
        values[name] = _coerce(raw, hints[name], var)
    return cls(**values)


def _coerce(raw: Any, kind: Any, where: str) -> Any:
    try:
        if kind is Path:
            return Path(raw).expanduser()
        if kind is bool:
            return raw if isinstance(raw, bool) else str(raw).lower() in {"1", "true", "yes", "on"}
        value = kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: expected {kind.__name__}, got {raw!r}") from exc
    if isinstance(value, int | float) and value < 0:
        raise ConfigError(f"{where}: must not be negative")
    return value
