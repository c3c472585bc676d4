"""``briefkasten.durable``: small records written atomically and durably, in few system calls."""

from __future__ import annotations

import os
import random
import stat
import threading
from pathlib import Path

import pytest

from briefkasten.storage import durable
from tests.support.fsyncs import record_fsyncs


def test_replace_writes_privately_syncs_file_then_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "record.json"
    path.write_bytes(b"old")
    synced = record_fsyncs(monkeypatch)
    durable.replace(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]  # no temp file left
    assert len(synced) == 2 and synced[0].name.startswith(".record.json.")  # the temp file
    assert synced[1] == tmp_path


def test_create_keeps_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "marker.json"
    assert durable.create(path, b"first") is True
    assert durable.create(path, b"second") is False
    assert path.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["marker.json"]


def test_racing_creators_have_one_winner(tmp_path: Path) -> None:
    path = tmp_path / "marker.json"
    barrier = threading.Barrier(8)
    results: list[bool] = []

    def create(i: int) -> None:
        barrier.wait(timeout=10)
        results.append(durable.create(path, f"{i}".encode()))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(results) == [False] * 7 + [True]
    assert [p.name for p in tmp_path.iterdir()] == ["marker.json"]


def test_a_missing_directory_is_made_only_when_the_open_misses_it(tmp_path: Path) -> None:
    made: list[Path] = []

    def make_dirs(directory: Path) -> None:
        made.append(directory)
        directory.mkdir(parents=True)

    deep = tmp_path / "a" / "b" / "record.json"
    durable.replace(deep, b"x", make_dirs=make_dirs)
    durable.replace(deep.with_name("other.json"), b"y", make_dirs=make_dirs)
    assert made == [deep.parent]  # the second write found the directory
    with pytest.raises(FileNotFoundError):
        durable.replace(tmp_path / "nowhere" / "record.json", b"z")  # no make_dirs


def test_a_failed_write_leaves_neither_temp_nor_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "record.json"
    path.write_bytes(b"old")

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="No space left"):
        durable.replace(path, b"new")
    with pytest.raises(OSError, match="No space left"):
        durable.create(tmp_path / "marker.json", b"new")
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_write_new_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "taken"
    path.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        durable.write_new(path, b"other")
    assert path.read_bytes() == b"keep"


def test_a_taken_temp_name_is_drawn_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([1, 1, 2])
    monkeypatch.setattr(random, "getrandbits", lambda bits: next(draws))
    path = tmp_path / "record.json"
    taken = tmp_path / f".record.json.{1:016x}.tmp"
    taken.write_bytes(b"someone else's")
    durable.replace(path, b"mine")  # draws 1 (taken), then 1 again (taken), then 2
    assert path.read_bytes() == b"mine"
    assert taken.read_bytes() == b"someone else's"
    monkeypatch.setattr(random, "getrandbits", lambda bits: 1)
    with pytest.raises(FileExistsError, match="no free temp name"):
        durable.replace(path, b"again")
    assert path.read_bytes() == b"mine"


def test_writes_follow_no_symlink_at_the_temp_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    outside.write_bytes(b"untouched")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / f".record.json.{7:016x}.tmp").symlink_to(outside)
    draws = iter([7, 8])
    monkeypatch.setattr(random, "getrandbits", lambda bits: next(draws))
    durable.replace(folder / "record.json", b"mine")
    assert outside.read_bytes() == b"untouched"
    assert (folder / "record.json").read_bytes() == b"mine"
