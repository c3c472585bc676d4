"""The applicant pages in every language, in a real browser (Debian's chromium via Playwright).

For each of the ten languages: the upload flow (a photo, review, send, receipt) works with that
language's texts, axe finds no violations, nothing overflows at 320 px, and on Arabic and
Persian pages the layout is mirrored while the BG-Nummer and the checksums read left to right.
The language menu switches in place, into and out of right-to-left, keeping what was added.
``BRIEFKASTEN_SCREENSHOTS=1`` writes the Ukrainian and Arabic states to ``docs/screenshots/``.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from briefkasten import i18n
from briefkasten.catalogue import label
from tests.e2e import test_browser as base
from tests.e2e.test_browser import (
    PHONE,
    SCREENSHOTS,
    TAKE_SCREENSHOTS,
    TENANT,
    Gateway,
    Photos,
    choose_language,
    no_horizontal_scrolling,
    small_targets,
)

pytestmark = pytest.mark.slow

# The fixtures of the German browser tests: the gateway, chromium, a page, the photos.
browser = base.browser
gateway = base.gateway
page = base.page
photos = base.photos

SCREENSHOT_LANGUAGES = ("uk", "ar")


def t(lang: str, key: str, **values: object) -> str:
    return i18n.text(lang, f"page.{key}", **values)


def check(page: Any, lang: str, state: str) -> None:
    """No axe violation at all, no horizontal scrolling at 320 px, no small targets; a
    screenshot of the Ukrainian and Arabic states when asked for."""
    base.scan(page, f"{lang}-{state}", screenshot=False)
    violations = base.Axe().run(page).response["violations"]
    assert [v["id"] for v in violations] == [], f"{lang} {state}"
    assert small_targets(page) == [], f"{lang} {state}"
    page.set_viewport_size({"width": 320, "height": 640})
    assert no_horizontal_scrolling(page), f"{lang} {state} overflows at 320 px"
    page.set_viewport_size(PHONE)
    if TAKE_SCREENSHOTS and lang in SCREENSHOT_LANGUAGES:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{lang}-{state}.png"), full_page=True)
        base.shrink_screenshot(SCREENSHOTS / f"{lang}-{state}.png")


def assert_direction(page: Any, lang: str) -> None:
    """``dir`` and the mirrored layout: the brand sits at the start of the bar (right in RTL);
    boxes have their accent line at the start edge; numbers stay left to right."""
    rtl = lang in i18n.RTL
    assert page.evaluate("document.documentElement.dir") == ("rtl" if rtl else "ltr")
    brand = page.locator(".brand").bounding_box()
    menu = page.locator("#lang-menu").bounding_box()
    assert (brand["x"] > menu["x"]) == rtl, (lang, brand, menu)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_the_upload_flow_in_every_language(
    page: Any, gateway: Gateway, photos: Photos, lang: str
) -> None:
    url, _ = gateway.link(("kontoauszug",))
    page.goto(f"{url}?lang={lang}")
    expect(page.get_by_role("heading", name=t(lang, "step1_title"))).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == lang
    assert_direction(page, lang)
    expect(page.get_by_role("radio", name=label("kontoauszug", lang))).to_be_checked()
    expect(page.locator("#footer-links")).to_be_visible()
    easy = page.locator("#easy-link")
    expect(easy).to_have_attribute("href", f"/t/{TENANT}/einfach?lang={lang}")
    check(page, lang, "01-start")

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name=t(lang, "choose_files")).click()
    chooser.value.set_files(photos.sharp)
    card = page.locator("#page-list > li")
    expect(card.locator(".card-status")).to_have_text(t(lang, "status_held"))
    page.get_by_role("button", name=f"{t(lang, 'redact_keep')} ({t(lang, 'page_n', n=1)})").click()
    expect(card.locator(".card-status")).to_have_text(t(lang, "status_done"))
    expect(page.locator("#overall-status")).to_have_text(t(lang, "overall_status", done=1, total=1))
    check(page, lang, "02-page")

    page.get_by_role("button", name=t(lang, "to_review")).click()
    expect(page.get_by_role("heading", name=t(lang, "step2_title"))).to_be_focused()
    expect(page.locator("#review-type")).to_have_text(label("kontoauszug", lang))
    check(page, lang, "03-review")

    page.get_by_role("button", name=t(lang, "send")).click()
    expect(page.get_by_role("heading", name=t(lang, "receipt_title"))).to_be_visible()
    case = page.locator("#receipt-case")
    expect(case).to_have_text("12345BG•••2345")
    # The BG-Nummer, the reference number and the checksums read left to right everywhere.
    for selector in ("#receipt-case", "#receipt-number", "#receipt-documents code"):
        direction = page.eval_on_selector(selector, "(e) => getComputedStyle(e).direction")
        assert direction == "ltr", (lang, selector)
    assert_direction(page, lang)
    check(page, lang, "04-receipt")


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize("which", ["einfach", "barrierefreiheit"])
def test_information_pages_in_every_language(
    page: Any, gateway: Gateway, lang: str, which: str
) -> None:
    page.goto(f"{gateway.base}/t/{TENANT}/{which}?lang={lang}")
    key = "easy.title" if which == "einfach" else "a11y.title"
    expect(page.get_by_role("heading", level=1)).to_have_text(i18n.text(lang, key))
    assert_direction(page, lang)
    check(page, lang, f"05-{which}")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_home_page_in_german_and_english(page: Any, gateway: Gateway, lang: str) -> None:
    """``GET /``: the service, how applicants get a link, where operators and developers go."""
    page.goto(f"{gateway.base}/?lang={lang}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Briefkasten")
    assert page.locator("html").get_attribute("lang") == lang
    check(page, lang, "00-home")
    other = "en" if lang == "de" else "de"
    page.locator(f'a[hreflang="{other}"]').click()
    assert page.locator("html").get_attribute("lang") == other


def test_switching_into_and_out_of_right_to_left_keeps_the_pages(
    page: Any, gateway: Gateway, photos: Photos
) -> None:
    url, _ = gateway.link(("mietvertrag",))
    page.goto(url)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Dateien auswählen").click()
    chooser.value.set_files(photos.sharp)
    base.keep_pages(page, 1)
    card = page.locator("#page-list > li")
    expect(card.locator(".card-status")).to_have_text(t("de", "status_done"))

    # The menu opens and closes with the keyboard too; Escape returns to its button.
    page.locator("#lang-menu summary").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#lang-list")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#lang-list")).to_be_hidden()
    expect(page.locator("#lang-menu summary")).to_be_focused()

    choose_language(page, i18n.NAMES["ar"])
    assert page.url.endswith("?lang=ar")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "ar"
    expect(page.get_by_role("heading", name=t("ar", "step1_title"))).to_be_visible()
    expect(page.get_by_role("radio", name=label("mietvertrag", "ar"))).to_be_checked()
    expect(card).to_have_count(1)
    expect(card.locator(".card-status")).to_have_text(t("ar", "status_done"))
    expect(page.locator("#easy-link")).to_have_attribute("href", f"/t/{TENANT}/einfach?lang=ar")
    assert_direction(page, "ar")
    # The progress bar runs right to left.
    assert page.eval_on_selector("#overall-progress", "(e) => getComputedStyle(e).direction") == (
        "rtl"
    )
    check(page, "ar", "06-switched")

    choose_language(page, i18n.NAMES["uk"])
    assert page.evaluate("document.documentElement.dir") == "ltr"
    expect(card.locator(".card-status")).to_have_text(t("uk", "status_done"))
    expect(page.locator("#lang-list a[aria-current='true']")).to_have_attribute("lang", "uk")
    assert_direction(page, "uk")
