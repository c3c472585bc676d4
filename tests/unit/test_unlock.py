"""Password-protected PDFs in the pipeline: detected by the sniff, opened once by ``unlock``."""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import pikepdf
import pytest

from briefkasten.config import LimitSettings
from briefkasten.errors import (
    CorruptInput,
    InputRejected,
    InvalidRequest,
    PasswordProtected,
    PdfPasswordWrong,
)
from briefkasten.pipeline.sandbox import Bounds, Sandbox
from briefkasten.pipeline.sniff import sniff
from briefkasten.pipeline.unlock import MAX_PASSWORD, protection, unlock
from tests.support import factories

LIMITS = LimitSettings()
PASSWORD = "Gehalt-2026!ä"
#: The four kinds of encryption a payroll portal may use: RC4 40 and 128 bit, AES-128, AES-256.
METHODS = {
    "rc4-40": {"R": 2, "aes": False, "metadata": False},
    "rc4-128": {"R": 3, "aes": False, "metadata": False},
    "aes-128": {"R": 4, "aes": True},
    "aes-256": {"R": 6, "aes": True},
}


def locked_pdf(
    tmp_path: Path, method: str = "aes-256", *, user: str = PASSWORD, owner: str = "owner-pw"
) -> Path:
    """A born-digital PDF encrypted with pikepdf (``pikepdf.Encryption``)."""
    plain = factories.born_digital_pdf(tmp_path / "plain.pdf")
    path = tmp_path / f"locked-{method}.pdf"
    with pikepdf.open(plain) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(user=user, owner=owner, **METHODS[method]))
    return path


@pytest.mark.parametrize("method", sorted(METHODS))
def test_sniff_refuses_a_locked_pdf_as_password_required(tmp_path: Path, method: str) -> None:
    path = locked_pdf(tmp_path, method)
    with pytest.raises(PasswordProtected) as caught:
        sniff(path, LIMITS)
    assert caught.value.code == "pdf_password_required"
    assert protection(path).needs_password


@pytest.mark.parametrize("method", sorted(METHODS))
def test_the_right_password_opens_it_once_into_a_decrypted_copy(
    tmp_path: Path, method: str
) -> None:
    path = locked_pdf(tmp_path, method)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    copy = tmp_path / "spool" / "x.dec"
    copy.parent.mkdir()
    sniffed = unlock(path, PASSWORD, copy, LIMITS)
    assert sniffed.media_type == "application/pdf" and sniffed.kinds == ("vector",)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # the original untouched
    assert not protection(copy).encrypted
    assert sniff(copy, LIMITS).kinds == ("vector",)  # opens without a password now
    assert PASSWORD.encode() not in copy.read_bytes()
    assert sorted(p.name for p in copy.parent.iterdir()) == ["x.dec"]


def test_the_owner_password_opens_it_too(tmp_path: Path) -> None:
    path = locked_pdf(tmp_path, "aes-128")
    sniffed = unlock(path, "owner-pw", tmp_path / "x.dec", LIMITS)
    assert sniffed.kinds == ("vector",)


def test_a_wrong_password_leaves_nothing_behind(tmp_path: Path) -> None:
    path = locked_pdf(tmp_path, "rc4-128")
    copy = tmp_path / "x.dec"
    with pytest.raises(PdfPasswordWrong) as caught:
        unlock(path, "falsch", copy, LIMITS)
    assert caught.value.code == "pdf_password_wrong"
    assert "falsch" not in str(caught.value) and not copy.exists()


def test_owner_password_only_pdfs_are_taken_as_they_are(tmp_path: Path) -> None:
    """Decided: a PDF with only an owner password opens without one (it asks readers not to
    print or change it); it is accepted like any PDF and never asks for a password."""
    path = locked_pdf(tmp_path, "aes-256", user="")
    assert sniff(path, LIMITS).kinds == ("vector",)
    found = protection(path)
    assert found.encrypted and not found.needs_password and found.revision == 6
    with pytest.raises(InvalidRequest, match="without a password"):
        unlock(factories.born_digital_pdf(tmp_path / "open.pdf"), "x", tmp_path / "y", LIMITS)


@pytest.mark.parametrize("password", ["", "x" * (MAX_PASSWORD + 1), "a\x00b"])
def test_impossible_passwords_are_refused_before_anything_is_tried(
    tmp_path: Path, password: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        unlock(locked_pdf(tmp_path), password, tmp_path / "x.dec", LIMITS)
    assert password not in caught.value.message_en or not password


def test_a_damaged_locked_pdf_is_corrupt(tmp_path: Path) -> None:
    path = locked_pdf(tmp_path)
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(path.read_bytes()[:400])
    with pytest.raises(CorruptInput):
        unlock(cut, PASSWORD, tmp_path / "x.dec", LIMITS)


def hostile_locked_pdf(tmp_path: Path, *, deep: bool = True) -> Path:
    """Encrypted, with a stream that inflates to 512 MiB and (``deep``) a nested array."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    if deep:
        nested = pikepdf.Array()
        for _ in range(5000):
            nested = pikepdf.Array([nested])
        pdf.Root.Deep = nested
    deflate = zlib.compressobj(9)
    block = bytes(1024 * 1024)
    inflated = b"".join(deflate.compress(block) for _ in range(512)) + deflate.flush()
    pdf.Root.Bomb = pikepdf.Stream(pdf, inflated, Filter=pikepdf.Name.FlateDecode)
    path = tmp_path / "hostile.pdf"
    pdf.save(path, encryption=pikepdf.Encryption(user=PASSWORD, owner="o", R=6))
    return path


@pytest.mark.parametrize("deep", [True, False], ids=["nested-and-bomb", "bomb"])
def test_a_hostile_locked_pdf_costs_only_its_bounded_child(tmp_path: Path, deep: bool) -> None:
    path = hostile_locked_pdf(tmp_path, deep=deep)
    assert path.stat().st_size < 5 * 1024 * 1024  # small on disk, huge when inflated
    sandbox = Sandbox(1, Bounds(memory_mb=384, cpu_s=20, wall_s=30))
    copy = tmp_path / "x.dec"
    try:
        sniffed = sandbox.run(unlock, path, PASSWORD, copy, LIMITS)
    except InputRejected as exc:  # too complex, a limit, or unreadable: refused, not crashed
        assert PASSWORD not in str(exc)
        assert not copy.exists()
    else:  # qpdf copies the stream without inflating it: then the sniff's limits hold
        assert sniffed.kinds == ("raster",)
    assert sandbox.run(sniff, factories.born_digital_pdf(tmp_path / "ok.pdf"), LIMITS)
