"""Document types: the labels applicants see for the codes in ``gateway.document_types``."""

from __future__ import annotations

#: German and English labels of the default catalogue.
LABELS: dict[str, tuple[str, str]] = {
    "kontoauszug": ("Kontoauszug", "Bank statement"),
    "mietvertrag": ("Mietvertrag", "Rental contract"),
    "lohnabrechnung": ("Lohnabrechnung", "Pay slip"),
    "ausweis": ("Ausweis", "ID card"),
    "bescheinigung": ("Bescheinigung", "Certificate"),
    "sonstiges": ("Sonstiges", "Other document"),
}


def label(code: str, lang: str = "de") -> str:
    """The label of a type in ``de`` or ``en``; a type without one is shown as its code."""
    de, en = LABELS.get(code, (code.replace("_", " ").capitalize(),) * 2)
    return en if lang == "en" else de


def describe(codes: tuple[str, ...]) -> list[dict[str, str]]:
    """``[{"code", "label_de", "label_en"}, …]`` for the page."""
    return [{"code": c, "label_de": label(c, "de"), "label_en": label(c, "en")} for c in codes]
