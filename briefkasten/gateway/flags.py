"""The applicant's statements about a file, as a client sends them (tus ``Upload-Metadata``, a
multipart field): ``redacted_by_applicant``."""

from __future__ import annotations

from briefkasten.errors import InvalidRequest

#: The spellings of the ``redacted_by_applicant`` flag (tus metadata, the multipart field).
FLAG_VALUES = {"true": True, "false": False}


def redaction_flag(value: str) -> bool:
    """``redacted_by_applicant`` as given by a client: ``true`` or ``false`` (case and
    surrounding blanks do not matter); anything else is ``InvalidRequest`` (400)."""
    flag = FLAG_VALUES.get(value.strip().lower())
    if flag is None:
        raise InvalidRequest("redacted_by_applicant must be true or false")
    return flag
