"""The CLI contract: exit codes, one-line reasons, report, and nothing left behind on failure."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.support import factories

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


def service_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``serve``/``worker`` run in ``tmp_path`` (no BRIEFKASTEN_* of ours)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")},
        "BRIEFKASTEN_API_KEYS": "jc-cli:cli-key-0123456789",
        "BRIEFKASTEN_PIPELINE_WORKERS": "1",
        "BRIEFKASTEN_GATEWAY_SPOOL_DIR": str(tmp_path / "spool"),
        "BRIEFKASTEN_STORAGE": (tmp_path / "storage").as_uri(),
        "BRIEFKASTEN_BROKER_JOURNAL_DIR": str(tmp_path / "journal"),
        "BRIEFKASTEN_BROKER_OUTBOX_DIR": str(tmp_path / "outbox"),
        **extra,
    }


def test_serve_on_a_port_in_use_exits_2_with_the_reason(tmp_path: Path, cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli("serve", "--port", str(port), env=service_env(tmp_path))
    assert done.returncode == 2, done.stderr
    assert f"port {port} is in use" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_missing_ocr_language_stops_the_start(tmp_path: Path, cli: Cli, command: str) -> None:
    env = service_env(tmp_path, BRIEFKASTEN_OCR_LANG="deu+xyz")
    done = cli(command, *(("--port", "1") if command == "serve" else ()), env=env)
    assert done.returncode == 2, done.stderr
    assert "config_error" in done.stderr and "'deu+xyz'" in done.stderr and "xyz" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        ({"BRIEFKASTEN_PIPELINE_RASTER_DPI": "5000"}, "pipeline.raster_dpi = 5000"),
        ({"BRIEFKASTEN_API_KEYS": "jc-cli:pa:ss"}, "too many ':'"),
        ({"BRIEFKASTEN_API_KEYS": "jc-cli:k1"}, "at least 16 characters"),
        ({"BRIEFKASTEN_LINKS_SECRET": "short"}, "links.secret"),
    ],
)
def test_serve_with_a_config_mistake_exits_2(
    tmp_path: Path, cli: Cli, extra: dict[str, str], complaint: str
) -> None:
    done = cli("serve", "--port", "1", env=service_env(tmp_path, **extra))
    assert done.returncode == 2, done.stderr
    assert complaint in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_worker_metrics_port_in_use_exits_2(tmp_path: Path, cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli(
            "worker", "--metrics-port", str(port), "--idle-timeout", "1", env=service_env(tmp_path)
        )
    assert done.returncode == 2, done.stderr
    assert f"port {port} is in use" in done.stderr and "Traceback" not in done.stderr
