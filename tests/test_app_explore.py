"""AppTest for the analysis and project pages: Temaer, Sammenlign runder, Kodebog, Eksport, Enighed.

Every test runs the real app (``app.py`` with ``st.navigation``) against a small SQLite
project built here from four tiny transcripts (two rounds × two districts) coded by two
coders, so nothing depends on the demo corpus's exact content.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.types import CodeSuggestion
from conftest import sign_in

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 60

TRANSCRIPTS = {
    ("2016", "Nord"): """
Interviewer: Hvordan fungerer den tidlige indsats hos jer?

Anne: Vi kommer tidligt ind, før der skal laves en underretning, og forældrene tager godt imod os.

Bo: Den tidlige indsats betyder, at vi fanger børnene i dagtilbuddet, inden problemerne vokser.

Interviewer: Hvordan er samarbejdet med familiegruppen?

Anne: Familiegruppen svarer hurtigt, når vi ringer til Karen Jensen på 22 33 44 55.

Bo: Vi mangler stadig faste møder med familiegruppen om sagerne.
""",
    ("2016", "Øst"): """
Interviewer: Hvordan fungerer den tidlige indsats hos jer?

Carla: Den tidlige indsats er svær, fordi vi først hører om børnene sent.

Dan: Lærerne bruger socialrådgiveren til sparring om bekymringer.

Interviewer: Hvordan er samarbejdet med familiegruppen?

Carla: Samarbejdet med familiegruppen er præget af lange ventetider.
""",
    ("2017", "Nord"): """
Interviewer: Hvad har ændret sig siden sidste år?

Anne: Nu har vi netværksmøder med forældrene og deres ressourcepersoner.

Bo: Den tidlige indsats er blevet en fast del af hverdagen i skolen.

Anne: Skriv gerne til mig på anne@example.dk, hvis I vil høre mere om netværksmøderne.
""",
    ("2017", "Øst"): """
Interviewer: Hvad har ændret sig siden sidste år?

Carla: Familiegruppen deltager nu i vores trivselsforum hver måned.

Dan: Netværksmøder med ressourcepersoner har hjulpet flere familier.

Carla: Den tidlige indsats kommer stadig for sent i mange sager.
""",
}

# (round, district, segment index) -> codes, for each coder; "bo-coder" differs on purpose.
CODINGS = {
    "anne": {
        ("2016", "Nord", 1): ["tidlig-indsats"], ("2016", "Nord", 2): ["tidlig-indsats"],
        ("2016", "Nord", 4): ["samarbejde-familiegruppe"], ("2016", "Nord", 5): ["samarbejde-familiegruppe"],
        ("2016", "Øst", 1): ["tidlig-indsats"], ("2016", "Øst", 2): ["konsultativ-raadgivning"],
        ("2016", "Øst", 4): ["samarbejde-familiegruppe"],
        ("2017", "Nord", 1): ["ressourcepersoner-netvaerk"], ("2017", "Nord", 2): ["tidlig-indsats"],
        ("2017", "Nord", 3): ["ressourcepersoner-netvaerk"],
        ("2017", "Øst", 1): ["samarbejde-familiegruppe", "tvaerfaglig-koordinering"],
        ("2017", "Øst", 2): ["ressourcepersoner-netvaerk"], ("2017", "Øst", 3): ["tidlig-indsats"],
    },
    "bo-coder": {
        ("2016", "Nord", 1): ["tidlig-indsats"], ("2016", "Nord", 2): ["tidlig-indsats", "organisering"],
        ("2016", "Nord", 4): ["samarbejde-familiegruppe"],
        ("2016", "Øst", 1): ["tidlig-indsats"], ("2016", "Øst", 2): ["tvaerfaglig-koordinering"],
        ("2016", "Øst", 4): ["samarbejde-familiegruppe"],
    },
}


def build_project(url: str) -> Store:
    """Four transcripts, two coders; the 2017 interviews are coded by one coder only."""
    store = Store(url)
    segment_ids: dict[tuple[str, str, int], int] = {}
    for (round_, district), body in TRANSCRIPTS.items():
        text = f"---\nround: {round_}\ndistrict: {district}\ngroup: familiegruppe\n---\n{body}"
        parsed = parse_text(text, f"{district}_{round_}.txt")
        _status, doc_id = store.import_document(parsed, actor="test")
        for seg in store.segments(doc_id):
            segment_ids[(round_, district, seg.index)] = seg.id
    for coder, plan in CODINGS.items():
        for key, codes in plan.items():
            for code in codes:
                store.set_coding(segment_ids[key], code, coder)
    for coder, plan in CODINGS.items():   # each coder read every turn of the interviews they coded
        for document_id in {store.segments(ids=[segment_ids[key]])[0].document_id for key in plan}:
            store.set_finished(document_id, coder)
    return store


@pytest.fixture
def project(tmp_path, monkeypatch) -> Store:
    url = f"sqlite:///{tmp_path / 'explore.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = build_project(url)
    yield store
    store.dispose()


def open_page(page: str, *, coder: str | None = "tester", language: str = "da") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["focusqa_language"] = language
    at.run()
    if coder:
        sign_in(at, coder)
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Everything a reader sees as text on the page (markdown, captions, headings)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [h.value for h in at.title] + [h.value for h in at.subheader]
    return "\n".join(parts)


# ------------------------------------------------------------------ every page
@pytest.mark.parametrize("page, title", [
    ("views/themes.py", "Themes by district"), ("views/rounds.py", "Compare rounds"),
    ("views/codebook_page.py", "Codebook"), ("views/export_page.py", "Export"),
    ("views/agreement_page.py", "Agreement between coders"),
])
def test_pages_run_in_english(project, page, title):
    at = open_page(page, language="en")
    assert at.title[0].value == title


def test_pages_explain_an_empty_project(tmp_path, monkeypatch):
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    for page in ("views/themes.py", "views/rounds.py", "views/export_page.py", "views/agreement_page.py"):
        at = open_page(page)
        assert any("Import" in i.value for i in at.info), page


# ------------------------------------------------------------------ Temaer
def test_themes_page_shows_matrix_and_the_cells_quotes(project):
    at = open_page("views/themes.py")
    assert at.title[0].value == "Temaer pr. distrikt"
    assert at.selectbox(key="themes_round").options == ["2016", "2017", "Alle runder"]
    assert at.selectbox(key="themes_round").value == "2017"
    at.selectbox(key="themes_round").select("2016").run()
    at.selectbox(key="themes_row").select("Nord").run()
    at.selectbox(key="themes_code").select("tidlig-indsats").run()
    assert not at.exception
    page = texts(at)
    # Nord 2016 has four participant turns; two carry "tidlig indsats" (both coders agree: once each)
    assert "**2** af 4 deltagertaleture (50 %)" in page
    assert "fanger børnene i dagtilbuddet" in page
    assert "Nord\\_2016\\.txt" in page or "Nord_2016.txt" in page
    assert "Repræsentative udsagn" in page
    counts = at.dataframe[0].value
    assert counts.loc["Nord", "1. Tidlig indsats"] == 2
    assert "domainMax" not in _share_scale(at)          # coded: the darkest blue is the largest share
    assert counts.loc["Øst", "4. Samarbejdet i forhold til familiegruppe"] == 1
    assert any("Koder der optræder sammen" in h.value for h in at.subheader)
    # Rows by respondent group: the heading says so.
    assert "i hvert distrikt" in at.caption[0].value
    at.segmented_control(key="themes_by").set_value("group").run()
    assert not at.exception
    assert at.title[0].value == "Temaer pr. respondentgruppe"
    assert "i hver respondentgruppe" in at.caption[0].value and "distrikt" not in at.caption[0].value


def _share_scale(at: AppTest) -> dict:
    """The colour scale of Temaer's heatmap, as the browser gets it."""
    import json

    chart = at.get("vega_lite_chart")[0]
    spec = json.loads(chart.proto.spec)
    return next(layer["encoding"]["color"]["scale"] for layer in [spec, *spec.get("layer", [])]
                if "color" in layer.get("encoding", {}))


def test_themes_heatmap_of_a_project_with_nothing_coded_is_pale_from_0_to_100_percent(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'uncoded.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    for (round_, district), body in TRANSCRIPTS.items():
        text = f"---\nround: {round_}\ndistrict: {district}\ngroup: familiegruppe\n---\n{body}"
        store.import_document(parse_text(text, f"{district}_{round_}.txt"), actor="test")
    at = open_page("views/themes.py")
    assert any("Ingen taleture har fået en kode" in i.value for i in at.info)
    assert _share_scale(at) == {"domainMax": 1, "domainMin": 0, "scheme": "blues"}   # not a zero-width domain
    store.dispose()


def test_themes_page_writes_the_synthesis_and_marks_quotes_for_the_memo(project):
    """The evaluator writes the memo's text next to the cell's quotes, and picks the quotes."""
    at = open_page("views/themes.py")
    at.selectbox(key="themes_round").select("2016").run()
    at.selectbox(key="themes_row").select("Nord").run()
    at.selectbox(key="themes_code").select("tidlig-indsats").run()
    group_box = next(t for t in at.text_area if t.key.startswith("synthesis_text_"))
    assert group_box.label.startswith("Familiegruppe · ")
    group_box.input("Dagtilbuddene fanger børnene tidligt. Det går bedre.")
    next(t for t in at.text_area if t.key.startswith("synthesis_district_")).input("Nord nævner PPR.")
    next(b for b in at.button if b.label == "Gem syntesen").click().run()
    assert not at.exception
    assert any("Syntesen er gemt" in m.value for m in at.success)
    saved = {(x.group, x.district): x.text for x in project.syntheses()}
    assert saved == {("familiegruppe", ""): "Dagtilbuddene fanger børnene tidligt. Det går bedre.",
                     ("familiegruppe", "Nord"): "Nord nævner PPR."}
    box = next(c for c in at.checkbox if c.key.startswith("memo_mark_all_"))
    assert box.label == "Til notatet" and not box.value
    box.check().run()
    segment_id, code_id = box.key.removeprefix("memo_mark_all_").split("_", 1)
    assert project.memo_quotes() == {(int(segment_id), code_id)}
    assert any("kommer med i notatet" in m.value for m in at.success)


def test_themes_page_needs_a_name_before_writing_the_memo(project):
    at = open_page("views/themes.py", coder=None)
    assert any(b.label == "Gem syntesen" and b.disabled for b in at.button)
    assert all(c.disabled for c in at.checkbox if c.key.startswith("memo_mark_"))


def test_themes_page_in_english_and_all_rounds(project):
    at = open_page("views/themes.py", language="en")
    assert at.title[0].value == "Themes by district"
    at.selectbox(key="themes_round").select("__all__").run()
    assert not at.exception
    counts = at.dataframe[0].value
    assert counts.loc["Nord", "Participant turns"] == 7



def test_themes_page_opens_on_the_newest_round_with_codes(tmp_path, monkeypatch):
    """An evaluator who has coded only 2016 so far sees their codes, not an empty 2017;
    once 2017 has a code, a new visit opens on 2017. Suggestions alone do not count."""
    url = f"sqlite:///{tmp_path / 'rounds.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    turns = {}
    for round_, district in (("2016", "Nord"), ("2017", "Nord")):
        text = f"---\nround: {round_}\ndistrict: {district}\n---\n{TRANSCRIPTS[(round_, district)]}"
        _status, doc_id = store.import_document(parse_text(text, f"{round_}.txt"), actor="test")
        turns[round_] = [s.id for s in store.segments(doc_id) if s.role == "participant"]
    store.set_coding(turns["2016"][0], "tidlig-indsats", "Mette")
    store.replace_suggestions({turns["2017"][0]: [CodeSuggestion(
        "ressourcepersoner-netvaerk", 5, "Inddragelse af ressourcepersoner i netværk", 0.9, {})]})
    at = open_page("views/themes.py")
    assert at.selectbox(key="themes_round").value == "2016"
    assert at.dataframe[0].value.loc["Nord", "1. Tidlig indsats"] == 1
    assert not any("Ingen taleture har fået en kode" in i.value for i in at.info)

    # The evaluator accepts the 2017 suggestion in Kodning; the next visit opens on 2017.
    at.switch_page("views/coding.py").run()
    documents = {d.round: d.id for d in store.documents()}
    at.selectbox(key="_coding_document_widget").select(documents["2017"]).run()
    at.button(key=f"accept_{turns['2017'][0]}_ressourcepersoner-netvaerk").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert open_page("views/themes.py").selectbox(key="themes_round").value == "2017"
    store.dispose()


# ------------------------------------------------------------------ Sammenlign runder
def test_rounds_page_compares_and_shows_both_rounds_side_by_side(project):
    at = open_page("views/rounds.py")
    assert at.title[0].value == "Sammenlign runder"
    assert at.selectbox(key="rounds_a").value == "2016"
    assert at.selectbox(key="rounds_b").value == "2017"
    table = at.dataframe[0].value
    assert len(table) == 2 * 7  # two districts × seven codes
    at.selectbox(key="rounds_row").select("Nord").run()
    at.selectbox(key="rounds_code").select("tidlig-indsats").run()
    assert not at.exception
    page = texts(at)
    assert "fanger børnene i dagtilbuddet" in page      # 2016
    assert "fast del af hverdagen" in page              # 2017
    assert "Nye temaer i 2017" in page
    assert "i hvert distrikt" in at.caption[0].value
    # Rows by respondent group: the introduction and the new/gone help say so.
    at.segmented_control(key="rounds_by").set_value("group").run()
    assert not at.exception
    assert "i hver respondentgruppe" in at.caption[0].value and "distrikt" not in at.caption[0].value
    assert at.dataframe[0].value.columns[0] == "Respondentgruppe"
    helps = [m.help for m in at.markdown if getattr(m, "help", None)]
    assert any("i gruppen i 2016" in h for h in helps) and not any("distriktet" in h for h in helps)


def test_rounds_page_opens_on_the_two_newest_rounds_with_codes(project):
    """A 2018 interview imported but not coded yet: the page still opens on 2016 → 2017."""
    body = TRANSCRIPTS[("2017", "Nord")].replace("netværksmøder", "faste møder")
    text = f"---\nround: 2018\ndistrict: Nord\ngroup: familiegruppe\n---\n{body}"
    assert project.import_document(parse_text(text, "Nord_2018.txt"), actor="test")[0] == "imported"
    at = open_page("views/rounds.py")
    assert (at.selectbox(key="rounds_a").value, at.selectbox(key="rounds_b").value) == ("2016", "2017")
    assert len(at.selectbox(key="rounds_a").options) == 3

def test_rounds_page_needs_two_rounds(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'one.db'}"
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    store = Store(url)
    store.import_document(parse_text("---\nround: 2016\ndistrict: Nord\n---\n\nI: Spørgsmål?\n\nAnne: Svar.\n",
                                     "a.txt"), actor="test")
    at = open_page("views/rounds.py")
    assert any("mindst to runder" in i.value for i in at.info)
    store.dispose()


# ------------------------------------------------------------------ Kodebog
def test_codebook_edit_is_saved_as_a_new_version(project):
    before = len(project.codebook_versions())
    at = open_page("views/codebook_page.py", coder="Mette")
    at.selectbox(key="codebook_code").select("tidlig-indsats").run()
    at.text_input(key="codebook_label_da").input("Tidlig forebyggende indsats")
    # an existing code's id cannot change, so the form does not show it
    assert not [t for t in at.text_input if t.key == "codebook_id"]
    # a term typed twice (another case, extra spaces) is kept once
    at.text_area(key="codebook_terms").input("underretning\nforebyggelse\nUnderretning\ntidlig  opsporing")
    at.button(key="codebook_save").click().run()
    assert not at.exception
    fresh = Store(project.url)
    code = fresh.codebook().get("tidlig-indsats")
    assert code.label_da == "Tidlig forebyggende indsats"
    assert code.terms == ["underretning", "forebyggelse", "tidlig opsporing"]
    versions = fresh.codebook_versions()
    assert len(versions) == before + 1 and versions[-1][2] == "Mette"
    assert any("version" in s.value for s in at.success)
    fresh.dispose()


def test_codebook_anchor_examples_are_edited_on_the_page(project):
    at = open_page("views/codebook_page.py", coder="Mette")
    at.selectbox(key="codebook_code").select("ressourcepersoner-netvaerk").run()
    at.text_area(key="codebook_examples").input(
        "Mormor henter ham hver dag, og det giver ro.\n\nNaboen er med til netværksmødet.").run()
    at.button(key="codebook_save").click().run()
    assert not at.exception
    fresh = Store(project.url)
    assert fresh.codebook().get("ressourcepersoner-netvaerk").examples == [
        "Mormor henter ham hver dag, og det giver ro.", "Naboen er med til netværksmødet."]
    fresh.dispose()


def test_codebook_invalid_id_is_refused_with_a_message(project):
    before = len(project.codebook_versions())
    at = open_page("views/codebook_page.py", coder="Mette")
    at.selectbox(key="codebook_code").select("__new__").run()
    at.text_input(key="codebook_id").input("Ikke et id")
    at.text_input(key="codebook_label_da").input("Ny kode")
    at.button(key="codebook_save").click().run()
    assert not at.exception
    assert any("små bogstaver" in e.value for e in at.error)
    assert len(Store(project.url).codebook_versions()) == before


def test_codebook_new_code_is_added_and_selected(project):
    at = open_page("views/codebook_page.py", coder="Mette")
    at.selectbox(key="codebook_code").select("__new__").run()
    at.text_input(key="codebook_id").input("sprog")
    at.text_input(key="codebook_label_da").input("Sprogbarrierer")
    at.text_area(key="codebook_terms").input("tolk\nsprog")
    at.button(key="codebook_save").click().run()
    assert not at.exception
    assert at.selectbox(key="codebook_code").value == "sprog"
    assert Store(project.url).codebook().get("sprog").terms == ["tolk", "sprog"]


def test_codebook_new_code_without_an_id_gets_one_from_its_name(project):
    at = open_page("views/codebook_page.py", coder="Mette")
    at.selectbox(key="codebook_code").select("__new__").run()
    at.text_input(key="codebook_label_da").input("Børnenes trivsel på skolen")
    at.button(key="codebook_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="codebook_code").value == "boernenes-trivsel-paa-skolen"
    assert Store(project.url).codebook().get("boernenes-trivsel-paa-skolen").label_da == "Børnenes trivsel på skolen"


def test_codebook_page_asks_for_a_name_before_editing(project):
    at = open_page("views/codebook_page.py", coder=None)
    assert any("Vælg dig selv" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "codebook_save"]


def test_codebook_import_shows_a_preview_and_writes_only_on_import(project):
    taguette = (Path(__file__).resolve().parent / "fixtures" / "refi" / "taguette_codebook.qdc").read_bytes()
    before = [(c.id, c.label_da, c.definition, c.color, c.number) for c in project.codebook().codes]
    at = open_page("views/codebook_page.py", coder="Mette")
    at.file_uploader(key="codebook_import_file").set_value([("taguette.qdc", taguette, "application/xml")]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "**2** koder tilføjes, **0** ændres, **7** er uændrede" in texts(at)
    assert [c.id for c in Store(project.url).codebook().codes] == [b[0] for b in before]   # nothing written yet
    at.multiselect(key="codebook_import_leave_out").select("interesting").run()
    assert "**1** koder tilføjes" in texts(at)
    at.button(key="codebook_import_apply").click().run()
    assert not at.exception
    after = Store(project.url).codebook().codes
    assert [(c.id, c.label_da, c.definition, c.color, c.number) for c in after][:7] == before
    assert [c.label_da for c in after[7:]] == ["Forældresamarbejde"]
    assert any("opdateret fra taguette.qdc" in s.value for s in at.success)


# ------------------------------------------------------------------ Eksport
def test_export_page_offers_word_excel_csv_with_data(project):
    at = open_page("views/export_page.py")
    assert at.toggle(key="export_masking").value is True
    at.text_area(key="export_names").input("Karen Jensen").run()
    at.button(key="export_make").click().run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [b.label for b in at.get("download_button")]
    assert any("Word" in label for label in labels)
    assert any("Excel" in label for label in labels)
    assert any("CSV" in label for label in labels)
    files = at.session_state["export_files"]["files"]
    docx_name, docx_bytes = files["docx"]
    assert docx_name.endswith(".docx") and docx_bytes[:2] == b"PK"
    from docx import Document

    body = "\n".join(p.text for p in Document(io.BytesIO(docx_bytes)).paragraphs)
    assert "fanger børnene" in body
    assert "22 33 44 55" not in body and "Karen" not in body  # masked by default
    assert files["csv"][1] and files["xlsx"][1][:2] == b"PK"


def test_export_page_counts_the_excerpts_and_interviews_in_danish(project):
    at = open_page("views/export_page.py")
    assert any(m.value.startswith("**16** uddrag fra 4 interviews") for m in at.markdown), \
        [m.value for m in at.markdown if "uddrag" in m.value]
    at.multiselect(key="export_rounds").set_value(["2017"])
    at.multiselect(key="export_districts").set_value(["Nord"]).run()
    assert any(" uddrag fra 1 interview med" in m.value for m in at.markdown), \
        [m.value for m in at.markdown if "uddrag" in m.value]

def test_switching_language_keeps_the_made_export_files(project):
    at = open_page("views/export_page.py")
    at.button(key="export_make").click().run()
    made = at.session_state["export_files"]["files"]["docx"]
    at.sidebar.segmented_control(key="_widget_focusqa_language").set_value("en").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [i.value for i in at.info if "filters changed" in i.value], "no filter changed"
    assert any("The files are ready" in s.value for s in at.success), "the download buttons stay"
    assert at.session_state["export_files"]["files"]["docx"] == made


def test_export_page_offers_refi_codebook_and_project(project):
    at = open_page("views/export_page.py")
    keys = [b.key for b in at.get("download_button")]
    assert "export_download_qdc" in keys and "export_download_taguette" in keys
    at.button(key="export_make_qdpx").click().run()
    assert not at.exception
    data = at.session_state["export_qdpx"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        project_xml = zf.read("project.qde").decode("utf-8")
    assert project_xml.count("<TextSource ") == 4, "all four interviews are in the project file"
    assert "export_download_qdpx" in [b.key for b in at.get("download_button")]


def test_export_review_table_lists_what_masking_replaces(project):
    at = open_page("views/export_page.py")
    at.text_area(key="export_names").input("Karen Jensen").run()
    frames = [d.value for d in at.dataframe]
    review = next(f for f in frames if "Erstattes med" in f.columns)
    found = set(review["Fundet"])
    assert "22 33 44 55" in found and "anne@example.dk" in found
    assert "Karen Jensen" in found or "Karen" in found


# ------------------------------------------------------------------ Enighed
def test_agreement_page_reports_statistics_and_reconciles(project):
    at = open_page("views/agreement_page.py", coder="Mette")
    assert at.title[0].value == "Enighed mellem kodere"
    assert set(at.multiselect(key="agreement_coders").value) == {"anne", "bo-coder"}
    table = at.dataframe[0].value
    # The coefficients come right after the code, so a narrow page scrolls the counts away, not them.
    assert list(table.columns)[:4] == ["Kode", "Enighed", "Kappa", "Alpha"], list(table.columns)
    # the coders disagree on four (segment, code) pairs in the 2016 interviews
    assert "**4** uenigheder mangler en afgørelse" in texts(at)
    at.button(key="reconcile_yes_0").click().run()
    assert not at.exception
    log = Store(project.url).audit_log(entity="coding")
    decided = [entry for entry in log if entry.action == "reconcile"]
    assert decided and decided[0].actor == "Mette"
    assert "**3** uenigheder mangler en afgørelse (1 er afgjort)" in texts(at)


def test_agreement_page_names_the_turns_compared_and_the_other_pairs(project):
    """A third coder who finished one interview and began another: the header tells the
    turns coded from the turns two coders decided on, and the other pairs' disagreements
    are counted beside the pair shown."""
    ids = {(d.round, d.district): d.id for d in project.documents()}
    turns = {(r, dist): project.segments(doc) for (r, dist), doc in ids.items()}
    nord, oest = turns[("2016", "Nord")], turns[("2016", "Øst")]
    for seg, code in ((nord[1], "tidlig-indsats"), (nord[2], "organisering"), (nord[4], "samarbejde-familiegruppe"),
                      (oest[1], "konsultativ-raadgivning")):
        project.set_coding(seg.id, code, "carl")
    project.set_finished(ids[("2016", "Nord")], "carl")          # Øst 2016: one turn coded, not finished
    at = open_page("views/agreement_page.py", coder="Mette")
    page = texts(at)
    assert "**4** uenigheder mangler en afgørelse" in page       # anne and bo-coder, as before
    # anne–carl: Nord turn 2 (two codes), turn 5 (carl read it, no code), Øst turn 1 (two codes)
    assert "Andre par: anne og carl: 5; bo\\-coder og carl: 3." in page
    at.multiselect(key="agreement_coders").set_value(["anne", "carl"]).run()
    assert not at.exception, [e.value for e in at.exception]
    page = texts(at)
    assert ("**7** taleture er kodet af mindst én af anne, carl; de **5**, som mindst to har taget stilling til, "
            "sammenlignes") in page
    table = at.dataframe[0].value
    units = table[[c for c in table.columns if c == "Enheder"][0]]
    assert list(units[:-1].unique()) == [5]                      # per code: the five turns both decided on


def test_only_a_reviewer_gets_the_reconcile_buttons(project):
    project.add_coder("Lise", role="reviewer")
    at = open_page("views/agreement_page.py", coder="Karl")     # joins as a plain coder
    assert any("Kun en koder med rollen afstemmer" in i.value for i in at.info)
    assert at.button(key="reconcile_yes_0").disabled and at.button(key="reconcile_no_0").disabled
    assert not [e for e in Store(project.url).audit_log(entity="coding") if e.action == "reconcile"]
