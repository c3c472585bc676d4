"""Password-protected PDFs: what protects them, and opening one with its password, once.

A PDF can carry two passwords. The *user* password keeps it closed: without it nothing can be
read (PDFium refuses it, and so does ``sniff``: ``PasswordProtected``, code
``pdf_password_required``). The *owner* password only asks readers not to print or change it;
such a PDF opens with the empty user password, every reader shows it, and Briefkasten takes it
as it is: no password is asked for, the original is built from, and the message says
``password_protected: false`` (the restrictions are a request to the reader, not protection of
the content, and the case worker needs to print the documents).

``unlock`` runs inside a sandboxed child (``pipeline.sandbox``): it opens the PDF once with
pikepdf (qpdf: RC4 40/128 bit, AES-128 and AES-256, R2 to R6), writes the document without
encryption to ``destination`` and sniffs that copy (the same limits as any upload). A hostile
file (huge streams, deep nesting) costs only that child. The password reaches pikepdf and
nothing else: it is never logged, never put into an error message and never written to disk.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from briefkasten.config import LimitSettings
from briefkasten.errors import CorruptInput, InvalidRequest, PdfPasswordWrong
from briefkasten.pipeline.sniff import Sniffed, pdf_from_header, sniff

#: Characters a password may have (PDF passwords are at most 127 bytes of UTF-8 in R6;
#: older revisions use 32 bytes): a longer one is refused before anything is tried.
MAX_PASSWORD = 256


@dataclass(frozen=True)
class Protection:
    """How a PDF is protected: ``encrypted`` at all, and whether it needs a user password to
    open (``needs_password``); ``revision``: the security handler's R (2–4: RC4 or AES-128,
    6: AES-256; 0 when it needs a password and so cannot be read)."""

    encrypted: bool
    needs_password: bool
    revision: int = 0


def protection(path: Path) -> Protection:
    """What protects the PDF at ``path`` (run it sandboxed: it parses)."""
    try:
        with pikepdf.open(path) as pdf:
            if not pdf.is_encrypted:
                return Protection(False, False)
            return Protection(True, False, int(pdf.encryption.R))
    except pikepdf.PasswordError:
        return Protection(True, True)
    except (pikepdf.PdfError, ValueError, OSError) as exc:
        raise CorruptInput(f"cannot read PDF ({type(exc).__name__})") from None


def check_password(password: str) -> str:
    """``password`` if it can be tried; ``InvalidRequest`` (never repeating it) otherwise."""
    if not password:
        raise InvalidRequest("the password is empty")
    if len(password) > MAX_PASSWORD or "\x00" in password:
        raise InvalidRequest(f"a PDF password has at most {MAX_PASSWORD} characters, no NUL")
    return password


def unlock(path: Path, password: str, destination: Path, limits: LimitSettings) -> Sniffed:
    """Open the PDF at ``path`` with ``password`` and write it decrypted to ``destination``;
    the sniff of the decrypted copy. ``PdfPasswordWrong`` if the password does not open it,
    ``InvalidRequest`` if it was not locked at all; every other refusal is ``sniff``'s (the
    decrypted copy is removed then). Must run in a sandboxed child."""
    check_password(password)
    readable = pdf_from_header(path, destination.parent, destination.stem)
    try:
        with _opened(readable, password) as pdf:
            if not pdf.is_encrypted:
                raise InvalidRequest("the PDF opens without a password")
            try:
                pdf.save(destination, encryption=False, static_id=False)
            except (pikepdf.PdfError, ValueError) as exc:
                raise CorruptInput(f"cannot write the opened PDF ({type(exc).__name__})") from None
        return sniff(destination, limits)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    finally:
        if readable != path:
            readable.unlink(missing_ok=True)


def _opened(path: Path, password: str) -> pikepdf.Pdf:
    """The PDF opened with ``password``: as text first (qpdf encodes it as the security
    handler wants), then a non-ASCII one as UTF-8 and as Latin-1 bytes, the encodings writers
    of older (RC4, AES-128) PDFs used."""
    candidates: list[str | bytes] = [password]
    if not password.isascii():
        candidates += [password.encode("utf-8"), password.encode("latin-1", "ignore")]
    for candidate in candidates:
        try:
            with warnings.catch_warnings():  # "no password was needed": checked by the caller
                warnings.simplefilter("ignore")
                return pikepdf.open(path, password=candidate)
        except pikepdf.PasswordError:
            continue
        except (pikepdf.PdfError, ValueError, OSError) as exc:
            raise CorruptInput(f"cannot read PDF ({type(exc).__name__})") from None
    raise PdfPasswordWrong("the password does not open the PDF")
