"""``briefkasten ingest --password-file F`` / ``--ask-password``: locked PDFs opened first.

The password is never an argument on the command line (every user of the machine could read
it in the process list): it is read from a file's first line (``-``: standard input) or asked
for without echo (``getpass``). Each PDF that needs a user password is opened once in a
sandboxed child (``pipeline.unlock``) into a decrypted copy of the same name in a temporary
directory, and that copy is what ``ingest`` builds from; the original is never changed. A PDF
with only an owner password, or no password, is used as it is.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path

from briefkasten.config import Settings
from briefkasten.errors import ConfigError
from briefkasten.pipeline.sandbox import Sandbox, check_bounds
from briefkasten.pipeline.sniff import PDF_HEADER_WINDOW, media_type_of
from briefkasten.pipeline.unlock import check_password, protection, unlock


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The password options of ``ingest``."""
    given = parser.add_mutually_exclusive_group()
    given.add_argument(
        "--password-file",
        type=Path,
        metavar="FILE",
        help="the password of locked PDFs: the first line of FILE (- for standard input)",
    )
    given.add_argument(
        "--ask-password", action="store_true", help="ask for the password of locked PDFs"
    )


def read_password(args: argparse.Namespace) -> str | None:
    """The password the options name, or ``None`` without one (never echoed or printed)."""
    if args.ask_password:
        return check_password(getpass.getpass("PDF password: "))
    if args.password_file is None:
        return None
    if str(args.password_file) == "-":
        line = sys.stdin.readline()
    else:
        try:
            with args.password_file.open(encoding="utf-8") as handle:
                line = handle.readline()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the password file: {type(exc).__name__}") from None
    return check_password(line.rstrip("\r\n"))


def unlocked(files: Sequence[Path], password: str, settings: Settings, workdir: Path) -> list[Path]:
    """``files`` with each locked PDF replaced by its decrypted copy in ``workdir``."""
    sandbox = Sandbox(1, check_bounds(settings.sandbox))
    result: list[Path] = []
    for index, path in enumerate(files):
        with path.open("rb") as handle:
            is_pdf = media_type_of(handle.read(PDF_HEADER_WINDOW)) == "application/pdf"
        if not is_pdf or not sandbox.run(protection, path).needs_password:
            result.append(path)
            continue
        copy = workdir / str(index) / path.name  # the same name in the report and the PDF
        copy.parent.mkdir(mode=0o700)
        sandbox.run(unlock, path, password, copy, settings.limits)
        result.append(copy)
    return result
