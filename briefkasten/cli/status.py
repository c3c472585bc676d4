"""``briefkasten status`` and ``briefkasten operator hash-password|totp-secret``.

``operator totp-secret [--name N] [--qr-png FILE]`` prints a fresh base32 secret (for
``[operators.<name>] totp_secret`` or ``BRIEFKASTEN_OPERATORS_<NAME>_TOTP_SECRET``) and the
``otpauth://`` URI an authenticator app adds; on a terminal also the QR code, and with
``--qr-png`` as a PNG file (mode 600: it is the secret).

``status`` reads the metrics of running processes (``--url``, repeatable: the gateway and
each worker's ``--metrics-port``; by default the gateway of the configuration) with
prometheus_client's text parser and adds them up; queue depths and dead letters it probes
itself, as the gateway's metrics do. A ``--url`` that does not answer is reported and makes the
exit code 5; what could be read is printed anyway.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

import segno

from briefkasten.broker import open_dead_letters
from briefkasten.config import Settings
from briefkasten.errors import BriefkastenError, ConfigError, TemporaryFailure
from briefkasten.monitoring import summary
from briefkasten.monitoring.metrics import Metrics
from briefkasten.operators import hash_password as make_hash
from briefkasten.operators import new_totp_secret, totp_uri

#: Dead letters shown by ``status`` (``briefkasten dlq list`` shows all).
SHOWN_DEAD = 10


def status(args: argparse.Namespace, settings: Settings) -> int:
    gateway = settings.gateway
    host = "127.0.0.1" if gateway.host in ("0.0.0.0", "::", "") else gateway.host
    urls = args.url or [f"http://{host}:{gateway.port}/metrics"]
    families: list[Any] = []
    problems: list[str] = []
    for url in urls:
        try:
            # Queue gauges come from the probes below (each process would report the same).
            families.extend(summary.without_queue(summary.fetch(url)))
        except TemporaryFailure as exc:
            problems.append(exc.message_en)
    figures = summary.summarise(families)
    probes = Metrics.for_settings(settings, roles=())  # the queue gauges only
    figures["queue"] = summary.summarise(probes.registry.collect())["queue"]
    dead: list[dict[str, Any]] = []
    letters = open_dead_letters(settings)
    try:
        dead = [job.to_json() for job in letters.list(SHOWN_DEAD)]
    except BriefkastenError as exc:
        problems.append(f"dead letters: {exc.message_en}")
    finally:
        letters.close()
    if args.json:
        print(json.dumps({**figures, "dead_letters": dead, "problems": problems}, indent=2))
    else:
        for line in summary.lines(figures):
            print(line)
        for job in dead:
            print(f"dead: {job['job_id'] or '-'}  {job['tenant'] or '-'}  {job['reason']}")
        for problem in problems:
            print(f"briefkasten: {problem}", file=sys.stderr)
    return TemporaryFailure.exit_code if problems else 0


def hash_password(args: argparse.Namespace) -> int:
    """Prompt twice on a terminal, else read the first line of stdin; print the hash."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ConfigError("the passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    print(make_hash(password))
    return 0


def totp_secret(args: argparse.Namespace) -> int:
    """Print a new TOTP secret and its URI (and QR code); see the module's docstring."""
    secret = new_totp_secret()
    uri = totp_uri(secret, args.name)
    print(f"totp_secret = {secret}")
    print(uri)
    code = segno.make(uri, error="m")
    if args.qr_png is not None:
        descriptor = os.open(args.qr_png, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            code.save(out, kind="png", scale=6, border=4)
    if sys.stdout.isatty():
        code.terminal(compact=True)
    return 0


def operator(args: argparse.Namespace, settings: Settings) -> int:
    """``briefkasten operator hash-password|totp-secret``."""
    if args.operator_command == "totp-secret":
        return totp_secret(args)
    return hash_password(args)
