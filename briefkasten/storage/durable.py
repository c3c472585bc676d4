"""Small durable files: how every record on local disk is written (storage, journal, outbox).

A record (an intake marker, a manifest, a duplicate marker, a job in the journal) is a temp
file written and fsynced, then renamed (or hard-linked: created only if absent) to its name,
then its directory fsynced: after a crash the name holds the old bytes or the new ones, never a
part. One implementation for all of them, in plain ``os`` calls: no buffered file object (it
adds ``fstat``, ``ioctl`` and ``lseek`` to every open), and missing directories are made only
when ``open(2)`` says they are missing (``make_dirs``), instead of looking first. Temp files
are named ``.<name>.<random>.tmp``: hidden from listings, never two alike.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path

#: A new file only (``O_EXCL``), never through a symlink at its name.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
FILE_MODE = 0o600
_TEMP_TRIES = 8

MakeDirs = Callable[[Path], None]


def replace(path: Path, data: bytes, *, make_dirs: MakeDirs | None = None) -> None:
    """``data`` at ``path`` atomically and durably, replacing what was there."""
    temp = _write_temp(path, data, make_dirs)
    try:
        temp.replace(path)
    except BaseException:
        unlink_quietly(temp)
        raise
    fsync_dir(path.parent)


def create(path: Path, data: bytes, *, make_dirs: MakeDirs | None = None) -> bool:
    """``data`` at ``path`` durably if nothing is there yet; ``False`` (nothing changed) if
    something is. ``link(2)`` fails when the name exists, so of racing writers, in this process
    or another (also on NFS), exactly one succeeds; each returns with the name durable."""
    temp = _write_temp(path, data, make_dirs)
    try:
        os.link(temp, path)
        created = True
    except FileExistsError:
        created = False
    finally:
        unlink_quietly(temp)
    fsync_dir(path.parent)  # also when it was there: its writer may not have synced it yet
    return created


def write_new(path: Path, data: bytes, *, make_dirs: MakeDirs | None = None) -> None:
    """A new file at ``path`` (mode 0600; ``FileExistsError`` if there is one) holding ``data``,
    fsynced. ``make_dirs(directory)`` is called if the directory is missing, then the open is
    tried once more. A failed write removes the file again."""
    try:
        fd = os.open(path, _CREATE, FILE_MODE)
    except FileNotFoundError:
        if make_dirs is None:
            raise
        make_dirs(path.parent)
        fd = os.open(path, _CREATE, FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        unlink_quietly(path)
        raise
    os.close(fd)


def fsync_dir(directory: Path) -> None:
    """Make a rename, a link or a new file in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(path: Path, data: bytes, make_dirs: MakeDirs | None) -> Path:
    """``data`` in a new temp file beside ``path`` (``write_new``); its name.

    The name's random part comes from ``random`` (reseeded in every forked child), not from
    ``secrets`` (a ``getrandom(2)`` call each): a temp name needs no secrecy (``O_EXCL`` in a
    0700 directory); a name that exists is simply drawn again.
    """
    for _ in range(_TEMP_TRIES):
        temp = path.with_name(f".{path.name}.{random.getrandbits(64):016x}.tmp")
        try:
            write_new(temp, data, make_dirs=make_dirs)
        except FileExistsError:
            continue
        return temp
    raise FileExistsError(f"no free temp name beside {path.name} in {_TEMP_TRIES} tries")


def unlink_quietly(path: Path) -> None:
    path.unlink(missing_ok=True)
