"""Which language a page is in, and which Tesseract models read it: the decision, cheapest first.

Every page is read first with the configured language (``ocr.lang``, ``deu``). A German page
stops there: its words are plausible (``wordcheck.readability``, under a millisecond), the
pass was confident and lingua (under a millisecond on a page) does not say, with confidence,
that it is another allowed language. That is the whole extra cost of a German page.

Otherwise, in order:

- plausible words of another Latin-script language (Polish, Turkish, Romanian, English read
  by the German model lose only their diacritics, and lingua recognises them at once): read
  again with German plus that language (``deu+pol``); no script detection is needed;
- words that are not words (Cyrillic or Arabic script read as Latin look-alikes, confidence
  ~20–60): Tesseract's OSD names the script, a pass with German plus the first allowed
  language of that script (``PROBES``: Ukrainian for Cyrillic, Arabic for Arabic script) reads
  it well enough for lingua to tell uk from ru/bg and ar from fa (measured: right on every
  generated page, whichever of the script's models read it), and only when lingua names
  another language is the page read a third time with that one.

The last pass is kept, unless the first read the page with clearly better mean confidence
(a German page wrongly sent on keeps its German reading). ``allowed`` bounds every choice
(``ocr.languages``, per tenant ``ocr_languages``). The functions take the reader, the
language guesser and the script detector as arguments, so the decision is tested with fakes
(tests/unit/test_languages.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from briefkasten.pipeline.wordcheck import readability
from briefkasten.tools.langdetect import Guess

#: Every Tesseract language the pipeline may read, and its script as Tesseract's OSD names it.
SCRIPTS: dict[str, str] = {
    "deu": "Latin",
    "eng": "Latin",
    "pol": "Latin",
    "tur": "Latin",
    "ron": "Latin",
    "ukr": "Cyrillic",
    "rus": "Cyrillic",
    "bul": "Cyrillic",
    "ara": "Arabic",
    "fas": "Arabic",
}
SUPPORTED: tuple[str, ...] = tuple(SCRIPTS)
#: Per script, the languages a probe pass reads it with, first allowed one first.
PROBES: dict[str, tuple[str, ...]] = {
    "Cyrillic": ("ukr", "rus", "bul"),
    "Arabic": ("ara", "fas"),
}
#: Below these, the first pass's words are not taken as plausible text.
MIN_SCORE = 0.6
MIN_CONFIDENCE = 70.0
MIN_TOKENS = 5
#: Lingua's confidence (0–1) needed to send a plausible page on to another language.
MIN_GUESS = 0.8


class Reading(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def confidence(self) -> float | None: ...


R = TypeVar("R", bound=Reading)
ScriptDetector = Callable[[], tuple[str, float] | None]


@dataclass(frozen=True)
class Decision(Generic[R]):
    """The reading kept, the page's language and script, the models of every pass in order
    and why (the step's detail)."""

    reading: R
    lang: str
    language: str
    script: str
    passes: tuple[str, ...]
    detail: str


def codes(lang: str) -> tuple[str, ...]:
    """``deu+eng`` → ``("deu", "eng")``."""
    return tuple(code for code in lang.split("+") if code)


def with_base(base: str, language: str) -> str:
    """The model string that reads ``language`` next to the base language(s)."""
    return base if language in codes(base) else f"{base}+{language}"


def text_language(text: str, guess: Callable[[str], Guess]) -> str | None:
    """The language of a born-digital page's own text, when lingua is sure (>= ``MIN_GUESS``)
    and there are at least ``MIN_TOKENS`` words; ``None`` otherwise."""
    if len(text.split()) < MIN_TOKENS:
        return None
    found = guess(text)
    return found.language if found.confidence >= MIN_GUESS else None


def recognise(
    read: Callable[[str], R],
    *,
    base: str,
    allowed: frozenset[str],
    guess: Callable[[str], Guess],
    script: ScriptDetector,
) -> Decision[R]:
    """Read the page with ``base``, and with German plus another language when the first
    pass says it is not German (see the module's text); ``allowed`` bounds the choice."""
    home = codes(base)
    first = read(base)
    others = sorted(allowed - set(home))
    if not others:
        return Decision(first, base, home[0], "", (base,), f"read with {base}")
    found = guess(first.text)
    words = readability(first.text, first.confidence)
    said = _said(found)
    if words.tokens < MIN_TOKENS:
        return Decision(
            first,
            base,
            home[0],
            "",
            (base,),
            f"too few words to tell the language: read with {base}",
        )
    plausible = words.score >= MIN_SCORE and (first.confidence or 0.0) >= MIN_CONFIDENCE
    confident = found.language is not None and found.confidence >= MIN_GUESS
    if plausible and not (confident and found.language in others):
        language = found.language if found.language in home else home[0]
        why = f"words plausible ({words.summary()}), {said}"
        return Decision(first, base, language, "Latin", (base,), f"{why}: read with {base}")
    if plausible and found.language is not None and SCRIPTS.get(found.language) == "Latin":
        lang = with_base(base, found.language)
        why = f"script Latin (first pass confidence {first.confidence or 0:.0f}), language {said}"
        return _best([(base, first), (lang, read(lang))], found.language, "Latin", why)
    seen = script()
    if seen is None:
        why = f"words not plausible ({words.summary()}), no script found"
        return Decision(first, base, home[0], "", (base,), f"{why}: read with {base}")
    name, confidence = seen
    probes = [code for code in PROBES.get(name, ()) if code in allowed]
    if not probes:
        why = f"script {name} (OSD {confidence:.1f}), " + (
            f"words not plausible ({words.summary()})"
            if name == "Latin"  # upside down, a poor photo: the orientation check's concern
            else "no allowed language of it"
        )
        return Decision(first, base, home[0], name, (base,), f"{why}: read with {base}")
    probe = with_base(base, probes[0])
    probed = read(probe)
    second = guess(probed.text)
    language = second.language if second.language in probes else probes[0]
    passes = [(base, first), (probe, probed)]
    if language != probes[0]:
        lang = with_base(base, language)
        passes.append((lang, read(lang)))
    why = f"script {name} (OSD {confidence:.1f}), language {_said(second)}"
    return _best(passes, language, name, why)


def _said(found: Guess) -> str:
    if found.language is None:
        return "lingua unsure"
    return f"{found.language} (lingua {found.confidence:.2f})"


def _best(passes: Sequence[tuple[str, R]], language: str, script: str, why: str) -> Decision[R]:
    """The last pass, unless the first (German) one read the page with clearly better
    confidence. Only against the first: the confidences of two models of one script are not
    comparable (the Arabic model reads a Persian page more confidently and worse)."""
    lang, reading = passes[-1]
    models = tuple(model for model, _ in passes)
    first_lang, first = passes[0]
    if (first.confidence or 0.0) > (reading.confidence or 0.0) + 1.0:
        kept = (
            f"read with {', '.join(models)}; kept {first_lang} (confidence {first.confidence:.0f})"
        )
        home = codes(first_lang)[0]
        return Decision(first, first_lang, home, script, models, f"{why}: {kept}")
    return Decision(reading, lang, language, script, models, f"{why}: read with {lang}")
