"""The applicant's languages: one gettext catalogue per language, the choice of language, and
the writing direction.

Every text an applicant reads — the upload page, the start page, error messages, the advice on
a photo, the document types, the receipt on screen and as PDF, the "Einfach erklärt" page — is
looked up here by key (``page.title``, ``error.link_expired``) in ``locales/<lang>.po``, read
with Babel once per process. German (``de``) is the default and the reference: a key missing in
another catalogue falls back to German (the test suite makes sure none is missing). Texts hold
``{name}`` placeholders, filled in as text (never as HTML) by whoever shows them.

Where a word agrees with a number, a catalogue may hold one text per CLDR plural category of its
language as ``<key>#<category>`` (``receipt.pages#many``); ``plural`` picks it, else ``<key>``.

Only this package knows the languages; it imports nothing else of Briefkasten, so every layer
(errors, pipeline, gateway) may use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from babel.core import Locale
from babel.messages.pofile import read_po

LOCALES = Path(__file__).parent / "locales"
#: The applicant languages, German first (the default and the reference).
LANGUAGES: tuple[str, ...] = ("de", "en", "uk", "ru", "ar", "fa", "tr", "ro", "bg", "pl")
DEFAULT = "de"
#: Each language's name in its own language, for the language menu.
NAMES: Mapping[str, str] = {
    "de": "Deutsch",
    "en": "English",
    "uk": "Українська",
    "ru": "Русский",
    "ar": "العربية",
    "fa": "فارسی",
    "tr": "Türkçe",
    "ro": "Română",
    "bg": "Български",
    "pl": "Polski",
}
#: Languages written right to left.
RTL = frozenset({"ar", "fa"})
#: ``Accept-Language`` entries looked at (a hostile header may list thousands).
MAX_ACCEPT_LANGUAGE_ENTRIES = 20
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def direction(lang: str) -> str:
    """``rtl`` or ``ltr``: the value of the page's ``dir`` attribute."""
    return "rtl" if lang in RTL else "ltr"


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """Every text of ``lang`` by key, German where ``lang`` lacks one (``KeyError`` for a
    language we do not have)."""
    if lang not in LANGUAGES:
        raise KeyError(lang)
    own = _read(lang)
    return own if lang == DEFAULT else {**catalogue(DEFAULT), **own}


def own_keys(lang: str) -> frozenset[str]:
    """The keys ``lang``'s catalogue itself translates (no fallback): for the tests."""
    return frozenset(_read(lang))


def text(lang: str, key: str, **values: object) -> str:
    """The text ``key`` in ``lang`` (German for a language we do not have), its placeholders
    filled with ``values``; ``KeyError`` for a key no catalogue has."""
    found = catalogue(lang if lang in LANGUAGES else DEFAULT)[key]
    return fill(found, **values) if values else found


def plural(lang: str, key: str, n: int, **values: object) -> str:
    """The text ``key`` for the number ``n`` in ``lang``: ``<key>#<category>`` (the CLDR plural
    category of ``n`` in ``lang``: zero, one, two, few, many, other) where the catalogue has
    it, else ``<key>``; ``{n}`` and ``values`` filled in."""
    lang = lang if lang in LANGUAGES else DEFAULT
    texts = catalogue(lang)
    found = texts.get(f"{key}#{plural_category(lang, n)}", texts[key])
    return fill(found, n=n, **values)


def plural_category(lang: str, n: int) -> str:
    """The CLDR plural category of ``n`` in ``lang``."""
    return str(Locale.parse(lang).plural_form(n))


def fill(template: str, **values: object) -> str:
    """``template`` with each ``{name}`` replaced by ``values[name]`` (others left as they are)."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m[1], m[0])), template)


def placeholders(template: str) -> frozenset[str]:
    """The placeholder names in ``template``."""
    return frozenset(_PLACEHOLDER.findall(template))


def section(lang: str, prefix: str) -> dict[str, str]:
    """The texts whose key starts with ``prefix.``, keyed without it (``page.title``:
    ``title``)."""
    start = prefix + "."
    return {k[len(start) :]: v for k, v in catalogue(lang).items() if k.startswith(start)}


def negotiate(query: str | None, accept_language: str) -> str:
    """``?lang=`` if it names a language we have, else the best of ``Accept-Language`` (its
    first ``MAX_ACCEPT_LANGUAGE_ENTRIES`` entries), else German."""
    if query in LANGUAGES:
        return query
    best, best_q = DEFAULT, 0.0
    for entry in accept_language.split(",")[:MAX_ACCEPT_LANGUAGE_ENTRIES]:
        tag, _, params = entry.partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


@cache
def _read(lang: str) -> dict[str, str]:
    with (LOCALES / f"{lang}.po").open("rb") as handle:
        po = read_po(handle, locale=lang)
    return {str(m.id): str(m.string) for m in po if m.id and m.string}
