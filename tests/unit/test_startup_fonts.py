"""The fonts every output embeds are a start-up requirement, never a silent fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefkasten.cli import startup
from briefkasten.errors import ConfigError
from briefkasten.gateway import receipt
from briefkasten.pipeline import fontmap


def test_installed_fonts_pass_the_start_up_check() -> None:
    startup.check_fonts()  # make setup installs fonts-dejavu-core and fonts-liberation2
    assert all(path.is_file() for path in receipt.receipt_fonts())
    assert fontmap.missing_faces() == []


def test_without_dejavu_there_is_no_receipt_and_no_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receipt, "FONT_DIRS", (tmp_path / "nothing",))
    with pytest.raises(ConfigError, match="fonts-dejavu-core"):
        startup.check_fonts()
    with pytest.raises(ConfigError, match=r"DejaVuSans\.ttf"):
        receipt._Receipt()


def test_a_partial_dejavu_install_is_missing_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "DejaVuSans.ttf").write_bytes(b"")
    (tmp_path / "DejaVuSans-Bold.ttf").write_bytes(b"")
    monkeypatch.setattr(receipt, "FONT_DIRS", (tmp_path,))
    with pytest.raises(ConfigError, match="fonts-dejavu-core"):
        receipt.receipt_fonts()


def test_without_liberation_the_service_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fontmap, "FONT_DIRS", (tmp_path / "nothing",))
    assert len(fontmap.missing_faces()) == 12
    with pytest.raises(ConfigError, match=r"12 Liberation fonts are missing.*fonts-liberation2"):
        startup.check_fonts()
