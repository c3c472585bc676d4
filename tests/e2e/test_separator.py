"""``briefkasten link create --separator-pdf F``: the CLI writes the sheet, poppler scans it,
the ``codes`` step finds its code and ``is_separator`` says so (the unit tier's part, with
PDFium and in other languages: ``tests/unit/test_separator.py``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import cv2

from briefkasten.pipeline import codes
from tests.conftest import CliResult
from tests.support.env import need
from tests.unit.test_links import CASE, SECRET
from tests.unit.test_separator import found


def test_link_create_writes_a_separator_sheet_the_splitter_recognises(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    need(shutil.which("pdftoppm"), "pdftoppm (poppler-utils)")
    env = {
        **os.environ,
        "BRIEFKASTEN_STORAGE": (tmp_path / "storage").as_uri(),
        "BRIEFKASTEN_LINKS_SECRET": SECRET,
        "BRIEFKASTEN_LINKS_PUBLIC_BASE_URL": "https://jc.example",
        "BRIEFKASTEN_GATEWAY_DEFAULT_TENANT": "jc-musterstadt",
    }
    sheet = tmp_path / "trennblatt.pdf"
    result = cli("link", "create", "--case", CASE, "--separator-pdf", sheet, env=env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert sheet.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(sheet), "-"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert "Trennblatt — Briefkasten" in text
    for secret in (CASE, answer["token"], answer["link_id"]):
        assert secret not in text
    scan = tmp_path / "scan"
    subprocess.run(
        ["pdftoppm", "-r", "150", "-gray", "-png", "-singlefile", str(sheet), str(scan)],
        check=True, timeout=60,
    )  # fmt: skip
    image = cv2.imread(f"{scan}.png", cv2.IMREAD_GRAYSCALE)
    assert image is not None
    payloads = found(image, tmp_path)
    assert codes.is_separator(payloads)
    assert codes.separator_of(payloads[0]) == ("jc-musterstadt", answer["link_id"])
    refused = cli(
        "link", "create", "--case", CASE, "--separator-pdf", sheet, "--separator-lang", "xx",
        env=env,
    )  # fmt: skip
    assert refused.returncode != 0
