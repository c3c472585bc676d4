"""The ``briefkasten`` command line; the one error boundary that maps errors to exit codes.

Exit codes: 0 done, 2 usage or configuration, 3 an input was rejected, 4 processing failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from briefkasten import __version__, config
from briefkasten.document import ingest
from briefkasten.errors import BriefkastenError, InputRejected, ProcessingError

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
    parser.add_argument("--version", action="version", version=f"briefkasten {__version__}")
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
    ingest_cmd.set_defaults(handler=_ingest)
    return parser


def _ingest(args: argparse.Namespace) -> int:
    settings = config.load(args.config)
    missing = [f for f in args.files if not f.is_file()]
    if missing:
        print(f"briefkasten: no such file: {missing[0]}", file=sys.stderr)
        return EXIT_USAGE
    result = ingest(
        args.files,
        args.output,
        settings=settings,
        pipeline=args.pipeline,
        lang=args.lang,
        title=args.title,
        document_type=args.document_type,
        report=args.report,
        progress=sys.stderr.isatty(),
    )
    if sys.stderr.isatty():
        flags = sorted({f for p in result.pages for f in p.flags})
        note = f" (flags: {', '.join(flags)})" if flags else ""
        print(f"wrote {args.output}: {len(result.pages)} page(s){note}", file=sys.stderr)
    return 0
