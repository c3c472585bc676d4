"""The storage contract, run against every adapter: memory, files and a real S3 (SeaweedFS).

Plus what only one adapter has (file modes and atomicity; S3 checksums, multipart, SSE, an
outage), the URL parsing of ``open_storage`` and the key layout.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_storage.py``.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from briefkasten.errors import (
    BriefkastenError,
    ConfigError,
    InvalidRequest,
    MalformedId,
    NotFound,
    StorageError,
    UnsupportedType,
)
from briefkasten.storage import FileStorage, MemoryStorage, layout, open_storage
from briefkasten.storage import s3 as s3_module
from briefkasten.storage.base import Storage
from tests.support.fsyncs import record_fsyncs
from tests.support.servers import S3Server, s3_server_fixture, s3_url_fixture  # noqa: F401  (fixtures)

TENANT = "jc-musterstadt"
CASE = "12345BG0012345"
SUBMISSION = "a" * 32
BIG = 20 * 1024 * 1024
#: A bound, not a measurement: an operation against a stopped server must give up by then.
GIVE_UP_WITHIN = 30.0


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def original(file_id: str = "f" * 32, media_type: str = "image/jpeg") -> str:
    return layout.original_key(TENANT, CASE, SUBMISSION, file_id, media_type)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.bin"
    block = os.urandom(1024 * 1024)
    with path.open("wb") as out:
        for i in range(BIG // len(block)):
            out.write(bytes([i]) + block[1:])  # no two MiB alike
    return path


@pytest.fixture(params=["memory", "files"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """The in-process adapters; tests/integration/test_storage.py runs the same contract on S3."""
    if request.param == "memory":
        return open_storage(f"memory://{tmp_path.name}")
    return open_storage((tmp_path / "bucket").as_uri())


# --- the contract ------------------------------------------------------------------------


def test_bytes_round_trip(storage: Storage) -> None:
    data = b"%PDF-1.7 Kontoauszug"
    key = layout.document_key(TENANT, CASE, SUBMISSION, "d" * 32, "pdf")
    stored = storage.put_bytes(key, data, content_type="application/pdf")
    assert stored.bucket == storage.bucket
    assert (stored.key, stored.sha256, stored.size) == (key, sha256(data), len(data))
    assert stored.content_type == "application/pdf"
    assert stored.to_contract() == {
        "bucket": storage.bucket,
        "key": key,
        "sha256": sha256(data),
        "size": len(data),
    }
    assert storage.get_bytes(key) == data
    assert storage.exists(key)


def test_empty_object_and_overwrite(storage: Storage) -> None:
    key = original()
    assert storage.put_bytes(key, b"", content_type="image/jpeg").size == 0
    assert storage.get_bytes(key) == b""
    storage.put_bytes(key, b"second", content_type="image/jpeg")
    assert storage.get_bytes(key) == b"second"


def test_large_file_round_trip(storage: Storage, big_file: Path, tmp_path: Path) -> None:
    key = original()
    stored = storage.put_file(key, big_file, content_type="image/jpeg")
    expected = sha256(big_file.read_bytes())
    assert (stored.sha256, stored.size) == (expected, BIG)
    copy = tmp_path / "copy.bin"
    storage.get_file(key, copy)
    assert sha256(copy.read_bytes()) == expected
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_adopting_a_file_stores_it_and_takes_it_over(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "upload.part"
    data = bytes(range(256)) * 300
    source.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    stored = storage.adopt_file("t/c/adopted.jpg", source, content_type="image/jpeg", sha256=digest)
    assert not source.exists()
    assert (stored.sha256, stored.size) == (digest, len(data))
    assert storage.get_bytes("t/c/adopted.jpg") == data
    out = tmp_path / "back.jpg"
    storage.get_file("t/c/adopted.jpg", out)  # S3 verifies the recorded hash on read
    assert out.read_bytes() == data


def test_missing_objects_are_not_found(storage: Storage, tmp_path: Path) -> None:
    key = original()
    with pytest.raises(NotFound):
        storage.get_bytes(key)
    with pytest.raises(NotFound):
        storage.get_file(key, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not storage.exists(key)


def test_a_prefix_is_not_an_object(storage: Storage) -> None:
    storage.put_bytes(original(), b"x", content_type="image/jpeg")
    prefix = layout.submission_prefix(TENANT, CASE, SUBMISSION).rstrip("/")
    assert not storage.exists(prefix)
    with pytest.raises(NotFound):
        storage.get_bytes(prefix)
    storage.delete(prefix)  # no error, and the object below survives
    assert storage.exists(original())


def test_delete_is_idempotent(storage: Storage) -> None:
    key = original()
    storage.put_bytes(key, b"x", content_type="image/jpeg")
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)
    storage.delete(original("e" * 32))


def test_list_by_prefix_is_sorted(storage: Storage) -> None:
    keys = [
        original("2" * 32),
        original("1" * 32, "application/pdf"),
        layout.document_key(TENANT, CASE, SUBMISSION, "d" * 32, "report.json"),
        layout.manifest_key(TENANT, SUBMISSION),
        layout.manifest_key("other", SUBMISSION),
    ]
    for key in keys:
        storage.put_bytes(key, key.encode(), content_type="application/octet-stream")
    assert storage.list("") == sorted(keys)
    assert storage.list(f"{TENANT}/") == sorted(keys[:4])
    assert storage.list(layout.case_prefix(TENANT, CASE)) == sorted(keys[:3])
    assert storage.list(f"{TENANT}/{CASE}/{SUBMISSION}/originals/1") == [keys[1]]
    assert storage.list(f"{TENANT}/{CASE}/{SUBMISSION}/orig") == sorted(keys[:2])
    assert storage.list("nobody/") == []


def test_concurrent_writers(storage: Storage) -> None:
    def put(i: int) -> str:
        return storage.put_bytes(original(f"{i:032x}"), bytes([i]) * 1000, content_type="x/y").key

    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(put, range(24)))
    assert storage.list(layout.case_prefix(TENANT, CASE)) == sorted(keys)
    assert storage.get_bytes(keys[7]) == bytes([7]) * 1000


def test_create_if_absent_keeps_the_first(storage: Storage) -> None:
    key = layout.hash_marker_key(TENANT, CASE, "c" * 64)
    assert storage.create_bytes(key, b'{"first": 1}', content_type="application/json")
    assert not storage.create_bytes(key, b'{"second": 2}', content_type="application/json")
    assert storage.get_bytes(key) == b'{"first": 1}'
    assert storage.list(layout.case_prefix(TENANT, CASE)) == [key]  # no temp file left
    storage.delete(key)
    assert storage.create_bytes(key, b"again", content_type="application/json")


def test_racing_creators_have_exactly_one_winner(storage: Storage) -> None:
    key = layout.hash_marker_key(TENANT, CASE, "d" * 64)
    start = threading.Barrier(8)

    def create(i: int) -> bool:
        start.wait(timeout=30)
        return storage.create_bytes(key, f"writer {i}".encode(), content_type="text/plain")

    for _ in range(5):
        storage.delete(key)
        with ThreadPoolExecutor(8) as pool:
            won = [i for i, created in enumerate(pool.map(create, range(8))) if created]
        assert len(won) == 1
        assert storage.get_bytes(key) == f"writer {won[0]}".encode()


BAD_KEYS = ["", "../x", "a/../b", "/etc/passwd", "a//b", "a/./b", "a/", ".hidden", "a/.tmp",
            "a b", "ä", "a\\b", "a\n", "a\x00b", "x" * 600]  # fmt: skip


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused(storage: Storage, key: str, tmp_path: Path) -> None:
    operations: list[Callable[[], object]] = [
        lambda: storage.put_bytes(key, b"x", content_type="text/plain"),
        lambda: storage.get_bytes(key),
        lambda: storage.get_file(key, tmp_path / "out"),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
    ]
    for operation in operations:
        with pytest.raises(InvalidRequest):
            operation()
    for prefix in ("../", "/x", "a/../", "a b"):
        with pytest.raises(InvalidRequest):
            storage.list(prefix)


def test_missing_source_is_a_storage_error(storage: Storage, tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        storage.put_file(original(), tmp_path / "nothing-here", content_type="image/jpeg")
    assert not storage.exists(original())


def test_check_answers(storage: Storage) -> None:
    storage.check()


# --- files ---------------------------------------------------------------------------------


def test_files_are_private_and_atomic(tmp_path: Path) -> None:
    root = tmp_path / "var" / "storage"
    files = open_storage(root.as_uri())
    assert isinstance(files, FileStorage)
    assert files.bucket == "storage"
    key = original()
    files.put_bytes(key, b"data", content_type="image/jpeg")
    path = root.joinpath(*key.split("/"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in [root, *path.parents[: len(key.split("/")) - 1]]:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


def test_new_directories_are_made_durable_in_their_parents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "bucket"
    files = open_storage(root.as_uri())
    files.check()  # the root exists: only the key's levels are new
    synced = record_fsyncs(monkeypatch)
    key = original()
    files.put_bytes(key, b"data", content_type="image/jpeg")
    path = root.joinpath(*key.split("/"))
    levels = [p for p in path.parents if p != root and root in p.parents]
    # The parent of every new level (root included), then the file, then its directory.
    for level in levels:
        assert level.parent in synced, level
    assert synced.index(path.parent.parent) < synced.index(path.parent)
    assert synced[-1] == path.parent
    synced.clear()
    files.put_bytes(key.rsplit("/", 1)[0] + "/other.jpg", b"x", content_type="image/jpeg")
    assert synced.count(path.parent) == 1 and path.parent.parent not in synced  # nothing new


def test_an_adopted_file_gets_durable_private_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "bucket"
    files = open_storage(root.as_uri())
    files.check()
    source = tmp_path / "spooled.part"
    source.write_bytes(b"photo")
    synced = record_fsyncs(monkeypatch)
    key = original()
    files.adopt_file(key, source, content_type="image/jpeg", sha256="0" * 64)
    path = root.joinpath(*key.split("/"))
    assert synced[0] == source  # the data, before it gets its name
    for level in [p for p in path.parents if root in p.parents]:
        assert level.parent in synced, level  # every new level made durable in its parent
        assert stat.S_IMODE(level.stat().st_mode) == 0o700, level
    assert synced[-1] == path.parent
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and not source.exists()
    monkeypatch.undo()
    with pytest.raises(StorageError):  # the source is gone now
        files.adopt_file(key, source, content_type="image/jpeg", sha256="0" * 64)
    assert files.get_bytes(key) == b"photo"


def test_directories_are_made_only_inside_the_root(tmp_path: Path) -> None:
    from briefkasten.storage import files as files_module

    root = tmp_path / "bucket"
    with pytest.raises(ValueError, match="not inside"):
        files_module._make_dirs(root, tmp_path / "elsewhere" / "deep")
    assert not (tmp_path / "elsewhere").exists()
    files_module._make_dirs(root, root / "a" / "b")
    assert (root / "a" / "b").is_dir()


def test_writers_racing_to_make_the_same_directories_all_succeed(tmp_path: Path) -> None:
    files = open_storage((tmp_path / "bucket").as_uri())
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        barrier.wait(timeout=10)
        try:
            files.put_bytes(
                f"t/12345BG0012345/s/deep/{i}.json", b"{}", content_type="application/json"
            )
        except BaseException as exc:  # collected: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == []
    assert len(files.list("t/12345BG0012345/s/deep/")) == 8


def test_a_failed_file_write_keeps_the_old_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = open_storage((tmp_path / "bucket").as_uri())
    key = original()
    files.put_bytes(key, b"old", content_type="image/jpeg")

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(StorageError, match="No space left"):
        files.put_bytes(key, b"new", content_type="image/jpeg")
    monkeypatch.undo()
    assert files.get_bytes(key) == b"old"
    assert files.list("") == [key]
    assert len(list((tmp_path / "bucket").rglob("*.tmp"))) == 0


def test_unusable_directory_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("not a directory")
    files = open_storage((tmp_path / "plain-file" / "storage").as_uri())
    with pytest.raises(StorageError):
        files.check()
    with pytest.raises(StorageError):
        files.put_bytes(original(), b"x", content_type="image/jpeg")


@given(st.text(alphabet="ab./\\-_ \x00", max_size=12))
def test_no_valid_key_leaves_the_file_root(key: str) -> None:
    root = Path("/srv/bucket")
    try:
        layout.validate_key(key)
    except InvalidRequest:
        return
    path = root.joinpath(*key.split("/"))
    assert path.resolve().is_relative_to(root) and path != root
    assert ".." not in path.parts


# --- S3 ------------------------------------------------------------------------------------


# --- open_storage ----------------------------------------------------------------------------


@pytest.fixture
def s3_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    def record(endpoint: str, bucket: str, **options: Any) -> str:
        calls.append({"endpoint": endpoint, "bucket": bucket, **options})
        return "s3-storage"

    monkeypatch.setattr(s3_module, "S3Storage", record)
    yield calls


def test_s3_url_is_parsed_and_decoded(s3_calls: list[dict[str, Any]]) -> None:
    open_storage("s3://AKIA%2Fx:se%2Fcr%40et%3A%25@minio.local:9000/bk-docs?secure=false")
    open_storage("s3://key:secret@[::1]:9000/bk-docs?region=eu-central-1", sse=True)
    open_storage("S3://key:p@ss/w:rd@minio.local/bk-docs")  # unencoded, still unambiguous
    assert s3_calls == [
        {"endpoint": "minio.local:9000", "bucket": "bk-docs", "access_key": "AKIA/x",
         "secret_key": "se/cr@et:%", "secure": False, "region": None, "sse": False},
        {"endpoint": "[::1]:9000", "bucket": "bk-docs", "access_key": "key",
         "secret_key": "secret", "secure": True, "region": "eu-central-1", "sse": True},
        {"endpoint": "minio.local", "bucket": "bk-docs", "access_key": "key",
         "secret_key": "p@ss/w:rd", "secure": True, "region": None, "sse": False},
    ]  # fmt: skip


def test_file_and_memory_urls(tmp_path: Path) -> None:
    files = open_storage((tmp_path / "Mein Speicher").as_uri())
    assert isinstance(files, FileStorage)
    assert files.root == tmp_path / "Mein Speicher"
    assert open_storage("file://localhost/srv/bk").bucket == "bk"
    memory = open_storage("memory://unit")
    assert isinstance(memory, MemoryStorage) and memory.bucket == "unit"
    assert open_storage("memory://unit") is not memory


SECRET = "TopSecret99"
BAD_URLS = [
    "",
    "/var/storage",
    "var/storage",
    "http://host/bucket",
    "file://var/storage",
    "file:///",
    "file:///srv/../etc",
    "file:///srv/bk?x=1",
    "memory://",
    "memory://a/b",
    f"s3://{SECRET}@host:9000/bucket",
    f"s3://key:{SECRET}@host:port/bucket",
    f"s3://key:{SECRET}@host:0/bucket",
    f"s3://key:{SECRET}@:9000/bucket",
    f"s3://key:{SECRET}@host:9000",
    f"s3://key:{SECRET}@host:9000/Bad_Bucket",
    f"s3://key:{SECRET}@host:9000/a/b",
    f"s3://key:{SECRET}@host:9000/bucket?secure=maybe",
    f"s3://key:{SECRET}@host:9000/bucket?region=EU%20WEST",
    f"s3://key:{SECRET}@host:9000/bucket?access={SECRET}x",
    f"s3://:{SECRET}@host:9000/bucket",
    f"s3://key:{SECRET}",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_urls_are_config_errors_without_the_secret(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_storage(url)
    assert SECRET not in str(caught.value)
    assert caught.value.message_en


def test_sse_needs_s3(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sse"):
        open_storage(tmp_path.as_uri(), sse=True)


def test_repr_hides_the_secret() -> None:
    s3 = open_storage(f"s3://key:{SECRET}@127.0.0.1:9/bucket?secure=false")
    assert SECRET not in repr(s3) and "127.0.0.1:9" in repr(s3)


# --- layout ----------------------------------------------------------------------------------


def test_layout_keys() -> None:
    sub, doc, file_id, digest = "1" * 32, "2" * 32, "3" * 32, "4" * 64
    case = f"{TENANT}/{CASE}"
    assert layout.original_key(TENANT, CASE, sub, file_id, "image/heic") == (
        f"{case}/{sub}/originals/{file_id}.heic"
    )
    assert (
        layout.document_key(TENANT, CASE, sub, doc, ".pdf") == f"{case}/{sub}/documents/{doc}.pdf"
    )
    assert layout.document_key(TENANT, CASE, sub, doc, "report.json").endswith(".report.json")
    assert layout.manifest_key(TENANT, sub) == f"{TENANT}/submissions/{sub}/manifest.json"
    assert layout.status_key(TENANT, sub) == f"{TENANT}/submissions/{sub}/status.json"
    assert layout.idempotency_key(TENANT, digest) == f"{TENANT}/idempotency/{digest}.json"
    assert layout.hash_marker_key(TENANT, CASE, digest) == f"{case}/hashes/{digest}.json"
    for media_type in layout.EXTENSIONS:
        layout.validate_key(layout.original_key(TENANT, CASE, sub, file_id, media_type))


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: layout.manifest_key("../etc", "1" * 32), ConfigError),
        (lambda: layout.manifest_key("Jobcenter Köln", "1" * 32), ConfigError),
        (lambda: layout.status_key(TENANT, "../../x"), MalformedId),
        (lambda: layout.status_key(TENANT, "1" * 32 + "\n"), MalformedId),
        (lambda: layout.original_key(TENANT, "12345-BG-1", "1" * 32, "2" * 32, "image/png"),
         InvalidRequest),
        (lambda: layout.original_key(TENANT, CASE, "1" * 32, "2" * 32, "text/html"),
         UnsupportedType),
        (lambda: layout.document_key(TENANT, CASE, "1" * 32, "2" * 32, "../pdf"), InvalidRequest),
        (lambda: layout.hash_marker_key(TENANT, CASE, "abc"), InvalidRequest),
        (lambda: layout.idempotency_key(TENANT, "Z" * 64), InvalidRequest),
    ],
)  # fmt: skip
def test_layout_refuses_bad_parts(build: Callable[[], str], error: type[BriefkastenError]) -> None:
    with pytest.raises(error):
        build()
