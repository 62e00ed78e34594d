"""The export page shows what masking replaces (with counts) and the words it is unsure of,
lets the evaluator add those to the name list, and masks the .qdpx unless switched off."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from focusqa.ingest import parse_text
from focusqa.store import Store

APP = Path(__file__).resolve().parents[1] / "app.py"
TRANSCRIPT = """---
round: 2017
district: Nord
group: familiegruppe
---
Interviewer: Hvordan går samarbejdet med skolerne?

Rådgiver 1: Mette fra Mellervangskolen ringer tit, og Mette er god til at fange børnene tidligt.

Rådgiver 2: På Tornhøj er det sværere, men Tornhøj har fået en ny leder.
"""


@pytest.fixture
def project(tmp_path, monkeypatch) -> Store:
    url = f"sqlite:///{tmp_path / 'maskering.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    _, doc_id = store.import_document(parse_text(TRANSCRIPT, "nord_2017.txt"), actor="test")
    for seg in store.segments(doc_id, role="participant"):
        store.set_coding(seg.id, store.codebook().ids[0], "anna")
    yield store
    store.dispose()


def open_export(language: str = "da") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["focusqa_language"] = language
    at.session_state["focusqa_coder"] = "anna"
    at.run()
    at.switch_page("views/export_page.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frame(at: AppTest, key_column: str):
    return next(d.value for d in at.dataframe if key_column in d.value.columns)


def test_export_page_counts_what_is_masked_and_flags_unsure_words(project):
    at = open_export()
    found = frame(at, "Antal")             # the first table: what is masked, with counts
    rows = {(r["Type"], r["Fundet"]): r["Antal"] for _, r in found.iterrows()}
    assert rows[("navn", "Mette")] == 2 and rows[("institution", "Mellervangskolen")] == 1
    unsure = frame(at, "Eksempel")
    assert dict(zip(unsure["Ord"], unsure["Antal"])) == {"Tornhøj": 2}   # Nord is the district: not flagged
    assert "[Tornhøj]" in unsure["Eksempel"][0]
    assert at.multiselect(key="export_unsure_pick").placeholder == "Vælg ord"   # not "Choose options"
    at.multiselect(key="export_unsure_pick").select("Tornhøj").run()
    at.button(key="export_unsure_add").click().run()
    assert not at.exception
    assert "Tornhøj" in at.text_area(key="export_names").value.splitlines()
    rows = {r["Fundet"]: r["Antal"] for _, r in frame(at, "Antal").iterrows()}
    assert rows["Tornhøj"] == 2
    assert not any("Eksempel" in d.value.columns for d in at.dataframe), "nothing left to be unsure of"


def test_export_page_in_english(project):
    at = open_export("en")
    assert "##### Maybe names – check them" in [m.value for m in at.markdown]
    assert list(frame(at, "Example").columns) == ["Word", "Count", "Example"]
    assert list(frame(at, "Count").columns) == ["Kind", "Found", "Count"]


def test_export_page_masks_the_project_file_unless_switched_off(project):
    at = open_export()
    assert at.toggle(key="export_qdpx_masking").value is True
    at.button(key="export_make_qdpx").click().run()
    data = at.session_state["export_qdpx"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        content = "\n".join(zf.read(n).decode("utf-8") for n in zf.namelist())
    assert "Mette" not in content and "Mellervangskolen" not in content and "[navn]" in content
    at.toggle(key="export_qdpx_masking").set_value(False).run()
    assert "export_qdpx" not in at.session_state, "a masked file is not offered as the unmasked one"
    assert any("uden maskering" in w.value for w in at.warning)
    at.button(key="export_make_qdpx").click().run()
    data = at.session_state["export_qdpx"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert "Mette" in "\n".join(zf.read(n).decode("utf-8") for n in zf.namelist())


def test_the_word_download_is_named_after_its_layout(project):
    """The memo draft downloads as notatudkast_DATE.docx; the excerpt layouts keep kodede_uddrag_DATE.docx."""
    from datetime import date

    today = date.today().isoformat()
    at = open_export()
    at.button(key="export_make").click().run()
    assert not at.exception, [e.value for e in at.exception]
    files = at.session_state["export_files"]["files"]
    assert files["docx"][0] == f"notatudkast_{today}.docx"
    assert files["xlsx"][0] == f"kodede_uddrag_{today}.xlsx"
    at.radio(key="export_layout").set_value("code-district").run()
    at.button(key="export_make").click().run()
    assert at.session_state["export_files"]["files"]["docx"][0] == f"kodede_uddrag_{today}.docx"
