"""End to end in a real browser: search for a stem on Søg, see its compounds in context, code the hits, undo.

Uses the server and screenshot fixtures of ``test_browser.py`` (the system Chromium
against ``streamlit run app.py`` on the demo corpus, or a small fixture without it).
"""

from __future__ import annotations

import pytest

from focusqa.analysis.search import search
from focusqa.config import MACHINE_CODER
from test_browser import (CHROMIUM, CHROMIUM_ARGS, CODER, _wait_idle, server, shots, sign_in,  # noqa: F401
                          signed_in_page, switch_language)

pytestmark = pytest.mark.browser


def test_search_finds_compounds_and_its_hits_are_coded_and_undone(server, shots) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    base, store, _segment_id = server
    expected = search(store, "udtalelse")  # the demo corpus writes "skoleudtalelse(rne)"
    compounds = sorted({h.match for h in expected.hits if not h.match.lower().startswith("udtalelse")})
    if not compounds:
        pytest.skip("the project has no compound of 'udtalelse' (demo corpus missing)")
    before = len(store.codings(coder=MACHINE_CODER, code_id="tidlig-indsats"))
    errors: list[str] = []
    failed: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="da-DK")
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(base)
        _wait_idle(page)
        sign_in(page, CODER)
        page.get_by_role("link", name="Søg").click()
        expect(page.get_by_role("heading", name="Søg", exact=True)).to_be_visible(timeout=30_000)
        page.get_by_label("Søg efter", exact=True).fill("udtalelse")
        page.keyboard.press("Enter")
        _wait_idle(page)
        found = f"{len(expected.hits)} fund i {len(expected.segment_ids)} taleture"
        expect(page.locator("[data-testid=stMarkdown]").filter(has_text=found)).to_be_visible(timeout=30_000)
        for word in compounds:
            expect(page.locator("[data-testid=stCheckbox]").filter(has_text=word).first).to_be_visible()
        expect(page.locator("[data-testid=stDataFrame]").first).to_be_visible()  # district × round
        shots(page, "search_01_fund")
        page.get_by_role("button", name="Kod", exact=True).click()
        _wait_idle(page)
        expect(page.get_by_text("taleture er kodet med").first).to_be_visible(timeout=30_000)
        made = store.codings(coder=MACHINE_CODER, code_id="tidlig-indsats")
        assert len([c for c in made if c.origin == "search"]) > 0
        assert {c.segment_id for c in made if c.origin == "search"} <= set(expected.segment_ids)
        shots(page, "search_02_kodet")
        page.get_by_role("button", name="Fortryd seneste").click()
        _wait_idle(page)
        expect(page.get_by_text("Din seneste ændring er fortrudt.")).to_be_visible(timeout=30_000)
        assert len(store.codings(coder=MACHINE_CODER, code_id="tidlig-indsats")) == before
        assert not page.locator("[data-testid=stException]").count()
        browser.close()
    # no icon font from fonts.gstatic.com any more (issue 18): nothing may fail
    assert failed == [], failed
    assert errors == [], errors


def test_a_switched_language_keeps_the_search_order_chosen(server) -> None:  # noqa: F811
    """Søg sorted by the word after the hit and searching every speaker stays so through
    Danish → English → Danish (two controls drawn with a default, whose labels change)."""
    from playwright.sync_api import expect

    base, _, _ = server
    with signed_in_page(base, "/soeg") as page:
        order = page.locator(".st-key-search_sort")
        expect(order).to_be_visible(timeout=30_000)
        order.get_by_text("Ordet efter fundet", exact=True).click()
        _wait_idle(page)
        page.get_by_text("Afgræns", exact=True).click()
        role = page.locator(".st-key-search_role")
        role.get_by_text("Alle", exact=True).click()
        _wait_idle(page)
        for language, chosen, filters, everyone in (("English", "Word after the hit", "Narrow down", "All"),
                                                    ("Dansk", "Ordet efter fundet", "Afgræns", "Alle")):
            switch_language(page, language)
            expect(page.get_by_text(filters, exact=True)).to_be_visible(timeout=30_000)
            expect(role).to_be_visible()    # "Afgræns", relabelled, stays open
            expect(order.get_by_role("radio", name=chosen)).to_be_checked(timeout=30_000)
            expect(role.get_by_role("radio", name=everyone, exact=True)).to_be_checked(timeout=30_000)
