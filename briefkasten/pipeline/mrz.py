"""The machine-readable zone of an identity document (ICAO 9303), found in OCR text.

``find(text)`` looks for the MRZ's lines (TD1: three lines of 30 characters, ID cards and
residence permits; TD2: two of 36; TD3: two of 44, passports) and checks their check digits
(weights 7, 3, 1; ``<`` counts 0, letters 10–35). OCR confuses a few characters: ``«`` and
``\u2039`` are read for ``<<`` and ``<``, spaces appear inside the line, and in the numeric fields
``O``/``D``/``Q`` stand for ``0``, ``I``/``L`` for ``1``, ``S`` for ``5``, ``B`` for ``8``, ``Z``
for ``2``, ``G`` for ``6``; these are tolerated. Pure functions; nothing of the MRZ (names,
numbers) leaves this module: the answer is the zone's kind and how many check digits held.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Lengths of an MRZ line per format and how many lines it has.
FORMATS: dict[str, tuple[int, int]] = {"td1": (30, 3), "td2": (36, 2), "td3": (44, 2)}
#: A line may come out of the OCR this many characters short or long.
SLACK = 2
#: Lines longer than this are not MRZ lines (and are not looked at further).
MAX_LINE = 60
_WEIGHTS = (7, 3, 1)
_TO_DIGIT = str.maketrans("ODQILSBZGTA", "00011582674")
_FILLERS = str.maketrans({"«": "<<", "\u2039": "<", "≤": "<", "(": "<", "{": "<", "[": "<"})
_LINE = re.compile(r"^[A-Z0-9<]+$")
_MRZ_CHAR = re.compile(r"[A-Z0-9<]")
_OTHER = re.compile(r"[^A-Z0-9<]")
#: The least share of a line's characters that must be MRZ characters (upper case, digits,
#: ``<``) before the rest is taken for misread fillers.
MRZ_SHARE = 0.7


@dataclass(frozen=True)
class Mrz:
    """An MRZ found: its format and how many of its check digits were checked and held."""

    kind: str
    checked: int
    valid: int

    @property
    def verified(self) -> bool:
        """At least two check digits held and at most one failed (an OCR slip)."""
        return self.valid >= 2 and self.checked - self.valid <= 1


def check_digit(field: str) -> int:
    """The ICAO 9303 check digit of ``field`` (digits, ``A``–``Z``, ``<``)."""
    total = 0
    for i, ch in enumerate(field):
        if ch.isdigit():
            value = int(ch)
        elif "A" <= ch <= "Z":
            value = ord(ch) - 55
        else:
            value = 0
        total += value * _WEIGHTS[i % 3]
    return total % 10


def _holds(field: str, digit: str, *, numeric: bool) -> bool:
    """Whether ``digit`` is the check digit of ``field`` (numeric fields read with OCR
    confusions mapped to digits; other fields tried as read and so mapped)."""
    digit = digit.translate(_TO_DIGIT)
    if not digit.isdigit():  # an empty field's filler proves nothing
        return False
    wanted = int(digit)
    mapped = field.translate(_TO_DIGIT)
    if numeric:
        return check_digit(mapped) == wanted
    zeros = field.replace("O", "0").replace("Q", "0")
    return wanted in (check_digit(field), check_digit(zeros), check_digit(mapped))


def clean_line(line: str) -> str | None:
    """``line`` as an MRZ candidate (OCR fillers as ``<``, spaces dropped, any other character
    taken for a misread filler), or ``None`` when it is not one: too few MRZ characters, or
    no ``<<``."""
    squeezed = "".join(line.translate(_FILLERS).split())
    if not squeezed or "<<" not in squeezed:
        return None
    if len(_MRZ_CHAR.findall(squeezed)) < MRZ_SHARE * len(squeezed):
        return None
    return _OTHER.sub("<", squeezed)


def _fit(line: str, length: int) -> str | None:
    """``line`` made ``length`` long by shortening or widening its longest run of fillers
    (where the OCR loses or adds ``<``), or ``None`` when it is too far off."""
    surplus = len(line) - length
    if abs(surplus) > SLACK:
        return None
    if surplus == 0:
        return line
    runs = list(re.finditer(r"<+", line))
    if not runs:
        return None
    run = max(runs, key=lambda m: m.end() - m.start())
    if run.end() - run.start() <= surplus:
        return None
    fillers = "<" * (run.end() - run.start() - surplus)
    return line[: run.start()] + fillers + line[run.end() :]


def _checks(kind: str, lines: list[str]) -> tuple[int, int]:
    """(checked, valid) check digits of the lines of a ``kind`` MRZ."""
    if kind == "td1":
        one, two = lines[0], lines[1]
        fields = [
            (one[5:14], one[14], False),
            (two[0:6], two[6], True),
            (two[8:14], two[14], True),
            (one[5:30] + two[0:7] + two[8:15] + two[18:29], two[29], False),
        ]
    else:
        two = lines[1]
        end = 43 if kind == "td3" else 35
        fields = [
            (two[0:9], two[9], False),
            (two[13:19], two[19], True),
            (two[21:27], two[27], True),
            (two[0:10] + two[13:20] + two[21:end], two[end], False),
        ]
    valid = sum(_holds(field, digit, numeric=numeric) for field, digit, numeric in fields)
    return len(fields), valid


def find(text: str) -> Mrz | None:
    """The best MRZ in ``text`` (most check digits holding), or ``None``."""
    lines = [clean_line(raw) if len(raw) <= MAX_LINE * 2 else None for raw in text.splitlines()]
    candidates = [(i, line) for i, line in enumerate(lines) if line and 26 <= len(line) <= MAX_LINE]
    best: Mrz | None = None
    for pos, (i, first) in enumerate(candidates):
        for kind, (length, count) in FORMATS.items():
            group = [first]
            for j, line in candidates[pos + 1 : pos + count]:
                if j - i > 2 * count:  # the zone's lines follow one another
                    break
                group.append(line)
            fitted = [_fit(line, length) for line in group]
            if len(fitted) < count or any(f is None for f in fitted):
                continue
            found = [f for f in fitted if f is not None]
            if not all(_LINE.match(f) for f in found):
                continue
            checked, valid = _checks(kind, found)
            mrz = Mrz(kind, checked, valid)
            if best is None or mrz.valid > best.valid:
                best = mrz
    return best
