"""``briefkasten ingest`` with a locked PDF: the password from a file or standard input, never
from the command line; the original untouched, the password nowhere in the output."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest

from tests.conftest import CliResult
from tests.support import factories

Cli = Callable[..., CliResult]
PASSWORD = "Lohn-2026-geheim"


@pytest.fixture
def locked(tmp_path: Path) -> Path:
    return factories.locked_pdf(tmp_path / "lohn.pdf", PASSWORD, revision=4)


def test_ingest_opens_a_locked_pdf_with_the_password_file(
    tmp_path: Path, cli: Cli, locked: Path
) -> None:
    before = hashlib.sha256(locked.read_bytes()).hexdigest()
    secret = tmp_path / "password.txt"
    secret.write_text(PASSWORD + "\n")
    out, report = tmp_path / "out.pdf", tmp_path / "report.json"
    done = cli("ingest", locked, "-o", out, "--report", report, "--password-file", secret)
    assert done.returncode == 0, done.stderr
    assert hashlib.sha256(locked.read_bytes()).hexdigest() == before
    data = json.loads(report.read_text())
    assert [p["source"] for p in data["pages"]] == ["lohn.pdf"]
    with pikepdf.open(out) as pdf:
        assert not pdf.is_encrypted and len(pdf.pages) == 1
    for text in (done.stdout, done.stderr, report.read_text()):
        assert PASSWORD not in text
    assert PASSWORD.encode() not in out.read_bytes()


def test_ingest_reads_the_password_from_standard_input(tmp_path: Path, locked: Path) -> None:
    out = tmp_path / "out.pdf"
    command = [sys.executable, "-m", "briefkasten", "ingest", str(locked), "-o", str(out)]
    done = subprocess.run(
        [*command, "--password-file", "-"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.is_file()


def test_without_or_with_a_wrong_password_it_is_refused(
    tmp_path: Path, cli: Cli, locked: Path
) -> None:
    out = tmp_path / "out.pdf"
    plain = cli("ingest", locked, "-o", out)
    assert plain.returncode == 3 and "password" in plain.stderr
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("falsch\n")
    refused = cli("ingest", locked, "-o", out, "--password-file", wrong)
    assert refused.returncode == 3 and "password" in refused.stderr
    assert "falsch" not in refused.stderr
    assert not out.exists()
    on_the_line = cli("ingest", locked, "-o", out, "--password", PASSWORD)
    assert on_the_line.returncode == 2  # no such option: never a password in the process list
