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
from briefkasten.config import Settings
from briefkasten.errors import ConfigError
from briefkasten.gateway import create_app, security
from briefkasten.worker import Worker, distributed, job_queue, open_storage_for, start_in_thread

log = logging.getLogger("briefkasten")


def serve(args: argparse.Namespace, settings: Settings) -> int:
    gateway = dataclasses.replace(
        settings.gateway,
        host=args.host or settings.gateway.host,
        port=args.port or settings.gateway.port,
    )
    settings = dataclasses.replace(settings, gateway=gateway)
    _logging()
    storage = open_storage_for(settings)
    jobs = job_queue(settings, recover=True)
    if not distributed(settings):
        start_in_thread(Worker(settings, storage, jobs, threading.Event()))
        log.info("embedded mode: workers run in this process, the outbox is the sink")
    app = create_app(settings, storage=storage, jobs=jobs)
    log.info("listening on http://%s:%d", gateway.host, gateway.port)
    web.run_app(
        app,
        host=gateway.host,
        port=gateway.port,
        print=None,
        access_log_class=security.AccessLogger,
    )
    return 0


def worker(args: argparse.Namespace, settings: Settings) -> int:
    _logging()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current job, then stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    storage = open_storage_for(settings)
    handled = Worker(settings, storage, job_queue(settings), stop).run(
        idle_timeout=args.idle_timeout
    )
    log.info("worker stopped after %d job(s)", handled)
    return 0


def consume(args: argparse.Namespace, settings: Settings) -> int:
    from briefkasten.broker.subscriber import RabbitSubscriber
    from briefkasten.consumer import save_message

    if not distributed(settings):
        raise ConfigError("consume needs RabbitMQ: set BRIEFKASTEN_AMQP_URL")
    _logging()
    storage = open_storage_for(settings)
    subscriber = RabbitSubscriber(
        settings.broker.amqp_url,
        settings.broker.exchange,
        args.queue,
        bindings=tuple(args.binding or ["#"]),
    )
    try:
        count = subscriber.consume(
            lambda message: log.info("saved %s", save_message(message, storage, args.into)),
            max_messages=args.max_messages,
            idle_timeout=args.idle_timeout,
        )
    finally:
        subscriber.close()
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


def _logging() -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
