"""How ``make eval`` prints its figures: a table per class and ``eval NAME VALUE`` lines."""

from __future__ import annotations

from collections.abc import Mapping

#: Figures that count things (printed as integers).
COUNTS = ("pages", "files", "failures", "deskew_pages")
#: The per-class table's columns: (heading, figure, format).
COLUMNS = (
    ("pages", "pages", "d"),
    ("fail", "failures", "d"),
    ("skew_mean", "deskew_mean_error_deg", ".2f"),
    ("skew_max", "deskew_max_error_deg", ".2f"),
    ("orient", "orientation_accuracy", ".2f"),
    ("files", "files", "d"),
    ("f_orient", "file_orientation_accuracy", ".2f"),
    ("cer_before", "cer_before", ".3f"),
    ("cer_after", "cer_after", ".3f"),
    ("plain", "cer_plain", ".3f"),
    ("layout", "cer_layout", ".3f"),
    ("raw", "cer_raw", ".3f"),
    ("pdfminer", "cer_pdfminer", ".3f"),
    ("pypdf", "cer_pypdf", ".3f"),
    ("pdfium", "cer_pdfium", ".3f"),
    ("s/page", "seconds_per_page_after", ".1f"),
)

Summary = Mapping[str, float | None]


def fmt(value: float | None, spec: str = ".2f") -> str:
    """``value`` formatted, ``-`` for a figure without data."""
    if value is None:
        return "-"
    return format(int(value), spec) if spec == "d" else format(value, spec)


def class_table(summaries: Mapping[str, Summary], overall: Summary | None = None) -> str:
    """One row per class (and ``all`` for ``overall``): pages, deskew error (degrees, where the
    skew is known), orientation accuracy per page, files and the share of files with every
    page upright, CER before/after and CER of each extraction tool."""
    widths = [max(len(head), 6) for head, _, _ in COLUMNS]
    head = f"{'class':<14}" + " ".join(
        f"{h:>{w}}" for (h, _, _), w in zip(COLUMNS, widths, strict=True)
    )
    rows = [head, "-" * len(head)]
    named = list(summaries.items()) + ([("all", overall)] if overall is not None else [])
    for name, summary in named:
        cells = [
            f"{fmt(summary.get(key), spec):>{w}}"
            for (_, key, spec), w in zip(COLUMNS, widths, strict=True)
        ]
        rows.append(f"{name:<14}" + " ".join(cells))
    return "\n".join(rows)


def report_lines(summary: Summary, *, prefix: str = "") -> list[str]:
    """``eval PREFIXNAME VALUE`` lines (``-`` for figures without data)."""
    lines = []
    for name, value in summary.items():
        spec = "d" if name in COUNTS else ".3f"
        lines.append(f"eval {prefix}{name} {fmt(value, spec)}")
    return lines
