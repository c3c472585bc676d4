"""The message contract: the schema ships in the package, the documented example follows it,
and anything missing, mistyped or content-like is refused without echoing values."""

from __future__ import annotations

import copy
import json
import re
import uuid
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pika
import pytest
import yaml
from jsonschema import Draft202012Validator

from briefkasten import contract
from briefkasten.errors import InvalidRequest

DOCS = Path(__file__).resolve().parents[2] / "docs"
SECRET = "Kontostand 1.234,56 EUR Miete Max Mustermann"


def example() -> dict[str, Any]:
    """The example message from docs/contract.md (the first JSON block)."""
    text = (DOCS / "contract.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(.*?)```", text, re.S)
    assert block is not None
    data: dict[str, Any] = json.loads(block.group(1))
    return data


def test_schema_ships_in_the_package_and_is_valid_draft_2020_12() -> None:
    raw = (resources.files("briefkasten.contract") / contract.SCHEMA_FILE).read_text("utf-8")
    loaded = json.loads(raw)
    assert loaded["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(loaded)
    assert contract.schema() == loaded
    contract.schema()["title"] = "changed"  # a copy: callers cannot spoil the cached schema
    assert contract.schema()["title"] == loaded["title"]


def test_documented_example_is_valid() -> None:
    message = example()
    contract.validate(message)
    assert message["schema_version"] == contract.SCHEMA_VERSION
    assert message["message_id"] == contract.message_id_for(message["submission_id"])


def test_asyncapi_points_at_the_shipped_schema() -> None:
    text = (DOCS / "asyncapi.yaml").read_text(encoding="utf-8")
    assert "asyncapi: 3.0.0" in text
    assert "name: briefkasten.documents" in text
    ref = re.search(r"\$ref: '(\.\./briefkasten/contract/[^']+)'", text)
    assert ref is not None
    assert (DOCS / ref.group(1)).resolve().is_file()


@pytest.mark.parametrize("field", sorted(contract.schema()["required"]))
def test_missing_top_level_field_is_refused(field: str) -> None:
    message = example()
    del message[field]
    with pytest.raises(InvalidRequest, match=f"missing {field}"):
        contract.validate(message)


@pytest.mark.parametrize(
    "field", ["pdf", "text", "originals", "pipeline", "normalisation_failed", "failure_reason"]
)
def test_missing_document_field_is_refused(field: str) -> None:
    message = example()
    del message["documents"][0][field]
    with pytest.raises(InvalidRequest, match="documents/0"):
        contract.validate(message)


def _set(message: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split("/")
    target: Any = message
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("case_number", "12345-BG-0012345"),
        ("case_number", "1234BG0012345"),
        ("tenant", "jc.berlin"),
        ("tenant", "jc*"),
        ("message_id", "not-a-uuid"),
        ("message_id", "6d416d4c-c393-4119-bfff-ca6afced6e5f"),  # a uuid4, not uuid5
        ("schema_version", "2.0"),
        ("received_at", "14.03.2025 09:26"),
        ("documents", []),
        ("documents/0/pages", "2"),
        ("documents/0/pages", -1),
        (
            "documents/0/pdf/sha256",
            "C35B21D6CA39AA7CC3B79A705D989F1A6E88B99AB43988D74048799E3DB926A3",
        ),
        ("documents/0/pdf/size", 1.5),
        ("documents/0/originals", []),
        ("documents/0/originals/0/size", "2210937"),
        ("documents/0/ocr_confidence", 140),
        ("documents/0/quality_flags", ["blurry"]),
        ("documents/0/normalisation_failed", "no"),
        ("documents/0/pdf", None),  # a PDF is required unless normalisation failed
        ("documents/0/failure_reason", "something"),  # a reason without the flag
        ("documents/1/failure_reason", None),  # the flag without a reason
    ],
)
def test_wrong_values_are_refused(path: str, value: Any) -> None:
    message = example()
    _set(message, path, value)
    with pytest.raises(InvalidRequest):
        contract.validate(message)


@pytest.mark.parametrize(
    "path",
    [
        "content",
        "documents/0/ocr_text",
        "documents/0/content",
        "documents/0/text",  # the text inline instead of a stored object
        "documents/0/pdf/data",
        "documents/0/originals/0/data",
        "documents/0/note",
    ],
)
def test_content_like_fields_are_refused_without_echoing_them(path: str) -> None:
    message = example()
    _set(message, path, SECRET)
    with pytest.raises(InvalidRequest) as caught:
        contract.validate(message)
    assert "Kontostand" not in str(caught.value)
    assert caught.value.source == "contract"


def test_validation_does_not_change_the_message() -> None:
    message = example()
    before = copy.deepcopy(message)
    contract.validate(message)
    assert message == before


def test_message_id_is_a_stable_uuid5_per_submission() -> None:
    first = contract.message_id_for("abc123")
    assert first == contract.message_id_for("abc123")
    assert first != contract.message_id_for("abc124")
    assert uuid.UUID(first).version == 5
    with pytest.raises(InvalidRequest):
        contract.message_id_for("")


def test_routing_key() -> None:
    assert contract.routing_key("jc-berlin-mitte", "kontoauszug") == "jc-berlin-mitte.kontoauszug"
    for tenant, kind in [("jc.berlin", "ausweis"), ("jc", "a.b"), ("#", "ausweis"), ("", "x")]:
        with pytest.raises(InvalidRequest):
            contract.routing_key(tenant, kind)


def test_a_message_of_1_1_without_languages_still_validates() -> None:
    message = example()
    message["schema_version"] = "1.1"
    for document in message["documents"]:
        del document["languages"]
    contract.validate(message)


@pytest.mark.parametrize("value", [["deu", "deu"], ["Deutsch"], "deu", [1]])
def test_wrong_languages_are_refused(value: Any) -> None:
    message = example()
    message["documents"][0]["languages"] = value
    with pytest.raises(InvalidRequest):
        contract.validate(message)


def test_the_built_message_carries_each_document_s_languages() -> None:
    from briefkasten.message import DocumentOutcome, build_message
    from briefkasten.model import DocumentRequest, ReceivedFile, Submission
    from briefkasten.storage.base import StoredObject

    sha = "a" * 64
    received = ReceivedFile("f1", "scan.jpg", "t/k/originals/f1", sha, 10, "image/jpeg", 2)
    document = DocumentRequest("d1", "bescheinigung", (received,))
    submission = Submission(
        "s1", "jc-nord", "12345BG0012345", "2026-12-02T20:00:00+00:00", "upload", (document,)
    )
    pdf = StoredObject("b", "t/k/document.pdf", sha, 100, "application/pdf")
    outcome = DocumentOutcome(
        document,
        pdf,
        None,
        2,
        [[], []],
        93.0,
        ("default", "1"),
        None,
        "2026-12-02T20:01:00+00:00",
        languages=("deu", "ukr"),
    )
    built = build_message(submission, [outcome], bucket="b")
    body = json.loads(built.body)
    contract.validate(body)
    assert body["schema_version"] == built.headers["schema_version"] == contract.SCHEMA_VERSION
    assert built.message_type == contract.MESSAGE_TYPE  # the AMQP type property
    assert body["documents"][0]["languages"] == ["deu", "ukr"]
    restored = DocumentOutcome.from_json(outcome.to_json(), document)
    assert restored.languages == ("deu", "ukr")
    older = outcome.to_json()
    del older["languages"]  # an outcome recorded before 1.2
    assert DocumentOutcome.from_json(older, document).languages == ()


def test_asyncapi_message_types_are_the_ones_published() -> None:
    """The AMQP ``type`` each message carries is the binding's ``messageType``."""
    from briefkasten.housekeeping.confirmations import confirmation_message

    spec = yaml.safe_load((DOCS / "asyncapi.yaml").read_text(encoding="utf-8"))
    messages = spec["components"]["messages"]
    assert messages["submission"]["bindings"]["amqp"]["messageType"] == contract.MESSAGE_TYPE
    confirmation = messages["confirmation"]["bindings"]["amqp"]["messageType"]
    assert confirmation == contract.CONFIRMATION_MESSAGE_TYPE
    sent = confirmation_message("jc-nord", "a" * 32)
    assert sent.message_type == contract.CONFIRMATION_MESSAGE_TYPE


def test_asyncapi_and_the_docs_name_the_vhost_of_the_one_example_url() -> None:
    """The vhost is whatever the AMQP URL says (its path, as pika reads it): the AsyncAPI
    server and bindings, contract.md and the README use the README's one example URL."""
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    found = re.search(r"BRIEFKASTEN_AMQP_URL='(amqps?://[^']+)'", readme)
    assert found is not None
    url = found.group(1)
    vhost = pika.URLParameters(url).virtual_host
    assert vhost == "briefkasten"
    assert pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/").virtual_host == "/"
    spec = yaml.safe_load((DOCS / "asyncapi.yaml").read_text(encoding="utf-8"))
    server = spec["servers"]["production"]
    parts = urlsplit(url)
    assert (server["protocol"], server["host"]) == (parts.scheme, parts.netloc.split("@")[-1])
    assert server["pathname"] == parts.path and url.split("@")[-1] in server["description"]
    bindings = [c["bindings"]["amqp"]["exchange"] for c in spec["channels"].values()]
    assert len(bindings) == 2 and all(b["vhost"] == vhost for b in bindings)
    assert f"`{vhost}` for `amqps://…@{parts.netloc.split('@')[-1]}{parts.path}`" in (
        DOCS / "contract.md"
    ).read_text(encoding="utf-8")


def test_channel_is_one_of_the_intake_s_channels() -> None:
    """The schema's ``channel`` enum is what the intake records (``intake.CHANNELS``: the
    gateway's ``upload`` for API keys, ``link`` for upload links); others are refused."""
    from briefkasten.intake import CHANNELS, Intake

    channel = contract.schema()["properties"]["channel"]
    assert channel["enum"] == list(CHANNELS) == ["upload", "link"]
    assert all(f"{c} (" in channel["description"] for c in CHANNELS)
    assert "api or web" not in channel["description"]
    assert Intake.receive.__kwdefaults__["channel"] == "upload"
    for value in CHANNELS:
        message = example()
        message["channel"] = value
        contract.validate(message)
    for value in ("api", "web", "UPLOAD"):
        message = example()
        message["channel"] = value
        with pytest.raises(InvalidRequest):
            contract.validate(message)


def test_documented_example_keys_are_the_storage_layout_s() -> None:
    """Every key in contract.md's example is the one ``storage.layout`` makes for its ids."""
    from briefkasten.storage import layout

    message = example()
    ids = (message["tenant"], message["case_number"], message["submission_id"])
    originals = []
    for document in message["documents"]:
        builds = set()
        for suffix in ("pdf", "text"):
            if document[suffix] is not None:
                build = document[suffix]["key"].rpartition("/")[2].split(".")[1]
                builds.add(build)
                expected = layout.document_key(
                    *ids,
                    document["document_id"],
                    "txt" if suffix == "text" else "pdf",
                    build=build,
                )
                assert document[suffix]["key"] == expected
        assert len(builds) <= 1  # PDF and text of one document come from one build
        for original in document["originals"]:
            file_id = original["key"].rpartition("/")[2].partition(".")[0]
            expected = layout.original_key(*ids, file_id, original["media_type"])
            assert original["key"] == expected
            originals.append(original)
    assert len(originals) == 3
    assert len({o["sha256"] for o in originals}) == 3  # a duplicate of this submission's own
    assert any(o["duplicate_of"] for o in originals)  # file would have its SHA-256
    for text in (DOCS / "contract.md").read_text(encoding="utf-8").split("```")[1::2]:
        for key in re.findall(r'"key": "([^"]+)"', text):
            layout.validate_key(key)


NEW_IN_1_3 = (
    "suggested_type",
    "suggested_type_confidence",
    "contains_jobcenter_letter",
    "redacted_by_applicant",
    "split_from",
)


def test_a_message_of_1_2_without_the_1_3_fields_still_validates() -> None:
    message = example()
    message["schema_version"] = "1.2"
    for document in message["documents"]:
        for field in NEW_IN_1_3:
            del document[field]
        for original in document["originals"]:
            del original["password_protected"], original["decrypted"]
    contract.validate(message)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("documents.0.suggested_type", "Kontoauszug mit Leerzeichen"),
        ("documents.0.suggested_type_confidence", 1.5),
        ("documents.0.suggested_type_confidence", -0.1),
        ("documents.0.contains_jobcenter_letter", "yes"),
        ("documents.0.redacted_by_applicant", 1),
        ("documents.0.split_from", {"document_id": "d1", "part": 1, "parts": 1, "pages": [1]}),
        ("documents.0.split_from", {"document_id": "d1", "part": 0, "parts": 2, "pages": [1]}),
        ("documents.0.split_from", {"document_id": "d1", "part": 1, "parts": 2, "pages": []}),
        ("documents.0.split_from", {"document_id": "d/1", "part": 1, "parts": 2, "pages": [1]}),
        ("documents.0.split_from", {"part": 1, "parts": 2, "pages": [1]}),
        ("documents.0.originals.0.password_protected", "no"),
        ("documents.0.originals.0.decrypted", {"bucket": "b", "key": "k"}),
    ],
)
def test_wrong_1_3_values_are_refused(path: str, value: Any) -> None:
    message = example()
    _set(message, path, value)
    with pytest.raises(InvalidRequest):
        contract.validate(message)


def test_the_built_message_carries_the_1_3_fields() -> None:
    from briefkasten.message import DocumentOutcome, build_message
    from briefkasten.model import DocumentRequest, ReceivedFile, Split, Submission
    from briefkasten.storage.base import StoredObject

    sha, other = "a" * 64, "b" * 64
    locked = ReceivedFile(
        "f1", "lohn.pdf", "t/k/originals/f1", sha, 10, "application/pdf", 1,
        decrypted_key="t/k/originals/f1.decrypted", decrypted_sha256=other, decrypted_size=9,
    )  # fmt: skip
    blacked = ReceivedFile(
        "f2", "konto.jpg", "t/k/originals/f2", other, 10, "image/jpeg", 1,
        redacted_by_applicant=True,
    )  # fmt: skip
    document = DocumentRequest("d1-2", "lohnabrechnung", (locked, blacked))
    submission = Submission(
        "s1", "jc-nord", "12345BG0012345", "2026-12-02T20:00:00+00:00", "upload", (document,)
    )
    pdf = StoredObject("b", "t/k/document.pdf", sha, 100, "application/pdf")
    outcome = DocumentOutcome(
        document, pdf, None, 2, [[], []], 93.0, ("default", "1"), None,
        "2026-12-02T20:01:00+00:00",
        suggested_type="kontoauszug",
        suggested_type_confidence=0.875,
        contains_jobcenter_letter=True,
        split_from=Split("d1", 2, 3, (3, 4)),
    )  # fmt: skip
    body = json.loads(build_message(submission, [outcome], bucket="b").body)
    contract.validate(body)
    entry = body["documents"][0]
    assert entry["document_type"] == "lohnabrechnung"  # the applicant's choice stays
    assert (entry["suggested_type"], entry["suggested_type_confidence"]) == ("kontoauszug", 0.875)
    assert entry["contains_jobcenter_letter"] is True
    assert entry["redacted_by_applicant"] is True
    assert entry["split_from"] == {"document_id": "d1", "part": 2, "parts": 3, "pages": [3, 4]}
    first, second = entry["originals"]
    assert first["password_protected"] is True and first["sha256"] == sha
    assert first["decrypted"] == {
        "bucket": "b", "key": "t/k/originals/f1.decrypted", "sha256": other, "size": 9,
    }  # fmt: skip
    assert second["password_protected"] is False and second["decrypted"] is None
    restored = DocumentOutcome.from_json(outcome.to_json(), document)
    assert restored == outcome
    older = outcome.to_json()
    for field in ("suggested_type", "suggested_type_confidence", "contains_jobcenter_letter"):
        del older[field]
    del older["split_from"]  # an outcome recorded before 1.3
    plain = DocumentOutcome.from_json(older, document)
    assert (plain.suggested_type, plain.contains_jobcenter_letter, plain.split_from) == (
        None, False, None,
    )  # fmt: skip
    assert ReceivedFile.from_json(blacked.to_json()) == blacked
