"""End to end in a real browser: code words by selecting them, and decide suggestions by key.

Uses the server and screenshot fixtures of ``test_browser.py`` (the system Chromium
against ``streamlit run app.py`` on the demo corpus, or a small fixture without it). A
coder drags the mouse over words of a turn, picks a code in the menu that opens, and the
coding is stored with the words' offsets and still shown after a reload; pressing A
accepts the focused suggestion, X rejects the next.
"""

from __future__ import annotations

import pytest

from focusqa.config import MACHINE_CODER
from test_browser import CHROMIUM, CHROMIUM_ARGS, CODER, _wait_idle, server, shots, sign_in  # noqa: F401

pytestmark = pytest.mark.browser

# The centre of the character at code-point ``index`` of a turn's text, in whole pixels
# (headless Chromium starts no selection at a press on a fractional coordinate).
CHAR_CENTRE = """(el, index) => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  let left = Array.from(el.textContent).slice(0, index).join("").length;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (left < node.length) {
      const range = document.createRange();
      range.setStart(node, left);
      range.setEnd(node, left + 1);
      const r = range.getBoundingClientRect();
      return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)];
    }
    left -= node.length;
  }
  return null;
}"""


def _open_coding(page, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(base)
    expect(page.get_by_role("heading", name="Oversigt")).to_be_visible(timeout=30_000)
    _wait_idle(page)
    sign_in(page, CODER)
    page.get_by_role("link", name="Kodning").click()
    expect(page.get_by_role("heading", name="Kodning")).to_be_visible(timeout=30_000)
    page.locator(".fq-text").first.wait_for(timeout=30_000)
    _wait_idle(page)


def _drag_over_words(page, text, first: int, last: int) -> tuple[float, float]:
    """Select characters first..last of a turn's text with the mouse, as a person does;
    returns where the drag started."""
    start = text.evaluate(CHAR_CENTRE, first)
    end = text.evaluate(CHAR_CENTRE, last)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()
    return start


def _word_turn(store, suggested_id: int):
    """A participant turn on the first page, without a suggestion, whose words 2–4 are plain words
    and the 2nd and 4th have three letters or more (a press inside them is inside the word)."""
    first = store.documents()[0]
    page_one = store.segments(first.id)[:25]
    return next(s for s in page_one if s.role == "participant" and s.id != suggested_id
                and len(words := s.text.split()) >= 6 and all(w.isalpha() for w in words[1:4]) and min(len(words[1]), len(words[3])) >= 3
                and not store.codings(segment_ids=[s.id], coder=MACHINE_CODER))


def test_selected_words_are_coded_in_one_step_and_keys_decide_suggestions(server, shots) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    base, store, segment_id = server
    target = _word_turn(store, segment_id)
    words = target.text.split()
    # drag from inside the 2nd word to inside the 4th: the whole of words 2–4 is coded
    second = target.text.index(words[1])
    fourth = target.text.index(words[3], second + len(words[1]) + len(words[2]))
    expected = target.text[second:fourth + len(words[3])]
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="da-DK")
        page.on("pageerror", lambda error: errors.append(str(error)))
        _open_coding(page, base)
        expect(page.get_by_text("Genveje: marker ord med musen")).to_be_visible()

        # A accepts the focused suggestion: the first one on the page, outlined
        focused = page.locator(f".st-key-turn_{segment_id}")
        focused.scroll_into_view_if_needed()
        # The outline is drawn by the shortcuts' component: once it is there, keys are heard
        # (on a loaded machine the component can mount after the page's text).
        expect(focused).to_have_css("outline-style", "solid", timeout=30_000)
        shots(page, "coding_keys_01_fokus")
        waiting = [c.code_id for c in store.codings(coder=MACHINE_CODER, segment_ids=[segment_id])
                   if c.status == "suggested"]
        page.keyboard.press("a")
        expect(focused.locator(f".st-key-accept_{segment_id}_{waiting[0]}")).to_have_count(0, timeout=30_000)
        _wait_idle(page)
        mine = store.codings(coder=CODER, segment_ids=[segment_id])
        assert [(c.code_id, c.status) for c in mine] == [(waiting[0], "accepted")]
        shots(page, "coding_keys_02_accepteret")

        # words selected with the mouse, then a code chosen in the menu at the selection
        turn = page.locator(f".st-key-turn_{target.id}")
        text = turn.locator(".fq-text")
        text.scroll_into_view_if_needed()
        _drag_over_words(page, text, second + 1, fourth + 1)
        menu = turn.locator(".fq-menu")
        expect(menu).to_be_visible(timeout=10_000)
        expect(menu).to_contain_text("Kod de markerede ord med")
        shots(page, "coding_span_01_menu")
        menu.locator(".fq-code", has_text="Organisering").click()
        expect(turn).to_contain_text("Organisering (del)", timeout=30_000)
        _wait_idle(page)
        (coding,) = store.codings(coder=CODER, segment_ids=[target.id])
        assert (coding.code_id, coding.status) == ("organisering", "accepted")
        assert store.document_text(target.document_id)[coding.start:coding.end] == expected
        shots(page, "coding_span_02_kodet")

        page.reload()   # a reload asks who you are again; the address keeps the interview and page
        _wait_idle(page)
        sign_in(page, CODER)
        page.locator(".fq-text").first.wait_for(timeout=30_000)
        _wait_idle(page)
        turn = page.locator(f".st-key-turn_{target.id}")
        turn.scroll_into_view_if_needed()
        expect(turn).to_contain_text("Organisering (del)")
        expect(turn.locator(".fq-mark")).to_have_text(expected)
        shots(page, "coding_span_03_efter_genindlaesning")
        browser.close()
    assert errors == []


def test_the_code_menu_opens_upward_at_the_bottom_of_the_screen(server) -> None:  # noqa: F811
    """Words selected on the screen's last line: the menu opens above them, not cut off below."""
    from playwright.sync_api import expect, sync_playwright

    base, store, segment_id = server
    target = _word_turn(store, segment_id)
    words = target.text.split()
    second = target.text.index(words[1])
    fourth = target.text.index(words[3], second + len(words[1]) + len(words[2]))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 700}, locale="da-DK")
        _open_coding(page, base)
        turn = page.locator(f".st-key-turn_{target.id}")
        text = turn.locator(".fq-text")
        # the words' line just above the screen's bottom edge
        text.evaluate("el => el.scrollIntoView({block: 'end'})")
        line = text.evaluate(CHAR_CENTRE, second + 1)[1]
        page.mouse.move(800, 350)   # over the turns (a wheel over the sidebar scrolls the sidebar)
        page.mouse.wheel(0, line - (700 - 80))   # 80 px above the edge: no autoscroll while dragging
        page.wait_for_timeout(500)
        start = _drag_over_words(page, text, second + 1, fourth + 1)
        assert 560 < start[1] < 660, start
        menu = turn.locator(".fq-menu")
        expect(menu).to_be_visible(timeout=10_000)
        box = menu.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 700, box
        assert box["y"] + box["height"] <= start[1], "above the selected words"
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        browser.close()
