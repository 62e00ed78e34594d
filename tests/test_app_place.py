"""Kodning's place in the address, links into it, and the "færdigkodet" mark, through AppTest.

A reload is a new session opened on the address the old one ended with; a link is a
new session (or a page switch) with the parameters another page put in it.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from focusqa.config import MACHINE_CODER
from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.types import CodeSuggestion, DocumentMetadata
from conftest import sign_in

APP = str(Path(__file__).resolve().parent.parent / "app.py")
CODING = "views/coding.py"


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> dict:
    """Two interviews: a short one, and a long one of 60 turns (3 pages) with suggestions on turns 42 and 44."""
    url = f"sqlite:///{tmp_path / 'place.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    short = "Interviewer: Hvordan går det?\nMette: Vi får fat i familierne tidligt.\n"
    _, short_id = store.import_document(parse_text(short, "kort.txt", DocumentMetadata(round="2016", district="Nord")))
    text = "\n".join(f"{'Interviewer' if i % 2 == 0 else 'Mette'}: Replik nummer {i + 1} om trivsel."
                     for i in range(60))
    _, long_id = store.import_document(parse_text(text, "lang.txt", DocumentMetadata(round="2017", district="Vest")))
    segs = store.segments(long_id)
    store.replace_suggestions({segs[i].id: [CodeSuggestion("tidlig-indsats", 1, "Tidlig indsats", 0.7, {})]
                               for i in (41, 43)})
    yield {"store": store, "short": short_id, "long": long_id, "segs": segs}
    store.dispose()


def _session(params: dict | None = None, coder: str = "Anne", page: str | None = CODING) -> AppTest:
    """A fresh browser session opened on an address with ``params`` (the coder signs in from the sidebar)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(params or {})
    at.run()
    sign_in(at, coder)
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _reload(at: AppTest) -> AppTest:
    """The same address in a new session, as a browser reload (or a bookmark) opens it."""
    params = {k: v for k, v in at.query_params.items() if k != "koder"}
    return _session(params)


def _shown_turns(at: AppTest) -> list[int]:
    """The turns on the page, read from each turn's text component (``turn_text``)."""
    texts = [json.loads(e.proto.json)["text"] for e in at.get("bidi_component")
             if e.proto.component_name == "focusqa_turn_text"]
    return [int(m.group(1)) for t in texts for m in [re.search(r"Replik nummer (\d+) om", t)] if m]


def _highlighted(at: AppTest) -> str:
    return " ".join(str(h.proto.body) for h in at.get("html"))


def test_a_link_opens_the_interview_at_the_page_of_the_turn_and_marks_it(project) -> None:
    segs = project["segs"]
    at = _session({"interview": str(project["long"]), "tur": "42"})
    assert at.selectbox(key="_coding_document_widget").value == project["long"]
    assert at.pagination[0].value == 2, "turn 42 is on page 2 (25 turns a page)"
    assert 42 in _shown_turns(at) and 1 not in _shown_turns(at)
    linked = re.search(rf"\.st-key-turn_{segs[41].id} \{{([^}}]*)\}}", _highlighted(at))
    assert linked and "background" in linked.group(1)
    assert "outline" not in linked.group(1), "an outline here would hide the blue one of the chosen turn"
    assert "scrollIntoView" in _highlighted(at)
    assert at.query_params["tur"] == "42" and at.query_params["side"] == "2"


def test_page_filters_and_view_are_in_the_address_and_survive_a_reload(project) -> None:
    at = _session({"interview": str(project["long"])})
    at.selectbox(key="coding_filter_role").set_value("participant").run()
    at.pagination[0].set_value(2).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["taler"] == "participant" and at.query_params["side"] == "2"
    before = _shown_turns(at)
    assert before and all(n % 2 == 0 for n in before) and min(before) > 50   # participants, page 2
    again = _reload(at)
    assert again.selectbox(key="_coding_document_widget").value == project["long"]
    assert again.selectbox(key="coding_filter_role").value == "participant"
    assert again.pagination[0].value == 2
    assert _shown_turns(again) == before
    # status and code filters and the quick table travel too
    again.button_group(key="coding_filter_status").set_value(["open"]).run()
    again.multiselect(key="coding_filter_codes").set_value(["tidlig-indsats"]).run()
    assert again.query_params["status"] == "open" and again.query_params["kode"] == "tidlig-indsats"
    assert _shown_turns(again) == [42, 44]
    third = _reload(again)
    assert third.button_group(key="coding_filter_status").value == ["open"]
    assert third.multiselect(key="coding_filter_codes").value == ["tidlig-indsats"]
    assert _shown_turns(third) == [42, 44]


def test_paging_away_drops_the_mark_and_other_pages_keep_the_place(project) -> None:
    at = _session({"interview": str(project["long"]), "tur": "42"})
    at.pagination[0].set_value(3).run()
    assert "tur" not in at.query_params and "#fff8e1" not in _highlighted(at)
    at.selectbox(key="coding_filter_role").set_value("moderator").run()
    at.switch_page("views/overview.py").run()
    at.query_params = {}                 # the sidebar's links carry no parameters
    at.switch_page(CODING).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="_coding_document_widget").value == project["long"]
    assert at.selectbox(key="coding_filter_role").value == "moderator"
    assert at.query_params["interview"] == str(project["long"]) and at.query_params["taler"] == "moderator"


def test_a_bad_address_falls_back_to_a_valid_place(project) -> None:
    at = _session({"interview": "9999", "side": "x", "kode": "findes-ikke", "status": "forkert"})
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="coding_filter_codes").value == []
    assert at.query_params["interview"] == str(at.selectbox(key="_coding_document_widget").value)
    assert "kode" not in at.query_params and "status" not in at.query_params


def test_overview_opens_the_interview_at_its_first_waiting_suggestion(project) -> None:
    at = _session(page=None)
    at.button(key=f"open_{project['long']}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Kodning"
    assert at.selectbox(key="_coding_document_widget").value == project["long"]
    assert at.pagination[0].value == 2 and at.query_params["tur"] == "42"
    assert f".st-key-turn_{project['segs'][41].id}" in _highlighted(at)


# ------------------------------------------------------------------ færdigkodet
def test_the_coder_marks_the_interview_finished_and_takes_it_back(project) -> None:
    store, long_id = project["store"], project["long"]
    at = _session({"interview": str(long_id)})
    toggle = at.toggle(key=f"coding_finished_{long_id}")
    assert toggle.label == "Færdigkodet" and toggle.value is False
    toggle.set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert store.finished_documents() == {"Anne": {long_id}}
    assert any("lang.txt er markeret som færdigkodet af dig" in _text(s.value) for s in at.success)
    overview = _session(coder="Bo", page=None)
    assert any("**Anne**: 1 af 2 interviews – lang.txt" in _text(m.value) for m in overview.markdown)
    at.toggle(key=f"coding_finished_{long_id}").set_value(False).run()
    assert store.finished_documents() == {}
    assert [e.action for e in store.audit_log(entity="document")][:2] == ["unfinished", "finished"]


def test_agreement_says_which_interviews_count_and_links_to_the_turns(project) -> None:
    store, segs, long_id = project["store"], project["segs"], project["long"]
    for coder in ("Anne", "Bo"):
        store.review(segs[41].id, "tidlig-indsats", coder, "accepted" if coder == "Anne" else "rejected")
    store.set_coding(store.segments(project["short"])[1].id, "tidlig-indsats", "Anne")
    store.set_finished(long_id, "Anne")
    at = _session(page="views/agreement_page.py")
    frame = next(d.value for d in at.dataframe if "Interview" in d.value.columns)
    assert frame.to_dict("records") == [{"Interview": "lang.txt", "Anne": "✅ færdigkodet", "Bo": "kun kodede taleture"}]
    assert any("Tæller ikke med (kodet af færre end to af koderne): kort.txt" in _text(c.value) for c in at.caption)
    (link,) = [p for p in at.page_link if p.value == "Åbn i Kodning"]
    assert parse_qs(link.proto.query_string) == {"interview": [str(long_id)], "tur": ["42"]}
    assert link.proto.page.endswith("kodning")
    opened = _session(parse_qs(link.proto.query_string))
    assert opened.pagination[0].value == 2 and f".st-key-turn_{segs[41].id}" in _highlighted(opened)


def test_search_and_themes_link_each_turn_into_coding(project) -> None:
    store, segs, long_id = project["store"], project["segs"], project["long"]
    store.review(segs[43].id, "tidlig-indsats", "Anne", "accepted")
    at = _session(page="views/search_page.py")
    at.text_input(key="search_query").input("nummer 44").run()
    links = [parse_qs(p.proto.query_string) for p in at.page_link if p.value == "Åbn i Kodning"]
    assert {"interview": [str(long_id)], "tur": ["44"]} in links
    at.switch_page("views/themes.py").run()
    at.selectbox(key="themes_round").select("2017").run()
    links = [parse_qs(p.proto.query_string) for p in at.page_link if p.value == "Åbn i Kodning"]
    assert links and all(q == {"interview": [str(long_id)], "tur": ["44"]} for q in links)


def _text(value: str) -> str:
    return html.unescape(re.sub(r"\\(.)", r"\1", str(value)))
