"""Document types: the labels applicants see for the codes in ``gateway.document_types`` (or
a tenant's ``document_types``; its ``document_type_labels`` add to and override these).

The built-in types are named in every applicant language (``type.<code>`` in the catalogues of
``briefkasten.i18n``). A tenant's own labels come in German and English only: German pages show
the German one, every other language the English one (no better guess exists).
"""

from __future__ import annotations

from collections.abc import Mapping

from briefkasten import i18n

#: The codes the catalogues name.
BUILT_IN: frozenset[str] = frozenset(i18n.section(i18n.DEFAULT, "type"))


def label(code: str, lang: str = "de", labels: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The label of a type in ``lang`` (``labels``: a tenant's own ``(de, en)``, first); a type
    without one is shown as its code."""
    own = (labels or {}).get(code)
    if own is not None:
        return own[0] if lang == "de" else own[1]
    if code in BUILT_IN:
        return i18n.text(lang, f"type.{code}")
    return code.replace("_", " ").capitalize()


def describe(
    codes: tuple[str, ...], labels: Mapping[str, tuple[str, str]] | None = None
) -> list[dict[str, object]]:
    """``[{"code", "label_de", "label_en", "labels": {lang: label}}, …]`` for the page."""
    return [
        {
            "code": c,
            "label_de": label(c, "de", labels),
            "label_en": label(c, "en", labels),
            "labels": {lang: label(c, lang, labels) for lang in i18n.LANGUAGES},
        }
        for c in codes
    ]
