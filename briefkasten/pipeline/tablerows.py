"""A table that Tesseract read column by column, put back together row by row.

Tesseract's layout analysis takes a table for columns of text when it misses the table: on a
bank statement it then reads all dates, then all booking texts, then all amounts. Whether it
finds the table is fragile; a rule that fades when the copy is shrunk, a dark scanner bed or a
shadow decides it. The lines it returns are right either way, and their geometry shows the
rows: a narrow column of figures (dates, amounts) whose lines sit on the baselines of the
lines of the block beside it.

``merge_rows`` joins lines of different blocks that sit on one baseline into one row, for
every pair of blocks that shares at least ``MIN_ROWS`` rows and of which one is a column of
figures: at most ``NARROW`` of the text's width, and most of its lines (``FIGURES``) starting
with a figure (a word at least half digits: a date, an amount, a number). The blocks so
joined are one table: its rows, and the lines of its blocks that have no partner (a booking's
second line), are read top to bottom where the table's first line stood.
Text columns stay apart (prose does not start its lines with figures), and so do a letter's
address and contact blocks (``Telefon: 0471 …`` starts with its label).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from briefkasten.model import OcrLine
from briefkasten.pipeline.textrows import BASELINE_BAND, SIZE_BAND, baseline_at, joined

#: Rows two blocks must share to be columns of one table.
MIN_ROWS = 3
#: The narrower of the two blocks is at most this share of the text's width.
NARROW = 0.35
#: Share of the narrow block's lines that must start with a figure.
FIGURES = 2 / 3
#: The widest gap (text heights) between two cells of one row.
MAX_CELL_GAP = 40.0
#: Lines beyond which a page is left in Tesseract's order (the search is quadratic at worst:
#: every line on one baseline).
MAX_LINES = 2000


class _Sets:
    """Union-find over integers."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(x, x) != root:  # path compression, bounded by the chain
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _left_partners(lines: Sequence[OcrLine]) -> dict[int, int | None]:
    """For each line, the nearest line of another block ending left of it on its baseline."""
    starts = [baseline_at(line, float(line.box[0])) for line in lines]
    by_height = sorted(range(len(lines)), key=lambda k: starts[k])
    found: dict[int, int | None] = {}
    for position, j in enumerate(by_height):
        line, best, best_gap = lines[j], None, float("inf")
        reach = 2.0 * line.size  # baselines further apart cannot match, whatever the slope
        for step in (-1, 1):
            k = position + step
            while 0 <= k < len(by_height) and abs(starts[by_height[k]] - starts[j]) <= reach:
                i, k = by_height[k], k + step
                other = lines[i]
                size = max(line.size, other.size)
                gap = line.box[0] - other.box[2]
                if (
                    other.block == line.block
                    or abs(line.size - other.size) > SIZE_BAND * size
                    or not -0.5 * size <= gap <= MAX_CELL_GAP * size
                    or gap >= best_gap
                ):
                    continue
                x = float(line.box[0])
                if abs(baseline_at(line, x) - baseline_at(other, x)) <= BASELINE_BAND * size:
                    best, best_gap = i, gap
        found[j] = best
    return found


def merge_rows(lines: Sequence[OcrLine]) -> list[OcrLine]:
    """``lines`` with every table read by columns joined into rows (see the module's text);
    the same lines, in the same order, when there is none."""
    upright = [line for line in lines if line.angle == 0 and line.words]
    if not 2 * MIN_ROWS <= len(upright) == len(lines) <= MAX_LINES:
        return list(lines)  # (a page with turned lines keeps Tesseract's order)
    partners = _left_partners(lines)
    joined_pairs = _table_pairs(lines, partners)
    if not joined_pairs:
        return list(lines)
    tables = _Sets()
    for a, b in joined_pairs:
        tables.union(a, b)
    in_table = {block for pair in joined_pairs for block in pair}
    rows = _Sets()
    for j, i in partners.items():
        if i is not None and (lines[i].block, lines[j].block) in joined_pairs:
            rows.union(i, j)
    return _reassembled(lines, in_table, tables, rows)


def _starts_with_figure(line: OcrLine) -> bool:
    """Whether the line's first word is a figure: at least half of it digits."""
    first = line.words[0].text
    digits = sum(c.isdigit() for c in first)
    return digits > 0 and 2 * digits >= len(first)


class _Blocks:
    """Tesseract's blocks as boxes around their lines, and how many lines each has."""

    def __init__(self, lines: Sequence[OcrLine]) -> None:
        self.box: dict[int, list[int]] = {}
        self.lines = Counter(line.block for line in lines)
        self.figures = Counter(line.block for line in lines if _starts_with_figure(line))
        for line in lines:
            box = self.box.setdefault(line.block, list(line.box))
            box[0], box[1] = min(box[0], line.box[0]), min(box[1], line.box[1])
            box[2], box[3] = max(box[2], line.box[2]), max(box[3], line.box[3])
        self.width = max(b[2] for b in self.box.values()) - min(b[0] for b in self.box.values())

    def _narrow(self, block: int) -> bool:
        return self.box[block][2] - self.box[block][0] <= NARROW * self.width

    def narrow(self, pair: tuple[int, int]) -> bool:
        """Whether one block of ``pair`` is narrow (a column)."""
        return any(self._narrow(b) for b in pair)

    def figures_column(self, pair: tuple[int, int]) -> bool:
        """Whether one block of ``pair`` is a narrow column mostly of figures."""
        return any(self._narrow(b) and self.figures[b] >= FIGURES * self.lines[b] for b in pair)

    def span(self, blocks: set[int]) -> tuple[int, int]:
        return min(self.box[b][1] for b in blocks), max(self.box[b][3] for b in blocks)


def _table_pairs(lines: Sequence[OcrLine], partners: dict[int, int | None]) -> set[tuple[int, int]]:
    """The (left, right) block pairs whose shared rows are a table's.

    A pair sharing ``MIN_ROWS`` rows, one of them a column of figures, starts a table.
    Tesseract often cuts a table's column into several blocks (one per run of rows), so a
    column of figures sharing a row with a block of a table joins it, and so does a row of
    narrow one-line blocks right above or below a table (its head or its sum)."""
    blocks = _Blocks(lines)
    votes: Counter[tuple[int, int]] = Counter()
    first: dict[tuple[int, int], OcrLine] = {}  # a pair's first shared row (its right line)
    for j, i in partners.items():
        if i is not None:
            pair = (lines[i].block, lines[j].block)
            votes[pair] += 1
            first.setdefault(pair, lines[j])
    chosen = {pair for pair, n in votes.items() if n >= MIN_ROWS and blocks.figures_column(pair)}
    for _ in range(len(votes)):  # bounded: each round adds a pair or stops
        members = {b for p in chosen for b in p}
        more = {
            pair
            for pair in votes
            if pair not in chosen and blocks.narrow(pair) and _joins(pair, members, blocks, first)
        }
        if not more:
            break
        chosen |= more
    return chosen


def _joins(
    pair: tuple[int, int],
    members: set[int],
    blocks: _Blocks,
    first: dict[tuple[int, int], OcrLine],
) -> bool:
    """Whether ``pair`` belongs to the tables made of the blocks ``members``: it shares a block
    with them and has a column of figures, or it is a row of one-line blocks within three text
    heights of their top or bottom (a table's head, which has no figures)."""
    if not members:
        return False
    if pair[0] in members or pair[1] in members:
        return blocks.figures_column(pair)
    if blocks.lines[pair[0]] != 1 or blocks.lines[pair[1]] != 1:
        return False
    top, bottom = blocks.span(members)
    line = first[pair]
    return top - 3 * line.size <= line.box[1] and line.box[3] <= bottom + 3 * line.size


def _reassembled(
    lines: Sequence[OcrLine], in_table: set[int], tables: _Sets, rows: _Sets
) -> list[OcrLine]:
    """Each table's rows (cells left to right) top to bottom at its first line's place."""
    members: dict[int, dict[int, list[int]]] = {}  # table -> row -> line indices
    for index, line in enumerate(lines):
        if line.block in in_table:
            table = tables.find(line.block)
            members.setdefault(table, {}).setdefault(rows.find(index), []).append(index)
    out: list[OcrLine] = []
    done: set[int] = set()
    for line in lines:
        if line.block not in in_table:
            out.append(line)
            continue
        table = tables.find(line.block)
        if table in done:
            continue
        done.add(table)
        merged = []
        for cells in members[table].values():
            ordered = sorted((lines[k] for k in cells), key=lambda c: c.box[0])
            row = ordered[0]
            for cell in ordered[1:]:
                row = joined(row, cell)
            merged.append(row)
        merged.sort(key=lambda row: baseline_at(row, float(row.box[0])))
        out.extend(merged)
    return out


def text_of(lines: Sequence[OcrLine]) -> str:
    """Plain text in the lines' order: one line per line, a blank line between paragraphs."""
    parts: list[str] = []
    previous: tuple[int, int] | None = None
    for line in lines:
        where = (line.block, line.paragraph)
        if previous is not None and where != previous:
            parts.append("")
        parts.append(" ".join(word.text for word in line.words))
        previous = where
    return "\n".join(parts) + ("\n" if parts else "")
