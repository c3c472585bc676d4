"""Apache PDFBox Preflight (Debian's ``libpdfbox2-java``, installed by ``make pdfbox``) on a PDF.

``errors(pdf)`` runs ``Validator_A1b`` in XML mode in a JVM with a bounded timeout and returns
its errors as ``(code, details)`` pairs; ``available()`` says whether java and the jars are
there (tests call ``need(available(), REASON)``).

Preflight 2.0 validates PDF/A-1b only. A file that claims PDF/A-2u gets exactly two errors for
the claim and nothing else: ``7.11.2`` "part must be 1" and ``7.11.1`` "conformance level must
be A or B" (PDF/A-1 has no level U). ``archival_errors`` leaves out those two (``CLAIM``, code
and text) and no other error. ``as_part_1_errors`` also checks that nothing hides behind them:
it validates a copy whose claim says part 1, level B (the same bytes otherwise; the XMP
stream is uncompressed, so the copy's offsets stay valid), which must have no error at all.
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

JARS = Path("/usr/share/java")
#: Preflight and what it needs at run time (Debian's file names; the versionless links).
CLASSPATH = (
    "preflight.jar",
    "pdfbox2.jar",
    "fontbox2.jar",
    "xmpbox.jar",
    "commons-logging.jar",
    "jaxb-api.jar",
    "javax.activation.jar",
)
VALIDATOR = "org.apache.pdfbox.preflight.Validator_A1b"
REASON = "Apache PDFBox Preflight (java, libpdfbox2-java) is not installed: run make pdfbox"
#: The errors a PDF/A-2u file gets from a PDF/A-1 validator for its claim (code, details).
CLAIM = frozenset(
    {
        ("7.11.2", "Error on MetaData, part must be 1"),
        ("7.11.1", "Error on MetaData, conformance level must be A or B"),
    }
)
PART_2_U = (b"<pdfaid:part>2</pdfaid:part>", b"<pdfaid:conformance>U</pdfaid:conformance>")
PART_1_B = (b"<pdfaid:part>1</pdfaid:part>", b"<pdfaid:conformance>B</pdfaid:conformance>")
TIMEOUT = 120.0


def available() -> bool:
    """True when java and every jar of ``CLASSPATH`` are installed."""
    return shutil.which("java") is not None and all((JARS / jar).is_file() for jar in CLASSPATH)


def errors(pdf: Path, timeout: float = TIMEOUT) -> list[tuple[str, str]]:
    """Preflight's errors for ``pdf`` as ``(code, details)``; empty when it is valid PDF/A-1b."""
    classpath = ":".join(str(JARS / jar) for jar in CLASSPATH)
    command = ["java", "-Xmx512m", "-cp", classpath, VALIDATOR, "xml", str(pdf)]
    done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    out = done.stdout.decode("utf-8", "replace")
    start = out.find("<?xml")
    if start < 0:
        raise AssertionError(f"Preflight gave no report (exit {done.returncode}): {out[-2000:]}")
    root = ET.fromstring(out[start:].strip())
    valid = root.findtext("isValid", default="")
    found = [
        (error.findtext("code", default="").strip(), error.findtext("details", default="").strip())
        for error in root.iter("error")
    ]
    if valid.strip() != "true" and not found:
        raise AssertionError(f"Preflight says invalid but lists no error: {out[-2000:]}")
    return found


def archival_errors(pdf: Path) -> list[tuple[str, str]]:
    """Preflight's errors for ``pdf`` except the two for the PDF/A-2u claim (``CLAIM``)."""
    return [error for error in errors(pdf) if error not in CLAIM]


def as_part_1_errors(pdf: Path, scratch: Path) -> list[tuple[str, str]]:
    """Preflight's errors for a copy of ``pdf`` (in ``scratch``) that claims PDF/A-1b instead of
    PDF/A-2u: every error, none allowed. Fails when the claim is not in the file as we write it."""
    data = pdf.read_bytes()
    for claim, instead in zip(PART_2_U, PART_1_B, strict=True):
        if data.count(claim) != 1:
            raise AssertionError(f"{pdf.name}: {claim!r} is not in it exactly once")
        data = data.replace(claim, instead)
    copy = scratch / f"{pdf.stem}.as-part-1.pdf"
    copy.write_bytes(data)
    return errors(copy)


def extract_text(pdf: Path, *, sort: bool = False, timeout: float = TIMEOUT) -> str:
    """``pdf``'s text as PDFBox's ``ExtractText`` gives it (what Apache Tika, and with it many
    Java DMS indexers, runs); ``sort``: its ``-sort`` option (by position, not stream order)."""
    jars = ("pdfbox2.jar", "fontbox2.jar", "pdfbox2-tools.jar", "commons-logging.jar")
    classpath = ":".join(str(JARS / jar) for jar in jars)
    out = pdf.with_suffix(".pdfbox.txt")
    command = ["java", "-Xmx512m", "-cp", classpath, "org.apache.pdfbox.tools.ExtractText"]
    command += ["-encoding", "UTF-8", *(["-sort"] if sort else []), str(pdf), str(out)]
    subprocess.run(command, capture_output=True, timeout=timeout, check=True)
    return out.read_text(encoding="utf-8")
