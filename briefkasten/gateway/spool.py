"""The gateway's spool running out of space: ``ENOSPC``/``EDQUOT`` become ``SpoolFull`` (503).

Shared by the multipart spool (``upload.py``) and the tus spool (``tus_store.py``, ``tus.py``);
blocking-free and aiohttp-free. The caller cleans up what the failed write left behind.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

from briefkasten.errors import SpoolFull

#: The errors of a full file system or an exhausted disk quota.
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def no_space(exc: BaseException) -> bool:
    """``exc`` says the file system is full (or the user's disk quota is used up)."""
    return isinstance(exc, OSError) and exc.errno in NO_SPACE


@contextlib.contextmanager
def space_checked(what: str) -> Iterator[None]:
    """Turn a full spool into ``SpoolFull`` (503 with ``Retry-After``); other errors pass."""
    try:
        yield
    except OSError as exc:
        if no_space(exc):
            raise SpoolFull(f"{what}: no space left in the spool") from None
        raise
