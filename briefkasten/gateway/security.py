"""Browser-facing protection: security headers, a same-origin check, rate limits (the policy;
the hook and the middlewares that apply it are in ``middleware``).

* **Headers** on every answer (errors included): a strict Content-Security-Policy (our own
  scripts and styles only, no inline code, no third-party origins), ``nosniff``, no framing,
  ``Referrer-Policy: no-referrer`` (the page URL carries the upload-link token), and
  ``Cache-Control: no-store`` for the page and the API.
* **CSRF**: nothing here authenticates by cookie; the page sends the link token as
  ``Authorization: Bearer``, which a foreign site cannot make a browser attach. On top of that
  a state-changing request whose ``Origin`` (or ``Sec-Fetch-Site``) names another site is
  refused with 403.
* **Access log** without credentials: ``/u/<token>`` is logged as ``/u/…`` (the token is a
  bearer credential), and never a query string.
* **Rate limits** (the ``limits`` library, moving window): per client address and per
  upload-link token for everything applicants can reach; 429 with ``Retry-After`` (the seconds
  until the window frees a slot). Requests with an API key (the case software) are not
  limited. The counters are in ``shared.SharedState``: per gateway process by default (behind
  a load balancer the effective limit is N × the configured one), or in one Redis for all
  gateways (``gateway.rate_limit_storage``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from limits import RateLimitItem, parse

from briefkasten.config import GatewaySettings
from briefkasten.errors import ConfigError, RateLimited
from briefkasten.gateway.shared import SharedState

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), geolocation=(), microphone=(), payment=()",
}
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Paths nobody needs to limit: our own static files and the probes of the operators.
UNLIMITED_PREFIXES = ("/static/", "/healthz", "/readyz", "/metrics")
NO_STORE_PREFIXES = ("/u/", "/t/", "/api/", "/admin")


@dataclass(frozen=True)
class RateLimits:
    """Per-address and per-link limits, checked in ``rate_limit``."""

    per_ip: RateLimitItem
    per_link: RateLimitItem
    trust_forwarded_for: bool
    limiter: SharedState

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> RateLimits:
        try:
            per_ip = parse(settings.rate_limit_per_ip)
            per_link = parse(settings.rate_limit_per_link)
        except ValueError as exc:
            raise ConfigError(f"gateway rate limit: {exc}") from exc
        limiter = SharedState(settings.rate_limit_storage)
        return cls(per_ip, per_link, settings.trust_forwarded_for, limiter)

    def client(self, request: web.Request) -> str:
        """The client's address: the proxy's last ``X-Forwarded-For`` entry if trusted."""
        if self.trust_forwarded_for:
            forwarded = request.headers.get("X-Forwarded-For", "")
            last = forwarded.rsplit(",", 1)[-1].strip()
            if last:
                return last
        return request.remote or "unknown"

    async def check(self, request: web.Request, link_token: str | None) -> None:
        allowed, retry_after = await self.limiter.hit(self.per_ip, "ip", self.client(request))
        if not allowed:
            raise RateLimited("too many requests from this address", retry_after=retry_after)
        if link_token:
            digest = hashlib.sha256(link_token.encode()).hexdigest()[:32]
            allowed, retry_after = await self.limiter.hit(self.per_link, "link", digest)
            if not allowed:
                raise RateLimited(
                    "too many requests with this upload link", retry_after=retry_after
                )


#: Path segments that are credentials: the upload-link token of the page URL.
_TOKEN_IN_PATH = re.compile(r"^/u/[^/]+")


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, path with any token removed, status, bytes, time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = _TOKEN_IN_PATH.sub("/u/…", request.path)
        self.logger.info(
            "%s %s %s %d %.1fms",
            request.method,
            path,
            response.status,
            response.body_length,
            time * 1000,
        )
