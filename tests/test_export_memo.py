"""The Word memo draft: syntheses, chosen quotes with plain attribution, notes; read back with python-docx."""

from __future__ import annotations

import io
import os
import subprocess
from datetime import date

import docx
import pytest
from conftest import require_program

from focusqa.errors import ConflictError, FocusqaError
from focusqa.export.docx import export_docx
from focusqa.export.memo import memo_quotes, opening_line
from focusqa.ingest import parse_text
from focusqa.store.reconcile import reconcile
from focusqa.types import DocumentMetadata
from test_themes_data import T, USER_NAMES, build_project

TODAY = date(2026, 11, 25)
SYNTHESIS = ("Familiegrupperne oplever, at bekymringer fanges tidligere. Flere nævner færre sager.\n\n"
             "Vest efterlyser mere sparring.")


@pytest.fixture
def project(db_url):
    store = build_project(db_url)
    yield store
    store.dispose()


def paragraphs(document) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in document.paragraphs]


def section(document, heading1: str, heading2: str) -> list[tuple[str, str]]:
    """The paragraphs under one Heading 1 / Heading 2, up to the next heading."""
    h1 = h2 = None
    out = []
    for style, text in paragraphs(document):
        if style == "Heading 1":
            h1, h2 = text, None
            continue
        if style == "Heading 2":
            h2 = text
            continue
        if (h1, h2) == (heading1, heading2):
            out.append((style, text))
    return out


def memo(store, **options) -> docx.Document:
    buffer = io.BytesIO()
    export_docx(store, buffer, names=USER_NAMES, today=TODAY, **options)
    return docx.Document(buffer)


def test_the_memo_draft_reads_as_a_memo(project):
    store = project
    early = store.codebook().get(T).heading()
    store.save_synthesis(T, "familiegruppe", SYNTHESIS, "Lise")
    store.save_synthesis(T, "familiegruppe", "Her nævnes brobygningen.", "Lise", district="Nord")
    store.add_memo("Lise", "Spørg styregruppen om tallene.")
    moderator = next(s for s in store.segments(role="moderator"))
    store.add_memo("Lise", "Et godt opfølgende spørgsmål.", segment_id=moderator.id)
    document = memo(store)
    texts = paragraphs(document)
    assert texts[0] == ("Title", "Evalueringsnotat – udkast")
    level1 = [t for s, t in texts if s == "Heading 1"]
    assert level1 == ["Indhold", "Resultaterne i hovedtræk", "Oversigt", "Familiegruppe", "Projektgruppe", "Noter"]
    assert ("List Bullet", f"{early} (Familiegruppe): Familiegrupperne oplever, at bekymringer fanges tidligere.") \
        in texts
    body = section(document, "Familiegruppe", early)
    assert ("Normal", "Vest efterlyser mere sparring.") in body       # the synthesis, paragraph by paragraph
    assert ("Normal", "Nord: Her nævnes brobygningen.") in body
    attributions = [t for s, t in body if s == "Kildeangivelse"]
    assert attributions and all(a.startswith("Familiegruppe ") and ", tur " in a for a in attributions)
    other = section(document, "Familiegruppe", store.codebook().get("organisering").heading())
    assert any(s == "Normal" and "Syntese mangler" in t for s, t in other)   # a place to write it
    notes = [t for s, t in texts[[t for _s, t in texts].index("Noter"):]]
    assert "Spørg styregruppen om tallene." in notes and "Memo: Et godt opfølgende spørgsmål." in notes
    assert not any("segment" in t or "kodet af" in t for _s, t in texts)


def test_marked_quotes_replace_the_representative_ones(project):
    store = project
    early = store.codebook().get(T).heading()
    items = [e for e in store.excerpts(codes=[T], groups=["familiegruppe"])]
    default = [t for s, t in section(memo(store), "Familiegruppe", early) if s == "Quote"]
    assert 0 < len(default) <= 2 * len({e.segment.district for e in items})   # a few per district
    chosen = items[-1]
    store.mark_for_memo(chosen.segment.id, T, True, "Lise")
    assert store.memo_quotes() == {(chosen.segment.id, T)}
    body = section(memo(store), "Familiegruppe", early)
    assert [t for s, t in body if s == "Quote"] == [chosen.text]
    seg = chosen.segment
    assert [t for s, t in body if s == "Kildeangivelse"] == [f"Familiegruppe {seg.district}, {seg.round}, "
                                                             f"tur {seg.turn + 1}"]
    store.mark_for_memo(chosen.segment.id, T, False, "Lise")
    assert store.memo_quotes() == set()


def test_turn_numbers_agree_between_app_and_word(project):
    """The app's "tur N" (SegmentInfo.turn_number) is the number in the Word attribution."""
    store = project
    text = ("Moderator: Hvordan går det?\n\nRådgiver: Godt.\n\nOg vi taler med forældrene tidligt.\n\n"
            "Moderator: Og PPR?\n\nRådgiver: Vi fanger bekymringen tidligt.\n")
    _status, doc_id = store.import_document(parse_text(text, "2017_syd.txt", DocumentMetadata(
        round="2017", district="Syd", group="familiegruppe")))
    seg = store.segments(doc_id)[-1]
    assert (seg.index, seg.turn) == (4, 3)            # a turn of two paragraphs: segments and turns differ
    store.set_coding(seg.id, T, "Lise")
    store.mark_for_memo(seg.id, T, True, "Lise")
    document = memo(store)
    lines = [t for s, t in paragraphs(document) if s == "Kildeangivelse"]
    assert "Familiegruppe Syd, 2017, tur 4" in lines


def test_reconciled_codings_are_called_afstemt_not_a_coder(project):
    """The title page lists people under "Kodere"; the agreed version has its own line."""
    store = project
    seg = next(s for s in store.segments(role="participant"))
    store.add_coder("Lise", role="reviewer")
    reconcile(store, seg.id, T, present=True, decided_by="Lise")
    facts = {row.cells[0].text: row.cells[1].text for row in memo(store).tables[0].rows}
    assert "final" not in facts["Kodere"] and "afstemt" not in facts["Kodere"]
    assert facts["Kodere"] == "Anna, Bo"                    # the fixture's two coders
    assert "afstemte version" in facts["Afstemning"]


def test_the_title_page_says_what_the_quotes_show(project):
    """Quotes carry a source line, no speaker: the masking line must not promise speakers by role."""
    document = memo(project)
    facts = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert "rolle" not in facts["Maskering"] and "ikke, hvem der talte" in facts["Maskering"]
    speakers = {s.speaker for s in project.segments() if s.speaker}
    quotes_and_lines = [t for s, t in paragraphs(document) if s in ("Quote", "Kildeangivelse")]
    assert quotes_and_lines and not any(t.startswith(f"{who}:") for t in quotes_and_lines for who in speakers)


def test_syntheses_are_versioned_and_refuse_bad_input(project):
    store = project
    first = store.save_synthesis(T, "familiegruppe", "Første udkast.", "Lise", expected_version=0)
    with pytest.raises(ConflictError, match="changed by Lise"):
        store.save_synthesis(T, "familiegruppe", "Mit udkast.", "Bo", expected_version=0)
    second = store.save_synthesis(T, "familiegruppe", "Andet udkast.", "Bo", expected_version=first.version)
    assert [s.text for s in store.syntheses()] == ["Andet udkast."] and second.author == "Bo"
    with pytest.raises(FocusqaError, match="not a code"):
        store.save_synthesis("no-such-code", "familiegruppe", "x", "Lise")
    with pytest.raises(FocusqaError, match="coder name"):
        store.save_synthesis(T, "familiegruppe", "x", " ")
    assert store.save_synthesis(T, "familiegruppe", "  ", "Bo") is None     # empty text removes it
    assert store.syntheses() == []
    assert [e.action for e in store.audit_log(entity="synthesis")] == ["delete-synthesis", "synthesis", "synthesis"]


def test_opening_line_and_quote_choice_without_marks():
    assert opening_line("Første sætning. Anden sætning.\nNy linje.") == "Første sætning."
    assert opening_line("Ingen punktum her\nog mere") == "Ingen punktum her"
    assert memo_quotes([], set()) == []


def test_memo_draft_renders_with_libreoffice(project, tmp_path):
    store = project
    store.save_synthesis(T, "familiegruppe", SYNTHESIS, "Lise")
    path = tmp_path / "notat.docx"
    export_docx(store, path, names=USER_NAMES, today=TODAY)
    office = require_program("libreoffice", "soffice", package="libreoffice-writer-nogui")
    subprocess.run([office, f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(path)], capture_output=True, text=True, timeout=180,
                   env={**os.environ, "HOME": str(tmp_path)})
    pdftotext = require_program("pdftotext", package="poppler-utils")
    text = subprocess.run([pdftotext, "-layout", str(tmp_path / "notat.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    for expected in ("Evalueringsnotat – udkast", "Indhold", "Resultaterne i hovedtræk",
                     "Familiegrupperne oplever, at bekymringer fanges tidligere."):
        assert expected in text


def test_a_memo_on_a_coded_turn_that_is_not_quoted_reaches_the_notes(project):
    """A thought written on a coded turn the draft does not quote is under "Noter", with its source line."""
    store = project
    early = store.codebook().get(T).heading()
    shown = {t for s, t in section(memo(store), "Familiegruppe", early) if s == "Quote"}
    unquoted = next(e for e in store.excerpts(codes=[T], groups=["familiegruppe"]) if e.text not in shown)
    store.add_memo("Lise", "Sammenlign med tallene fra 2016.", segment_id=unquoted.segment.id)
    texts = paragraphs(memo(store))
    assert "Noter" in [t for s, t in texts if s == "Heading 1"]
    notes = [t for _s, t in texts[[t for _s, t in texts].index("Noter"):]]
    assert "Memo: Sammenlign med tallene fra 2016." in notes
    seg = unquoted.segment
    place = notes.index("Memo: Sammenlign med tallene fra 2016.")
    assert notes[place - 1] == f"Familiegruppe {seg.district}, {seg.round}, tur {seg.turn_number}"
    assert sum("Sammenlign med tallene fra 2016." in t for _s, t in texts) == 1    # once, not beside a quote too


def quoted_turns(document) -> dict[str, list[tuple[str, str]]]:
    """Per respondent group (Heading 1): (guide point, source line) of every quote, in order."""
    out: dict[str, list[tuple[str, str]]] = {}
    h1 = h2 = None
    for style, text in paragraphs(document):
        if style == "Heading 1":
            h1, h2 = text, None
        elif style == "Heading 2":
            h2 = text
        elif style == "Kildeangivelse" and h1 != "Noter":
            out.setdefault(h1, []).append((h2, text))
    return out


def test_a_turn_is_quoted_once_per_respondent_group(project):
    """Automatic quotes: a turn coded with several guide points is quoted under one of them;
    a quote marked "til notatet" stays where it is marked."""
    store = project
    other = "organisering"
    text = ("Moderator: Hvordan går det?\n\nRådgiver 1: Vi fanger bekymringen tidligt, og møderne er kortere.\n\n"
            "Rådgiver 2: Bekymringen kommer tidligt frem, og teamet mødes oftere.\n\n"
            "Rådgiver 3: Tidlige bekymringer drøftes nu på teammødet hver uge.\n")
    _status, doc_id = store.import_document(parse_text(text, "2017_syd.txt", DocumentMetadata(
        round="2017", district="Syd", group="familiegruppe")))
    turns = [s for s in store.segments(doc_id) if s.role == "participant"]
    for seg in turns:                              # every Syd turn touches both guide points
        store.set_coding(seg.id, T, "Lise")
        store.set_coding(seg.id, other, "Lise")
    lines = {seg.id: f"Familiegruppe Syd, 2017, tur {seg.turn_number}" for seg in turns}
    quotes = quoted_turns(memo(store))
    for group, shown in quotes.items():
        assert len(shown) == len({line for _point, line in shown}), group
    syd = [line for _point, line in quotes["Familiegruppe"] if line in lines.values()]
    assert sorted(syd) == sorted(lines.values())   # each Syd turn quoted, once
    marked = turns[0]
    store.mark_for_memo(marked.id, other, True, "Lise")
    quotes = quoted_turns(memo(store))["Familiegruppe"]
    assert [point for point, line in quotes if line == lines[marked.id]] == [store.codebook().get(other).heading()]
