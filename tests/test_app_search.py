"""AppTest for the Søg page: query, KWIC lines, counts, coding the hits, undo, saved searches."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from focusqa.config import MACHINE_CODER
from focusqa.store import Store
from test_search import _import
from conftest import sign_in

APP = Path(__file__).resolve().parents[1] / "app.py"
PAGE = "views/search_page.py"
TIMEOUT = 60


@pytest.fixture
def project(tmp_path, monkeypatch) -> Store:
    url = f"sqlite:///{tmp_path / 'search.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    _import(store)
    yield store
    store.dispose()


def open_page(*, coder: str | None = "tester", language: str = "da") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["focusqa_language"] = language
    at.run()
    if coder:
        sign_in(at, coder)
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def run_query(at: AppTest, query: str) -> AppTest:
    at.text_input(key="search_query").set_value(query).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def hit_boxes(at: AppTest) -> list:
    return [c for c in at.checkbox if c.key.startswith("search_hit_")]


def test_search_page_finds_compounds_shows_context_and_counts(project):
    at = run_query(open_page(), "underretning")
    assert at.title[0].value == "Søg"
    assert any("**4** fund i **4** taleture" in m.value for m in at.markdown)
    labels = [c.label for c in hit_boxes(at)]
    assert len(labels) == 4
    assert labels[0].startswith(":blue-background[**Skoleunderretningerne**] kommer tit for sent")
    assert "færre :blue-background[**underretninger**], og" in labels[2], "the text's own spacing, no ' ,'"
    captions = " ".join(c.value for c in at.caption)
    assert "Nord\\_2016\\.txt · tur 2 · Anne" in captions
    counts = at.dataframe[0].value
    assert counts.loc["Nord", "2016"] == 2 and counts.loc["Projektgruppe", "2017"] == 1
    at.toggle(key="search_show_table").set_value(True).run()
    table = at.dataframe[1].value
    assert list(table["Fund"]) == ["Skoleunderretningerne", "Underretninger", "underretninger", "underretningen"]
    assert list(table["Tur"]) == [2, 4, 2, 2]


def test_search_page_codes_all_hits_as_suggestions_and_undoes(project):
    at = run_query(open_page(), "underretning")
    at.selectbox(key="search_code").select("tidlig-indsats")
    at.radio(key="search_mode").set_value("suggested")
    at.button(key="search_apply").click().run()
    assert not at.exception
    assert any("4 taleture er kodet" in s.value for s in at.success)
    suggested = project.codings(coder=MACHINE_CODER, code_id="tidlig-indsats")
    assert len(suggested) == 4 and {c.origin for c in suggested} == {"search"}
    # The code is shown on the hits, marked as a suggestion nobody has confirmed yet.
    shown = [c.value.replace("\\", "") for c in at.caption]
    assert sum("1. Tidlig indsats (forslag)" in c for c in shown) == 4, shown
    at.button(key="search_undo").click().run()
    assert any("fortrudt" in s.value for s in at.success)
    assert project.codings() == []


def test_search_page_codes_only_the_ticked_hit_as_accepted(project):
    at = run_query(open_page(), "underretning")
    box = hit_boxes(at)[1]
    box.check().run()
    at.selectbox(key="search_code").select("organisering")
    at.radio(key="search_mode").set_value("accepted")
    assert "De afkrydsede (1 taletur)" in at.radio(key="search_scope").options   # not "1 taleture"
    at.radio(key="search_scope").set_value("ticked")
    at.button(key="search_apply").click().run()
    assert not at.exception
    assert any("1 taletur er kodet" in s.value for s in at.success)
    [coding] = project.codings(coder="tester")
    assert (coding.code_id, coding.status) == ("organisering", "accepted")
    assert str(coding.segment_id) == box.key.split("_")[2]
    coded = [c.value.replace("\\", "") for c in at.caption if "Organisering" in c.value]
    assert len(coded) == 1 and "(forslag)" not in coded[0], coded   # an accepted code is shown plainly


def test_search_page_saves_reruns_and_seeds_a_code(project):
    at = run_query(open_page(), "ventetid OR skoleudtalelse")
    at.text_input(key="search_save_name").set_value("Ventetid")
    at.button(key="search_save").click().run()
    assert project.saved_search("Ventetid").query == "ventetid OR skoleudtalelse"
    fresh = open_page()
    assert hit_boxes(fresh) == []
    fresh.button(key="search_rerun").click().run()
    assert fresh.text_input(key="search_query").value == "ventetid OR skoleudtalelse"
    assert len(hit_boxes(fresh)) == 3
    version = project.codebook().version
    fresh.selectbox(key="search_seed_code").select("organisering")
    fresh.button(key="search_seed").click().run()
    assert not fresh.exception
    assert project.codebook().version == version + 1
    assert project.codebook().get("organisering").terms[-2:] == ["ventetid", "skoleudtalelse"]


def test_search_page_in_english_explains_a_bad_query_and_needs_a_coder_to_code(project):
    at = run_query(open_page(language="en", coder=None), '"åben rådgivning')
    assert at.title[0].value == "Search"
    assert "quotation mark is not closed" in at.error[0].value
    run_query(at, "ventetid")
    assert any("**2** hits in **2** turns" in m.value for m in at.markdown)
    assert any("Coder" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "search_apply"]


def test_a_search_suggestion_is_reviewed_on_the_coding_page(project):
    at = run_query(open_page(), "vold")
    at.selectbox(key="search_code").select("tidlig-indsats")
    at.button(key="search_apply").click().run()
    at.switch_page("views/coding.py").run()
    assert not at.exception, [e.value for e in at.exception]
    described = [html.unescape(m.value) for m in [*at.markdown, *at.caption] if "fra søgningen" in m.value]
    assert described and "»vold«" in described[0] and "ord: vold" in described[0]
    assert "0,00" not in described[0]
