"""The message contract for the case systems: a versioned JSON Schema (draft 2020-12).

One message per submission announces where its PDFs, texts and originals are stored, with
hashes and sizes; no document content and no OCR text ever travel inline. The schema ships as
package data (``submission-v1.schema.json``) so producers and consumers validate against the
same file; ``docs/contract.md`` explains it for case-software developers.

The other direction: a case system confirms that it stored a submission in the e-file with a
confirmation message (``validate_confirmation``; schema ``receipt-v1.schema.json``, named
before the rename and kept so its ``$id`` still resolves) on the exchange
``briefkasten.receipts`` (an AMQP name that stays), routing key ``<tenant>``; Briefkasten then
deletes the submission after the grace period. ("Receipt" means the applicant's
Eingangsbestätigung only.)

Routing: ``<tenant>.<document_type>`` of the *first* document. A submission with several
document types is still one message; consumers that care about every type bind
``<tenant>.*`` (or ``#``) and read ``documents[].document_type`` from the body.

The HTTP side: ``openapi.yaml`` (OpenAPI 3.1.0, package data; ``docs/openapi.yaml`` is a
symlink to it) describes every endpoint of the gateway; ``openapi()`` parses it (PyYAML) and
the gateway serves it as JSON at ``GET /api/v1/openapi.json`` (``gateway/apidocs.py``).
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from functools import cache
from importlib import resources
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from briefkasten.errors import ConfigError, InvalidRequest

__all__ = [
    "ASYNCAPI_FILE",
    "CONFIRMATION_MESSAGE_TYPE",
    "CONFIRMATION_SCHEMA_FILE",
    "MESSAGE_TYPE",
    "OPENAPI_FILE",
    "SCHEMA_FILE",
    "SCHEMA_VERSION",
    "asyncapi",
    "confirmation_message_id_for",
    "confirmation_schema",
    "message_id_for",
    "openapi",
    "routing_key",
    "schema",
    "validate",
    "validate_confirmation",
]

#: The version every message built by this package carries (body field and AMQP header).
SCHEMA_VERSION = "1.3"
#: The schema file (package data) for major version 1.
SCHEMA_FILE = "submission-v1.schema.json"
#: The schema file of the confirmations case systems send (major version 1): named before the
#: rename ("receipt"), kept because its ``$id`` names it and case systems may have pinned it.
CONFIRMATION_SCHEMA_FILE = "receipt-v1.schema.json"
#: The AMQP ``type`` property of the announcements (AsyncAPI ``messageType``): schema name and
#: major version.
MESSAGE_TYPE = "briefkasten.submission.v1"
#: The ``type`` of the confirmations (AsyncAPI ``messageType``; the schema's name before the
#: rename, like its file).
CONFIRMATION_MESSAGE_TYPE = "briefkasten.receipt.v1"
#: The OpenAPI 3.1 document of the gateway's HTTP interface (package data).
OPENAPI_FILE = "openapi.yaml"
#: The AsyncAPI document of the messages (package data; ``docs/asyncapi.yaml`` links to it).
ASYNCAPI_FILE = "asyncapi.yaml"
#: Namespace of the uuid5 message ids; never change it, or retried messages get new ids.
_MESSAGE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:briefkasten:message:v1")
#: Namespace of the confirmations' uuid5 ids (the name predates the rename; never change it).
_CONFIRMATION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:briefkasten:receipt:v1")
_WORD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MAX_ERRORS = 5


@cache
def _schema_text(name: str = SCHEMA_FILE) -> str:
    return (resources.files(__package__) / name).read_text(encoding="utf-8")


@cache
def _validator(name: str = SCHEMA_FILE) -> Draft202012Validator:
    document = json.loads(_schema_text(name))
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document)


def schema() -> dict[str, Any]:
    """The JSON Schema (a fresh copy, loaded from the package)."""
    document: dict[str, Any] = copy.deepcopy(_validator().schema)
    return document


def confirmation_schema() -> dict[str, Any]:
    """The JSON Schema of confirmation messages (a fresh copy)."""
    document: dict[str, Any] = copy.deepcopy(_validator(CONFIRMATION_SCHEMA_FILE).schema)
    return document


def openapi() -> dict[str, Any]:
    """The gateway's OpenAPI document (a fresh copy, parsed from the package's YAML)."""
    document: dict[str, Any] = copy.deepcopy(_yaml_document(OPENAPI_FILE, "openapi"))
    return document


def asyncapi() -> dict[str, Any]:
    """The messages' AsyncAPI document (a fresh copy, parsed from the package's YAML)."""
    document: dict[str, Any] = copy.deepcopy(_yaml_document(ASYNCAPI_FILE, "asyncapi"))
    return document


@cache
def _yaml_document(name: str, kind: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where it is built in
    document = yaml.load(_schema_text(name), Loader=loader)  # a safe loader
    if not isinstance(document, dict) or kind not in document:
        raise ConfigError(f"{name} is not an {kind} document")
    return document


def validate(message: dict[str, Any]) -> None:
    """Raise ``InvalidRequest`` unless ``message`` follows the contract.

    The error names the failing places (JSON paths and schema keywords) but never echoes
    values, so a rejected message cannot leak document content into logs.
    """
    _check(message, SCHEMA_FILE)


def validate_confirmation(message: dict[str, Any]) -> None:
    """Raise ``InvalidRequest`` unless ``message`` is a confirmation message (same rules)."""
    _check(message, CONFIRMATION_SCHEMA_FILE)


def _check(message: dict[str, Any], name: str) -> None:
    errors = sorted(_validator(name).iter_errors(message), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    first = best_match(errors)
    places = [_describe(first)] + [_describe(e) for e in errors if e is not first]
    shown = "; ".join(places[:_MAX_ERRORS])
    more = f" (+{len(places) - _MAX_ERRORS} more)" if len(places) > _MAX_ERRORS else ""
    raise InvalidRequest(
        f"message does not follow contract {SCHEMA_VERSION}: {shown}{more}", source="contract"
    )


def message_id_for(submission_id: str) -> str:
    """The message id for a submission: a uuid5, the same for every retry and replay."""
    if not submission_id:
        raise InvalidRequest("submission id must not be empty", source="contract")
    return str(uuid.uuid5(_MESSAGE_NAMESPACE, submission_id))


def confirmation_message_id_for(submission_id: str) -> str:
    """A stable id for the confirmation message of a submission (uuid5: resends keep it)."""
    if not submission_id:
        raise InvalidRequest("submission id must not be empty", source="contract")
    return str(uuid.uuid5(_CONFIRMATION_NAMESPACE, submission_id))


def routing_key(tenant: str, document_type: str) -> str:
    """``<tenant>.<document_type>``; both must be single routing-key words (no dots, no ``*#``).
    ``tenant`` is the tenant's ``routing_key_prefix`` (by default its id).

    For a submission with several documents pass the first document's type (see module doc).
    """
    for what, word in (("tenant", tenant), ("document type", document_type)):
        if not _WORD.match(word):
            raise InvalidRequest(
                f"{what} {word!r} cannot be a routing key word (letters, digits, _ and - only)",
                source="contract",
            )
    return f"{tenant}.{document_type}"


def _describe(error: Any) -> str:
    path = "/".join(str(p) for p in error.absolute_path) or "(message)"
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in (error.instance or {})]
        return f"{path}: missing {', '.join(missing)}"
    if error.validator == "additionalProperties":
        allowed = error.schema.get("properties", {})
        extra = sorted(k for k in error.instance if k not in allowed)
        return f"{path}: unexpected field(s) {', '.join(extra)}"
    return f"{path}: fails {error.validator!r}"
