"""Signing in as a coder in the app (issue 18, item 7): pick yourself, prove it, code as yourself.

Before this, the coder was a name typed in the sidebar or put in the address (``?koder=``),
so anyone could act, and undo, as anyone. Each test uses its own SQLite file.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import sign_in
from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.types import CodeSuggestion, DocumentMetadata

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TEXT = """Interviewer: Hvad er jeres erfaringer med den tidlige indsats?
Mette: Vi får fat i familierne tidligt. Forældrene henvender sig selv.
Lars: Jeg bruger hende til sparring, når jeg skal skrive en underretning.
"""


@pytest.fixture
def team(tmp_path: Path, monkeypatch) -> dict:
    """A closed project: Anne and Bo have passwords; a suggestion waits on turn 2."""
    url = f"sqlite:///{tmp_path / 'team.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    _, doc_id = store.import_document(parse_text(TEXT, "nord_2016.txt", DocumentMetadata(round="2016")))
    segs = store.segments(doc_id)
    store.replace_suggestions({segs[1].id: [CodeSuggestion("tidlig-indsats", 1, "Tidlig indsats", 0.8, {})]})
    store.add_coder("Anne", password="anne-hemmelig")
    store.add_coder("Bo", password="bo-hemmelig")
    yield {"store": store, "segs": segs}
    store.dispose()


def _texts(elements) -> list[str]:
    return [html.unescape(re.sub(r"\\(.)", r"\1", str(e.value))) for e in elements]


def _start(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _signed_in(at: AppTest) -> str | None:
    return at.session_state["focusqa_coder"] if "focusqa_coder" in at.session_state else None


def test_the_sidebar_lists_the_coders_and_asks_for_the_password(team) -> None:
    at = _start()
    picker = at.sidebar.selectbox(key="_focusqa_pick_coder")
    assert picker.options == ["Anne", "Bo"] and picker.value is None
    assert not [t for t in at.sidebar.text_input if t.key == "_focusqa_new_coder"], \
        "a closed project: nobody adds themselves"
    assert any("Bed teamlederen" in t for t in _texts(at.sidebar.caption))
    picker.set_value("Anne").run()
    password = at.sidebar.text_input(key="_focusqa_coder_password")
    assert password.proto.type == password.proto.PASSWORD, "typed without showing"
    password.input("forkert")
    at.sidebar.button(key="_focusqa_sign_in").click().run()
    assert _signed_in(at) is None
    assert any("Forkert adgangskode til Anne" in t for t in _texts(at.sidebar.error))
    sign_in(at, "Anne", "anne-hemmelig")
    assert _signed_in(at) == "Anne"
    assert any("Du koder som **Anne**" in t for t in _texts(at.sidebar.caption))
    assert "_focusqa_coder_password" not in at.session_state, "the password is not kept in the session"


def test_the_coding_is_stored_and_logged_as_the_signed_in_coder(team) -> None:
    store, seg = team["store"], team["segs"][1]
    at = sign_in(_start(), "Bo", "bo-hemmelig")
    at.switch_page("views/coding.py").run()
    at.button(key=f"accept_{seg.id}_tidlig-indsats").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [(c.code_id, c.status) for c in store.codings(coder="Bo")] == [("tidlig-indsats", "accepted")]
    assert {e.actor for e in store.audit_log(limit=2)} == {"Bo"}


def test_a_name_in_the_address_signs_nobody_in(team) -> None:
    store = team["store"]
    at = _start(koder="Anne")
    assert _signed_in(at) is None
    assert "koder" not in at.query_params, "the old parameter is dropped from the address"
    at.switch_page("views/coding.py").run()
    assert any("Vælg dig selv" in t for t in _texts(at.info))
    assert not [b for b in at.button if (b.key or "").startswith("accept_")]
    # also in an open project, where Anne has no password: the address still signs nobody in
    store.set_coder_password("Anne", None)
    store.set_coder_password("Bo", None)
    at = _start(koder="Anne")
    assert _signed_in(at) is None


def test_another_coders_undo_leaves_my_work_alone(team) -> None:
    store, seg = team["store"], team["segs"][1]
    anne = sign_in(_start(), "Anne", "anne-hemmelig")
    anne.switch_page("views/coding.py").run()
    anne.button(key=f"accept_{seg.id}_tidlig-indsats").click().run()
    bo = sign_in(_start(), "Bo", "bo-hemmelig")
    bo.switch_page("views/coding.py").run()
    bo.button(key="coding_undo").click().run()
    assert not bo.exception, [e.value for e in bo.exception]
    assert any("ingen ændring at fortryde" in t for t in _texts(bo.info))
    assert [(c.code_id, c.status) for c in store.codings(coder="Anne")] == [("tidlig-indsats", "accepted")]


def test_a_new_project_lets_you_add_yourself_and_switch(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    at = _start()
    assert not [s for s in at.sidebar.selectbox if s.key == "_focusqa_pick_coder"], "no coders yet"
    assert any("ingen kodere endnu" in t for t in _texts(at.sidebar.caption))
    sign_in(at, "Anne")
    assert _signed_in(at) == "Anne"
    assert [(c.name, c.role, c.has_password) for c in store.project_coders()] == [("Anne", "reviewer", False)]
    at.sidebar.button(key="_focusqa_switch_coder").click().run()
    assert _signed_in(at) is None
    sign_in(at, "Bo")
    assert [(c.name, c.role) for c in store.project_coders()] == [("Anne", "reviewer"), ("Bo", "coder")]
    at.sidebar.button(key="_focusqa_switch_coder").click().run()
    sign_in(at, "Anne")       # an open project: Anne has no password
    assert _signed_in(at) == "Anne"
    store.dispose()


def test_english_sign_in(team) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["focusqa_language"] = "en"
    at.run()
    assert at.sidebar.selectbox(key="_focusqa_pick_coder").label == "Who are you?"
    assert any("Ask the team lead" in t for t in _texts(at.sidebar.caption))


def test_adding_a_name_already_on_the_list_says_so_in_danish(tmp_path, monkeypatch) -> None:
    """An open project: Anne adds herself a second time (from another browser, say)."""
    url = f"sqlite:///{tmp_path / 'open.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    store.add_coder("Anne")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.sidebar.text_input(key="_focusqa_new_coder").input("Anne")
    at.sidebar.button(key="_focusqa_add_coder").click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(_texts(at.sidebar.error) + _texts(at.error))
    assert "»Anne« er allerede koder i projektet" in shown and "already" not in shown, shown
    store.dispose()
