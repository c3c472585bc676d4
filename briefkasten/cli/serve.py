"""The long-running commands: ``serve`` (the gateway, and in embedded mode the workers) and
``worker`` (normalise queued submissions). Both check the system first (``startup``), then run
until stopped; errors go up to the CLI's one error boundary.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import threading
from types import FrameType

from aiohttp import web

from briefkasten.broker import distributed, open_job_queue
from briefkasten.cli.startup import (
    LISTEN_ERRORS,
    check_fonts,
    check_pipelines,
    check_port,
    port_error,
    setup_logs,
)
from briefkasten.config import Settings
from briefkasten.gateway import create_app, security
from briefkasten.gateway.keys import RATE_LIMITS
from briefkasten.monitoring.metrics import GATEWAY, ROLES, WORKER, Metrics
from briefkasten.storage import open_storage_for
from briefkasten.worker import Worker, start_in_thread

log = logging.getLogger("briefkasten")


def serve(args: argparse.Namespace, settings: Settings) -> int:
    gateway = dataclasses.replace(
        settings.gateway,
        host=args.host or settings.gateway.host,
        port=args.port or settings.gateway.port,
    )
    settings = dataclasses.replace(settings, gateway=gateway)
    setup_logs(args, settings)
    check_pipelines(settings)
    check_fonts()
    check_port(gateway.host, gateway.port)
    storage = open_storage_for(settings)
    jobs = open_job_queue(settings, recover=True)
    # Embedded workers count into the gateway's; a distributed gateway has the gateway's series.
    metrics = Metrics.for_settings(settings, ROLES if not distributed(settings) else (GATEWAY,))
    if not distributed(settings):
        start_in_thread(Worker(settings, storage, jobs, threading.Event(), metrics))
        log.info("embedded mode: workers run in this process, the outbox is the sink")
    app = create_app(settings, storage=storage, jobs=jobs, metrics=metrics)
    log.info("rate limits and Idempotency-Key locks: %s", app[RATE_LIMITS].limiter.where)
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
        if exc.errno not in LISTEN_ERRORS:
            raise
        raise port_error(gateway.host, gateway.port, exc) from exc
    return 0


def worker(args: argparse.Namespace, settings: Settings) -> int:
    setup_logs(args, settings)
    check_pipelines(settings)
    check_fonts()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current job, then stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    storage = open_storage_for(settings)
    metrics = Metrics.for_settings(settings, (WORKER,))
    stop_metrics = None
    if args.metrics_port is not None:
        try:
            stop_metrics = metrics.serve(args.metrics_port, args.metrics_host)
        except OSError as exc:
            if exc.errno not in LISTEN_ERRORS:
                raise
            raise port_error(args.metrics_host, args.metrics_port, exc) from exc
        log.info("metrics on http://%s:%d/metrics", args.metrics_host, args.metrics_port)
    try:
        handled = Worker(settings, storage, open_job_queue(settings), stop, metrics).run(
            idle_timeout=args.idle_timeout
        )
    finally:
        if stop_metrics is not None:
            stop_metrics()
    log.info("worker stopped after %d job(s)", handled)
    return 0
