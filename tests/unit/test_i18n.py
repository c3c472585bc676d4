"""The applicant catalogues: every key in every language, the same placeholders, plain files."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from briefkasten import i18n

OTHERS = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]
#: Texts that are the same in every language on purpose (codes and formats).
SAME_EVERYWHERE: frozenset[str] = frozenset()


def test_ten_languages_each_with_a_catalogue_and_a_name() -> None:
    assert i18n.LANGUAGES[0] == "de"
    assert len(i18n.LANGUAGES) == 10
    for lang in i18n.LANGUAGES:
        assert (i18n.LOCALES / f"{lang}.po").is_file()
        assert i18n.NAMES[lang]
    assert i18n.direction("ar") == i18n.direction("fa") == "rtl"
    assert {i18n.direction(lang) for lang in OTHERS if lang not in i18n.RTL} == {"ltr"}


def plural_forms(lang: str) -> dict[str, str]:
    """The ``<key>#<category>`` entries of ``lang``'s catalogue, by their full key."""
    return {k: k.partition("#")[0] for k in i18n.own_keys(lang) if "#" in k}


@pytest.mark.parametrize("lang", OTHERS)
def test_every_key_of_german_is_translated(lang: str) -> None:
    reference = i18n.own_keys("de")
    own = i18n.own_keys(lang) - set(plural_forms(lang))
    assert sorted(reference - own) == [], f"{lang} lacks these keys"
    assert sorted(own - reference) == [], f"{lang} has keys German does not have"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_plural_forms_name_a_key_and_a_category_of_the_language(lang: str) -> None:
    categories = {i18n.plural_category(lang, n) for n in range(0, 1000)}
    for key, base in plural_forms(lang).items():
        assert base in i18n.own_keys("de"), key
        assert key.partition("#")[2] in categories, key


def test_plural_picks_the_form_of_the_number() -> None:
    assert i18n.plural("ar", "receipt.pages", 5) == i18n.text("ar", "receipt.pages")
    assert i18n.plural("ar", "receipt.pages", 11) == i18n.text("ar", "receipt.pages#many")
    assert i18n.plural("ar", "receipt.pages", 100) == i18n.text("ar", "receipt.pages#other")
    assert i18n.plural("de", "receipt.pages", 11) == "Seiten"  # no forms: the key itself
    assert i18n.plural("xx", "page.page_n", 3) == "Seite 3"


@pytest.mark.parametrize("lang", OTHERS)
def test_placeholders_match_german(lang: str) -> None:
    german = i18n.catalogue("de")
    own = i18n.catalogue(lang)
    wrong = {
        key: (sorted(i18n.placeholders(german[base])), sorted(i18n.placeholders(text)))
        for key, text in own.items()
        for base in [key.partition("#")[0]]
        if i18n.placeholders(text) != i18n.placeholders(german[base])
    }
    assert wrong == {}


@pytest.mark.parametrize("lang", OTHERS)
def test_translations_are_not_german_copies(lang: str) -> None:
    """A catalogue that copies German for most keys is not a translation. Short labels may
    coincide (``PDF``, ``SHA-256``), whole sentences do not."""
    german = i18n.catalogue("de")
    own = i18n.catalogue(lang)
    copied = [
        key
        for key in i18n.own_keys(lang) - set(plural_forms(lang))
        if own[key] == german[key] and len(german[key]) > 24 and key not in SAME_EVERYWHERE
    ]
    assert copied == []


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_catalogue_file_is_clean(lang: str) -> None:
    """No fuzzy or obsolete entries, the right Language header, no HTML in any text."""
    with (i18n.LOCALES / f"{lang}.po").open("rb") as handle:
        po = read_po(handle, locale=lang)
    assert str(po.locale).split("_")[0] == lang
    assert not po.obsolete
    assert [m.id for m in po if m.id and m.fuzzy] == []
    assert [m.id for m in po if m.id and re.search(r"<[a-z/!]", str(m.string))] == []


def test_text_fills_placeholders_and_falls_back_to_german() -> None:
    assert i18n.text("de", "page.page_n", n=3) == "Seite 3"
    assert i18n.text("xx", "page.page_n", n=3) == "Seite 3"  # unknown language: German
    assert i18n.fill("{a} {b}", a=1) == "1 {b}"
    with pytest.raises(KeyError):
        i18n.text("de", "page.no_such_key")


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        ("uk", "de", "uk"),
        ("xx", "ar-SY,ar;q=0.9", "ar"),
        (None, "fr-FR, ru;q=0.5, uk;q=0.8", "uk"),
        (None, "fa-IR;q=0", "de"),  # q=0: "not acceptable"
        (None, "", "de"),
        (None, "tr;q=abc, pl;q=0.1", "pl"),
        (None, ",".join(["fr"] * 20 + ["ru"]), "de"),  # only the first 20 entries count
    ],
)
def test_negotiate(query: str | None, header: str, expected: str) -> None:
    assert i18n.negotiate(query, header) == expected
