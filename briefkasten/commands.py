"""The service commands behind the CLI: ``serve``, ``worker``, ``consume`` and ``outbox``.

Each takes the parsed arguments and the loaded settings and returns an exit code; errors go up
to the CLI's one error boundary.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
import threading
from types import FrameType

from aiohttp import web

from briefkasten.broker import outbox as outbox_module
from briefkasten.broker.outbox import Outbox
from briefkasten.config import Settings
from briefkasten.errors import ConfigError
from briefkasten.gateway import create_app
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
    web.run_app(app, host=gateway.host, port=gateway.port, print=None)
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


def _logging() -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
