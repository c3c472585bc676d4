"""Document types: the labels applicants see for the codes in ``gateway.document_types`` (or
a tenant's ``document_types``; its ``document_type_labels`` add to and override these)."""

from __future__ import annotations

from collections.abc import Mapping

#: German and English labels of the default catalogue.
LABELS: dict[str, tuple[str, str]] = {
    "kontoauszug": ("Kontoauszug", "Bank statement"),
    "mietvertrag": ("Mietvertrag", "Rental contract"),
    "lohnabrechnung": ("Lohnabrechnung", "Pay slip"),
    "ausweis": ("Ausweis", "ID card"),
    "bescheinigung": ("Bescheinigung", "Certificate"),
    "sonstiges": ("Sonstiges", "Other document"),
}


def label(code: str, lang: str = "de", labels: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The label of a type in ``de`` or ``en`` (``labels``: a tenant's own, first); a type
    without one is shown as its code."""
    known = {**LABELS, **(labels or {})}
    de, en = known.get(code, (code.replace("_", " ").capitalize(),) * 2)
    return en if lang == "en" else de


def describe(
    codes: tuple[str, ...], labels: Mapping[str, tuple[str, str]] | None = None
) -> list[dict[str, str]]:
    """``[{"code", "label_de", "label_en"}, …]`` for the page."""
    return [
        {"code": c, "label_de": label(c, "de", labels), "label_en": label(c, "en", labels)}
        for c in codes
    ]
