"""The operators' summary of Prometheus metrics, for ``/admin`` and ``briefkasten status``.

``summarise(families)`` takes metric families, either straight from a process's registry
(``Metrics.registry.collect()``) or parsed from the text format of one or more ``/metrics``
endpoints (``prometheus_client.parser``), and adds them up into one JSON-ready dict: uploads
by result and per tenant, pages, documents, publish results, storage errors, p50/p95 per
pipeline step (interpolated in the histogram's buckets, as PromQL's ``histogram_quantile``
does) and the queue gauges (jobs waiting, dead letters, outbox pending; ``None`` if unknown).

``summarise(families, tenants=(...))`` is a tenant-scoped operator's view: only series with
one of those ``tenant`` labels count (uploads, bytes, pages, documents, OCR confidence); the
figures without a tenant label (queue depths, outbox, dead-letter count, step latencies,
publishing, storage errors) cover all tenants and are left out (``None``, empty), and
``scope`` names the tenants. Unscoped (the default), ``scope`` is ``None``.

Series at 0 (``Metrics`` creates every known one at the start) count as nothing happened: an
upload or publish result of 0 and a tenant without any figure are left out.

``fetch_all(urls)`` reads several endpoints concurrently (aiohttp, the dashboard) and leaves
out their queue gauges (``without_queue``): the caller probes the queue once (every process
would report the same). ``fetch(url)`` reads one, blocking (``briefkasten status``).
"""

from __future__ import annotations

import asyncio
import math
import urllib.request
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import aiohttp
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families

from briefkasten.errors import TemporaryFailure

QUEUE_GAUGES = {
    "briefkasten_jobs_in_queue": "jobs_in_queue",
    "briefkasten_dead_letters": "dead_letters",
    "briefkasten_outbox_pending": "outbox_pending",
}
FETCH_TIMEOUT = 5.0
#: The dashboard polls every 5 s: a worker that does not answer within this is reported.
DASHBOARD_FETCH_TIMEOUT = 2.0


def summarise(families: Iterable[Metric], tenants: Collection[str] | None = None) -> dict[str, Any]:
    """The summary of ``families`` (samples of the same series are added up); with
    ``tenants`` (non-empty), only those tenants' series (see the module text)."""
    scoped = bool(tenants)
    wanted = set(tenants or ())
    uploads: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_tenant: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    publish: dict[str, float] = defaultdict(float)
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, float] = defaultdict(float)
    queue: dict[str, float | None] = dict.fromkeys(QUEUE_GAUGES.values())
    confidence_sum: dict[str, float] = defaultdict(float)
    confidence_count: dict[str, float] = defaultdict(float)
    storage_errors = 0.0
    upload_bytes = 0.0
    for family in families:
        for sample in family.samples:
            name, labels, value = sample.name, sample.labels, sample.value
            if scoped and labels.get("tenant") not in wanted:
                continue  # another tenant's, or a figure of all tenants
            tenant = labels.get("tenant", "")
            if name == "briefkasten_uploads_total":
                uploads[tenant][labels["result"]] += value
                per_tenant[tenant]["uploads"] += value
            elif name == "briefkasten_upload_bytes_total":
                upload_bytes += value
            elif name == "briefkasten_pages_processed_total":
                per_tenant[tenant]["pages"] += value
            elif name == "briefkasten_ocr_confidence_sum":
                confidence_sum[tenant] += value
            elif name == "briefkasten_ocr_confidence_count":
                confidence_count[tenant] += value
            elif name == "briefkasten_documents_total":
                per_tenant[tenant][labels["result"]] += value
            elif name == "briefkasten_publish_total":
                publish[labels["result"]] += value
            elif name == "briefkasten_storage_errors_total":
                storage_errors += value
            elif name == "briefkasten_stage_seconds_bucket":
                buckets[labels["step"]][float(labels["le"])] += value
            elif name == "briefkasten_stage_seconds_count":
                counts[labels["step"]] += value
            elif name in QUEUE_GAUGES:
                key = QUEUE_GAUGES[name]
                queue[key] = (queue[key] or 0) + value
    by_result: dict[str, int] = defaultdict(int)
    for results in uploads.values():
        for result, value in results.items():
            by_result[result] += int(value)
    return {
        "uploads": {
            "by_result": {r: n for r, n in sorted(by_result.items()) if n},
            "bytes": int(upload_bytes),
        },
        "tenants": [
            {
                "tenant": tenant,
                "uploads_accepted": int(uploads[tenant].get("accepted", 0)),
                "uploads_refused": int(
                    sum(v for r, v in uploads[tenant].items() if r != "accepted")
                ),
                "pages": int(figures.get("pages", 0)),
                "documents_normalised": int(figures.get("normalised", 0)),
                "documents_failed": int(figures.get("normalisation_failed", 0)),
                "ocr_confidence_mean": _mean(confidence_sum[tenant], confidence_count[tenant]),
            }
            for tenant, figures in sorted(per_tenant.items())
            if any(figures.values()) or confidence_count[tenant]
        ],
        "pages_processed": int(sum(f.get("pages", 0) for f in per_tenant.values())),
        "documents": {
            "normalised": int(sum(f.get("normalised", 0) for f in per_tenant.values())),
            "normalisation_failed": int(
                sum(f.get("normalisation_failed", 0) for f in per_tenant.values())
            ),
        },
        "ocr_confidence_mean": _mean(sum(confidence_sum.values()), sum(confidence_count.values())),
        "publish": {result: int(value) for result, value in sorted(publish.items()) if value},
        "storage_errors": None if scoped else int(storage_errors),
        "steps": [
            {
                "step": step,
                "count": int(counts.get(step, 0)),
                "p50_s": quantile(0.5, buckets[step]),
                "p95_s": quantile(0.95, buckets[step]),
            }
            for step in sorted(buckets)
            if counts.get(step, 0) > 0
        ],
        "queue": {k: None if v is None else int(v) for k, v in queue.items()},
        "scope": sorted(wanted) if scoped else None,
    }


def _mean(total: float, count: float) -> float | None:
    return round(total / count, 1) if count > 0 else None


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """The ``q`` quantile of cumulative ``buckets`` (upper bound → count), linearly
    interpolated inside its bucket; ``None`` without observations. Beyond the last finite
    bound it is that bound (as in PromQL)."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    rank = q * buckets[bounds[-1]]
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return round(lower, 6)
            if count == below:
                return round(bound, 6)
            return round(lower + (bound - lower) * (rank - below) / (count - below), 6)
        lower, below = bound, count
    return round(lower, 6)


def fetch(url: str, timeout: float = FETCH_TIMEOUT) -> list[Metric]:
    """The metric families a ``/metrics`` endpoint serves (blocking)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            text = response.read().decode("utf-8")
    except (OSError, ValueError) as exc:
        raise _unreadable(url, exc) from exc
    return parse(url, text)


def parse(url: str, text: str) -> list[Metric]:
    """The families in ``url``'s ``/metrics`` answer ``text``."""
    try:
        return list(text_string_to_metric_families(text))
    except (ValueError, KeyError, IndexError) as exc:
        raise _unreadable(url, exc) from exc


def without_queue(families: Iterable[Metric]) -> list[Metric]:
    """``families`` without the queue gauges (probed once by whoever adds processes up)."""
    return [f for f in families if f.name not in QUEUE_GAUGES]


def _unreadable(url: str, exc: BaseException) -> TemporaryFailure:
    detail = str(exc) or type(exc).__name__
    return TemporaryFailure(f"cannot read metrics from {url}: {detail}", source="metrics")


async def fetch_all(
    urls: Sequence[str], timeout: float = DASHBOARD_FETCH_TIMEOUT
) -> tuple[list[Metric], list[str]]:
    """The families of all ``urls``, read concurrently, and one English warning per URL that
    did not answer (in time) or answered no metrics. Never raises for an unreachable URL."""
    if not urls:
        return [], []

    async def one(session: aiohttp.ClientSession, url: str) -> list[Metric]:
        try:
            async with session.get(url) as response:
                response.raise_for_status()
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise _unreadable(url, exc) from exc
        return without_queue(parse(url, text))

    families: list[Metric] = []
    warnings: list[str] = []
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        answers = await asyncio.gather(*(one(session, u) for u in urls), return_exceptions=True)
    for answer in answers:
        if isinstance(answer, TemporaryFailure):
            warnings.append(answer.message_en)
        elif isinstance(answer, BaseException):
            raise answer
        else:
            families.extend(answer)
    return families, warnings


def lines(summary: dict[str, Any]) -> list[str]:
    """The summary as terminal lines (``briefkasten status``)."""
    out = []
    queue = summary["queue"]
    shown = {k: "?" if v is None else v for k, v in queue.items()}
    out.append(
        f"queue: {shown['jobs_in_queue']} job(s) waiting, {shown['dead_letters']} dead, "
        f"{shown['outbox_pending']} message(s) in the outbox"
    )
    results = ", ".join(f"{r} {n}" for r, n in summary["uploads"]["by_result"].items())
    out.append(f"uploads: {results or 'none'}")
    docs = summary["documents"]
    out.append(
        f"pages processed: {summary['pages_processed']}; documents normalised "
        f"{docs['normalised']}, failed {docs['normalisation_failed']}"
    )
    published = ", ".join(f"{r} {n}" for r, n in summary["publish"].items())
    errors = "?" if summary["storage_errors"] is None else summary["storage_errors"]
    out.append(f"publish: {published or 'none'}; storage errors: {errors}")
    if summary["tenants"]:
        out.append("tenant                  accepted  refused  pages  normalised  failed")
        for t in summary["tenants"]:
            out.append(
                f"{t['tenant'] or '-':<22}  {t['uploads_accepted']:>8}  {t['uploads_refused']:>7}"
                f"  {t['pages']:>5}  {t['documents_normalised']:>10}  {t['documents_failed']:>6}"
            )
    if summary["steps"]:
        out.append("step                    count     p50 s     p95 s")
        for s in summary["steps"]:
            out.append(
                f"{s['step']:<22}  {s['count']:>5}  {_seconds(s['p50_s'])}  {_seconds(s['p95_s'])}"
            )
    return out


def _seconds(value: float | None) -> str:
    return f"{value:>8.3f}" if value is not None else f"{'-':>8}"
