"""The ``briefkasten`` command line: the parser, and the one error boundary that maps errors to
exit codes.

Exit codes: 0 done, 2 usage or configuration, 3 an input was rejected, 4 processing failed,
5 a server we depend on is away. The commands live in ``serve`` (``serve``, ``worker``),
``ops`` (``outbox``, ``link``, ``retention``, ``reconcile``, ``dlq``, ``quarantine``),
``status`` (``status``, ``operator``) and ``consume`` (the reference consumer); each is
imported only when it runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

from briefkasten import config, i18n
from briefkasten.cli import unlock as unlock_options
from briefkasten.config import Settings
from briefkasten.errors import BriefkastenError, InputRejected, ProcessingError
from briefkasten.model import DocumentResult
from briefkasten.pipeline.document import ingest

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        result: int = args.handler(args)
        return result
    except InputRejected as exc:
        print(f"briefkasten: rejected {exc.source or 'input'}: {exc.message_en}", file=sys.stderr)
        return exc.exit_code
    except BriefkastenError as exc:
        where = f"{exc.source}: " if exc.source else ""
        print(f"briefkasten: {exc.code}: {where}{exc.message_en}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("briefkasten: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the error boundary: anything unforeseen is a processing failure
        print(f"briefkasten: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return ProcessingError.exit_code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefkasten",
        description="Digitaler Briefkasten: photos and scans in, one searchable PDF out.",
    )
    parser.add_argument(
        "--version", action="version", version=f"briefkasten {version('briefkasten')}"
    )
    parser.add_argument(
        "--config", type=Path, help="TOML config file (default: $BRIEFKASTEN_CONFIG)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ingest_cmd = commands.add_parser(
        "ingest", help="normalise files (pages in order) into one searchable PDF"
    )
    ingest_cmd.add_argument("files", nargs="+", type=Path, metavar="FILE")
    ingest_cmd.add_argument("--output", "-o", type=Path, required=True, metavar="OUT.pdf")
    ingest_cmd.add_argument("--report", type=Path, metavar="REPORT.json")
    ingest_cmd.add_argument("--pipeline", metavar="NAME", help="pipeline under pipelines/")
    ingest_cmd.add_argument("--lang", metavar="L", help="Tesseract language(s), e.g. deu+eng")
    ingest_cmd.add_argument(
        "--type",
        dest="document_type",
        default="sonstiges",
        help="document type recorded in the metadata",
    )
    ingest_cmd.add_argument("--title", help="document title (default: first file name)")
    unlock_options.add_arguments(ingest_cmd)
    ingest_cmd.set_defaults(handler=_ingest)

    serve = commands.add_parser(
        "serve", help="run the upload gateway (and, without RabbitMQ, the embedded workers)"
    )
    serve.add_argument("--host", help="listen address (default from config: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default from config: 8080)")
    _log_format(serve)
    serve.set_defaults(handler=_command(_serve, "serve"))

    worker = commands.add_parser("worker", help="normalise queued submissions")
    worker.add_argument(
        "--idle-timeout",
        type=float,
        metavar="S",
        help="stop after S seconds without work (default: run until stopped)",
    )
    worker.add_argument(
        "--metrics-port", type=int, metavar="PORT", help="serve Prometheus metrics on this port"
    )
    worker.add_argument(
        "--metrics-host", default="127.0.0.1", metavar="ADDR", help="(default: 127.0.0.1)"
    )
    _log_format(worker)
    worker.set_defaults(handler=_command(_serve, "worker"))

    consume = commands.add_parser(
        "consume", help="reference consumer: save announced PDFs (verified) into a folder"
    )
    consume.add_argument("--queue", required=True, help="your durable queue name")
    consume.add_argument("--into", type=Path, required=True, metavar="DIR")
    consume.add_argument(
        "--binding",
        action="append",
        metavar="KEY",
        help="routing key pattern, e.g. 'jc-musterstadt.#' (repeatable)",
    )
    consume.add_argument("--max-messages", type=int, metavar="N")
    consume.add_argument("--idle-timeout", type=float, metavar="S")
    consume.add_argument(
        "--ack",
        action="store_true",
        help="after saving, send the confirmation (stored) on briefkasten.receipts "
        "(starts deletion grace)",
    )
    _log_format(consume)
    consume.set_defaults(handler=_command(_consume, "consume"))

    outbox = commands.add_parser("outbox", help="inspect and replay announcement messages")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    listing = outbox_commands.add_parser("list", help="messages, newest last")
    listing.add_argument("--state", choices=["pending", "sent", "failed"])
    show = outbox_commands.add_parser("show", help="one message as JSON")
    show.add_argument("message_id")
    replay = outbox_commands.add_parser("replay", help="send a message again")
    replay.add_argument("message_id")
    outbox.set_defaults(handler=_command(_ops, "outbox"))

    link = commands.add_parser("link", help="case-bound upload links (with QR codes)")
    link_commands = link.add_subparsers(dest="link_command", metavar="ACTION", required=True)
    create = link_commands.add_parser("create", help="a link for one case; prints it as JSON")
    create.add_argument("--case", required=True, metavar="BG-NUMMER", help="e.g. 12345BG0012345")
    create.add_argument("--types", default="", help="requested document types, e.g. a,b")
    create.add_argument("--expires", metavar="DAYS", help="e.g. 14d (default from config)")
    create.add_argument("--tenant", help="default: gateway.default_tenant")
    create.add_argument("--qr-png", type=Path, metavar="FILE", help="write the QR code as PNG")
    create.add_argument("--qr-svg", type=Path, metavar="FILE", help="write the QR code as SVG")
    create.add_argument(
        "--separator-pdf",
        type=Path,
        metavar="FILE",
        help="write a separator sheet (A4 PDF, a QR code the splitter recognises)",
    )
    create.add_argument(
        "--separator-lang",
        default="de",
        choices=i18n.LANGUAGES,
        metavar="LANG",
        help="the separator sheet's language (default de)",
    )
    revoke = link_commands.add_parser("revoke", help="refuse a link's token from now on")
    revoke.add_argument("link_id")
    revoke.add_argument("--tenant", help="default: gateway.default_tenant")
    listing = link_commands.add_parser("list", help="a tenant's links, newest first")
    listing.add_argument("--case", metavar="BG-NUMMER", help="only the links of this case")
    listing.add_argument("--state", choices=("active", "expired", "revoked"), help="only these")
    listing.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    listing.add_argument("--tenant", help="default: gateway.default_tenant")
    link.set_defaults(handler=_command(_ops, "link"))

    retention = commands.add_parser(
        "retention", help="delete submissions after hand-over (grace) or maximum retention"
    )
    retention_commands = retention.add_subparsers(
        dest="retention_command", metavar="ACTION", required=True
    )
    sweep = retention_commands.add_parser("run", help="one sweep now; prints what it deleted")
    sweep.add_argument("--dry-run", action="store_true", help="only print what would go")
    sweep.add_argument(
        "--at", metavar="TIME", help="with --dry-run: as if it were TIME (ISO 8601), to look ahead"
    )
    retention.set_defaults(handler=_command(_ops, "retention"))

    reconcile = commands.add_parser(
        "reconcile", help="queue submissions that were never queued or got stuck; drop orphans"
    )
    reconcile_commands = reconcile.add_subparsers(
        dest="reconcile_command", metavar="ACTION", required=True
    )
    round_cmd = reconcile_commands.add_parser("run", help="one round now; prints its repairs")
    round_cmd.add_argument("--dry-run", action="store_true", help="only print what it would do")
    reconcile.set_defaults(handler=_command(_ops, "reconcile"))

    dlq = commands.add_parser("dlq", help="dead-lettered jobs: list, retry, purge")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", metavar="ACTION", required=True)
    listing = dlq_commands.add_parser("list", help="job id, submission, tenant, attempts, reason")
    listing.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    listing.add_argument("--limit", type=int, default=1000, metavar="N", help="(default: 1000)")
    retry = dlq_commands.add_parser("retry", help="move dead jobs back to the work queue")
    retry.add_argument("job_ids", nargs="*", metavar="JOB_ID", help="default: every dead job")
    purge = dlq_commands.add_parser("purge", help="drop dead jobs for good (needs --yes)")
    purge.add_argument("job_ids", nargs="*", metavar="JOB_ID", help="default: every dead job")
    purge.add_argument("--yes", action="store_true", help="really delete them")
    dlq.set_defaults(handler=_command(_ops, "dlq"))

    status = commands.add_parser(
        "status", help="the operators' summary: uploads, documents, steps, queues, dead letters"
    )
    status.add_argument(
        "--url",
        action="append",
        metavar="URL",
        help="a /metrics endpoint to read (repeatable; default: the gateway from the config)",
    )
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(handler=_command(_status, "status"))

    quarantine = commands.add_parser(
        "quarantine", help="uploads the malware scan refused: list, get (copy out), delete"
    )
    quarantine_commands = quarantine.add_subparsers(
        dest="quarantine_command", metavar="ACTION", required=True
    )
    listing = quarantine_commands.add_parser("list", help="one JSON record per line, oldest first")
    listing.add_argument("--tenant", help="default: every tenant")
    get = quarantine_commands.add_parser("get", help="copy a quarantined file out (inspect safely)")
    get.add_argument("quarantine_id", metavar="ID")
    get.add_argument("--output", "-o", type=Path, required=True, metavar="FILE")
    remove = quarantine_commands.add_parser("delete", help="delete for good (needs --yes)")
    remove.add_argument("quarantine_ids", nargs="+", metavar="ID")
    remove.add_argument("--yes", action="store_true", help="really delete them")
    quarantine.set_defaults(handler=_command(_ops, "quarantine"))

    operator = commands.add_parser("operator", help="accounts of the admin dashboard (/admin)")
    operator_commands = operator.add_subparsers(
        dest="operator_command", metavar="ACTION", required=True
    )
    operator_commands.add_parser(
        "hash-password", help="read a password (prompt or stdin), print its password_hash"
    )
    totp = operator_commands.add_parser(
        "totp-secret", help="a fresh TOTP secret, its otpauth:// URI and QR code (second factor)"
    )
    totp.add_argument("--name", default="operator", help="account name shown in the app")
    totp.add_argument("--qr-png", type=Path, metavar="FILE", help="write the QR code as PNG")
    operator.set_defaults(handler=_command(_status, "operator"))
    return parser


def _log_format(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--log-format",
        choices=("json", "text"),
        help="log lines on stderr (default from config [logging] format: json)",
    )


#: A command: the parsed arguments and the loaded settings in, an exit code out.
Command = Callable[[argparse.Namespace, Settings], int]


def _command(module: Callable[[], ModuleType], name: str) -> Callable[[argparse.Namespace], int]:
    """The handler of a service command, imported only when used (keeps ``ingest`` light)."""

    def handler(args: argparse.Namespace) -> int:
        command: Command = getattr(module(), name)
        return command(args, config.load(args.config))

    return handler


def _serve() -> ModuleType:
    from briefkasten.cli import serve

    return serve


def _consume() -> ModuleType:
    from briefkasten.cli import consume

    return consume


def _ops() -> ModuleType:
    from briefkasten.cli import ops

    return ops


def _status() -> ModuleType:
    from briefkasten.cli import status

    return status


def _ingest(args: argparse.Namespace) -> int:
    settings = config.load(args.config)
    missing = [f for f in args.files if not f.is_file()]
    if missing:
        print(f"briefkasten: no such file: {missing[0]}", file=sys.stderr)
        return EXIT_USAGE
    password = unlock_options.read_password(args)
    with tempfile.TemporaryDirectory(prefix="briefkasten-unlocked-") as workdir:
        files = args.files
        if password is not None:
            files = unlock_options.unlocked(files, password, settings, Path(workdir))
        result = _build(args, files, settings)
    if sys.stderr.isatty():
        flags = sorted({f for p in result.pages for f in p.flags})
        note = f" (flags: {', '.join(flags)})" if flags else ""
        print(f"wrote {args.output}: {len(result.pages)} page(s){note}", file=sys.stderr)
    return 0


def _build(args: argparse.Namespace, files: list[Path], settings: Settings) -> DocumentResult:
    return ingest(
        files,
        args.output,
        settings=settings,
        pipeline=args.pipeline,
        lang=args.lang,
        title=args.title,
        document_type=args.document_type,
        report=args.report,
        progress=sys.stderr.isatty(),
    )
