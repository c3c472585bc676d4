"""The figures of the ``languages`` class: CER per language and script, and how often the
page's language and script were told right (``make eval``'s ``languages.*`` lines)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from briefkasten.pipeline.languages import SCRIPTS
from samples.extract import TOOLS
from samples.langtexts import LANGUAGES
from samples.runs import OCR_TEXT


def language_figures(scores: Sequence[Any]) -> dict[str, float | None]:
    """For the scores whose truth names a language: ``cer_<lang>`` and ``cer_<script>`` of
    the text the ``--after`` run delivers (``document.txt``: the OCR's text, in reading
    order), per script also ``cer_<script>_<tool>`` of the PDF's text layer read by every
    extractor, ``language_accuracy`` (the report's page language is the truth's) and
    ``script_accuracy`` (it is of the truth's script)."""
    ours = [s for s in scores if s.entry.get("language")]
    if not ours:
        return {}
    figures: dict[str, float | None] = {}
    groups = {lang: [s for s in ours if s.entry["language"] == lang] for lang in LANGUAGES}
    for script in sorted(set(SCRIPTS.values())):
        groups[script.lower()] = [s for s in ours if SCRIPTS[s.entry["language"]] == script]
    for name, group in groups.items():
        tools = (OCR_TEXT, *(TOOLS if name not in LANGUAGES else ()))
        for tool in tools:
            pairs = [s.errors(s.after, tool=tool) for s in group]
            total = sum(n for _, n in pairs)
            key = f"cer_{name}" if tool == OCR_TEXT else f"cer_{name}_{tool}"
            figures[key] = sum(d for d, _ in pairs) / total if total else None
    told = [s.after.language for s in ours]
    figures["language_accuracy"] = sum(
        got == s.entry["language"] for got, s in zip(told, ours, strict=True)
    ) / len(ours)
    figures["script_accuracy"] = sum(
        got is not None and SCRIPTS.get(got) == SCRIPTS[s.entry["language"]]
        for got, s in zip(told, ours, strict=True)
    ) / len(ours)
    return figures
