"""The Host allowlist: a request naming another host is refused before any other work
(``middleware.check_host``).

Against DNS rebinding: a foreign page whose name an attacker points at the gateway's address
makes the victim's browser send ``Host: attacker.example``; the gateway answers that with
**421 Misdirected Request** and a ``{"error": ...}`` body (``misdirected_request``). 421 says
exactly what happened ("this server does not serve that authority"), is not cached, and keeps
400 for malformed requests. A request without a Host header is refused the same way.

``gateway.allowed_hosts``: comma-separated ``name`` or ``name:port`` (a name without a port
matches any port; compared case-insensitively, a trailing dot ignored). Empty (the default):
the host of ``links.public_base_url`` and the loopback names ``localhost``, ``127.0.0.1`` and
``[::1]``, each on any port: ``make run``, ``curl http://127.0.0.1:8080`` and the tests work,
and a rebinding page can never name those (its Host is its own name). A gateway reached by an
internal address (a load balancer's or Prometheus' target) needs that address listed.
``/healthz`` and ``/readyz`` are exempt: liveness and readiness probes use the pod address, and
they tell nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from briefkasten.config import Settings

LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
#: Probes that answer on any Host (no data, no state change).
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})


@dataclass(frozen=True)
class AllowedHosts:
    """Names allowed on any port, and exact ``name:port`` pairs."""

    names: frozenset[str]
    pairs: frozenset[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> AllowedHosts:
        entries = [e.strip() for e in settings.gateway.allowed_hosts.split(",") if e.strip()]
        if not entries:
            public = urlsplit(settings.links.public_base_url).hostname or ""
            entries = [*LOOPBACK, *([_bracket(public)] if public else [])]
        names, pairs = set(), set()
        for entry in entries:
            name, port = split_host(entry)
            if port is None:
                names.add(name)
            else:
                pairs.add(f"{name}:{port}")
        return cls(frozenset(names), frozenset(pairs))

    def allows(self, host_header: str) -> bool:
        try:
            name, port = split_host(host_header)
        except ValueError:
            return False
        return name in self.names or (port is not None and f"{name}:{port}" in self.pairs)


def split_host(value: str) -> tuple[str, int | None]:
    """``("name", port)`` of a Host header or an allowlist entry; ``ValueError`` if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise ValueError("unclosed [")
        name, rest = value[: end + 1], value[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError("junk after ]")
        port_text = rest[1:] if rest else None
    else:
        name, colon, port_text_or_empty = value.partition(":")
        port_text = port_text_or_empty if colon else None
    name = name.rstrip(".") if not name.startswith("[") else name
    if not name or any(c in name for c in "/\\@ \t"):
        raise ValueError("no host name")
    if port_text is None:
        return name, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError("bad port")
    return name, int(port_text)


def _bracket(hostname: str) -> str:
    return f"[{hostname}]" if ":" in hostname else hostname
