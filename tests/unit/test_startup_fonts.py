"""The fonts every output embeds are a start-up requirement, never a silent fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefkasten.cli import startup
from briefkasten.errors import ConfigError
from briefkasten.gateway import receipt, receipt_fonts
from briefkasten.gateway.receipt_layout import ReceiptLayout
from briefkasten.pipeline import fontmap


def test_installed_fonts_pass_the_start_up_check() -> None:
    startup.check_fonts()  # make setup installs fonts-dejavu-core, -noto-core, -liberation2
    fonts = receipt.receipt_fonts()
    assert all(path.is_file() for path in fonts)
    assert fonts.arabic.name == "NotoSansArabic-Regular.ttf"
    assert fontmap.missing_faces() == []


def test_without_dejavu_there_is_no_receipt_and_no_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receipt_fonts, "DEJAVU_DIRS", (tmp_path / "nothing",))
    with pytest.raises(ConfigError, match="fonts-dejavu-core"):
        startup.check_fonts()
    with pytest.raises(ConfigError, match=r"DejaVuSans\.ttf"):
        ReceiptLayout(rtl=False)


def test_without_noto_sans_arabic_there_is_no_receipt_and_no_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not even a German one: any receipt may have to show an Arabic file name."""
    monkeypatch.setattr(receipt_fonts, "NOTO_DIRS", (tmp_path / "nothing",))
    with pytest.raises(ConfigError, match=r"NotoSansArabic-Regular\.ttf.*fonts-noto-core"):
        startup.check_fonts()
    with pytest.raises(ConfigError, match="fonts-noto-core"):
        ReceiptLayout(rtl=False)


def test_a_partial_dejavu_install_is_missing_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = receipt_fonts.DEJAVU_DIRS
    (tmp_path / "DejaVuSans.ttf").write_bytes(b"")
    (tmp_path / "DejaVuSans-Bold.ttf").write_bytes(b"")
    monkeypatch.setattr(receipt_fonts, "DEJAVU_DIRS", (tmp_path,))
    with pytest.raises(ConfigError, match="fonts-dejavu-core"):
        receipt.receipt_fonts()
    (tmp_path / "NotoSansArabic-Regular.ttf").write_bytes(b"")  # no bold
    monkeypatch.setattr(receipt_fonts, "DEJAVU_DIRS", installed)
    monkeypatch.setattr(receipt_fonts, "NOTO_DIRS", (tmp_path,))
    with pytest.raises(ConfigError, match="fonts-noto-core"):
        receipt.receipt_fonts()


def test_without_liberation_the_service_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fontmap, "FONT_DIRS", (tmp_path / "nothing",))
    assert len(fontmap.missing_faces()) == 12
    with pytest.raises(ConfigError, match=r"12 Liberation fonts are missing.*fonts-liberation2"):
        startup.check_fonts()
