"""The app's frame and the coding workflow, driven through Streamlit's AppTest.

Each test uses its own SQLite file with a small transcript and machine suggestions
written directly (so the tests do not depend on the tagger), and checks the database
afterwards: what a coder does on the page must be what is stored.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from focusqa.config import MACHINE_CODER
from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.types import CodeSuggestion, DocumentMetadata

from conftest import sign_in

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")

TRANSCRIPT = """Interviewer: Velkommen. Hvad er jeres erfaringer med den tidlige indsats?
Mette: Vi får fat i familierne tidligt. Forældrene henvender sig selv, inden problemerne vokser. Det er en stor forskel.
Lars: Jeg bruger hende til sparring, når jeg skal skrive en underretning. Hun vejleder os lærere.
Interviewer: Hvordan er samarbejdet med familiegruppen?
Mette: Samarbejdet med familiegruppen er blevet bedre. Underretningerne er skarpere nu.
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> dict:
    """A database with one transcript (5 turns) and suggestions on turns 2, 3 and 5."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    parsed = parse_text(TRANSCRIPT, "nord_2016.txt",
                        DocumentMetadata(round="2016", district="Nord", group="lærere"))
    _, doc_id = store.import_document(parsed)
    segs = store.segments(doc_id)
    store.replace_suggestions({
        segs[1].id: [CodeSuggestion("tidlig-indsats", 1, "Tidlig indsats", 0.82,
                                    {"terms": ["tidligt", "henvender"]})],
        segs[2].id: [CodeSuggestion("konsultativ-raadgivning", 3, "Konsultativ rådgivning", 0.74,
                                    {"terms": ["sparring"]})],
        segs[4].id: [CodeSuggestion("samarbejde-familiegruppe", 4, "Samarbejde med familiegruppe", 0.66,
                                    {"terms": ["familiegruppen"]})],
    })
    yield {"url": url, "store": store, "doc": doc_id, "segs": segs}
    store.dispose()


def _app(coder: str | None = "Anne", page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if coder:
        sign_in(at, coder)
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(elements) -> list[str]:
    """The elements' text as a reader sees it: Markdown escapes and character references resolved."""
    return [html.unescape(re.sub(r"\\(.)", r"\1", str(e.value))) for e in elements]


def test_overview_shows_the_project_and_what_to_do_next(project) -> None:
    at = _app(coder=None)
    assert at.title[0].value == "Oversigt"
    labels = {m.label: m.value for m in at.metric}
    assert labels["Interviews"] == "1" and labels["Taleture"] == "5"
    assert labels["Forslag der venter"] == "3"
    assert any("nord_2016.txt" in t and "venter" in t for t in _texts(at.markdown))
    frame = at.dataframe[-1].value
    assert list(frame["Distrikt"]) == ["Nord"] and list(frame["Forslag"]) == [3]
    # how far coding is stands beside the file name, where a laptop screen still shows it
    assert list(frame.columns[:5]) == ["Runde", "Distrikt", "Gruppe", "Fil", "Gennemset"]
    # the sidebar: language, coder sign-in (a new project: add yourself), blind mode, database in use
    assert at.sidebar.text_input(key="_focusqa_new_coder").value == ""
    assert "focusqa_coder" not in at.session_state
    assert at.sidebar.toggle(key="_widget_focusqa_blind").value is False
    assert any("app.db" in t for t in _texts(at.sidebar.caption))


def test_english_toggle_translates_the_frame_and_pages(project) -> None:
    at = _app(coder=None)
    at.sidebar.segmented_control(key="_widget_focusqa_language").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert "Suggestions waiting" in {m.label for m in at.metric}


def test_overview_button_opens_the_document_in_coding(project) -> None:
    at = _app()
    at.button(key=f"open_{project['doc']}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Kodning"
    assert at.selectbox(key="_coding_document_widget").value == project["doc"]


def test_coding_asks_for_the_coder_name_first(project) -> None:
    at = _app(coder=None, page="views/coding.py")
    assert any("Vælg dig selv" in t for t in _texts(at.info))
    assert not [b for b in at.button if (b.key or "").startswith("accept_")]


def test_accepting_a_suggestion_is_stored_and_shown(project) -> None:
    store, seg = project["store"], project["segs"][1]
    at = _app(page="views/coding.py")
    assert any("0,82" in t for t in _texts(at.markdown)), "score in Danish notation"
    line = next(t for t in _texts(at.markdown) if "0,82" in t)
    assert "forslag (sikkerhed 0,82)" in line and line.count("Tidlig indsats") == 1, line   # named once, by its chip
    at.button(key=f"accept_{seg.id}_tidlig-indsats").click().run()
    assert not at.exception, [e.value for e in at.exception]
    mine = store.codings(coder="Anne")
    assert [(c.segment_id, c.code_id, c.status) for c in mine] == [(seg.id, "tidlig-indsats", "accepted")]
    machine = store.codings(coder=MACHINE_CODER, segment_ids=[seg.id])
    assert machine[0].status == "accepted"
    assert any(a.actor == "Anne" and a.action in ("code", "review") for a in store.audit_log())
    # the page now shows it as a code tag, without the accept button
    assert f"accept_{seg.id}_tidlig-indsats" not in {b.key for b in at.button}
    assert any("Tidlig indsats" in t and "forslag" not in t for t in _texts(at.markdown))


def test_reject_then_undo_restores_the_suggestion(project) -> None:
    store, seg = project["store"], project["segs"][2]
    at = _app(page="views/coding.py")
    at.button(key=f"reject_{seg.id}_konsultativ-raadgivning").click().run()
    assert [(c.code_id, c.status) for c in store.codings(coder="Anne")] == [
        ("konsultativ-raadgivning", "rejected")]
    # the turn keeps a struck-through mark of what was rejected
    assert any("3. Konsultativ rådgivning (afvist)" in t and "line-through" in t for t in _texts(at.markdown))
    at.button(key="coding_undo").click().run()
    assert not at.exception
    assert store.codings(coder="Anne") == []
    assert store.codings(coder=MACHINE_CODER, segment_ids=[seg.id])[0].status == "suggested"
    assert f"accept_{seg.id}_konsultativ-raadgivning" in {b.key for b in at.button}
    n = seg.turn + 1
    assert any(t.startswith("Fortrudt: afvisningen af 3. Konsultativ") and f"på tur {n} i" in t for t in _texts(at.success)), _texts(at.success)


def test_undo_shows_in_the_open_editor(project) -> None:
    """After an undo the open editor holds the undone state: one more save must not bring the code back."""
    store, seg = project["store"], project["segs"][3]
    at = _app(page="views/coding.py")
    at.button(key=f"edit_{seg.id}").click().run()
    at.multiselect(key=f"codes_{seg.id}").set_value(["organisering"])
    at.button(key=f"save_codes_{seg.id}").click().run()
    at.button(key="coding_undo").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert store.codings(coder="Anne") == []
    assert at.multiselect(key=f"codes_{seg.id}").value == []
    assert any(t.startswith("Fortrudt: tilføjelsen af 6. Organisering") for t in _texts(at.success))
    at.button(key=f"save_codes_{seg.id}").click().run()
    assert store.codings(coder="Anne") == []


def test_saving_the_open_editor_keeps_a_suggestion_accepted_beside_it(project) -> None:
    """The evaluator opens the editor, accepts the suggestion shown above it, adds a second
    code in the box and saves: both codes stay (the box had been drawn before the accept)."""
    store, seg = project["store"], project["segs"][1]
    at = _app(page="views/coding.py")
    at.button(key=f"edit_{seg.id}").click().run()
    at.button(key=f"accept_{seg.id}_tidlig-indsats").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key=f"codes_{seg.id}").value == ["tidlig-indsats"]
    at.multiselect(key=f"codes_{seg.id}").set_value(["tidlig-indsats", "organisering"])
    at.button(key=f"save_codes_{seg.id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    mine = {(c.code_id, c.status) for c in store.codings(coder="Anne", segment_ids=[seg.id])}
    assert mine == {("tidlig-indsats", "accepted"), ("organisering", "accepted")}
    # Unticking one code in the box removes that code only.
    at.multiselect(key=f"codes_{seg.id}").set_value(["organisering"])
    at.button(key=f"save_codes_{seg.id}").click().run()
    assert [c.code_id for c in store.codings(coder="Anne", segment_ids=[seg.id])] == ["organisering"]


def test_one_save_of_the_editor_is_one_undo(project) -> None:
    """Two codes ticked and one unticked, saved at once: "Fortryd seneste" takes back the
    whole save, not half of it."""
    store, seg = project["store"], project["segs"][1]
    store.set_coding(seg.id, "organisering", "Anne")
    at = _app(page="views/coding.py")
    at.button(key=f"edit_{seg.id}").click().run()
    at.multiselect(key=f"codes_{seg.id}").set_value(["tidlig-indsats", "supplerende"])
    at.button(key=f"save_codes_{seg.id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    mine = {c.code_id for c in store.codings(coder="Anne", segment_ids=[seg.id]) if c.status == "accepted"}
    assert mine == {"tidlig-indsats", "supplerende"}
    assert store.codings(coder=MACHINE_CODER, segment_ids=[seg.id])[0].status == "accepted"   # the suggestion
    at.button(key="coding_undo").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [(c.code_id, c.status) for c in store.codings(coder="Anne", segment_ids=[seg.id])] == [
        ("organisering", "accepted")]
    assert store.codings(coder=MACHINE_CODER, segment_ids=[seg.id])[0].status == "suggested"  # waiting again
    n = seg.turn + 1
    assert any(t == f"Fortrudt: de koder, du gemte på tur {n} i nord\\_2016.txt." or
               (t.startswith("Fortrudt: de koder, du gemte") and f"tur {n}" in t) for t in _texts(at.success)), \
        _texts(at.success)
    assert at.multiselect(key=f"codes_{seg.id}").value == ["organisering"]

def test_add_and_remove_a_code_in_the_turn_editor(project) -> None:
    store, seg = project["store"], project["segs"][3]
    at = _app(page="views/coding.py")
    at.button(key=f"edit_{seg.id}").click().run()
    at.multiselect(key=f"codes_{seg.id}").set_value(["organisering"])
    at.button(key=f"save_codes_{seg.id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [(c.segment_id, c.code_id, c.status) for c in store.codings(coder="Anne")] == [
        (seg.id, "organisering", "accepted")]
    at.multiselect(key=f"codes_{seg.id}").set_value([])
    at.button(key=f"save_codes_{seg.id}").click().run()
    assert store.codings(coder="Anne") == []


def test_coding_only_some_sentences_stores_their_offsets(project) -> None:
    store, seg = project["store"], project["segs"][1]
    at = _app(page="views/coding.py")
    at.button(key=f"edit_{seg.id}").click().run()
    at.selectbox(key=f"partial_code_{seg.id}").set_value("tidlig-indsats")
    at.multiselect(key=f"partial_sentences_{seg.id}").set_value([1])
    at.button(key=f"save_partial_{seg.id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (coding,) = store.codings(coder="Anne")
    text = store.document_text(project["doc"])[coding.start:coding.end]
    assert text == "Forældrene henvender sig selv, inden problemerne vokser."
    assert any("(del)" in t for t in _texts(at.markdown))
    # Every sentence chosen is the whole turn: coded as such, not as "(del)".
    at.multiselect(key=f"partial_sentences_{seg.id}").set_value([0, 1, 2])
    at.button(key=f"save_partial_{seg.id}").click().run()
    (coding,) = store.codings(coder="Anne")
    assert (coding.start, coding.end) == (None, None)
    assert not any("(del)" in t for t in _texts(at.markdown))



def test_memo_is_saved_and_edited(project) -> None:
    store, seg = project["store"], project["segs"][2]
    at = _app(page="views/coding.py")
    at.button(key=f"edit_{seg.id}").click().run()
    at.text_area(key=f"memo_{seg.id}_0").input("Godt citat om sparring")
    at.button(key=f"save_memo_{seg.id}").click().run()
    (memo,) = store.memos(segment_ids=[seg.id])
    assert (memo.author, memo.text) == ("Anne", "Godt citat om sparring")
    at.text_area(key=f"memo_{seg.id}_{memo.version}").input("Godt citat om sparring (brug i rapport)")
    at.button(key=f"save_memo_{seg.id}").click().run()
    assert [m.text for m in store.memos(segment_ids=[seg.id])] == ["Godt citat om sparring (brug i rapport)"]


def test_opening_another_turn_saves_what_the_open_editor_held(project) -> None:
    store, segs = project["store"], project["segs"]
    seg = segs[3]
    at = _app(page="views/coding.py")
    at.button(key=f"edit_{seg.id}").click().run()
    at.multiselect(key=f"codes_{seg.id}").set_value(["organisering"])
    at.text_area(key=f"memo_{seg.id}_0").input("Om mødestrukturen")
    at.button(key=f"edit_{segs[1].id}").click().run()      # Rediger on another turn, no Gem first
    assert not at.exception, [e.value for e in at.exception]
    assert [(c.segment_id, c.code_id) for c in store.codings(coder="Anne")] == [(seg.id, "organisering")]
    assert [m.text for m in store.memos(segment_ids=[seg.id])] == ["Om mødestrukturen"]
    assert any("Tur 4: det, du havde valgt eller skrevet" in t for t in _texts(at.info)), _texts(at.info)
    # an editor closed untouched saves nothing and says nothing
    at.button(key=f"edit_{segs[1].id}").click().run()
    assert [c.code_id for c in store.codings(coder="Anne")] == ["organisering"]
    assert not any("Tur 2: det, du havde" in t for t in _texts(at.info))


def test_conflicting_review_shows_a_warning_and_the_current_state(project) -> None:
    store, seg = project["store"], project["segs"][1]
    at = _app(page="views/coding.py")
    store.review(seg.id, "tidlig-indsats", "Bo", "rejected")  # Bo decides while Anne looks at it
    at.button(key=f"accept_{seg.id}_tidlig-indsats").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("En anden har ændret" in t for t in _texts(at.warning))
    assert store.codings(coder="Anne") == [], "nothing written over Bo's decision"
    # the page shows the current state: Bo's decision closed the suggestion
    assert f"accept_{seg.id}_tidlig-indsats" not in {b.key for b in at.button}
    # in blind mode Anne reviews on her own, against the current version
    at.sidebar.toggle(key="_widget_focusqa_blind").set_value(True).run()
    at.button(key=f"accept_{seg.id}_tidlig-indsats").click().run()
    assert [c.status for c in store.codings(coder="Anne")] == ["accepted"]
    assert [c.status for c in store.codings(coder="Bo")] == ["rejected"]


def test_blind_mode_hides_other_coders_codes(project) -> None:
    store, seg = project["store"], project["segs"][3]
    store.set_coding(seg.id, "organisering", "Bo")
    at = _app(page="views/coding.py")
    assert any("af Bo" in t for t in _texts(at.markdown))
    at.sidebar.toggle(key="_widget_focusqa_blind").set_value(True).run()
    assert not any("af Bo" in t for t in _texts(at.markdown))
    assert any("Blind kodning er slået til" in t for t in _texts(at.caption))


def test_filters_by_status_role_and_code(project) -> None:
    at = _app(page="views/coding.py")
    edit_keys = lambda: {b.key for b in at.button if (b.key or "").startswith("edit_")}
    assert len(edit_keys()) == 5
    at.button_group(key="coding_filter_status").set_value(["open"]).run()
    assert edit_keys() == {f"edit_{project['segs'][i].id}" for i in (1, 2, 4)}
    at.button_group(key="coding_filter_status").set_value([]).run()
    at.selectbox(key="coding_filter_role").set_value("moderator").run()
    assert edit_keys() == {f"edit_{project['segs'][i].id}" for i in (0, 3)}
    at.selectbox(key="coding_filter_role").set_value("all").run()
    at.multiselect(key="coding_filter_codes").set_value(["konsultativ-raadgivning"]).run()
    assert edit_keys() == {f"edit_{project['segs'][2].id}"}


def test_quick_table_writes_only_changed_cells(project) -> None:
    store, segs = project["store"], project["segs"]
    at = _app(page="views/coding.py")
    at.segmented_control(key="coding_view").set_value("table").run()
    assert not at.exception, [e.value for e in at.exception]
    editor = at.data_editor(key="table_0")
    frame = editor.value
    assert list(frame["1. Tidlig indsats"]) == [False, True, False, False, False]
    # tick "6. Organisering" on turn 4, untick the suggestion on turn 3 (= reject)
    at.session_state["table_0"] = {"edited_rows": {3: {"6. Organisering": True},
                                                   2: {"3. Konsultativ rådgivning": False}},
                                   "added_rows": [], "deleted_rows": []}
    next(b for b in at.button if b.label == "Gem ændringer").click().run()
    assert not at.exception, [e.value for e in at.exception]
    mine = {(c.segment_id, c.code_id, c.status) for c in store.codings(coder="Anne")}
    assert mine == {(segs[3].id, "organisering", "accepted"),
                    (segs[2].id, "konsultativ-raadgivning", "rejected")}
    # untouched suggestions still wait for review
    waiting = {c.segment_id for c in store.codings(coder=MACHINE_CODER, status="suggested")}
    assert waiting == {segs[1].id, segs[4].id}


def test_quick_table_says_which_ticks_cover_only_part_of_a_turn(project) -> None:
    store, segs = project["store"], project["segs"]
    turn = segs[4]
    start = turn.start + turn.text.index(turn.text.split()[1])
    store.set_coding(turn.id, "organisering", "Anne", start=start, end=start + len(turn.text.split()[1]))
    store.set_coding(segs[1].id, "organisering", "Anne")                       # the whole turn
    at = _app(page="views/coding.py")
    at.segmented_control(key="coding_view").set_value("table").run()
    assert not at.exception, [e.value for e in at.exception]
    frame = at.data_editor(key="table_0").value
    assert list(frame["6. Organisering"]) == [False, True, False, False, True]
    assert list(frame["Del af turen"]) == ["", "", "", "", "6"]
    # the codes' ticks come straight after the waiting suggestions, the partial note last
    columns = list(frame.columns)
    assert columns.index("Forslag") + 1 == columns.index("1. Tidlig indsats")
    assert columns[-1] == "Del af turen"


def test_quick_table_can_accept_the_remaining_suggestions(project) -> None:
    store, segs = project["store"], project["segs"]
    at = _app(page="views/coding.py")
    at.segmented_control(key="coding_view").set_value("table").run()
    rest = next(b for b in at.button if b.label.startswith("Gem og accepter"))
    # it says that it acts on this page's suggestions, and how many
    assert rest.label == "Gem og accepter resten af forslagene på siden (3)"
    rest.click().run()
    assert not at.exception, [e.value for e in at.exception]
    mine = {(c.segment_id, c.status) for c in store.codings(coder="Anne")}
    assert mine == {(segs[i].id, "accepted") for i in (1, 2, 4)}


def test_long_documents_are_paginated(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'long.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    text = "\n".join(f"{'Interviewer' if i % 2 == 0 else 'Mette'}: Replik nummer {i} om trivsel."
                     for i in range(60))
    store.import_document(parse_text(text, "lang.txt", DocumentMetadata(round="2017", district="Vest")))
    at = _app(page="views/coding.py")
    assert len([b for b in at.button if (b.key or "").startswith("edit_")]) == 25
    assert any("side 1 af 3" in t for t in _texts(at.caption))
    at.pagination[0].set_value(3).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len([b for b in at.button if (b.key or "").startswith("edit_")]) == 10
    turn_texts = [json.loads(e.proto.json)["text"] for e in at.get("bidi_component")
                  if e.proto.component_name == "focusqa_turn_text"]   # the turn's text component
    assert any("Replik nummer 59" in t for t in turn_texts)
    store.dispose()


def test_import_previews_commits_and_reports_each_file(project) -> None:
    store = project["store"]
    at = _app(page="views/import_page.py")
    good = "Interviewer: Hvordan går det?\nSara: Vi har fået en socialrådgiver på skolen.\n".encode()
    at.text_input(key="import_round").input("2017")
    at.text_input(key="import_district").input("Øst")
    at.file_uploader[0].set_value([("oest_2017.txt", good, "text/plain"),
                                   ("tom.txt", b"", "text/plain"),
                                   ("ikke_word.docx", b"Dette er ikke en Word-fil", "application/octet-stream"),
                                   ("nord_2016.txt", TRANSCRIPT.encode(), "text/plain"),
                                   ("oest_2017.txt", good, "text/plain")])   # added twice by mistake
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("oest_2017.txt er med to gange i listen" in t for t in _texts(at.info)), _texts(at.info)
    errors = _texts(at.error)
    # Each refused file is named, with the reason in Danish.
    assert errors == ["tom.txt kan ikke læses: filen er tom",
                      "ikke_word.docx kan ikke læses: er ikke en Word-fil (.docx), selv om navnet siger det"]
    assert "focusqa-upload" not in errors[0], "no temporary paths in messages"
    assert any("nord_2016.txt er allerede indlæst og" in t for t in _texts(at.info))
    assert any("2 taleture" in t for t in _texts(at.markdown))
    next(b for b in at.button if b.key == "import_commit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    docs = {d.name: d for d in store.documents()}
    assert set(docs) == {"nord_2016.txt", "oest_2017.txt"}
    assert (docs["oest_2017.txt"].round, docs["oest_2017.txt"].district) == ("2017", "Øst")
    assert any("oest_2017.txt er indlæst" in t for t in _texts(at.success))
    # the machine has looked at the new interview at once: no hunt for "Opdater forslag"
    assert any("focusqa har foreslået koder til oest_2017.txt" in t for t in _texts(at.info))
    runs = [e for e in store.audit_log(entity="coding") if e.action == "autocode"]
    assert runs and runs[0].after["segments"] == docs["oest_2017.txt"].segments   # this interview, at import


def test_an_interviews_round_and_district_are_corrected_after_import(project) -> None:
    store = project["store"]
    store.set_coding(project["segs"][1].id, "tidlig-indsats", "Anne")
    at = _app(page="views/import_page.py")
    frame = at.data_editor(key="import_metadata_0").value
    assert list(frame["round"]) == ["2016"] and list(frame["district"]) == ["Nord"]
    save = at.button(key="import_metadata_save")
    assert save.disabled and save.label == "Ingen rettelser at gemme"
    at.session_state["import_metadata_0"] = {"edited_rows": {0: {"round": " 2018 ", "district": ""}},
                                             "added_rows": [], "deleted_rows": []}
    at.run()
    assert at.button(key="import_metadata_save").label == "Gem 1 rettelse"
    at.button(key="import_metadata_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    doc = store.document(project["doc"])
    assert (doc.round, doc.district, doc.group) == ("2018", None, "lærere")
    assert any("Oplysningerne om nord_2016.txt er rettet" in t for t in _texts(at.success))
    # the interview keeps its coding, and the table shows what is stored now
    assert [c.code_id for c in store.codings(coder="Anne")] == ["tidlig-indsats"]
    assert list(at.data_editor(key="import_metadata_1").value["round"]) == ["2018"]


def test_deleting_an_interview_needs_a_confirmation(project) -> None:
    store = project["store"]
    store.set_coding(project["segs"][1].id, "tidlig-indsats", "Anne")
    at = _app(page="views/import_page.py")
    at.selectbox(key="import_delete_doc").set_value(project["doc"]).run()
    assert any("Sletter nord_2016.txt med 5 taleture og 1 bekræftede" in t for t in _texts(at.warning))
    assert at.button(key="import_delete_go").disabled
    at.checkbox(key=f"import_delete_sure_{project['doc']}").check().run()
    at.button(key="import_delete_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert store.documents() == [] and store.codings() == []
    assert any("nord_2016.txt er slettet" in t for t in _texts(at.success))


def test_a_coder_cannot_delete_an_interview_holding_anothers_codings(project) -> None:
    store = project["store"]
    store.add_coder("Bo", role="reviewer")      # the project's lead; Anne joins as a coder
    store.set_coding(project["segs"][1].id, "tidlig-indsats", "Bo")
    at = _app(page="views/import_page.py")
    assert store.project_coder("Anne").role == "coder"
    at.selectbox(key="import_delete_doc").set_value(project["doc"]).run()
    at.checkbox(key=f"import_delete_sure_{project['doc']}").check().run()
    at.button(key="import_delete_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("kun en reviewer" in t for t in _texts(at.error)), _texts(at.error)
    assert [d.id for d in store.documents()] == [project["doc"]]
    assert [c.coder for c in store.codings(status="accepted")] == ["Bo"]


def test_password_gate_blocks_until_the_right_password(project) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"password": "hemmelig"}
    at.run()
    assert not at.exception
    assert "log ind" in at.title[0].value
    assert not at.metric, "no project data before login"
    at.text_input(key="_focusqa_password").input("forkert")
    at.button[0].click().run()
    assert any("Forkert adgangskode" in t for t in _texts(at.error))
    at.text_input(key="_focusqa_password").input("hemmelig")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Oversigt"


def test_ten_accepts_refit_the_model_for_the_document(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'refit.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    lines = []
    for i in range(12):
        lines.append(f"Interviewer: Hvad betyder den tidlige indsats for jer, spørgsmål {i}?")
        lines.append(f"Mette: Vi opdager mistrivsel tidligt, og forældrene henvender sig selv ({i}).")
    _, doc_id = store.import_document(parse_text("\n".join(lines), "refit.txt",
                                                 DocumentMetadata(round="2016", district="Nord")))
    participants = [s for s in store.segments(doc_id) if s.role == "participant"]
    store.replace_suggestions({s.id: [CodeSuggestion("tidlig-indsats", 1, "Tidlig indsats", 0.7, {})]
                               for s in participants})
    refits_before = sum(a.action == "autocode" for a in store.audit_log())
    at = _app(page="views/coding.py")
    for segment in participants[:10]:
        at.button(key=f"accept_{segment.id}_tidlig-indsats").click().run()
        assert not at.exception, [e.value for e in at.exception]
    assert len(store.codings(coder="Anne", status="accepted")) == 10
    assert sum(a.action == "autocode" for a in store.audit_log()) == refits_before + 1
    assert any("Modellen har lært" in t for t in _texts(at.success))
    # the refit touched only open suggestions: the ten decisions stand
    assert {c.segment_id for c in store.codings(coder="Anne")} == {s.id for s in participants[:10]}
    store.dispose()


def test_update_suggestions_button_refits_and_keeps_decisions(project) -> None:
    store, segs = project["store"], project["segs"]
    store.review(segs[1].id, "tidlig-indsats", "Anne", "accepted")
    at = _app(page="views/coding.py")
    before = sum(a.action == "autocode" for a in store.audit_log())
    at.button(key="coding_refit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert sum(a.action == "autocode" for a in store.audit_log()) == before + 1
    assert any("Forslagene er opdateret" in t for t in _texts(at.success))
    assert [(c.segment_id, c.status) for c in store.codings(coder="Anne")] == [(segs[1].id, "accepted")]
    # moderator turns never get suggestions from the model
    moderator_ids = {s.id for s in segs if s.role == "moderator"}
    assert not [c for c in store.codings(coder=MACHINE_CODER, status="suggested") if c.segment_id in moderator_ids]


def test_oidc_login_shows_only_the_login_button_until_signed_in(project) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"client_id": "focusqa", "client_secret": "hemmelig",
                          "server_metadata_url": "https://login.example.invalid/.well-known/openid-configuration",
                          "redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "log ind" in at.title[0].value
    assert [b.label for b in at.button] == ["Log ind"]
    assert not at.metric and not at.dataframe, "no project data before login"
    at.user = {"is_logged_in": True, "email": "anne@kommune.example", "name": "Anne"}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Oversigt"
    assert "Log ud" in [b.label for b in at.sidebar.button]
    assert at.session_state["focusqa_coder"] == "anne@kommune.example", "the signed-in account is the coder"
    assert any("anne@kommune.example" in t for t in _texts(at.sidebar.caption))
    assert not [b for b in at.sidebar.button if b.key == "_focusqa_switch_coder"], "no switching away"
    coder = project["store"].project_coder("anne@kommune.example")
    assert coder is not None and coder.role == "reviewer", "the first account to sign in leads the project"


def test_overview_offers_suggestions_when_there_are_none(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    store.import_document(parse_text(TRANSCRIPT, "nord_2016.txt", DocumentMetadata(round="2016", district="Nord")))
    at = _app(coder=None)
    assert any("3** af deltagernes taleture har hverken koder eller forslag" in t for t in _texts(at.markdown))
    at.button(key="suggest_codes").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(a.action == "autocode" for a in store.audit_log())
    assert any("nye forslag" in t for t in _texts(at.success))
    store.dispose()


def test_a_turn_becomes_an_anchor_example_of_a_code_the_coder_chose(project) -> None:
    """An anchor example teaches the model from the first run, so a turn becomes one only for
    a code the coder gave it or picks: a waiting suggestion is not chosen for them."""
    store, seg = project["store"], project["segs"][2]
    at = _app(page="views/coding.py")
    at.button(key=f"edit_{seg.id}").click().run()
    assert at.selectbox(key=f"anchor_code_{seg.id}").value is None      # only a suggestion so far
    assert at.button(key=f"anchor_{seg.id}").disabled
    at.button(key=f"accept_{seg.id}_konsultativ-raadgivning").click().run()
    assert at.selectbox(key=f"anchor_code_{seg.id}").value == "konsultativ-raadgivning"   # now the coder's
    at.button(key=f"anchor_{seg.id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert store.codebook().get("konsultativ-raadgivning").examples == [seg.text]
    assert any("ankereksempel" in t.value for t in at.toast), "said by the button"
    assert not any("ankereksempel" in s.value for s in at.success), "said once, not again at the top"


def test_learning_panel_offers_undecided_turns_and_opens_them(project) -> None:
    store, segs = project["store"], project["segs"]
    store.review(segs[1].id, "tidlig-indsats", "Anne", "accepted")
    at = _app(page="views/coding.py")
    offered = [b.key for b in at.button if b.key and b.key.startswith("next_open_")]
    participant_ids = {s.id for s in segs if s.role == "participant"}
    assert offered and {int(k.rsplit("_", 1)[1]) for k in offered} <= participant_ids - {segs[1].id}
    assert any("mindst 10" in c.value for c in at.caption)      # too few decisions for agreement yet
    # Every offered turn says why: a code short of confirmations, two codes in doubt, or none.
    reasons = [c.value for c in at.caption
               if c.value.startswith(("Er det ", "Modellen er i tvivl: ", "Modellen foreslår ingen kode"))]
    assert len(reasons) == len(offered), reasons
    # Only tidlig indsats is confirmed: a code nobody has confirmed says so, not "the fewest".
    asked = [r for r in reasons if r.startswith("Er det ")]
    assert all(r.endswith("Den kode har ingen bekræftelser endnu.") for r in asked), reasons
    # a skipped turn is not offered again
    skipped = offered[-1].replace("next_open_", "next_skip_")
    at.button(key=skipped).click().run()
    assert offered[-1] not in [b.key for b in at.button if b.key and b.key.startswith("next_open_")]
    # "Vis" shows the turn even when a filter hid it: the filters are cleared, its editor opens
    at.multiselect(key="coding_filter_codes").set_value(["organisering"]).run()
    at.button(key=offered[0]).click().run()
    assert not at.exception, [e.value for e in at.exception]
    opened = int(offered[0].rsplit("_", 1)[1])
    assert at.multiselect(key="coding_filter_codes").value == []
    assert at.button(key=f"anchor_{opened}")                      # its editor is open
    assert at.session_state["coding_highlight_turn"] == next(s for s in segs if s.id == opened).turn_number


def test_an_offer_says_why_in_plain_words() -> None:
    from focusqa.codebook import load_codebook
    from focusqa.tagging.active import NextTurn
    from views.learning_panel import offer_reason

    codebook = load_codebook()
    none_yet = offer_reason(NextTurn(1, "code", ("organisering",), 0), codebook)
    fewest = offer_reason(NextTurn(1, "code", ("organisering",), 3), codebook)
    unsure = offer_reason(NextTurn(1, "unsure", ("organisering", "tidlig-indsats")), codebook)
    assert _texts([type("E", (), {"value": t}) for t in (none_yet, fewest, unsure)]) == [
        "Er det 6. Organisering? Den kode har ingen bekræftelser endnu.",
        "Er det 6. Organisering? Den kode har færrest bekræftelser.",
        "Modellen er i tvivl: 6. Organisering eller 1. Tidlig indsats?"]
    assert offer_reason(NextTurn(1, "blind", ()), codebook).startswith("Modellen foreslår ingen kode her")


def test_decision_toast_keeps_the_code_number_from_becoming_a_list(project) -> None:
    """"1. Tidlig indsats er afvist." read as Markdown is a numbered list, clipped in the toast."""
    seg = project["segs"][1]
    at = _app(page="views/coding.py")
    at.button(key=f"reject_{seg.id}_tidlig-indsats").click().run()
    assert not at.exception, [e.value for e in at.exception]
    toasts = [str(t.value) for t in at.toast]
    assert toasts and toasts[-1].startswith("1\\. Tidlig indsats"), toasts
    assert _texts(at.toast)[-1] == "1. Tidlig indsats er afvist."


def test_overview_counts_a_suggestion_waiting_beside_an_accepted_code(project) -> None:
    """A turn with an accepted code and a waiting suggestion still shows as work to do."""
    store = project["store"]
    for seg in (project["segs"][1], project["segs"][2], project["segs"][4]):
        store.set_coding(seg.id, "organisering", "Anne")
    at = _app(coder=None)
    assert {m.label: m.value for m in at.metric}["Forslag der venter"] == "3"
    assert list(at.dataframe[-1].value["Forslag"]) == [3]
    assert any("nord_2016.txt" in t and "venter" in t for t in _texts(at.markdown))


def test_marking_finished_with_suggestions_waiting_warns_but_marks(project) -> None:
    store, doc = project["store"], project["doc"]
    at = _app(page="views/coding.py")
    at.button(key=f"accept_{project['segs'][1].id}_tidlig-indsats").click().run()
    at.toggle(key=f"coding_finished_{doc}").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert doc in store.finished_documents()["Anne"]
    assert any("2 forslag venter" in t for t in _texts(at.warning)), _texts(at.warning)
    at.toggle(key=f"coding_finished_{doc}").set_value(False).run()
    assert not any("venter" in t for t in _texts(at.warning))


def test_import_of_a_one_turn_file_says_1_taletur(project) -> None:
    at = _app(page="views/import_page.py")
    at.file_uploader[0].set_value([("kort.txt", "Sara: Vi har fået en socialrådgiver.\n".encode(), "text/plain")])
    at.run()
    next(b for b in at.button if b.key == "import_commit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "kort.txt er indlæst (1 taletur)." in _texts(at.success)
