"""``file:///abs/path``: the embedded default, one directory as the bucket.

A key ``a/b/c.pdf`` is the file ``<root>/a/b/c.pdf``. Writes are atomic and durable: the data
goes to a hidden temp file in the target's directory (mode 0600), is hashed, fsynced, renamed
over the target, and the directory is fsynced (a directory created for it, in its parent too),
so after a crash a key holds either the old object or the new one, never half of one. Small
objects (records) take ``durable.replace``/``durable.create``: few system calls, directories
made only when the open finds them missing. An adopted upload is fsynced and renamed into
place. Directories are created 0700: these are social data (Sozialdaten), readable by the
service user only.

The content type is not kept (files have none); ``StoredObject.content_type`` echoes what the
caller gave. Written by hand because no well-kept library does "atomic durable put" for a
directory tree; it is ~40 lines of ``os`` calls.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from briefkasten.errors import NotFound, StorageError
from briefkasten.storage import durable
from briefkasten.storage.base import StoredObject
from briefkasten.storage.durable import fsync_dir
from briefkasten.storage.layout import validate_key, validate_prefix
from briefkasten.storage.records import CHUNK, atomic_file

DIR_MODE = 0o700


class FileStorage:
    """Objects as files under ``root``; the bucket name is the directory's name."""

    def __init__(self, root: Path) -> None:
        if not root.is_absolute():
            raise ValueError(f"storage root must be absolute: {root}")
        self.root = root

    def __repr__(self) -> str:
        return f"FileStorage({str(self.root)!r})"

    @property
    def bucket(self) -> str:
        return self.root.name

    def put_file(self, key: str, source: Path, *, content_type: str) -> StoredObject:
        target = self._path(key)
        with _translate(f"cannot store {key}"), source.open("rb") as reader:
            sha256, size = self._write_atomically(target, reader)
        return StoredObject(self.bucket, key, sha256, size, content_type)

    def adopt_file(self, key: str, source: Path, *, content_type: str, sha256: str) -> StoredObject:
        target = self._path(key)
        with _translate(f"cannot store {key}"):
            fd = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fchmod(fd, durable.FILE_MODE)
                os.fsync(fd)  # durable before it gets its name
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            try:
                self._rename(source, target)  # same file system: an atomic rename, no copy
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                stored = self.put_file(key, source, content_type=content_type)
                source.unlink()
                return stored
            fsync_dir(target.parent)
        return StoredObject(self.bucket, key, sha256, size, content_type)

    def put_bytes(self, key: str, data: bytes, *, content_type: str) -> StoredObject:
        target = self._path(key)
        with _translate(f"cannot store {key}"):
            durable.replace(target, data, make_dirs=self._make_dirs)
        return StoredObject(
            self.bucket, key, hashlib.sha256(data).hexdigest(), len(data), content_type
        )

    def create_bytes(self, key: str, data: bytes, *, content_type: str) -> bool:
        """Written and synced under a temp name, then hard-linked to its name only if that is
        free: of racing writers exactly one succeeds (``durable.create``)."""
        target = self._path(key)
        with _translate(f"cannot store {key}"):
            return durable.create(target, data, make_dirs=self._make_dirs)

    def get_file(self, key: str, destination: Path) -> None:
        path = self._path(key)
        with _translate(f"cannot read {key}"), self._open(key, path) as reader:
            _atomic_copy(reader, destination)

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        with _translate(f"cannot read {key}"), self._open(key, path) as reader:
            return reader.read()

    def exists(self, key: str) -> bool:
        path = self._path(key)
        with _translate(f"cannot stat {key}"):
            return path.is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        with _translate(f"cannot delete {key}"):
            if path.is_dir():
                return
            path.unlink(missing_ok=True)

    def list(self, prefix: str) -> list[str]:
        validate_prefix(prefix)
        # Walk only the deepest directory the prefix names completely.
        start = self.root.joinpath(*prefix.split("/")[:-1]) if "/" in prefix else self.root
        keys: list[str] = []
        with _translate(f"cannot list {prefix or '/'}"):
            if not start.is_dir():
                return []
            for directory, dirnames, filenames in os.walk(start):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                base = Path(directory).relative_to(self.root).as_posix()
                for name in filenames:
                    if name.startswith("."):
                        continue  # temp files of writes in progress
                    key = name if base == "." else f"{base}/{name}"
                    if key.startswith(prefix):
                        keys.append(key)
        return sorted(keys)

    def check(self) -> None:
        with _translate("storage directory is not usable"):
            _make_dirs(self.root, self.root)
            if not os.access(self.root, os.W_OK | os.X_OK):
                raise StorageError(f"{self.root} is not writable", source="files")

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def _make_dirs(self, directory: Path) -> None:
        _make_dirs(self.root, directory)

    def _rename(self, source: Path, target: Path) -> None:
        """``source`` renamed to ``target``; the target's directories made if missing."""
        try:
            source.rename(target)
        except FileNotFoundError:  # no directory yet (or no source: the second try says so)
            self._make_dirs(target.parent)
            source.rename(target)

    @contextlib.contextmanager
    def _open(self, key: str, path: Path) -> Iterator[BinaryIO]:
        try:
            reader = path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise NotFound(f"no object {key}", source="files") from exc
        with reader:
            yield reader

    def _write_atomically(self, target: Path, reader: BinaryIO) -> tuple[str, int]:
        _make_dirs(self.root, target.parent)
        digest = hashlib.sha256()
        size = 0
        with atomic_file(target, durable=True) as writer:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                writer.write(chunk)
        return digest.hexdigest(), size


def _atomic_copy(reader: BinaryIO, destination: Path) -> None:
    with atomic_file(destination) as writer:
        while chunk := reader.read(CHUNK):
            writer.write(chunk)


def _make_dirs(root: Path, directory: Path) -> None:
    """Create ``directory`` (inside ``root``, or ``root`` itself) and every missing level 0700,
    durably: the parent of each level created here is fsynced, as POSIX asks, so a crash
    cannot lose the new directory with the files fsynced into it (ext4 happens to commit both
    together; a filesystem need not). Levels are tried from the deepest up, so a directory
    whose parent exists costs one ``mkdir``.

    ``os.makedirs`` gives intermediate levels the default mode, hence our own.
    """
    if directory != root and root not in directory.parents:
        raise ValueError(f"{directory} is not inside the storage root {root}")
    for parent in dict.fromkeys(level.parent for level in _made_levels(root, directory)):
        fsync_dir(parent)


def _made_levels(root: Path, directory: Path) -> list[Path]:
    """The levels of ``directory`` this call created (0700), top first; none if it exists.
    Above ``root`` nothing is made 0700 or fsynced (its parents are the operator's)."""
    try:
        directory.mkdir(mode=DIR_MODE)
    except FileExistsError:
        return []
    except FileNotFoundError:
        if directory == root:
            root.parent.mkdir(parents=True, exist_ok=True)
            made = []
        else:
            made = _made_levels(root, directory.parent)
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another writer made it meanwhile
            return made
        return [*made, directory]
    return [directory]


@contextlib.contextmanager
def _translate(what: str) -> Iterator[None]:
    """``OSError`` → ``StorageError`` (temporary: a full disk or a lost mount may come back)."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StorageError(f"{what}: {reason}", source="files") from exc
