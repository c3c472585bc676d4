"""The service commands behind the CLI: ``serve``, ``worker``, ``consume``, ``outbox``, ``link``.

Each takes the parsed arguments and the loaded settings and returns an exit code; errors go up
to the CLI's one error boundary.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

from aiohttp import web

from briefkasten import links
from briefkasten.broker import outbox as outbox_module
from briefkasten.broker.outbox import Outbox
from briefkasten.broker.rabbitmq import RabbitJobQueue
from briefkasten.cli import startup
from briefkasten.config import Settings
from briefkasten.errors import ConfigError
from briefkasten.gateway import create_app, security
from briefkasten.monitoring.logs import setup_logging
from briefkasten.monitoring.metrics import Metrics
from briefkasten.pipeline import check_pipelines
from briefkasten.worker import Worker, distributed, job_queue, open_storage_for, start_in_thread

log = logging.getLogger("briefkasten")


def serve(args: argparse.Namespace, settings: Settings) -> int:
    gateway = dataclasses.replace(
        settings.gateway,
        host=args.host or settings.gateway.host,
        port=args.port or settings.gateway.port,
    )
    settings = dataclasses.replace(settings, gateway=gateway)
    _logging(args, settings)
    _check_pipelines(settings)
    startup.check_port(gateway.host, gateway.port)
    storage = open_storage_for(settings)
    jobs = job_queue(settings, recover=True)
    metrics = Metrics.for_settings(settings)  # embedded workers count into the gateway's
    if not distributed(settings):
        start_in_thread(Worker(settings, storage, jobs, threading.Event(), metrics))
        log.info("embedded mode: workers run in this process, the outbox is the sink")
    app = create_app(settings, storage=storage, jobs=jobs, metrics=metrics)
    log.info("listening on http://%s:%d", gateway.host, gateway.port)
    try:
        web.run_app(
            app,
            host=gateway.host,
            port=gateway.port,
            print=None,
            access_log_class=security.AccessLogger,
        )
    except OSError as exc:  # taken between the check and now
        if exc.errno not in startup.LISTEN_ERRORS:
            raise
        raise startup.port_error(gateway.host, gateway.port, exc) from exc
    return 0


def worker(args: argparse.Namespace, settings: Settings) -> int:
    _logging(args, settings)
    _check_pipelines(settings)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current job, then stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    storage = open_storage_for(settings)
    metrics = Metrics.for_settings(settings)
    stop_metrics = None
    if args.metrics_port is not None:
        try:
            stop_metrics = metrics.serve(args.metrics_port, args.metrics_host)
        except OSError as exc:
            if exc.errno not in startup.LISTEN_ERRORS:
                raise
            raise startup.port_error(args.metrics_host, args.metrics_port, exc) from exc
        log.info("metrics on http://%s:%d/metrics", args.metrics_host, args.metrics_port)
    try:
        handled = Worker(settings, storage, job_queue(settings), stop, metrics).run(
            idle_timeout=args.idle_timeout
        )
    finally:
        if stop_metrics is not None:
            stop_metrics()
    log.info("worker stopped after %d job(s)", handled)
    return 0


def _check_pipelines(settings: Settings) -> None:
    """The global pipeline and every tenant's must exist before the first job arrives, and
    the OCR languages they use must be installed."""
    names = [settings.pipeline.name, *(t.pipeline for t in settings.tenants if t.pipeline)]
    check_pipelines(names, settings.pipeline.directory)
    startup.check_languages(settings.ocr.lang, names, settings.pipeline.directory)


def consume(args: argparse.Namespace, settings: Settings) -> int:
    from briefkasten.broker.rabbitmq import RabbitPublisher
    from briefkasten.broker.subscriber import RabbitSubscriber
    from briefkasten.cli.consume import save_and_confirm

    if not distributed(settings):
        raise ConfigError("consume needs RabbitMQ: set BRIEFKASTEN_AMQP_URL")
    _logging(args, settings)
    storage = open_storage_for(settings)
    subscriber = RabbitSubscriber(
        settings.broker.amqp_url,
        settings.broker.exchange,
        args.queue,
        bindings=tuple(args.binding or ["#"]),
    )
    broker = settings.broker
    receipts = RabbitPublisher(broker.amqp_url, broker.receipts_exchange) if args.ack else None
    try:
        count = subscriber.consume(
            # The folder is tenant/case/submission: log the submission id, not the case number.
            lambda m: log.info(
                "saved submission %s", save_and_confirm(m, storage, args.into, receipts).name
            ),
            max_messages=args.max_messages,
            idle_timeout=args.idle_timeout,
        )
    finally:
        subscriber.close()
        if receipts is not None:
            receipts.close()
    log.info("consumed %d message(s)", count)
    return 0


def outbox(args: argparse.Namespace, settings: Settings) -> int:
    box = Outbox(settings.broker.outbox_dir.absolute())
    if args.outbox_command == "list":
        lines = outbox_module.cli_list(box, args.state)
    elif args.outbox_command == "show":
        lines = [outbox_module.cli_show(box, args.message_id)]
    else:
        lines = [outbox_module.cli_replay(box, args.message_id)]
    for line in lines:
        print(line)
    return 0


def _list_links(args: argparse.Namespace, found: list[dict[str, Any]]) -> int:
    case = args.case.strip().upper() if args.case else None
    shown = [
        r
        for r in found
        if (case is None or r["case_number"] == case) and args.state in (None, r["state"])
    ]
    for record in shown:
        if args.json:
            print(json.dumps(record, ensure_ascii=False))
        else:
            types = ",".join(record["document_types"]) or "-"
            print(
                f"{record['link_id']}  {record['state']:<7}  {record['case_number']}  "
                f"expires {record['expires_at']}  {types}"
            )
    if not shown and not args.json:
        print("no upload links", file=sys.stderr)
    return 0


def link(args: argparse.Namespace, settings: Settings) -> int:
    storage = open_storage_for(settings)
    tenant = args.tenant or settings.gateway.default_tenant
    if args.link_command == "revoke":
        links.revoke(storage, tenant, args.link_id)
        print(f"revoked {args.link_id}")
        return 0
    if args.link_command == "list":
        return _list_links(args, links.list_links(storage, tenant))
    upload_link, token = links.create_link(
        settings,
        storage,
        tenant,
        args.case,
        [t.strip() for t in args.types.split(",") if t.strip()],
        links.parse_expiry(args.expires) if args.expires else None,
    )
    url = links.link_url(settings.links, token)
    if args.qr_png:
        args.qr_png.write_bytes(links.qr_png(url))
    if args.qr_svg:
        args.qr_svg.write_bytes(links.qr_svg(url))
    answer = {
        "link_id": upload_link.link_id,
        "url": url,
        "token": token,
        "expires_at": upload_link.expires_at,
        "document_types": list(upload_link.document_types),
    }
    print(json.dumps(answer, indent=2))
    return 0


def _logging(args: argparse.Namespace, settings: Settings) -> None:
    """Logs to stderr: ``--log-format`` wins over ``[logging] format`` (default json)."""
    fmt = getattr(args, "log_format", None) or settings.logging.format
    setup_logging(fmt, level=settings.logging.level)


def retention(args: argparse.Namespace, settings: Settings) -> int:
    """``briefkasten retention run [--dry-run] [--at TIME]``: one sweep now, lines on stdout."""
    from datetime import UTC, datetime

    from briefkasten.housekeeping import retention as retention_module

    _logging(args, settings)
    now = datetime.now(UTC)
    if args.at:
        if not args.dry_run:
            raise ConfigError("--at only goes with --dry-run (it would delete early)")
        now = datetime.fromisoformat(args.at)
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
    report = retention_module.sweep(
        open_storage_for(settings),
        settings,
        now=now,
        dry_run=args.dry_run,
        outbox=Outbox(settings.broker.outbox_dir.absolute()),
    )
    for deletion in report.deleted:
        print(deletion.line(dry_run=args.dry_run))
    verb = "would delete" if args.dry_run else "deleted"
    print(
        f"{verb} {len(report.deleted)} submission(s), kept {report.kept}, "
        f"{report.errors} unreadable; sent messages pruned: {report.outbox_pruned}",
        file=sys.stderr,
    )
    return 4 if report.errors else 0


def reconcile(args: argparse.Namespace, settings: Settings) -> int:
    """``briefkasten reconcile run [--dry-run]``: one reconcile round now, lines on stdout."""
    from briefkasten.housekeeping import reconcile as reconcile_module

    _logging(args, settings)
    jobs = job_queue(settings, recover=False)  # never take over a running worker's jobs
    try:
        report = reconcile_module.reconcile(
            open_storage_for(settings), settings, jobs, dry_run=args.dry_run
        )
    finally:
        if isinstance(jobs, RabbitJobQueue):
            jobs.close()
    for repair in report.repairs:
        print(repair.line(dry_run=args.dry_run))
    queued, deleted = ("would queue", "would delete") if args.dry_run else ("queued", "deleted")
    print(
        f"{queued} {len(report.requeued)} submission(s), {deleted} {len(report.deleted)} "
        f"orphan(s), kept {report.kept}, {report.errors} unreadable",
        file=sys.stderr,
    )
    return 4 if report.errors else 0


def dlq(args: argparse.Namespace, settings: Settings) -> int:
    """``briefkasten dlq list|retry|purge``: dead-lettered jobs (RabbitMQ or the journal)."""
    from briefkasten.broker.dead_letters import LocalDeadLetters, RabbitDeadLetters

    broker = settings.broker
    letters: LocalDeadLetters | RabbitDeadLetters = (
        RabbitDeadLetters(broker.amqp_url, broker.work_queue)
        if distributed(settings)
        else LocalDeadLetters(broker.journal_dir.absolute())
    )
    try:
        if args.dlq_command == "list":
            found = letters.list(args.limit)
            for job in found:
                print(json.dumps(job.to_json()) if args.json else job.line())
            print(f"{len(found)} dead job(s)", file=sys.stderr)
            return 0
        ids = args.job_ids or None
        if args.dlq_command == "purge" and not args.yes:
            print(
                "briefkasten: purge deletes dead jobs for good; add --yes to do it",
                file=sys.stderr,
            )
            return 2
        done = letters.retry(ids) if args.dlq_command == "retry" else letters.purge(ids)
    finally:
        letters.close()
    verb = "moved back to the work queue" if args.dlq_command == "retry" else "purged"
    for job in done:
        print(f"{verb}: {job.line()}")
    print(f"{len(done)} dead job(s) {verb}", file=sys.stderr)
    return 0


def status(args: argparse.Namespace, settings: Settings) -> int:
    """``briefkasten status [--url URL …] [--json]``: see ``briefkasten.cli.status``."""
    from briefkasten.cli import status as admin_cli

    return admin_cli.status(args, settings)


def operator(args: argparse.Namespace, settings: Settings) -> int:
    """``briefkasten operator hash-password|totp-secret``: see ``briefkasten.cli.status``."""
    from briefkasten.cli import status as admin_cli

    if args.operator_command == "totp-secret":
        return admin_cli.totp_secret(args)
    return admin_cli.hash_password(args)


def quarantine(args: argparse.Namespace, settings: Settings) -> int:
    """``briefkasten quarantine list|get|delete``: files the malware scan refused."""
    from dataclasses import asdict

    from briefkasten.malware import quarantine as quarantined

    storage = open_storage_for(settings)
    if args.quarantine_command == "list":
        for record in quarantined.records(storage, args.tenant):
            print(json.dumps(asdict(record), sort_keys=True))
        return 0
    if args.quarantine_command == "get":
        record = quarantined.export(storage, args.quarantine_id, args.output)
        print(f"wrote {args.output}: {record.size} bytes, sha256 {record.sha256}")
        return 0
    if not args.yes:
        raise ConfigError("quarantine delete removes the files for good: add --yes")
    for quarantine_id in args.quarantine_ids:
        quarantined.delete(storage, quarantine_id)
        print(f"deleted {quarantine_id}")
    return 0
