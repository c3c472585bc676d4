"""The OCR's language decision (``pipeline.languages``) with a fake reader, guesser and OSD."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from briefkasten.config import Settings
from briefkasten.config.ocr import OCR_LANGUAGES
from briefkasten.pipeline import languages
from briefkasten.tools import engine
from briefkasten.tools.langdetect import LINGUA, Guess

GERMAN = "Sehr geehrte Frau Jäger, Ihr Antrag auf Leistungen ist bei uns eingegangen."
POLISH = "Szanowna Pani Nowak, uprzejmie informujemy, ze Pani wniosek wplynal do naszego urzedu."
GARBAGE = "Nlsnngnns ll9 uuuugxe 3y, Tlrfrs O'rwl rkpvxm ]|| Kpzsnhs qwxlt Mmnrg crtl"
UKRAINIAN = "Шановна пані Мельник! Повідомляємо, що ваша заява отримана і буде розглянута."  # noqa: RUF001
ALL = frozenset(OCR_LANGUAGES)


@dataclass(frozen=True)
class Read:
    text: str
    confidence: float | None


class Fake:
    """Reads a page as ``pages[lang]`` and counts the passes; guesses from ``guesses``."""

    def __init__(self, pages: dict[str, Read], guesses: dict[str, Guess], script=None):
        self.pages, self.guesses, self.script_seen = pages, guesses, script
        self.passes: list[str] = []
        self.osd_runs = 0

    def read(self, lang: str) -> Read:
        self.passes.append(lang)
        return self.pages[lang]

    def guess(self, text: str) -> Guess:
        return self.guesses.get(text, Guess(None, 0.0))

    def script(self) -> tuple[str, float] | None:
        self.osd_runs += 1
        return self.script_seen

    def decide(self, allowed: frozenset[str] = ALL, base: str = "deu"):
        return languages.recognise(
            self.read, base=base, allowed=allowed, guess=self.guess, script=self.script
        )


def test_a_german_page_is_read_once_and_never_asks_osd() -> None:
    fake = Fake({"deu": Read(GERMAN, 95.0)}, {GERMAN: Guess("deu", 1.0)})
    decided = fake.decide()
    assert fake.passes == ["deu"] and fake.osd_runs == 0
    assert (decided.language, decided.lang, decided.passes) == ("deu", "deu", ("deu",))
    assert "read with deu" in decided.detail


def test_a_german_page_stays_german_when_lingua_is_unsure() -> None:
    fake = Fake({"deu": Read(GERMAN, 92.0)}, {GERMAN: Guess("pol", 0.55)})
    assert fake.decide().passes == ("deu",) and fake.osd_runs == 0


def test_a_polish_page_is_read_again_with_german_and_polish_without_osd() -> None:
    fake = Fake(
        {"deu": Read(POLISH, 89.0), "deu+pol": Read(POLISH + "!", 96.0)},
        {POLISH: Guess("pol", 1.0)},
    )
    decided = fake.decide()
    assert fake.passes == ["deu", "deu+pol"] and fake.osd_runs == 0
    assert (decided.language, decided.lang, decided.script) == ("pol", "deu+pol", "Latin")
    assert decided.reading.confidence == 96.0
    assert decided.detail.startswith("script Latin") and "pol (lingua 1.00)" in decided.detail


def test_a_language_outside_the_allowlist_is_not_chosen() -> None:
    fake = Fake({"deu": Read(POLISH, 89.0)}, {POLISH: Guess("pol", 1.0)})
    decided = fake.decide(allowed=frozenset({"deu", "ukr", "tur"}))
    assert fake.passes == ["deu"] and decided.language == "deu"


def test_only_the_base_language_allowed_means_no_detection() -> None:
    fake = Fake({"deu": Read(GARBAGE, 30.0)}, {}, script=("Cyrillic", 5.0))
    decided = fake.decide(allowed=frozenset({"deu"}))
    assert fake.passes == ["deu"] and fake.osd_runs == 0 and decided.lang == "deu"


def test_cyrillic_goes_to_osd_and_a_ukrainian_probe_that_lingua_confirms() -> None:
    fake = Fake(
        {"deu": Read(GARBAGE, 45.0), "deu+ukr": Read(UKRAINIAN, 96.0)},
        {GARBAGE: Guess("deu", 1.0), UKRAINIAN: Guess("ukr", 0.93)},
        script=("Cyrillic", 4.2),
    )
    decided = fake.decide()
    assert fake.passes == ["deu", "deu+ukr"] and fake.osd_runs == 1
    assert (decided.language, decided.script, decided.lang) == ("ukr", "Cyrillic", "deu+ukr")
    assert decided.detail == (
        "script Cyrillic (OSD 4.2), language ukr (lingua 0.93): read with deu+ukr"
    )


def test_russian_takes_a_third_pass_with_its_own_model() -> None:
    fake = Fake(
        {"deu": Read(GARBAGE, 45.0), "deu+ukr": Read("справка", 88.0), "deu+rus": Read("x", 96.0)},
        {"справка": Guess("rus", 1.0)},
        script=("Cyrillic", 7.8),
    )
    decided = fake.decide()
    assert fake.passes == ["deu", "deu+ukr", "deu+rus"]
    assert (decided.language, decided.lang) == ("rus", "deu+rus")


def test_the_probe_is_the_first_allowed_language_of_the_script() -> None:
    fake = Fake(
        {"deu": Read(GARBAGE, 20.0), "deu+fas": Read("گواهی", 87.0)},
        {"گواهی": Guess("fas", 1.0)},
        script=("Arabic", 30.0),
    )
    decided = fake.decide(allowed=frozenset({"deu", "fas", "ukr"}))
    assert fake.passes == ["deu", "deu+fas"] and decided.language == "fas"


def test_a_script_with_no_allowed_language_keeps_german() -> None:
    fake = Fake({"deu": Read(GARBAGE, 20.0)}, {}, script=("Arabic", 30.0))
    decided = fake.decide(allowed=frozenset({"deu", "ukr"}))
    assert fake.passes == ["deu"] and decided.language == "deu"
    assert "no allowed language of it" in decided.detail


def test_a_latin_page_whose_words_are_not_words_is_left_in_german() -> None:
    # e.g. upside down: the orientation verifier deals with it, not another language.
    fake = Fake({"deu": Read(GARBAGE, 35.0)}, {GARBAGE: Guess("tur", 1.0)}, script=("Latin", 3.0))
    decided = fake.decide()
    assert fake.passes == ["deu"] and fake.osd_runs == 1 and decided.language == "deu"
    assert decided.detail.startswith("script Latin (OSD 3.0), words not plausible")


def test_an_earlier_pass_with_clearly_better_confidence_is_kept() -> None:
    fake = Fake(
        {"deu": Read(POLISH, 93.0), "deu+pol": Read(POLISH, 80.0)}, {POLISH: Guess("pol", 0.9)}
    )
    decided = fake.decide()
    assert decided.passes == ("deu", "deu+pol") and decided.lang == "deu"
    assert decided.language == "deu" and "kept deu" in decided.detail


def test_too_little_text_is_not_judged() -> None:
    fake = Fake({"deu": Read("Seite 1", 90.0)}, {}, script=("Cyrillic", 1.0))
    assert fake.decide().passes == ("deu",) and fake.osd_runs == 0


def test_every_configurable_language_has_a_script_and_a_lingua_language() -> None:
    assert set(languages.SCRIPTS) == set(OCR_LANGUAGES) == set(LINGUA)
    assert all(code in languages.SCRIPTS for probes in languages.PROBES.values() for code in probes)


def test_with_base_does_not_repeat_the_base_language() -> None:
    assert languages.with_base("deu", "ukr") == "deu+ukr"
    assert languages.with_base("deu+eng", "eng") == "deu+eng"


@pytest.mark.parametrize(
    ("visual", "logical"),
    [("ةداهش", "شهادة"), (":یناشن", "نشانی:"), (".دش", "شد."), ("2021", "2021"), ("12ab", "12ab")],
)
def test_right_to_left_words_come_back_in_reading_order(visual: str, logical: str) -> None:
    assert engine.logical_order(visual) == logical


def test_the_allowlist_defaults_to_all_ten_and_a_tenant_narrows_it() -> None:
    from briefkasten.config.ocr import OcrSettings
    from briefkasten.config.settings import TenantSettings

    settings = Settings(tenants=(TenantSettings("nord", ocr_languages="ukr, rus"),))
    assert settings.ocr_languages_for("sued") == OCR_LANGUAGES
    assert settings.ocr_languages_for("nord") == ("ukr", "rus")
    assert OcrSettings(languages="deu,tur").allowed == ("deu", "tur")


@pytest.mark.parametrize(
    "text",
    [
        '[ocr]\nlanguages = "deu,xyz"\n',
        '[ocr]\nlanguages = ""\n',
        '[tenants.nord]\nocr_languages = "ukr,klingon"\n',
    ],
)
def test_an_unknown_ocr_language_is_a_config_error(tmp_path, text: str) -> None:
    from briefkasten import config
    from briefkasten.errors import ConfigError

    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="language"):
        config.load(path, environ={})


def test_a_known_allowlist_loads(tmp_path) -> None:
    from briefkasten import config

    path = tmp_path / "good.toml"
    path.write_text('[ocr]\nlanguages = "deu, ukr"\n[tenants.nord]\nocr_languages = "ara"\n')
    settings = config.load(path, environ={})
    assert settings.ocr.allowed == ("deu", "ukr")
    assert settings.ocr_languages_for("nord") == ("ara",)


def test_a_document_lists_german_first_then_its_pages_languages_in_order(tmp_path) -> None:
    from briefkasten.model import DocumentResult, PageResult

    def page(language: str | None) -> PageResult:
        return PageResult(
            "s", 0, "raster", tmp_path, "", 0, 0.0, False, 300.0, 90.0, (), (), language=language
        )

    pages = tuple(page(code) for code in ("ukr", None, "deu", "ukr", "ara"))
    result = DocumentResult(tmp_path, "0" * 64, "", "default", "1", (), pages)
    assert result.languages == ("deu", "ukr", "ara")
    assert result.report()["document"]["languages"] == ["deu", "ukr", "ara"]
    assert result.report()["pages"][0]["language"] == "ukr"


def test_the_languages_eval_class_holds_every_document_once_by_default() -> None:
    from samples import classes
    from samples.langtexts import DOCUMENTS

    plans = classes.plans_of(classes.select("languages"), 0, None)["languages"]
    kinds = [plan.kind for plan in plans]  # type: ignore[union-attr]
    assert len(kinds) == len(set(kinds)) == 3 * len(DOCUMENTS) == 30
    assert {k.split("-")[1] for k in kinds} == set(OCR_LANGUAGES)
    assert len(classes.plans_of(classes.select("skew"), 0, None)["skew"]) == classes.DEFAULT_COUNT


def test_every_sample_document_renders_with_its_text() -> None:
    from samples.langpages import render

    image, text = render("fas", 2, dpi=50)
    assert image.size == (413, 585) and "گذرنامه" in text


def test_a_born_digital_text_is_named_only_when_lingua_is_sure() -> None:
    sure = {POLISH: Guess("pol", 0.97)}.get
    assert languages.text_language(POLISH, lambda t: sure(t) or Guess(None, 0.0)) == "pol"
    assert languages.text_language(POLISH, lambda t: Guess("pol", 0.6)) is None
    assert languages.text_language("Seite 1", lambda t: Guess("deu", 1.0)) is None
