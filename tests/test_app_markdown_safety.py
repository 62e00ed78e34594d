"""User data never becomes a link or an image in the app (issue 18, item 4).

A document name, a code label, a coder name and a memo all carry a Markdown image and
link to a local URL; every page that shows them must render them as inert text, so the
browser fetches nothing. The check reads the Markdown sources exactly as AppTest gets
them from the page, which is what the browser would render.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.types import CodeSuggestion, DocumentMetadata
from views.common import html_escape, md_escape
from conftest import sign_in

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAYLOAD = "![x](http://127.0.0.1:9/x.png) [klik](http://127.0.0.1:9/) <img src=x> www.evil.dk"
CODER = "Anne"

TRANSCRIPT = """Interviewer: Hvordan er samarbejdet med familiegruppen?
Mette: Samarbejdet med familiegruppen er blevet bedre. Vi får fat i familierne tidligt.
Lars: Jeg bruger hende til sparring, når jeg skal skrive en underretning.
Mette: Underretningerne er blevet skarpere nu, og familierne henvender sig selv.
"""
# Live Markdown or HTML that would make the browser fetch a URL.
LIVE = re.compile(r"\]\(http|<img|<a\s|www\.|http:")


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> dict:
    """One document, one code and one coder named with the payload; a memo that is the payload."""
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    parsed = parse_text(TRANSCRIPT, "nord.txt", DocumentMetadata(round="2016", district="Nord", group="lærere"))
    parsed = replace(parsed, name=PAYLOAD)
    _, doc_id = store.import_document(parsed)
    segs = store.segments(doc_id)
    first = store.codebook().codes[0]
    store.save_code(replace(first, label_da=PAYLOAD), actor=CODER)
    for coder in (CODER, PAYLOAD):
        store.set_coding(segs[1].id, first.id, coder)
    store.set_coding(segs[2].id, first.id, PAYLOAD)
    store.add_memo(PAYLOAD, PAYLOAD, segment_id=segs[1].id)
    store.replace_suggestions({segs[3].id: [CodeSuggestion(first.id, first.number, PAYLOAD, 0.7, {"terms": []})]})
    yield {"store": store, "doc": doc_id, "segs": segs, "code": first.id}
    store.dispose()


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    sign_in(at, CODER)
    if page != "app":
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _rendered(at: AppTest) -> list[str]:
    """Every Markdown source on the page: text, captions, alerts, headings, labels and help."""
    values = []
    for kind in ("markdown", "caption", "info", "success", "warning", "error", "title", "header", "subheader"):
        values += [str(e.value) for e in getattr(at, kind)]
    for kind in ("expander", "button", "checkbox", "toggle", "text_area", "text_input", "selectbox",
                 "multiselect", "radio"):
        for element in getattr(at, kind):
            values += [str(getattr(element, "label", "") or ""), str(getattr(element, "help", "") or "")]
    return values


def _live(source: str) -> bool:
    """A link, image or autolink left active once backslash-escaped signs are taken out."""
    return bool(LIVE.search(re.sub(r"\\.", "", source)))


def _assert_inert(at: AppTest, page: str) -> None:
    values = _rendered(at)
    shown = [v for v in values if "klik" in v]
    assert shown, f"{page}: the user data is not on the page, so the check would prove nothing"
    live = [v for v in values if _live(v)]
    assert not live, f"{page}: user data rendered as a live link or image: {live}"


@pytest.mark.parametrize("page", ["app", "views/codebook_page.py", "views/themes.py",
                                  "views/agreement_page.py"])
def test_pages_show_hostile_names_as_text(project, page) -> None:
    _assert_inert(_open(page), page)


def test_coding_page_and_editor_show_hostile_label_memo_and_coder_as_text(project) -> None:
    at = _open("views/coding.py")
    _assert_inert(at, "coding")
    at.button(key=f"edit_{project['segs'][1].id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(md_escape(PAYLOAD) in v for v in _rendered(at)), "the other coder's memo is not shown"
    assert any(html_escape(PAYLOAD) in v for v in _rendered(at)), "the code tag is not shown"
    _assert_inert(at, "coding editor")


def test_search_hits_show_hostile_names_and_labels_as_text(project) -> None:
    at = _open("views/search_page.py")
    box = at.text_input[0]
    box.input("familiegruppen").run()
    assert not at.exception, [e.value for e in at.exception]
    _assert_inert(at, "search")


def test_export_shows_hostile_names_as_text(project) -> None:
    at = _open("views/export_page.py")
    values = _rendered(at)
    live = [v for v in values if _live(v)]
    assert not live, f"export: user data rendered as a live link or image: {live}"


def test_escaping_leaves_no_markdown_or_html_sign_active() -> None:
    assert md_escape(PAYLOAD) == (r"\!\[x\]\(http\://127\.0\.0\.1\:9/x\.png\) \[klik\]\(http\://127\.0\.0\.1"
                                  r"\:9/\) \<img src\=x\> www\.evil\.dk")
    escaped = html_escape(PAYLOAD + ' "q" & é')
    assert not re.search(r"[\[\]()<>!:\"]|&(?!#\d+;)", escaped), escaped
    assert escaped.endswith("&#34;q&#34; &#38; é")


def test_heatmap_numbers_turn_white_on_the_dark_cells_of_any_scale():
    """The colour scale runs to the largest share, so with shares of at most 5 % the 5 % cell
    is dark navy and its number must be white, and a 1 % cell stays pale with dark text."""
    from views.common import dark_from

    assert 0.01 < dark_from([0.0, 0.01, 0.05]) < 0.05
    assert 0.25 < dark_from([0.1, 0.6]) < 0.6
    assert dark_from([0.0, 0.0]) >= 1.0 and dark_from([]) >= 1.0   # nothing coded: no white text


def test_a_file_name_wraps_between_its_parts_not_inside_a_word():
    from views.common import breakable

    shown = breakable("2016_oest_familiegruppe.txt")
    assert shown.replace("\u200b", "") == "2016_oest_familiegruppe.txt"      # only break points added
    assert shown.split("\u200b") == ["2016_", "oest_", "familiegruppe", ".txt"]
