"""What one ``list`` of the object storage says about tus uploads (``tus_objects``): per upload
its info record, parts (and the longest run of them from byte 0), completion record and, for a
password-protected PDF, its locked marker and decrypted copy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from briefkasten.storage import layout


@dataclass
class Listed:
    """What one ``list`` of an upload's prefix says about it."""

    info_key: str = ""
    length: int = 0
    newest_ms: int = 0
    parts: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, key)
    complete_key: str = ""
    keys: list[str] = field(default_factory=list)
    #: A PDF that needs its password (``locked-<ms>.json``) and its decrypted copy, once opened.
    locked_key: str = ""
    decrypted_key: str = ""

    def run(self) -> list[tuple[int, int, str]]:
        """The longest run of parts from byte 0: the bytes received, in order."""
        return longest_run(self.parts)

    @property
    def offset(self) -> int:
        found = self.run()
        return found[-1][1] if found else 0


def longest_run(parts: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The chain of parts ``0..a, a..b, …`` that reaches furthest (parts may overlap or
    repeat when two gateways wrote at once; the first key wins a tie)."""
    by_start: dict[int, list[tuple[int, int, str]]] = {}
    for part in sorted(parts):
        if part[1] > part[0]:
            by_start.setdefault(part[0], []).append(part)
    best: dict[int, list[tuple[int, int, str]]] = {0: []}  # reached offset → chain to it
    for start in sorted(by_start):  # parts only ever go forward: one pass in order of start
        if start not in best:
            continue
        for part in by_start[start]:
            if part[1] not in best:
                best[part[1]] = [*best[start], part]
    return best[max(best)]


def read_listing(keys: Iterable[str]) -> dict[str, Listed]:
    """Keys under ``_tus/`` → per ``<tenant>/<owner>/<upload id>`` what they say."""
    found: dict[str, Listed] = {}
    for key in keys:
        match = layout.TUS_KEY.match(key)
        if match is None:
            continue
        listed = found.setdefault(f"{match['tenant']}/{match['who']}/{match['upload']}", Listed())
        listed.keys.append(key)
        if match["length"] is not None:
            listed.info_key, listed.length = key, int(match["length"])
            written = int(match["created"])
        elif match["start"] is not None:
            listed.parts.append((int(match["start"]), int(match["end"]), key))
            written = int(match["written"])
        elif match["locked"] is not None:
            listed.locked_key, written = key, int(match["locked"])
        elif match["decrypted"] is not None:
            listed.decrypted_key, written = key, int(match["decrypted"])
        else:
            listed.complete_key = key
            written = int(match["completed"])
        listed.newest_ms = max(listed.newest_ms, written)
    return found
