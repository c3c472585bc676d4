"""The operators' dashboard: ``GET /admin`` and its JSON API under ``/admin/api/``.

Off (404 with a message) unless ``admin.secret`` (``BRIEFKASTEN_ADMIN_SECRET``) and at least
one ``[operators.<name>]`` account are configured. ``POST /admin/api/login {name, password,
totp}`` answers a short-lived signed token (``briefkasten.operators``); the page keeps it in
``sessionStorage`` and sends it as ``Authorization: Bearer``. There are no cookies, so a
foreign site cannot make a browser act for an operator; the same-origin middleware refuses
cross-site POSTs on top. ``POST /admin/api/logout`` revokes the token for every gateway
(``briefkasten.admin_state``, looked up on every request, no cache).

**Login**: with a ``totp_secret`` the code ``totp`` is required and each code works once (per
account, storage-backed). A wrong name, password or code all answer the same 401. Logins are
limited per client address (``admin.login_rate_limit``, every attempt) and per account name
(``admin.login_rate_limit_per_account``, attempts since the last success; a locked name
answers 429 with ``Retry-After``, even with the right password, and is audited as ``locked``);
counted where the gateway's rate limits are (``gateway.rate_limit_storage``: Redis shares them).
Unknown names are counted and locked the same way, so locking tells nothing about which names
exist.

* ``GET summary``: the figures of this gateway's metrics (in embedded mode the workers count
  into the same registry) plus those of ``admin.metrics_urls`` (the workers' ``/metrics`` in
  distributed mode, read concurrently; one that does not answer becomes an entry of
  ``warnings``), and the scrape-time queue, outbox and dead-letter gauges.
* ``GET dead-letters``: the dead jobs (ids, attempts, reason: the recent failures).
* ``POST dead-letters/retry`` and ``dead-letters/discard`` ``{job_ids: [...]}``: operator role
  only (read → 403). Login, retry and discard are written to the audit log.

**Tenant scope**: an operator with ``tenants`` sees only those tenants' series in the summary
(figures without a tenant label — queues, outbox, step latencies, publishing, storage errors —
cover all tenants and are left out, see ``monitoring.summary``) and only their dead letters
(among the first ``MAX_LISTED``). Retrying or discarding a job id that is not one of their
dead letters is refused as 404 — the same answer as for an id that does not exist, so
another tenant's ids are not revealed — and audited as ``denied``; nothing is changed then.

Blocking work (the queue probes, RabbitMQ, storage) runs in the gateway's executor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web
from limits import RateLimitItem, parse

from briefkasten.broker import open_dead_letters
from briefkasten.config import AdminSettings, Settings
from briefkasten.errors import (
    BriefkastenError,
    ConfigError,
    Forbidden,
    InvalidRequest,
    NotFound,
    RateLimited,
    Unauthorized,
)
from briefkasten.gateway.keys import (
    ACCOUNT_LIMIT,
    ACCOUNTS,
    ADMIN_PAGE,
    ADMIN_STATE,
    LOGIN_LIMIT,
    METRICS,
    RATE_LIMITS,
    SETTINGS,
    STORAGE,
)
from briefkasten.gateway.request import compress, json_object, run
from briefkasten.gateway.web.page import Site
from briefkasten.monitoring import summary as summary_module
from briefkasten.operators import SECOND_FACTOR, WRONG_LOGIN, Accounts, AuditEvent, Session, audit

#: Dead letters listed at most (the dashboard shows the first ones).
MAX_LISTED = 200
MAX_LOGIN_BODY = 4096
MAX_IDS = 200
OFF = (
    "the admin dashboard is switched off: set BRIEFKASTEN_ADMIN_SECRET (at least 32 "
    "characters) and configure [operators.<name>] accounts"
)
T = TypeVar("T")

routes = web.RouteTableDef()

#: The page's texts, handed to its script in a JSON block.
TEXTS = {
    "logged_in_as": "Logged in as {name} ({role})",
    "updated": "Updated {time}",
    "update_failed": "Could not update the figures: {message}",
    "login_failed": "Login failed: {message}",
    "session_expired": "Your session has ended. Please log in again.",
    "unknown": "unknown",
    "none": "none",
    "no_dead_letters": "No dead letters.",
    "retry": "Retry",
    "discard": "Discard",
    "retry_job": "Retry job {job}",
    "discard_job": "Discard job {job}",
    "confirm_retry": "Move job {job} back to the work queue?",
    "confirm_discard": "Delete dead job {job} for good?",
    "done_retry": "Job {job} is back in the work queue.",
    "done_discard": "Job {job} was discarded.",
    "action_failed": "The action failed: {message}",
    "read_only": "Your role may only look; retry and discard need the operator role.",
    "scope": "Figures and dead letters of {tenants} only. Queue depths, the outbox, step "
    "latencies, publishing and storage errors cover all tenants and are shown only to "
    "operators without a tenant scope.",
}


def login_limits(settings: AdminSettings) -> tuple[RateLimitItem, RateLimitItem]:
    """The login rate limits: per client address, per account name."""
    try:
        return parse(settings.login_rate_limit), parse(settings.login_rate_limit_per_account)
    except ValueError as exc:
        raise ConfigError(f"admin login rate limit: {exc}") from exc


def page_html(site: Site) -> bytes:
    """The dashboard's page (its static files are the upload page's: ``/static/…``)."""
    return site.render("admin.html", "", texts=TEXTS)  # relative to /admin: /static/…


def _accounts(request: web.Request) -> Accounts:
    accounts = request.app[ACCOUNTS]
    if not accounts.enabled:
        raise NotFound(OFF)
    return accounts


async def _verified(request: web.Request) -> tuple[Session, str, float]:
    """The session of the request's token, its id and expiry; ``Unauthorized`` if it is
    missing, invalid, expired or logged out (on any gateway)."""
    accounts = _accounts(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("log in first (Authorization: Bearer <session token>)")
    session, token_id, expires_at = accounts.verify(token.strip())
    state = request.app[ADMIN_STATE]
    if await run(request, lambda: state.is_revoked(token_id)):
        raise Unauthorized("the session was ended (logged out): log in again")
    return session, token_id, expires_at


async def _session(request: web.Request) -> Session:
    return (await _verified(request))[0]


def _client(request: web.Request) -> str:
    return request.app[RATE_LIMITS].client(request)


async def _audit(request: web.Request, event: AuditEvent) -> None:
    storage = request.app[STORAGE]
    await run(request, lambda: audit(storage, event))


@routes.get("/admin")
async def page(request: web.Request) -> web.Response:
    _accounts(request)
    response = web.Response(
        body=request.app[ADMIN_PAGE],
        content_type="text/html",
        charset="utf-8",
        headers={"Vary": "Accept-Encoding"},
    )
    compress(request, response)
    return response


@routes.post("/admin/api/login")
async def login(request: web.Request) -> web.Response:
    accounts = _accounts(request)
    client = _client(request)
    limiter = request.app[RATE_LIMITS].limiter
    allowed, retry_after = await limiter.hit(request.app[LOGIN_LIMIT], "admin-login", client)
    if not allowed:
        raise RateLimited("too many login attempts from this address", retry_after=retry_after)
    body = await json_object(request, MAX_LOGIN_BODY)
    given = [body.get("name"), body.get("password"), body.get("totp", "")]
    if not all(isinstance(v, str) for v in given):
        raise InvalidRequest("expected JSON {name, password, totp}")
    name, password, code = (str(v) for v in given)
    name = name.strip()[:64]
    shown = name if name.replace("-", "").replace("_", "").isalnum() else "?"
    per_account = request.app[ACCOUNT_LIMIT]
    # Counted before the check (a success clears it), so parallel guesses cannot overtake it.
    allowed, retry_after = await limiter.hit(per_account, "admin-account", name)
    if not allowed:
        await _audit(request, AuditEvent(shown, "-", "login", "locked", client))
        raise RateLimited(
            "too many failed logins for this account: wait before trying again",
            retry_after=retry_after,
        )
    state = request.app[ADMIN_STATE]

    def check() -> Session:
        session, step = accounts.login(name, password, code)
        if step is not None and not state.use_code(session.name, step):
            raise Unauthorized(WRONG_LOGIN, source=SECOND_FACTOR)  # a code used before
        return session

    try:
        session = await run(request, check)
    except Unauthorized as exc:
        result = "failed_totp" if exc.source == SECOND_FACTOR else "failed"
        await _audit(request, AuditEvent(shown, "-", "login", result, client))
        raise Unauthorized(WRONG_LOGIN) from None  # the same answer, whichever part was wrong
    await limiter.clear(per_account, "admin-account", name)
    await _audit(request, AuditEvent(session.name, session.role, "login", "ok", client))
    if state.sweep_due(accounts.ttl):
        await run(request, state.sweep)
    return web.json_response(
        {
            "token": accounts.token(session),
            "name": session.name,
            "role": session.role,
            "tenants": list(session.tenants),
            "expires_in": int(accounts.ttl),
        }
    )


@routes.post("/admin/api/logout")
async def logout(request: web.Request) -> web.Response:
    """End this session on every gateway (the token is refused from now on)."""
    session, token_id, expires_at = await _verified(request)
    state = request.app[ADMIN_STATE]
    await run(request, lambda: state.revoke(token_id, expires_at=expires_at))
    await _audit(request, AuditEvent(session.name, session.role, "logout", "ok", _client(request)))
    return web.json_response({"logged_out": True})


@routes.get("/admin/api/summary")
async def get_summary(request: web.Request) -> web.Response:
    session = await _session(request)
    metrics = request.app[METRICS]
    urls = request.app[SETTINGS].admin.metrics_url_list
    remote, warnings = await summary_module.fetch_all(urls)
    tenants = session.tenants or None

    def summarise() -> dict[str, Any]:
        return summary_module.summarise([*metrics.registry.collect(), *remote], tenants)

    figures = await run(request, summarise)
    figures["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    figures["operator"] = {
        "name": session.name,
        "role": session.role,
        "tenants": list(session.tenants),
    }
    figures["warnings"] = warnings
    return web.json_response(figures)


def _with_letters(settings: Settings, fn: Callable[[Any], T]) -> T:
    letters = open_dead_letters(settings)
    try:
        return fn(letters)
    finally:
        letters.close()


@routes.get("/admin/api/dead-letters")
async def dead_letters(request: web.Request) -> web.Response:
    session = await _session(request)
    settings = request.app[SETTINGS]
    found = await run(request, lambda: _with_letters(settings, lambda d: d.list(MAX_LISTED)))
    return web.json_response(
        {
            "dead_letters": [job.to_json() for job in found if session.sees(job.tenant)],
            "limit": MAX_LISTED,
        }
    )


@routes.post("/admin/api/dead-letters/retry")
async def retry(request: web.Request) -> web.Response:
    return await change("retry", request)


@routes.post("/admin/api/dead-letters/discard")
async def discard(request: web.Request) -> web.Response:
    return await change("discard", request)


async def change(action: str, request: web.Request) -> web.Response:
    """Retry or discard the named dead jobs (operator role only)."""
    session = await _session(request)
    client = _client(request)
    try:
        body = await request.json()
    except ValueError as exc:
        raise InvalidRequest("expected JSON {job_ids: [...]}") from exc
    ids = body.get("job_ids") if isinstance(body, dict) else None
    if (
        not isinstance(ids, list)
        or not ids
        or len(ids) > MAX_IDS
        or not all(isinstance(i, str) and 0 < len(i) <= 64 for i in ids)
    ):
        raise InvalidRequest(f"job_ids must name 1 to {MAX_IDS} dead jobs")
    targets = tuple(ids)
    if not session.may_change:
        await _audit(
            request, AuditEvent(session.name, session.role, action, "denied", client, targets)
        )
        raise Forbidden(f"the role {session.role!r} may not {action} dead letters")
    settings = request.app[SETTINGS]
    if session.tenants:
        listed = await run(request, lambda: _with_letters(settings, lambda d: d.list(MAX_LISTED)))
        own = {job.job_id for job in listed if job.job_id and session.sees(job.tenant)}
        if not set(targets) <= own:
            await _audit(
                request, AuditEvent(session.name, session.role, action, "denied", client, targets)
            )
            raise NotFound("no such dead letter among your tenants' jobs")
    tenants = session.tenants or None
    try:
        done = await run(
            request,
            lambda: _with_letters(
                settings,
                lambda d: (
                    d.retry(targets, tenants) if action == "retry" else d.purge(targets, tenants)
                ),
            ),
        )
    except BriefkastenError as exc:
        await _audit(
            request, AuditEvent(session.name, session.role, action, exc.code, client, targets)
        )
        raise
    changed = tuple(job.job_id or "-" for job in done)
    await _audit(request, AuditEvent(session.name, session.role, action, "ok", client, changed))
    return web.json_response({"action": action, "done": [job.to_json() for job in done]})
