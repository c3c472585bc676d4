"""The committed sample set through the default pipeline: each page comes out as its truth says.

This is the README demo as a test: a skewed scan, a phone photo taken at an angle and a page on
its side all become upright, straight, readable pages of one PDF.

The e2e tier's part (processes: serve, worker, the CLI, the browser); the other parts:
``tests/integration/test_demo_set.py``.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

from briefkasten.config import Settings
from tests.integration.test_demo_set import (
    SET,
)


def test_progress_is_shown_on_a_terminal(tmp_path: Path, settings: Settings) -> None:
    """With stderr on a terminal a multi-page run draws a progress bar; without, it is quiet."""
    files = [str(SET / "brief-scan.png"), str(SET / "kontoauszug-skewed.jpg")]
    command = [
        sys.executable,
        "-m",
        "briefkasten",
        "ingest",
        *files,
        "--output",
        str(tmp_path / "out.pdf"),
    ]
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {**os.environ, "BRIEFKASTEN_PIPELINE_NAME": "ocr-only"}
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower, env=env
    )
    os.close(follower)
    output = b""
    try:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(leader)
        process.wait(timeout=300)
    assert process.returncode == 0
    assert b"0/2" in output and b"page/s" in output  # the bar was drawn
    assert b"wrote" in output
