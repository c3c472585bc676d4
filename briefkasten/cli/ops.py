"""The operators' one-shot commands: ``outbox``, ``link``, ``retention``, ``reconcile``,
``dlq`` and ``quarantine`` (``status`` and ``operator`` are in ``cli.status``, ``consume`` in
``cli.consume``). Each takes the parsed arguments and the loaded settings, prints for
operators (lines on stdout, a summary on stderr) and returns an exit code; errors go up to the
CLI's one error boundary. The text operators read is made here, not in the adapters.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import Any

from briefkasten import links
from briefkasten.broker import open_dead_letters, open_job_queue
from briefkasten.broker.outbox import Outbox, State
from briefkasten.broker.rabbitmq import RabbitJobQueue
from briefkasten.cli.startup import setup_logs
from briefkasten.config import Settings
from briefkasten.errors import ConfigError
from briefkasten.storage import open_storage_for


def outbox(args: argparse.Namespace, settings: Settings) -> int:
    box = Outbox(settings.broker.outbox_dir.absolute())
    if args.outbox_command == "list":
        lines = outbox_list(box, args.state)
    elif args.outbox_command == "show":
        lines = [outbox_show(box, args.message_id)]
    else:
        lines = [outbox_replay(box, args.message_id)]
    for line in lines:
        print(line)
    return 0


def outbox_list(outbox: Outbox, state: State | None = None) -> list[str]:
    """``briefkasten outbox list``: one line per message, oldest first."""
    lines = []
    for e in outbox.list(state):
        error = f"  last error: {e.last_error}" if e.last_error else ""
        line = f"{e.message.message_id}  {e.state:<7}  {e.created_at}  {e.message.routing_key}"
        lines.append(line + error)
    return lines


def outbox_show(outbox: Outbox, message_id: str) -> str:
    """``briefkasten outbox show ID``: the entry with its decoded body, as indented JSON."""
    data = outbox.get(message_id).to_json()
    with contextlib.suppress(ValueError):
        data["body"] = json.loads(data["body"])
    return json.dumps(data, indent=2, ensure_ascii=False)


def outbox_replay(outbox: Outbox, message_id: str) -> str:
    """``briefkasten outbox replay ID``: back to pending; the flusher publishes it again."""
    before = outbox.get(message_id).state
    outbox.replay(message_id)
    return f"{message_id}: {before} -> pending"


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
    if args.separator_pdf:
        from briefkasten.cli.separator import separator_pdf

        sheet = separator_pdf(tenant, upload_link.link_id, lang=args.separator_lang)
        args.separator_pdf.write_bytes(sheet)
    answer = {
        "link_id": upload_link.link_id,
        "url": url,
        "token": token,
        "expires_at": upload_link.expires_at,
        "document_types": list(upload_link.document_types),
    }
    print(json.dumps(answer, indent=2))
    return 0


def retention(args: argparse.Namespace, settings: Settings) -> int:
    """``briefkasten retention run [--dry-run] [--at TIME]``: one sweep now, lines on stdout."""
    from datetime import UTC, datetime

    from briefkasten.housekeeping import retention as retention_module

    setup_logs(args, settings)
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

    setup_logs(args, settings)
    jobs = open_job_queue(settings, recover=False)  # never take over a running worker's jobs
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
    letters = open_dead_letters(settings)
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
