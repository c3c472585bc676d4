"""What a new tus upload may reserve, in either store (``tus_store``, ``tus_objects``): its
length against the file limit, its bytes against the spool quotas."""

from __future__ import annotations

from collections.abc import Mapping

from briefkasten.errors import EmptyInput, InvalidRequest, LimitExceeded, QuotaExceeded, SpoolFull


def check_length(length: int, max_bytes: int) -> None:
    """A new upload's ``Upload-Length``: not empty and not over the file limit."""
    if length < 0:
        raise InvalidRequest("Upload-Length must not be negative")
    if length == 0:
        raise EmptyInput("file is empty (Upload-Length: 0)")
    if length > max_bytes:
        raise LimitExceeded(f"file has {length} bytes, limit is {max_bytes}")


def quota_check(
    owner: str, length: int, totals: Mapping[str, int], quota_per_owner: int, quota: int
) -> None:
    """``QuotaExceeded`` or ``SpoolFull`` if a new upload of ``length`` bytes does not fit
    beside the bytes ``totals`` (per owner) already reserved."""
    mine = totals.get(owner, 0)
    if quota_per_owner and mine + length > quota_per_owner:
        raise QuotaExceeded(
            f"unfinished uploads of this owner would reserve {mine + length} bytes, "
            f"quota is {quota_per_owner}"
        )
    if quota and sum(totals.values()) + length > quota:
        raise SpoolFull(f"the tus spool quota of {quota} bytes is used up")
