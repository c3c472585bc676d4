"""Which files a test's code made durable: every path ``os.fsync`` is called on, in order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def record_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """From now on (until ``monkeypatch`` is undone) every fsynced path, appended in order; the
    real ``fsync`` still runs."""
    synced: list[Path] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(Path(f"/proc/self/fd/{fd}").readlink())
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return synced
