"""The gateway's sandboxed parsers: the sniff of every upload and the instant quality check.

The gateway process itself only reads headers and streams bytes. Everything that parses an
upload with a library (``pipeline.sniff.sniff``: Pillow, PDFium, pypdf; ``precheck``;
``unlock``: qpdf) runs in a child of a ``pipeline.sandbox.Sandbox``, called from the gateway's
I/O threads, so the event loop never waits on a decode and a hostile file costs one child its
memory, never the gateway's. Sniffs and prechecks have sandboxes of their own, so slow checks
cannot hold up uploads. The one exception is the most common upload, a JPEG photo: its sniff
is our own marker walk (``sniff.sniff_jpeg``: pure Python, bounded, no library parser, no
decode), which cannot crash the process or grow beyond the file's map, and costs a 25th of a
sandboxed sniff; it runs in the I/O thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from briefkasten.config import Settings
from briefkasten.errors import ChildDied, CorruptInput, ProcessingError, TemporaryFailure
from briefkasten.pipeline.precheck import Checked, check_upload
from briefkasten.pipeline.sandbox import Sandbox, check_bounds
from briefkasten.pipeline.sniff import Sniffed, is_jpeg, sniff, sniff_jpeg
from briefkasten.pipeline.unlock import unlock

log = logging.getLogger("briefkasten.gateway")


class UploadChecks:
    """Blocking calls (run them in the gateway's executor) that parse in sandboxed children."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        bounds = check_bounds(settings.sandbox)
        self.sniffs = Sandbox(settings.sandbox.slots, bounds)
        workers = settings.gateway.precheck_workers
        self.prechecks = Sandbox(workers, bounds) if workers > 0 else None

    def sniff(self, path: Path) -> Sniffed:
        """The sniffed type and pages of the upload at ``path``; ``InputRejected`` if refused.

        A parser that fails in a way the sniff does not know (a library's own exception type)
        is the file's doing as far as the applicant can tell: ``CorruptInput``, never a 500;
        the log names the exception type for the operators."""
        if is_jpeg(path):  # our own pure-Python marker walk: safe in this process
            return sniff_jpeg(path, self.settings.limits)
        return self._sniffing(sniff, path, self.settings.limits)

    def unlock(self, path: Path, password: str, destination: Path) -> Sniffed:
        """Open the locked PDF at ``path`` with ``password`` once, in a sandboxed child, into
        ``destination`` (decrypted); the sniff of that copy (``pipeline.unlock.unlock``)."""
        return self._sniffing(unlock, path, password, destination, self.settings.limits)

    def _sniffing(self, fn: Callable[..., Sniffed], *args: Any) -> Sniffed:
        try:
            return self.sniffs.run(fn, *args)
        except ChildDied as exc:
            raise TemporaryFailure(f"the check of an upload was interrupted: {exc}") from exc
        except ProcessingError as exc:
            log.warning("sniff failed unexpectedly: %s", exc.message_en)
            raise CorruptInput("the file cannot be read") from exc

    def precheck(self, path: Path) -> Checked:
        """The quality findings and the type suggestion for ``path`` (prechecks must be on)."""
        assert self.prechecks is not None
        try:
            checked: Checked = self.prechecks.run(check_upload, path, self.settings)
        except ChildDied as exc:
            raise TemporaryFailure(f"the quality check was interrupted: {exc}") from exc
        return checked

    def probe(self) -> tuple[bool, str]:
        """``/readyz``: children can be started and answer."""
        return self.sniffs.probe()
