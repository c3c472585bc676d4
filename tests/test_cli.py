"""The CLI contract: exit codes, one-line reasons, report, and nothing left behind on failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import factories
from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def test_ingest_writes_pdf_and_report(tmp_path: Path, cli: Cli) -> None:
    page = tmp_path / "seite.png"
    factories.text_page().save(page, dpi=(150, 150))
    digital = factories.born_digital_pdf(tmp_path / "brief.pdf")
    out, report = tmp_path / "out.pdf", tmp_path / "report.json"
    done = cli("ingest", page, digital, "--output", out, "--report", report)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # quiet when not a terminal
    data = json.loads(report.read_text())
    assert [p["source"] for p in data["pages"]] == ["seite.png", "brief.pdf"]
    first = data["pages"][0]
    for key in (
        "source",
        "index",
        "rotation",
        "skew_degrees",
        "perspective_corrected",
        "dpi",
        "ocr_confidence",
        "flags",
        "timings_ms",
    ):
        assert key in first
    assert first["timings_ms"]["ocr"] > 0
    assert [o["name"] for o in data["originals"]] == ["seite.png", "brief.pdf"]
    assert data["document"]["pages"] == 2
    assert out.read_bytes().startswith(b"%PDF-")


def make_rejects(tmp_path: Path) -> dict[str, Path]:
    zero = tmp_path / "leer.jpg"
    zero.write_bytes(b"")
    text = tmp_path / "foto.jpg"
    text.write_text("kein Bild")
    whole = tmp_path / "whole.jpg"
    factories.text_page().save(whole, quality=90)
    truncated = tmp_path / "kaputt.jpg"
    truncated.write_bytes(whole.read_bytes()[:20000])
    plain = factories.born_digital_pdf(tmp_path / "plain.pdf")
    return {
        "zero": zero,
        "text": text,
        "truncated": truncated,
        "bomb": factories.png_header_bomb(tmp_path / "bomb.png"),
        "password": factories.encrypted_pdf(plain, tmp_path / "geheim.pdf", user="u", owner="o"),
        "no_pages": factories.empty_pdf(tmp_path / "leer.pdf"),
    }


@pytest.mark.parametrize("kind", ["zero", "text", "truncated", "bomb", "password", "no_pages"])
def test_rejected_input_exits_3_names_the_file_and_leaves_nothing(
    tmp_path: Path, cli: Cli, kind: str
) -> None:
    rejects = make_rejects(tmp_path)
    good = tmp_path / "gut.png"
    factories.text_page().save(good)
    outdir = tmp_path / "out"
    outdir.mkdir()
    done = cli(
        "ingest",
        good,
        rejects[kind],
        "--output",
        outdir / "doc.pdf",
        "--report",
        outdir / "report.json",
    )
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert rejects[kind].name in lines[0]
    assert list(outdir.iterdir()) == []  # no partial output, no temp files


def test_usage_errors_exit_2(tmp_path: Path, cli: Cli) -> None:
    assert cli().returncode == 2
    assert cli("ingest", tmp_path / "x.png").returncode == 2  # --output missing
    missing = cli("ingest", tmp_path / "nope.png", "--output", tmp_path / "o.pdf")
    assert missing.returncode == 2
    unknown = cli(
        "ingest",
        factories.born_digital_pdf(tmp_path / "a.pdf"),
        "--output",
        tmp_path / "o.pdf",
        "--pipeline",
        "nope",
    )
    assert unknown.returncode == 2 and "unknown pipeline" in unknown.stderr


def test_missing_ocr_language_is_a_processing_failure(tmp_path: Path, cli: Cli) -> None:
    page = tmp_path / "seite.png"
    factories.text_page().save(page)
    done = cli("ingest", page, "--output", tmp_path / "o.pdf", "--lang", "xyz")
    assert done.returncode == 4
    assert "xyz" in done.stderr
    assert not (tmp_path / "o.pdf").exists()
